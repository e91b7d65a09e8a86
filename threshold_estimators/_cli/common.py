"""User mistakes turned into messages, stdout, labels, rates and JSON output."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import re
import sys
import traceback
import warnings
from fractions import Fraction

import numpy as np

from .._support import MIN_SUPPORT, LowSupportWarning, _interval
from .._validation import plain
from ..objectives import AlertBudget, PrecisionTarget, RecallTarget


class DataError(Exception):
    """A problem with the user's files or values: exit code 1, no traceback."""


class UsageError(Exception):
    """Arguments that contradict each other: exit code 2, no traceback."""


def _one_line(error: object) -> str:
    """The message of ``error`` on one line (estimators' messages may span several)."""
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip())


# The library's words for what only its Python API offers, and the command
# line's for the same thing (or nothing, where the command line has no such
# option): every message of a command names only what that command offers.
# Each pattern is applied in turn; tests/test_cli_habits.py checks that the
# messages reachable from the commands hold no Python option.
_PYTHON_TERMS = (
    # An infeasible target or budget: the command line always refuses.
    (
        r"Lower min_(precision|recall) or confidence, or pass on_infeasible='warn' "
        r"to [^.]*\.",
        lambda m: f"Lower the target {m[1][0].upper()} or the confidence C.",
    ),
    (
        r"Lower min_(precision|recall), or pass on_infeasible='warn' to [^.]*\.",
        lambda m: f"Lower the target {m[1][0].upper()}.",
    ),
    (
        r"Lower the floors, raise max_positive_rate, or pass on_infeasible='warn' "
        r"to [^.]*\.",
        "Lower the floors (P, Q) or raise the budget R.",
    ),
    (r",? or pass on_infeasible='warn' to [^.]*\.", "."),
    (r"\bmax_positive_rate\b", "R"),
    (r"\blower confidence\b", "lower C"),
    # A rate target read on few rows (LowSupportWarning): its remedy.
    (
        r"Set (Precision|Recall)Target\(([^,]+), confidence=([\d.]+)\) for a cut "
        r"whose (\w+) bound accounts for it, or tune on more rows\.",
        lambda m: (
            f"Use --objective '{m[1].lower()}>={m[2]}@{m[3]}' for a cut "
            f"whose {m[4]} bound accounts for it, or tune on more rows."
        ),
    ),
    # scikit-learn's splitters speak of n_splits, tune of --cv K.
    (r"\bn_splits=(\d+)", r"--cv \1"),
    (r"\bwith every class tuned \(pos_label=None\)", "for a model tuning every class"),
    (r" \(pos_label=None\)", ""),
    (r"\bin the order of classes_", "in sorted class order"),
    # retarget of a model fitted in Python with a scorer objective.
    (
        r"Refit with prevalence=\.\.\. instead, or tune a count objective "
        r"\(F1, PrecisionTarget, CostMatrix, \.\.\.\)",
        "Fit it again for the rate (tune --prevalence P), or with a count "
        "objective (f1, precision>=P, cost:fp=A,fn=B, ...)",
    ),
    # (Grammar: one call.)
    (
        r"\b1 (scored |out-of-fold )?positive calls: its (\w+), (\S+) on them\b",
        r"1 \1positive call: its \2, \3 on it",
    ),
)

# ``pick`` reads scores the user already has: no fold, nothing to tune.
_PICK_TERMS = (
    (r"\bon the out-of-fold data\b", "on these scores"),
    (r"\bout-of-fold\b", "scored"),
    (r"\bor tune on more rows\b", "or label and score more rows"),
)


def in_command_terms(text: str, command: str) -> str:
    """``text``, a message of the library, in the terms of ``command``: the
    options it names are the command line's (see ``_PYTHON_TERMS``)."""
    terms = _PYTHON_TERMS + (_PICK_TERMS if command == "pick" else ())
    for pattern, replacement in terms:
        text = re.sub(pattern, replacement, text)
    return text


