"""``threshold-estimators tune`` and ``predict``: a saved tuned model."""

from __future__ import annotations

import argparse
import csv
import functools
import importlib
import sys
import time
import warnings
import zipfile

import numpy as np

from .._validation import plain
from .common import (
    DataError,
    add_prevalence_argument,
    add_weight_argument,
    counts_of,
    emit,
    labelled_csv_parser,
    positive_label,
    print_json,
    progress,
    rate_text,
    rates,
    rates_text,
    report_errors,
    sample_weights,
    warn_if_few_calls,
)
from .files import check_output, output_file, read_csv, writing
from .objective import GRAMMAR, parse

TUNE_DESCRIPTION = """\
Fit a ThresholdTunedClassifier on a CSV of features and a binary label: the
model (logistic: StandardScaler + LogisticRegression; hgb:
HistGradientBoostingClassifier) is fitted on K stratified folds (shuffled with
a fixed seed: the same file gives the same model), the threshold on its
probability of the positive class (the greater of the two labels, e.g. 1 of
0/1, "yes" of no/yes) is searched exactly on the out-of-fold predictions, and
the model is refitted on all rows and saved with joblib (with skops when
MODEL ends in .skops: a file "predict" loads without running its code). With
--objective threshold:T nothing is searched: the model predicts positive at
probability >= T, and the report gives that cut's out-of-fold metrics.

Every column except the label, the --weight column and the per-row cost
columns of the objective (cost:fp=5,fn=@amount) is a feature and must be
numeric: encode categorical columns as numbers (e.g. one-hot) first. Empty
cells (or NA, NaN) are missing values, which hgb handles and logistic
refuses. The weights and per-row costs weigh the threshold search; the
weights are also passed to the model's fit, the costs never. The report gives
the out-of-fold precision, recall, F1, flagged rate (the share of rows called
positive) and cost at the threshold; progress lines go to stderr (with -v, or
when stderr is a terminal, also one as each fold fit finishes). A threshold
calling fewer than 30 out-of-fold rows positive gets a warning with the
count: its metrics, read on so few rows, may not hold on new data (a target
with a confidence level @C and a budget rate<=R excepted). The saved
model keeps the decision, not the out-of-fold curves (whose size grows with
the rows), unless --store-cv-results asks for them. --prevalence P makes the
decision for a positive rate P other than the file's (the out-of-fold rows of
each class reweighted to it); "retarget" changes the rate of a model saved
with --retargetable later, without refitting."""

PREDICT_DESCRIPTION = """\
Predict with a model saved by "tune" (or any fitted scikit-learn classifier
saved with joblib or skops): one output row per input row, column
"prediction", and with --proba one "proba_<class>" column per class. The
feature columns are selected by name (the label column, and any other extra
column, is ignored).

Only load joblib files you trust: loading one can run code. A .skops file (a
model saved with skops.io, e.g. by "tune --output MODEL.skops"; needs pip
install "threshold-estimators[persist]") is loaded without running code from
the file, and only if the types it asks for are classes or functions of
threshold_estimators, scikit-learn or NumPy; any other type is refused by
name, unless --trust names it."""

TRUST_HELP = (
    "for a .skops model: a type to load besides those of threshold_estimators, "
    "scikit-learn and NumPy, as the refusal names it (e.g. "
    "xgboost.sklearn.XGBClassifier); repeat for each. Trusting a type runs its "
    "code: name only types you know"
)

# The packages whose classes and functions a .skops model may ask for: those
# the command line itself runs (its models, its rules, their arrays).
_TRUSTED_PACKAGES = ("threshold_estimators", "sklearn", "numpy")


def _models():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "logistic": lambda: make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=1000)
        ),
        "hgb": lambda: HistGradientBoostingClassifier(random_state=0),
    }


def _folds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 2:
        raise argparse.ArgumentTypeError(f"K must be an integer >= 2, got {text!r}")
    return value


def add_trust_argument(parser) -> None:
    parser.add_argument(
        "--trust", action="append", default=[], metavar="TYPE", help=TRUST_HELP
    )


