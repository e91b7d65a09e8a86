"""CSV input and output, labels, and user mistakes turned into messages."""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import itertools
import json
import math
import os
import secrets
import shutil
import sys
import warnings
from fractions import Fraction

import numpy as np

from .._validation import plain

# Cells read as missing values in numeric columns.
_MISSING = frozenset({"", "na", "nan", "n/a", "null", "none"})

# The longest line read from a CSV file: a wide table's row fits, and a file
# without line ends (/dev/zero, a binary file) fails after 16 MiB instead of
# filling the memory. Fields are bounded too, by ``csv.field_size_limit()``.
MAX_LINE = 1 << 24

# The FILE argument naming standard input.
STDIN = "-"


class DataError(Exception):
    """A problem with the user's files or values: exit code 1, no traceback."""


class UsageError(Exception):
    """Arguments that contradict each other: exit code 2, no traceback."""


def _one_line(error: object) -> str:
    """The message of ``error`` on one line (estimators' messages may span several)."""
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip())


def report_errors(command):
    """Run ``command(args)``; print errors and warnings as one-liners.

    Errors of the user's data (``DataError``, and the ``ValueError`` the
    estimators raise for bad input), unreadable or unwritable files
    (``OSError``), a missing optional dependency (``ImportError``) and a lack
    of memory give exit code 1, contradicting arguments (``UsageError``) exit
    code 2, with a one-line message on stderr, never a traceback. Warnings go
    to stderr once each.
    """

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        prefix = f"threshold-estimators {args.command}"
        error = None
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
                code, error = 2, exc
            except (DataError, ValueError, OSError, ImportError) as exc:
                code, error = 1, exc
            except MemoryError:
                code, error = 1, "out of memory"
            except KeyboardInterrupt:
                code, error = 130, "interrupted"
        for message in dict.fromkeys(str(warning.message) for warning in caught):
            print(f"{prefix}: warning: {_one_line(message)}", file=sys.stderr)
        if error is not None:
            print(f"{prefix}: error: {_one_line(error)}", file=sys.stderr)
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
        integers = _integer_labels(cells)
        if integers is not None:
            return integers
        try:
            numbers = np.array(cells, dtype=float)
        except ValueError:
            return np.asarray(cells)
        if not np.all(np.isfinite(numbers)):
            raise DataError(f"column {name!r} of {self.path} has non-finite labels.")
        # 1.0 reads as 1; beyond 2**53 a float is no exact integer (and beyond
        # 2**63 no int64 at all), so such labels stay floats.
        if np.all(numbers == np.round(numbers)) and np.all(np.abs(numbers) < 2**53):
            return numbers.astype(np.int64)
        return numbers


def _integer_labels(cells) -> np.ndarray | None:
    """Labels written as integers, exactly (None if some cell is not one).

    Parsed as integers, not floats: 9007199254740993 and 9007199254740992
    are two labels, although they are the same float. Beyond int64 they stay
    text, still distinct.
    """
    try:
        values = [int(cell) for cell in cells]
    except ValueError:
        return None
    if not all(-(2**63) <= value < 2**63 for value in values):
        return np.asarray(cells)
    return np.array(values, dtype=np.int64)


def read_csv(path: str, keep: list[str] | None = None) -> Table:
    """A CSV file with a header row, separated by commas (or tabs or semicolons).

    The separator is the first of ``,``, tab, ``;`` found in the header line.
    With ``keep``, only those columns are kept (and checked for before the
    rows are read, so that a misspelt column fails fast on a large file).
    ``path`` ``-`` is standard input: the file is read once, front to back,
    so that a pipe works.
    """
    name = "<stdin>" if path == STDIN else path
    reader = None
    try:
        with _open_text(path) as file:
            lines = _bounded_lines(file, name)
            first = next(lines, "")
            delimiter = next((d for d in ",\t;" if d in first), ",")
            reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
            header = [column.strip() for column in next(reader, [])]
            kept = _check_header(name, header, keep)
            rows, numbers = _read_rows(reader, name, len(header), kept)
    except UnicodeDecodeError as exc:
        raise DataError(f"cannot read {name}: not UTF-8 text ({exc.reason}).") from None
    except csv.Error as exc:
        line = "" if reader is None else f", line {reader.line_num}"
        raise DataError(f"cannot parse {name} as CSV{line}: {exc}.") from None
    except OSError as exc:
        raise DataError(f"cannot read {name}: {exc.strerror or exc}.") from None
    if not rows:
        raise DataError(f"{name} has a header but no data rows.")
    names = header if kept is None else [header[i] for i in kept]
    return Table(name, header, names, rows, numbers)


def _open_text(path: str):
    """``path``, or standard input for ``-``, opened as UTF-8 text (BOM skipped)."""
    if path == STDIN:
        # A new reader of file descriptor 0, whatever the locale's encoding;
        # closefd=False leaves stdin itself open.
        return open(0, newline="", encoding="utf-8-sig", closefd=False)
    return open(path, newline="", encoding="utf-8-sig")


def _bounded_lines(file, name: str):
    """The lines of ``file``, each read up to MAX_LINE characters, else an error."""
    lines = iter(functools.partial(file.readline, MAX_LINE + 1), "")
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE:
            raise DataError(
                f"{name}, line {number}: longer than {MAX_LINE} characters (the "
                "limit of a line); not a CSV text file?"
            )
        yield line