def report_errors(command):
    """Run ``command(args)``; print errors and warnings as one-liners.

    Errors of the user's data (``DataError``, and the ``ValueError`` the
    estimators raise for bad input), unreadable or unwritable files
    (``OSError``), a missing optional dependency (``ImportError``) and a lack
    of memory give exit code 1, contradicting arguments (``UsageError``) exit
    code 2, with a one-line message on stderr, never a traceback, unless
    ``--debug`` asks for it (after the message). Warnings go to stderr once
    each. Messages are put in the command's terms (:func:`in_command_terms`).
    """

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        prefix = f"threshold-estimators {args.command}"
        error = exception = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                code = command(args)
                _flush_stdout()
            except BrokenPipeError:
                # The reader of stdout left (e.g. ``| head``): nothing to report.
                _silence_stdout()
                return 1
            except UsageError as exc:
                code, error, exception = 2, exc, exc
            except (DataError, ValueError, OSError, ImportError) as exc:
                code, error, exception = 1, exc, exc
            except MemoryError as exc:
                code, error, exception = 1, "out of memory", exc
            except KeyboardInterrupt as exc:
                code, error, exception = 130, "interrupted", exc
        debug = getattr(args, "debug", False)
        messages = {}
        for warning in caught:
            text = _one_line(in_command_terms(str(warning.message), args.command))
            messages.setdefault(text, warning)
        for text, warning in messages.items():
            where = ""
            if debug:
                where = (
                    f" [{warning.category.__name__} at {warning.filename}:"
                    f"{warning.lineno}]"
                )
            print(f"{prefix}: warning: {text}{where}", file=sys.stderr)
        if error is not None:
            text = in_command_terms(str(error), args.command)
            print(f"{prefix}: error: {_one_line(text)}", file=sys.stderr)
            if debug:
                traceback.print_exception(
                    type(exception), exception, exception.__traceback__
                )
        return code

    return run


@contextlib.contextmanager
def _stdout_errors():
    """A failed write on stdout (a full disk) as a DataError; a closed pipe as is."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        _silence_stdout()
        raise DataError(
            f"cannot write the standard output: {exc.strerror or exc}."
        ) from None


def emit(text: str = "") -> None:
    """``print(text)``, a failed write reported as such."""
    with _stdout_errors():
        print(text)


def _flush_stdout() -> None:
    # Now, so that a full disk is reported as an error (not ignored at exit).
    with _stdout_errors():
        sys.stdout.flush()


def _silence_stdout() -> None:
    # Point stdout at devnull so that the flush at exit does not fail again.
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def labelled_csv_parser(
    commands, name: str, *, help: str, description: str, epilog: str
):
    """A subcommand reading a CSV with a header row and a label column."""
    parser = commands.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "file", metavar="FILE.csv", help="CSV file with a header row (-: stdin)"
    )
    parser.add_argument("--label", required=True, metavar="COL", help="label column")
    return parser


def add_weight_argument(parser) -> None:
    parser.add_argument(
        "--weight",
        metavar="COL",
        help="sample-weight column (non-negative numbers): the counts, rates and "
        "costs are weighted sums",
    )


def _rate(text: str) -> float:
    """An argparse type: a rate strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f"P must be a rate strictly between 0 and 1, got {text!r}"
        )
    return value


def one_rate(text: str) -> float:
    """``--prevalence`` of one tuned class (pick, tune): one rate in (0, 1)."""
    if "," in text:
        raise argparse.ArgumentTypeError(
            "the decision is made for one class, so P is that class's rate "
            f"(the positive label's), one number in (0, 1); got the list {text!r}"
        )
    return _rate(text)


def rates_of(text: str) -> float | tuple[float, ...]:
    """``--prevalence`` of retarget: one rate, or comma-separated proportions
    (one per class, in sorted class order) for a model tuning every class."""
    parts = text.split(",")
    if len(parts) == 1:
        return _rate(text)
    values = tuple(_rate(part) for part in parts)
    if abs(math.fsum(values) - 1.0) > 1e-9:
        raise argparse.ArgumentTypeError(
            f"proportions of the classes must sum to 1; got {text!r} (sum "
            f"{math.fsum(values):.12g})"
        )
    return values


def add_prevalence_argument(parser, *, multiple: bool = False, **kwargs) -> None:
    """``--prevalence P``: the positive rate the decision is made for."""
    more = (
        "; for a model tuning every class of a multiclass target, one proportion "
        "per class, comma-separated in sorted class order (e.g. 0.2,0.3,0.5)"
    )
    parser.add_argument(
        "--prevalence",
        type=rates_of if multiple else one_rate,
        metavar="P",
        help="the rate of the positive class the decision is made for, in (0, 1), "
        "when deployment's differs from the data's (label shift: each class's "
        f"scores keep their distribution){more if multiple else ''}",
        **kwargs,
    )