def add_parsers(commands) -> None:
    tune = labelled_csv_parser(
        commands,
        "tune",
        help="fit and save a threshold-tuned model on a CSV of features and labels",
        description=TUNE_DESCRIPTION,
        epilog=GRAMMAR,
    )
    tune.add_argument(
        "--model",
        choices=("logistic", "hgb"),
        default="logistic",
        help="the classifier (default: logistic)",
    )
    tune.add_argument(
        "--objective", default="f1", metavar="OBJ", help="default: f1; see below"
    )
    add_weight_argument(tune)
    add_prevalence_argument(tune)
    tune.add_argument(
        "--cv", type=_folds, default=5, metavar="K", help="number of folds (default: 5)"
    )
    tune.add_argument(
        "--recalibrate",
        action="store_true",
        help="recalibrate the probabilities so that the threshold reads 0.5",
    )
    tune.add_argument(
        "--store-cv-results",
        action="store_true",
        help="keep the out-of-fold curves in the saved model (cv_results_, for "
        "ThresholdCurveDisplay.from_estimator); they grow with the rows",
    )
    tune.add_argument(
        "--retargetable",
        action="store_true",
        help="keep the out-of-fold scores and labels (about 10 bytes a row) so "
        "that retarget can re-decide for another rate without refitting",
    )
    tune.add_argument(
        "--output",
        required=True,
        metavar="MODEL.joblib",
        help="where to save it (not over FILE.csv); a path ending in .skops is "
        'written with skops (pip install "threshold-estimators[persist]"), '
        "which predict loads without running code from the file",
    )
    tune.add_argument(
        "--json",
        action="store_true",
        help="print the report as one JSON object (and no progress lines unless -v)",
    )
    tune.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="a progress line on stderr as each fold fit and the final refit "
        "finish, then the threshold chosen (default: only when stderr is a "
        "terminal and without --json); stdout is left to the report",
    )
    tune.set_defaults(run=run_tune)

    predict = commands.add_parser(
        "predict",
        help="predict a CSV with a saved model",
        description=PREDICT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict.add_argument(
        "model", metavar="MODEL.joblib", help="saved by tune (.joblib or .skops)"
    )
    predict.add_argument(
        "file", metavar="FILE.csv", help="CSV file with a header row (-: stdin)"
    )
    predict.add_argument(
        "--output",
        metavar="OUT.csv",
        help="where to write (default, or -: stdout); never over an input",
    )
    predict.add_argument(
        "--proba", action="store_true", help="add the probability of each class"
    )
    add_trust_argument(predict)
    predict.set_defaults(run=run_predict)


def _fold_progress(args: argparse.Namespace) -> bool:
    """Whether ``tune`` reports each fold fit: asked for (``-v``), or by
    default for someone watching a terminal, unless the output is ``--json``
    (which asks for quiet)."""
    if args.verbose:
        return True
    try:
        return not args.json and sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stderr, or a closed one
        return False


def _warn_if_few_calls(model) -> None:
    """``common.warn_if_few_calls`` on the tuned model's out-of-fold rows."""
    record = model.out_of_fold_
    positive_index = int(np.searchsorted(model.classes_, model.pos_label_))
    warn_if_few_calls(
        model.objective_,
        record["labels"] == positive_index,
        record["score"],
        model.threshold_,
        rows="out-of-fold",
        remedy="Tune on more rows, or ask for a bound on the precision: "
        "--objective 'precision>=P@C'.",
    )


@report_errors
def run_tune(args: argparse.Namespace) -> int:
    from .. import ThresholdTunedClassifier

    # Fail before reading the data, let alone fitting.
    parsed = parse(args.objective)
    roles = parsed.columns_read(args.weight, {args.label: "--label"})
    check_output(args.output, args.file)
    start = time.perf_counter()
    progress(args, f"reading {args.file} ...")
    table = read_csv(args.file, roles=roles)
    y = table.labels(args.label)
    pos_label = positive_label(y, args.label, "tune")
    positive = y == pos_label
    weight = (
        None if args.weight is None else sample_weights(table, args.weight, positive)
    )
    costs = parsed.row_costs(table, positive)
    # The label, the weights and the per-row costs are no features.
    features = [
        name for name in table.header if name != args.label and name not in roles
    ]
    X = features_of(table, features, allow_missing=args.model == "hgb")
    if args.model == "logistic":
        _check_scale(table, features, X)
    besides = f" (neither the label nor {sorted(roles)})" if roles else ""
    progress(
        args,
        f"{table.n_rows} rows, {len(features)} features{besides}, positive label "
        f"{plain(pos_label)!r}; fitting {args.model} on {args.cv} folds, then on "
        "all rows ...",
    )
    model = ThresholdTunedClassifier(
        _models()[args.model](),
        objective=parsed.objective,
        cv=args.cv,
        recalibrate=args.recalibrate,
        pos_label=pos_label,
        verbose=int(_fold_progress(args)),
        random_state=0,
        store_cv_results=args.store_cv_results,
        prevalence=args.prevalence,
        # The out-of-fold rows are kept for the warning about few positive
        # calls, then dropped unless asked for (_warn_if_few_calls).
        retargetable=True,
    )
    try:
        model.fit(X, y, sample_weight=weight, **costs)
    except ValueError as exc:
        raise parsed.refusal(exc, table) from None
    _warn_if_few_calls(model)
    if not args.retargetable:
        # As if fitted with retargetable=False: nothing else depends on it.
        model.out_of_fold_ = None
        model.set_params(retargetable=False)
    model.set_params(verbose=0)  # the saved model fits quietly, as by default
    # The columns the model reads, by name, so that predict can select them.
    model.feature_names_in_ = np.asarray(features, dtype=object)
    save(model, args.output)
    progress(args, f"saved {args.output} ({time.perf_counter() - start:.1f} s)")

    # The fitted decision: its out-of-fold counts and each fold's threshold.
    rule, fitted = model.rule_, model.objective_
    fixed = fitted.fixed_cut() is not None
    # Reweighted to a --prevalence, the counts are weighted sums.
    weighted = weight is not None or args.prevalence is not None
    counts = counts_of(
        (rule.counts_[key] for key in ("tp", "fp", "tn", "fn")), weighted
    )
    report = {
        "threshold": model.threshold_,
        **rates(*counts, **parsed.cost_report(fitted, model.best_score_)),
        "objective": args.objective,
        "objective_name": fitted.display_name,
        "objective_value": model.best_score_,
        "n": table.n_rows,
        "pos_label": plain(pos_label),
        "prevalence": model.prevalence_,
        "training_prevalence": float(np.average(positive, weights=weight)),
        "model": args.model,
        "cv": args.cv,
        "recalibrate": args.recalibrate,
        "features": features,
        "fold_thresholds": rule.fold_thresholds_,
        "fold_threshold_std": model.threshold_std_,
        "store_cv_results": args.store_cv_results,
        "retargetable": args.retargetable,
        "output": args.output,
    }
    if weight is not None:
        report["weight"] = args.weight
    if parsed.names:
        report["cost_columns"] = parsed.columns
    if args.json:
        print_json(report)
        return 0
    how = "given" if fixed else f"tuned by {args.cv}-fold CV"
    emit(
        f"threshold {model.threshold_!r} on P({args.label} = {plain(pos_label)!r}), "
        f"objective {args.objective} ({fitted.display_name}), {args.model}, {how}"
    )
    if args.prevalence is not None:
        emit(
            f"decided for a rate of {plain(pos_label)!r} of "
            f"{rate_text(model.prevalence_)} (--prevalence; the file's is "
            f"{rate_text(report['training_prevalence'])})"
        )
    reweighted = ", reweighted to that rate," * (args.prevalence is not None)
    emit(f"out of fold ({args.cv} folds){reweighted} at the threshold:")
    emit(rates_text(report))
    if not fixed:
        folds = " ".join(f"{t:.4g}" for t in rule.fold_thresholds_)
        emit(f"each fold's best threshold: {folds} (std {model.threshold_std_:.3g})")
    if args.recalibrate:
        emit("predict_proba is recalibrated: the threshold reads 0.5")
    emit(
        f"saved to {args.output}; predict with: threshold-estimators predict "
        f"{args.output} FILE.csv"
    )
    return 0


@report_errors
def run_predict(args: argparse.Namespace) -> int:
    check_output(args.output, args.model, args.file)
    model = load(args.model, trust=args.trust)
    table = read_csv(args.file)
    features = model_features(model, table, args.file)
    if args.proba and not hasattr(model, "predict_proba"):
        raise DataError(f"{type(model).__name__} has no predict_proba: drop --proba.")
    X = features_of(table, features, allow_missing=True)
    predictions = predicted(model, X, table, features, "predict")
    header, columns = ["prediction"], [[str(plain(p)) for p in predictions]]
    if args.proba:
        proba = predicted(model, X, table, features, "predict_proba")
        header += [f"proba_{plain(label)}" for label in model.classes_]
        columns += [[repr(float(p)) for p in column] for column in proba.T]
    with output_file(args.output) as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(*columns, strict=True))
    if args.output:
        progress(args, f"wrote {len(predictions)} predictions to {args.output}")
    return 0


