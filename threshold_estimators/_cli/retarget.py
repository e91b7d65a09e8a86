"""``threshold-estimators retarget``: a saved model re-decided for another rate."""

from __future__ import annotations

import argparse

import numpy as np

from .._prevalence import MIN_UNLABELLED_ROWS
from .._retarget import ESTIMATORS, resolved_prevalence
from .._validation import plain
from .common import (
    DataError,
    UsageError,
    add_prevalence_argument,
    emit,
    print_json,
    rate_text,
    report_errors,
)
from .files import STDIN, check_output, read_csv
from .model import (
    add_trust_argument,
    features_of,
    load,
    model_features,
    predicted,
    save,
)

DESCRIPTION = f"""\
Re-decide a model saved by "tune --retargetable" (or a ThresholdTunedClassifier
fitted with retargetable=True, saved with joblib or skops) for another base rate,
without refitting it: the rate of the positive class in deployment
(--prevalence P), or a rate estimated from unlabelled deployment rows
(--unlabelled FILE.csv). Under label shift (each class's scores keep their
distribution, only the class proportions move) the threshold is searched
again, exactly, on the model's kept out-of-fold rows reweighted to the new
rate, for the same objective: the result equals "tune --prevalence P" on the
same folds. The retargeted model is saved to --output, never over
MODEL.joblib or FILE.csv; the report gives the new threshold and rate (an
estimated rate with its standard error and 95 % interval).

FILE.csv needs the model's feature columns, selected by name as "predict"
does (any other column, a label included, is ignored), and at least
{MIN_UNLABELLED_ROWS} rows; a few thousand give the rate to about +-0.01. --method em
(auto's choice) fits the rate by expectation-maximization on the out-of-fold
scores recalibrated (every class's, for a model tuning every class); bbse
(black-box shift estimation) inverts the out-of-fold confusion matrix of a
decision. Only load joblib files
you trust: loading one can run code. A .skops model is loaded as "predict"
loads it (see --trust), and a NEW path ending in .skops is written with
skops."""


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "retarget",
        help="re-decide a saved model for another positive rate, given or "
        "estimated from unlabelled rows",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "model", metavar="MODEL.joblib", help="saved by tune --retargetable"
    )
    rate = parser.add_mutually_exclusive_group(required=True)
    add_prevalence_argument(rate, multiple=True)
    rate.add_argument(
        "--unlabelled",
        metavar="FILE.csv",
        help="or estimate the rate from these unlabelled rows (a CSV file with a "
        f"header row, at least {MIN_UNLABELLED_ROWS} rows; -: stdin)",
    )
    parser.add_argument(
        "--method",
        choices=ESTIMATORS,
        help="how --unlabelled estimates the rate (default: auto, see below)",
    )
    parser.add_argument(
        "--output",
        required=True,
        metavar="NEW.joblib",
        help="where to save the retargeted model (never over an input; with "
        "skops when it ends in .skops)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: threshold, prevalence, the previous ones, "
        "and an estimate's method, std, interval and n_unlabelled",
    )
    add_trust_argument(parser)
    parser.set_defaults(run=run)


@report_errors
def run(args: argparse.Namespace) -> int:
    if args.method is not None and args.unlabelled is None:
        raise UsageError(
            "--method chooses how the rate is estimated from --unlabelled rows; "
            f"got --method {args.method} with --prevalence, which estimates nothing."
        )
    # Fail before loading the model, let alone reading the rows.
    inputs = [args.model] + ([] if args.unlabelled is None else [args.unlabelled])
    check_output(args.output, *inputs)
    model = _retargetable(args.model, args.trust)
    before = {"threshold": model.threshold_, "prevalence": model.prevalence_}
    if args.prevalence is not None:
        _check_rate(model, args.prevalence)
        model.retarget(args.prevalence)
    else:
        _estimate(model, args)
    save(model, args.output)
    _report(args, model, before)
    return 0