def rate_text(value) -> str:
    """A rate, or proportions, as text."""
    if np.ndim(value) == 0:
        return _one_rate(float(value))
    return "(" + ", ".join(_one_rate(float(v)) for v in np.ravel(value)) + ")"


def _one_rate(rate: float) -> str:
    """Four decimals; a rate within 1e-4 of an end by its distance to it, so
    that no accepted rate reads as 0 or 1, which are refused."""
    if 1e-4 <= rate <= 1 - 1e-4:
        return f"{rate:.4f}"
    if rate < 1e-4:
        return f"{rate:.3g}"
    return f"1 - {1 - rate:.3g}"


def counts_of(counts, weighted: bool) -> tuple:
    """tp, fp, tn, fn: integers, or weighted sums (floats) with weights."""
    return tuple(float(c) if weighted else int(c) for c in counts)


def progress(args: argparse.Namespace, message: str) -> None:
    """A progress line on stderr, unless the output is ``--json``."""
    if not getattr(args, "json", False):
        print(message, file=sys.stderr, flush=True)


def positive_label(y: np.ndarray, column: str, command: str, given: str | None = None):
    """The positive class of labels ``y``: ``given``, else the greater of two."""
    classes = np.unique(y)
    shown = [plain(c) for c in classes[:10]]
    if classes.size < 2:
        raise DataError(
            f"column {column!r} holds a single label, {shown[0]!r}; a threshold "
            "needs both classes."
        )
    if given is None:
        if classes.size > 2:
            hint = " (or name the positive one with --pos-label)" * (command == "pick")
            raise DataError(
                f"{command} needs binary labels{hint}; column {column!r} has "
                f"{classes.size} distinct labels: {shown}"
                f"{' ...' if classes.size > 10 else ''}."
            )
        return classes[1]
    if classes.dtype.kind in "iuf":
        try:
            # Integers compared as integers: float(given) would merge labels
            # above 2**53 (9007199254740992 and ...993).
            value = int(given) if classes.dtype.kind in "iu" else float(given)
        except ValueError:
            try:
                value = float(given)
            except ValueError:
                value = None
        matches = classes[:0] if value is None else classes[classes == value]
    else:
        matches = classes[classes == given.strip()]
    if not matches.size:
        raise DataError(
            f"--pos-label {given!r} is not a label of column {column!r}; its labels "
            f"are {shown}{' ...' if classes.size > 10 else ''}."
        )
    return matches[0]


def rates(tp, fp, tn, fn, matrix=None, *, mean_cost=None) -> dict:
    """Precision (None when nothing is called positive), recall, F1, the
    flagged rate, and the cost.

    The counts are integers, or (with sample weights) weighted sums. The cost
    of a constant cost ``matrix`` is summed exactly from the counts; with
    per-row costs, the search's ``mean_cost`` (per row, or per unit of
    weight) is given, and the total cost is that mean times the rows' weight.
    """
    total = tp + fp + tn + fn
    report = {
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
    }
    if mean_cost is not None:
        report["cost"], report["mean_cost"] = mean_cost * total, mean_cost
    elif matrix is not None:
        report["cost"], report["mean_cost"] = _costs(matrix, (tn, fp, fn, tp))
    report["flagged_rate"] = (tp + fp) / total if total else None
    counts = {"tp": tp, "fp": fp, "tn": tn, "fn": fn}
    return {**report, **{k: plain(v) for k, v in counts.items()}}


def _costs(matrix, counts) -> tuple[float, float]:
    """Total and mean cost of ``counts`` (tn, fp, fn, tp), correctly rounded.

    Summed exactly, as fractions: costs near the float maximum
    (cost:fp=1e308,fn=1e308) give the right mean cost, and the total is inf
    only when it exceeds the float range.
    """
    costs = np.asarray(matrix, dtype=float).ravel().tolist()  # tn, fp, fn, tp
    # Integer counts, or weighted sums (floats, as exact fractions).
    counts = [Fraction(plain(k)) for k in counts]
    total = sum(Fraction(c) * k for c, k in zip(costs, counts, strict=True))
    return _to_float(total), _to_float(total / sum(counts))


