"""Reading CSV files and writing output files, through a temporary file."""

from __future__ import annotations

import contextlib
import csv
import functools
import itertools
import math
import os
import secrets
import shutil
import stat
import sys

import numpy as np

from .common import DataError, UsageError, _stdout_errors

# Cells read as missing values in numeric columns.
_MISSING = frozenset({"", "na", "nan", "n/a", "null", "none"})

# The longest line read from a CSV file: a wide table's row fits, and a file
# without line ends (/dev/zero, a binary file) fails after 16 MiB instead of
# filling the memory. Fields are bounded too, by ``csv.field_size_limit()``.
MAX_LINE = 1 << 24

# The FILE argument naming standard input.
STDIN = "-"


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


def read_csv(
    path: str, keep: list[str] | None = None, roles: dict[str, str] | None = None
) -> Table:
    """A CSV file with a header row, separated by commas (or tabs or semicolons).

    The separator is the first of ``,``, tab, ``;`` found in the header line.
    With ``keep``, only those columns are kept (and checked for before the
    rows are read, so that a misspelt column fails fast on a large file).
    ``roles`` (column: what names it, e.g. "--weight") must be columns of the
    file too, checked as early; a missing one's message says what named it.
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
            kept = _check_header(name, header, keep, roles or {})
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


def _check_header(
    path: str, header: list[str], keep: list[str] | None, roles: dict[str, str]
):
    """Indices of the ``keep`` columns (None: all), after checks of the header."""
    if not header or header == [""]:
        raise DataError(f"{path} is empty; expected a header row of column names.")
    # A column read must be unambiguous; other columns may share a name.
    read = header if keep is None else keep
    duplicated = sorted({name for name in read if header.count(name) > 1})
    if duplicated:
        raise DataError(f"{path} has duplicated column names: {duplicated}.")
    missing = [name for name in keep or () if name not in header]
    missing += [name for name in roles if name not in header and name not in missing]
    if len(missing) == 1:
        role = f" ({roles[missing[0]]})" if missing[0] in roles else ""
        raise DataError(
            f"{path} has no column {missing[0]!r}{role}; its columns are {header}."
        )
    if missing:
        raise DataError(
            f"{path} lacks the columns {missing}; its columns are {header}."
        )
    if keep is None:
        return None
    return [header.index(name) for name in dict.fromkeys(keep)]


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
        same = _is_standard_input_file(path) if source == STDIN else None
        if same or (source != STDIN and _same_file(source, path)):
            shown = "read on standard input" if source == STDIN else source
            raise UsageError(
                f"{option} {path} is the input file {shown}: refusing to "
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


def _is_standard_input_file(path: str) -> bool:
    """Whether ``path`` is the regular file redirected to standard input
    (``< data.csv``), whatever it is called (``/dev/stdin`` included)."""
    try:
        stdin = os.fstat(sys.stdin.fileno())
        target = os.stat(path)
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISREG(stdin.st_mode) and (stdin.st_dev, stdin.st_ino) == (
        target.st_dev,
        target.st_ino,
    )


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
