"""CSV input and output, labels, and user mistakes turned into messages."""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import json
import math
import os
import sys
import warnings

import numpy as np

from .._validation import plain

# Cells read as missing values in numeric columns.
_MISSING = frozenset({"", "na", "nan", "n/a", "null", "none"})


class DataError(Exception):
    """A problem with the user's files or values: exit code 1, no traceback."""


def report_errors(command):
    """Run ``command(args)``; print data errors and warnings as one-liners.

    Errors of the user's data (``DataError``, and the ``ValueError`` the
    estimators raise for bad input), unreadable files (``OSError``) and a
    missing optional dependency (``ImportError``) give exit code 1 with a
    message on stderr, never a traceback. Warnings go to stderr once each.
    """

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        prefix = f"threshold-estimators {args.command}"
        error = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                code = command(args)
            except BrokenPipeError:
                # The reader of stdout left (e.g. ``| head``): nothing to report.
                # Point stdout at devnull so the final flush does not fail too.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return 1
            except (DataError, ValueError, OSError, ImportError) as exc:
                code, error = 1, exc
        for message in dict.fromkeys(str(warning.message) for warning in caught):
            print(f"{prefix}: warning: {message}", file=sys.stderr)
        if error is not None:
            print(f"{prefix}: error: {error}", file=sys.stderr)
        return code

    return run


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
    parser.add_argument("file", metavar="FILE.csv", help="CSV file with a header row")
    parser.add_argument("--label", required=True, metavar="COL", help="label column")
    return parser


def progress(args: argparse.Namespace, message: str) -> None:
    """A progress line on stderr, unless the output is ``--json``."""
    if not getattr(args, "json", False):
        print(message, file=sys.stderr, flush=True)


class Table:
    """Columns of a CSV file, as tuples of strings, and the rows' line numbers.

    ``header`` lists every column of the file; only those read are available.
    """

    def __init__(self, path, header, names, rows, lines):
        self.path, self.header, self.lines = path, header, lines
        self.n_rows = len(rows)
        self._columns = dict(zip(names, zip(*rows, strict=True), strict=True))

    def column(self, name: str) -> tuple[str, ...]:
        if name not in self._columns:
            raise DataError(
                f"{self.path} has no column {name!r}; its columns are {self.header}."
            )
        return self._columns[name]

    def numeric(self, name: str, *, allow_missing: bool) -> np.ndarray:
        """Column ``name`` as floats (missing cells as NaN when allowed)."""
        cells = self.column(name)
        try:
            values = np.array(cells, dtype=float)
        except ValueError:
            values = np.empty(len(cells))
            for i, cell in enumerate(cells):
                text = cell.strip()
                try:
                    values[i] = math.nan if text.lower() in _MISSING else float(text)
                except ValueError:
                    raise DataError(
                        f"column {name!r} of {self.path} must be numeric; line "
                        f"{self.lines[i]} holds {cell!r}."
                    ) from None
        if np.isinf(values).any():
            line = self.lines[int(np.flatnonzero(np.isinf(values))[0])]
            raise DataError(
                f"column {name!r} of {self.path} holds an infinite value on line "
                f"{line}; scores and features must be finite."
            )
        missing = np.isnan(values)
        if missing.any() and not allow_missing:
            raise DataError(
                f"column {name!r} of {self.path} has {np.count_nonzero(missing)} "
                f"missing values (first on line {self.lines[int(np.argmax(missing))]})."
            )
        return values

    def labels(self, name: str) -> np.ndarray:
        """Column ``name`` as class labels: integers, floats or strings."""
        cells = [cell.strip() for cell in self.column(name)]
        empty = [i for i, cell in enumerate(cells) if not cell]
        if empty:
            raise DataError(
                f"column {name!r} of {self.path} has {len(empty)} empty labels "
                f"(first on line {self.lines[empty[0]]})."
            )
        try:
            numbers = np.array(cells, dtype=float)
        except ValueError:
            return np.asarray(cells)
        if not np.all(np.isfinite(numbers)):
            raise DataError(f"column {name!r} of {self.path} has non-finite labels.")
        if np.all(numbers == np.round(numbers)):
            return numbers.astype(np.int64)
        return numbers