def _check_rate(model, prevalence) -> None:
    """A UsageError when ``prevalence`` does not fit the model's classes."""
    if model.pos_label_ is not None and np.ndim(prevalence):
        raise UsageError(
            f"the model tunes class {plain(model.pos_label_)!r}: --prevalence is "
            "its rate, one number in (0, 1); got the proportions "
            f"{','.join(map(str, prevalence))} (one per class is for a model "
            "tuning every class of a multiclass target)."
        )
    try:
        resolved_prevalence(model, prevalence)
    except ValueError as exc:
        raise UsageError(f"--prevalence: {exc}") from None


def _retargetable(path: str, trust):
    """The model saved at ``path``, if it can be retargeted."""
    from .. import ThresholdTunedClassifier
    from .._retarget import check_retargetable

    model = load(path, trust=trust)
    if not isinstance(model, ThresholdTunedClassifier):
        raise DataError(
            f"{path} holds a {type(model).__name__}, not a model saved by tune "
            "(a ThresholdTunedClassifier): it has no decision to retarget."
        )
    if getattr(model, "out_of_fold_", None) is None:
        raise DataError(
            f"{path} kept no out-of-fold scores to re-decide from: it was saved "
            "by tune without --retargetable (or fitted with retargetable=False, "
            "or by a version without retarget). Tune it again with "
            "--retargetable, or with --prevalence if the rate is known."
        )
    try:
        check_retargetable(model)
    except ValueError as exc:
        raise DataError(f"{path}: {exc}") from None
    return model


def _estimate(model, args) -> None:
    """``model`` retargeted to the rate estimated from ``--unlabelled``."""
    method = args.method or "auto"
    table = read_csv(args.unlabelled)
    if table.n_rows < MIN_UNLABELLED_ROWS:
        raise DataError(
            f"{table.path} has {table.n_rows} data rows; estimating the rate needs "
            f"at least {MIN_UNLABELLED_ROWS} unlabelled rows (a few thousand give "
            "it to about +-0.01). Give the rate itself with --prevalence if it "
            "is known."
        )
    features = model_features(model, table, table.path)
    X = features_of(table, features, allow_missing=True)
    predicted(
        model,
        X,
        table,
        features,
        lambda rows: model.retarget(X=rows, method=method),
    )


def _shown(value):
    """A threshold as text: repr of a float, or one per class."""
    if np.ndim(value) == 0:
        return repr(float(value))
    return "[" + ", ".join(f"{float(v):.6g}" for v in np.ravel(value)) + "]"


def _report(args, model, before: dict) -> None:
    found = model.prevalence_estimate_
    pos_label = model.pos_label_
    report = {
        "threshold": model.threshold_,
        "previous_threshold": before["threshold"],
        "prevalence": model.prevalence_,
        "previous_prevalence": before["prevalence"],
        "pos_label": None if pos_label is None else plain(pos_label),
        "classes": [plain(c) for c in model.classes_],
        "estimated": found is not None,
        "method": None if found is None else found.method,
        "prevalence_std": None if found is None else found.std,
        "prevalence_interval": None if found is None else list(found.interval),
        "n_unlabelled": None if found is None else found.n_rows,
        "model": args.model,
        "unlabelled": args.unlabelled,
        "output": args.output,
    }
    if args.json:
        print_json(report)
        return
    if pos_label is None:
        of = f"the proportions of classes {report['classes']}"
        on = "each class's score"
    else:
        of = f"a rate of class {plain(pos_label)!r}"
        on = f"P(class {plain(pos_label)!r})"
    emit(
        f"threshold {_shown(model.threshold_)} on {on} (was "
        f"{_shown(before['threshold'])}), decided for {of} of "
        f"{rate_text(model.prevalence_)} (was {rate_text(before['prevalence'])})"
    )
    if found is not None:
        low, high = found.interval
        source = "<stdin>" if args.unlabelled == STDIN else args.unlabelled
        emit(
            f"estimated ({found.method}) from {found.n_rows} unlabelled rows of "
            f"{source}: {rate_text(found.value)} +- "
            f"{rate_text(found.std)}, 95 % interval {rate_text(low)} to "
            f"{rate_text(high)}"
        )
    emit(
        f"saved to {args.output}; predict with: threshold-estimators predict "
        f"{args.output} FILE.csv"
    )