def model_features(model, table, path: str) -> list[str]:
    """The columns the model reads: its feature names, else every column."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        missing = [str(name) for name in names if name not in table.header]
        if missing:
            raise DataError(
                f"{path} lacks feature columns the model was fitted on: "
                f"{missing}; its columns are {table.header}."
            )
        return [str(name) for name in names]
    expected = getattr(model, "n_features_in_", None)
    if expected != len(table.header):
        raise DataError(
            f"the model knows no feature names and expects {expected} features; "
            f"{path} has {len(table.header)} columns."
        )
    return table.header


def features_of(table, names: list[str], *, allow_missing: bool) -> np.ndarray:
    if not names:
        raise DataError(f"{table.path} has no feature column besides the label.")
    columns, bad = [], []
    for name in names:
        try:
            columns.append(table.numeric(name, allow_missing=True))
        except DataError as exc:
            bad.append(str(exc))
    if bad:
        raise DataError(
            "feature columns must be numeric (encode categories as numbers, e.g. "
            "one-hot, first): " + " ".join(bad)
        )
    X = np.column_stack(columns)
    missing = [
        name for name, col in zip(names, columns, strict=True) if np.isnan(col).any()
    ]
    if missing and not allow_missing:
        raise DataError(
            f"feature columns {missing} have missing values, which logistic "
            "refuses; fill them in, or use --model hgb."
        )
    return X


# Beyond this magnitude the squares in StandardScaler's variance overflow (to
# inf, then NaN), and LogisticRegression fails with "Input X contains NaN".
_MAX_LOGISTIC_FEATURE = 1e150


def _check_scale(table, names: list[str], X: np.ndarray) -> None:
    with np.errstate(invalid="ignore"):
        largest = np.nanmax(np.abs(X), axis=0, initial=0.0)
    huge = [
        name
        for name, m in zip(names, largest, strict=True)
        if m > _MAX_LOGISTIC_FEATURE
    ]
    if huge:
        raise DataError(
            f"feature columns {huge} of {table.path} hold values beyond "
            f"{_MAX_LOGISTIC_FEATURE:g} (up to {largest.max():.3g}), too large for "
            "logistic's standardisation; rescale them (e.g. take logs), or use "
            "--model hgb."
        )


def predicted(model, X, table, features, method):
    """``model.method(X)`` (or ``method(X)`` for a function); a model refusing
    missing values says which columns have some."""
    call = getattr(model, method) if isinstance(method, str) else method
    try:
        with warnings.catch_warnings():
            # The columns were matched to the model's feature names already
            # (model_features): an array of them in that order is what a
            # model fitted on a DataFrame would be given, and scikit-learn's
            # warning that X has no names would mislead.
            warnings.filterwarnings(
                "ignore", message="X does not have valid feature names"
            )
            return call(X)
    except ValueError as exc:
        gaps = [f for f, col in zip(features, X.T, strict=True) if np.isnan(col).any()]
        if not gaps or "NaN" not in str(exc):
            raise
        raise DataError(
            f"{type(model).__name__} refuses missing values, and the feature "
            f"columns {gaps} of {table.path} have some; fill them in (or tune "
            "with --model hgb)."
        ) from None


def is_skops(path: str) -> bool:
    """Whether ``path`` is a skops file: named ``.skops``, or a zip archive
    (what skops writes; a joblib file never is one), whatever its name."""
    if path.lower().endswith(".skops"):
        return True
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False  # unreadable: joblib's reading says why


def save(model, path: str) -> None:
    """``model`` saved to ``path``: with skops for a ``.skops`` path, else with
    joblib; through a temporary file (``files.writing``)."""
    if path.lower().endswith(".skops"):
        sio = _skops_io(path, "writing")  # before any file is created
        with writing(path) as name, open(name, "wb") as file:
            sio.dump(model, file)
        return
    import joblib

    with writing(path) as name:
        joblib.dump(model, name)


def _skops_io(path: str, doing: str):
    try:
        import skops.io
    except ImportError:
        raise ImportError(
            f"{doing} {path}, a skops file, needs skops: pip install "
            '"threshold-estimators[persist]" (or use a .joblib path).'
        ) from None
    return skops.io


def _is_library_type(name: str) -> bool:
    """Whether the type ``name`` (``module.Qualname``, as skops names it) is a
    class or function defined in one of ``_TRUSTED_PACKAGES``.

    The object is looked up as skops would load it, and judged by where it
    was defined (its ``__module__``), not by the name the file gives: a
    function of another package imported into a scikit-learn module, named
    through that module, is refused. Only modules of the trusted packages are
    ever imported.
    """
    parts = name.split(".")
    if parts[0] not in _TRUSTED_PACKAGES or any(p.startswith("__") for p in parts):
        return False
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except Exception:  # no such module (the name goes on), or a broken one
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute, None)
        break
    else:
        return False
    if not callable(found):  # a class or a function
        return False
    defined = getattr(found, "__module__", None) or ""
    return defined.split(".")[0] in _TRUSTED_PACKAGES


def _load_skops(sio, path: str, trust):
    """The model of the skops file ``path``, once every type it asks for is
    skops' default, the library's (:func:`_is_library_type`) or in ``trust``."""
    try:
        asked = sio.get_untrusted_types(file=path)
    except OSError as exc:
        raise DataError(
            f"cannot read model file {path}: {exc.strerror or exc}."
        ) from None
    except Exception as exc:  # not a skops archive, or a damaged one
        raise DataError(
            f"{path} is not a model file written by skops "
            f"({type(exc).__name__}: {exc})."
        ) from None
    refused = [t for t in asked if t not in trust and not _is_library_type(t)]
    if refused:
        raise DataError(
            f"{path} asks for types that are not classes or functions of "
            f"threshold_estimators, scikit-learn or NumPy: {refused}. Loading "
            "them would run their code: if you know them, name each with "
            f"--trust TYPE (e.g. --trust {refused[0]})."
        )
    # Every type asked for is now either skops' default or approved above.
    return sio.load(path, trusted=asked)


def load(path: str, *, trust=()):
    """The fitted model saved at ``path`` by joblib, or by skops (see
    :func:`is_skops`), whose types beyond skops' defaults must be the
    library's, scikit-learn's, NumPy's or named in ``trust``."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from .._classifier import RefitNeededError

    if is_skops(path):
        sio = _skops_io(path, "reading")  # without skops: the extra to install
        writer = "skops"
        read = functools.partial(_load_skops, sio, path, trust)
    else:
        import joblib

        writer = "joblib"
        read = functools.partial(joblib.load, path)
    try:
        model = read()
    except DataError:  # a refusal of _load_skops, already in words
        raise
    except OSError as exc:
        raise DataError(
            f"cannot read model file {path}: {exc.strerror or exc}."
        ) from None
    except RefitNeededError as exc:
        raise DataError(f"{path}: {exc}") from None
    except Exception as exc:  # a file that is no such dump fails in many ways
        raise DataError(
            f"{path} is not a model file written by {writer} "
            f"({type(exc).__name__}: {exc})."
        ) from None
    if not hasattr(model, "predict"):
        raise DataError(f"{path} holds a {type(model).__name__}, not a classifier.")
    try:
        check_is_fitted(model)
    except (NotFittedError, TypeError) as exc:
        raise DataError(f"{path} holds an unfitted model: {exc}") from None
    return model