def _to_float(value: Fraction) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def rates_text(report: dict) -> str:
    def show(value):
        return "undefined" if value is None else f"{value:.4f}"

    def count(value):
        return f"{value:.6g}" if isinstance(value, float) else f"{value}"

    weighted = report.get("weight") is not None
    text = (
        f"precision {show(report['precision'])}  recall {show(report['recall'])}  "
        f"f1 {show(report['f1'])}\n"
    )
    if "cost" in report:
        total = report["cost"]
        total = f"{total:g}" if math.isfinite(total) else "beyond the float range"
        unit = "unit of weight" if weighted else "row"
        text += f"cost {total} ({report['mean_cost']:.4g} per {unit})\n"
    flagged = report["tp"] + report["fp"]
    total = count(flagged + report["tn"] + report["fn"])
    of = f"a total weight of {total}" if weighted else f"{total} rows"
    text += (
        f"flagged rate {show(report['flagged_rate'])} ({count(flagged)} of {of} "
        "called positive)\n"
    )
    return text + (
        f"tp {count(report['tp'])}  fp {count(report['fp'])}  "
        f"tn {count(report['tn'])}  fn {count(report['fn'])}"
    )


def sample_weights(table, column: str, positive: np.ndarray) -> np.ndarray:
    """The ``--weight`` column: finite non-negative numbers, each class with
    a positive total; errors name the column and the line."""
    try:
        weight = table.numeric(column, allow_missing=False)
    except DataError as exc:
        raise DataError(f"--weight: {exc}") from None
    negative = np.flatnonzero(weight < 0)
    if negative.size:
        first = int(negative[0])
        raise DataError(
            f"--weight: column {column!r} of {table.path} holds a negative weight, "
            f"{weight[first]:g}, on line {table.lines[first]} ({negative.size} "
            "negative in all); weights must be non-negative finite numbers."
        )
    for is_positive, name in ((True, "positive"), (False, "negative")):
        if not weight[positive == is_positive].sum() > 0:
            raise DataError(
                f"--weight: the {name} rows have a total weight of 0 in column "
                f"{column!r} of {table.path}; each class needs a positive total "
                "weight."
            )
    return weight


def print_json(report: dict) -> None:
    """One JSON object on stdout; NaN becomes null (JSON has no NaN)."""

    def clean(value):
        value = plain(value)
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, (list, tuple, np.ndarray)):
            return [clean(v) for v in value]
        return value

    emit(json.dumps({key: clean(value) for key, value in report.items()}))


def warn_if_few_calls(objective, positive, score, threshold, *, rows, remedy) -> None:
    """A :class:`~threshold_estimators.LowSupportWarning` when the cut calls
    fewer than ``MIN_SUPPORT`` (30) rows positive.

    The library warns so only for a precision target without confidence (its
    ``LowSupportWarning``, which this leaves to it); but a cut that F1, F-beta,
    a cost, a recall target or a fixed threshold places on a handful of
    positive calls reports a precision (and F1, cost) as rough, and the
    command line says so with the count. Left alone: a target with a
    confidence level (``@C``), whose bound accounts for the count, and an
    alert budget (``rate<=R``), whose number of calls R sets by design (the
    report gives it). ``positive`` marks the positive rows, ``score`` their
    scores (the cut calls ``score >= threshold``); ``rows`` says which rows
    they are and ``remedy`` ends the message.
    """
    if isinstance(objective, (PrecisionTarget, AlertBudget)) or (
        isinstance(objective, RecallTarget) and objective.confidence is not None
    ):
        return
    if not np.isfinite(threshold):
        return
    called = np.asarray(score) >= threshold
    calls = int(np.count_nonzero(called))
    if not 0 < calls < MIN_SUPPORT:
        return
    hits = int(np.count_nonzero(called & positive))
    low, high = _interval(hits, calls)
    them = "it" if calls == 1 else "them"
    warnings.warn(
        f"The cut {threshold:.4g} rests on {calls} {rows} positive "
        f"call{'s' * (calls > 1)}: its precision, {hits / calls:.3g} on {them}, "
        f"is only known to lie in [{low:.3g}, {high:.3g}] (95 %), and a cut "
        f"calling fewer than {MIN_SUPPORT} rows positive may not keep its "
        f"precision, recall, F1 or cost on new data. {remedy}",
        LowSupportWarning,
        stacklevel=2,
    )