def _read_rows(reader, name: str, width: int, kept: list[int] | None):
    """The rows after the header (only the ``kept`` fields) and their line numbers."""
    rows, numbers = [], []
    for row in reader:
        if not row:  # a blank line
            continue
        if len(row) != width:
            raise DataError(
                f"{name}, line {reader.line_num}: {len(row)} fields, but the "
                f"header has {width}."
            )
        rows.append(row if kept is None else [row[i] for i in kept])
        numbers.append(reader.line_num)
    return rows, numbers


def _check_header(path: str, header: list[str], keep: list[str] | None):
    """Indices of the ``keep`` columns (None: all), after checks of the header."""
    if not header or header == [""]:
        raise DataError(f"{path} is empty; expected a header row of column names.")
    # A column read must be unambiguous; other columns may share a name.
    read = header if keep is None else keep
    duplicated = sorted({name for name in read if header.count(name) > 1})
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
        report["cost"], report["mean_cost"] = _costs(matrix, (tn, fp, fn, tp))
    counts = {"tp": tp, "fp": fp, "tn": tn, "fn": fn}
    return {**report, **{k: plain(v) for k, v in counts.items()}}


def _costs(matrix, counts) -> tuple[float, float]:
    """Total and mean cost of ``counts`` (tn, fp, fn, tp), correctly rounded.

    Summed exactly, as fractions: costs near the float maximum
    (cost:fp=1e308,fn=1e308) give the right mean cost, and the total is inf
    only when it exceeds the float range.
    """
    costs = np.asarray(matrix, dtype=float).ravel().tolist()  # tn, fp, fn, tp
    total = sum(Fraction(c) * int(k) for c, k in zip(costs, counts, strict=True))
    return _to_float(total), _to_float(total / sum(counts))


def _to_float(value: Fraction) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def rates_text(report: dict) -> str:
    def show(value):
        return "undefined" if value is None else f"{value:.4f}"

    text = (
        f"precision {show(report['precision'])}  recall {show(report['recall'])}  "
        f"f1 {show(report['f1'])}\n"
    )
    if "cost" in report:
        total = report["cost"]
        total = f"{total:g}" if math.isfinite(total) else "beyond the float range"
        text += f"cost {total} ({report['mean_cost']:.4g} per row)\n"
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

    emit(json.dumps({key: clean(value) for key, value in report.items()}))


def check_output(path: str | None, *inputs: str, option: str = "--output") -> None:
    """Refuse an output that is one of the ``inputs`` or cannot be written.

    Called before any work, so that a mistake does not cost a long fit. The
    same file is recognised through any spelling (a relative or absolute
    path, a symbolic or hard link).
    """
    if path is None or path == STDIN:
        return
    if not path:
        raise DataError("cannot write '': the path is empty.")
    for source in inputs:
        if source != STDIN and _same_file(source, path):
            raise UsageError(
                f"{option} {path} is the input file {source}: refusing to "
                "overwrite an input; write to another path."
            )
    if os.path.isdir(path) or path.endswith(os.sep):
        raise DataError(f"cannot write {path}: it is a directory.")
    if os.path.exists(path) and not os.path.isfile(path):
        return  # a device or a pipe (/dev/null, /dev/stdout): written in place
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise DataError(f"cannot write {path}: permission denied.")
    try:  # the temporary file written first must be possible next to it
        with _temporary(os.path.realpath(path)):
            pass
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}.") from None


def _same_file(source: str, path: str) -> bool:
    if os.path.exists(source) and os.path.exists(path):
        # Only a regular file can be lost: /dev/stdin and /dev/stdout may be
        # the same terminal.
        return os.path.isfile(source) and os.path.samefile(source, path)
    return os.path.realpath(source) == os.path.realpath(path)


@contextlib.contextmanager
def _temporary(target: str):
    """A new empty file next to ``target``, with its extension; removed at exit.

    joblib and matplotlib choose the format from the extension: the name is
    ``target``'s behind a prefix without dots, so it keeps that extension, or
    its lack of one.
    """
    directory, name = os.path.split(target)
    temporary = os.path.join(directory, f".tmp-{secrets.token_hex(4)}-{name}")
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield temporary
    finally:
        with contextlib.suppress(OSError):
            os.remove(temporary)


@contextlib.contextmanager
def writing(path: str):
    """The file name to write ``path`` through; errors name ``path``.

    A regular file is written to a temporary file in the same directory,
    which replaces ``path`` only once complete: a failure (a full disk, an
    I/O error, an interruption) leaves an existing ``path`` as it was. A
    device or a pipe is written in place.
    """
    target = os.path.realpath(path)  # through a symbolic link, not over it
    try:
        if os.path.exists(target) and not os.path.isfile(target):
            yield target
            return
        with _temporary(target) as temporary:
            if os.path.exists(target):
                shutil.copymode(target, temporary)
            yield temporary
            _sync(temporary)
            os.replace(temporary, target)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}.") from None


def _sync(path: str) -> None:
    # On disk before the rename: a crash then leaves the old file or the new one.
    fd = os.open(path, os.O_RDWR)  # Windows cannot fsync a read-only descriptor
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def output_file(path: str | None):
    """``path`` opened for writing text (see :func:`writing`); stdout for None or -."""
    if path is None or path == STDIN:
        with _stdout_errors():
            yield sys.stdout
        return
    with writing(path) as name, open(name, "w", newline="", encoding="utf-8") as file:
        yield file