def read_csv(path: str, keep: list[str] | None = None) -> Table:
    """A CSV file with a header row, separated by commas (or tabs or semicolons).

    The separator is the first of ``,``, tab, ``;`` found in the header line.
    With ``keep``, only those columns are kept (and checked for before the
    rows are read, so that a misspelt column fails fast on a large file).
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            first = file.readline()
            delimiter = next((d for d in ",\t;" if d in first), ",")
            file.seek(0)
            reader = csv.reader(file, delimiter=delimiter)
            header = [name.strip() for name in next(reader, [])]
            kept = _check_header(path, header, keep)
            rows, lines = [], []
            for row in reader:
                if not row:  # a blank line
                    continue
                if len(row) != len(header):
                    raise DataError(
                        f"{path}, line {reader.line_num}: {len(row)} fields, but the "
                        f"header has {len(header)}."
                    )
                rows.append(row if kept is None else [row[i] for i in kept])
                lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise DataError(f"cannot read {path}: not UTF-8 text ({exc.reason}).") from None
    except csv.Error as exc:
        raise DataError(f"cannot parse {path} as CSV: {exc}.") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}.") from None
    if not rows:
        raise DataError(f"{path} has a header but no data rows.")
    names = header if kept is None else [header[i] for i in kept]
    return Table(path, header, names, rows, lines)


def _check_header(path: str, header: list[str], keep: list[str] | None):
    """Indices of the ``keep`` columns (None: all), after checks of the header."""
    if not header or header == [""]:
        raise DataError(f"{path} is empty; expected a header row of column names.")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise DataError(f"{path} has duplicated column names: {duplicated}.")
    if keep is None:
        return None
    missing = [name for name in keep if name not in header]
    if len(missing) == 1:
        raise DataError(
            f"{path} has no column {missing[0]!r}; its columns are {header}."
        )
    if missing:
        raise DataError(
            f"{path} lacks the columns {missing}; its columns are {header}."
        )
    return [header.index(name) for name in dict.fromkeys(keep)]


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
            matches = classes[classes == float(given)]
        except ValueError:
            matches = classes[:0]
    else:
        matches = classes[classes == given.strip()]
    if not matches.size:
        raise DataError(
            f"--pos-label {given!r} is not a label of column {column!r}; its labels "
            f"are {shown}{' ...' if classes.size > 10 else ''}."
        )
    return matches[0]


def rates(tp, fp, tn, fn, matrix=None) -> dict:
    """Precision (None when nothing is called positive), recall, F1, and cost."""
    report = {
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
    }
    if matrix is not None:
        (c_tn, c_fp), (c_fn, c_tp) = np.asarray(matrix, dtype=float)
        report["cost"] = float(c_tn * tn + c_fp * fp + c_fn * fn + c_tp * tp)
        report["mean_cost"] = report["cost"] / (tp + fp + tn + fn)
    counts = {"tp": tp, "fp": fp, "tn": tn, "fn": fn}
    return {**report, **{k: plain(v) for k, v in counts.items()}}


def rates_text(report: dict) -> str:
    def show(value):
        return "undefined" if value is None else f"{value:.4f}"

    text = (
        f"precision {show(report['precision'])}  recall {show(report['recall'])}  "
        f"f1 {show(report['f1'])}\n"
    )
    if "cost" in report:
        text += f"cost {report['cost']:g} ({report['mean_cost']:.4g} per row)\n"
    return text + (
        f"tp {report['tp']}  fp {report['fp']}  tn {report['tn']}  fn {report['fn']}"
    )


def print_json(report: dict) -> None:
    """One JSON object on stdout; NaN becomes null (JSON has no NaN)."""

    def clean(value):
        value = plain(value)
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, (list, tuple, np.ndarray)):
            return [clean(v) for v in value]
        return value

    print(json.dumps({key: clean(value) for key, value in report.items()}))


@contextlib.contextmanager
def output_file(path: str | None):
    """``path`` opened for writing text, or stdout when None."""
    if path is None:
        yield sys.stdout
        return
    with open(path, "w", newline="", encoding="utf-8") as file:
        yield file
