"""Reading only the columns a command needs from a large CSV or Parquet file.

``files.read_csv`` holds every kept cell as a Python string: about 18 times
the file's size in memory, and seconds per million rows. For ``pick``, which
needs a label column and a few numeric ones, :func:`read_columns` reads those
columns only, with pyarrow (in parallel on large files) or, without pyarrow,
with pandas in chunks, and returns them compact: the numbers as float64
arrays, the labels as codes (one byte a row for up to 256 distinct texts)
into their distinct values.

The result is the one ``files.read_csv`` would give, or ``files.read_csv``
itself. Whatever the fast readers could parse differently from the standard
library's ``csv`` module goes to it: standard input, a header spanning lines,
a line beyond the limit of a line or of a field, a file that is not UTF-8 or
holds NUL bytes, an odd number of quotes (and for pandas, which does not
count the fields of the rows when it reads some columns, any quote). So does
whatever ends in an error naming a line (a row with the wrong number of
fields, an empty label, a missing, infinite or unparsable number), which it
then gives as before. One difference is left: a quoted value spanning lines
and beyond ``csv``'s field limit (128 KiB) in a column not read is read by
pyarrow, where ``csv`` refuses the file.

Parquet (a ``.parquet`` or ``.pq`` file, a file starting with Parquet's
magic bytes, or a directory of such files) is read with pyarrow, a column at
a time, in batches. Its values mean what they would in its CSV export:
labels are compared as their text (integers, floats, strings; booleans as
``True``/``False``), numbers stored as text are parsed as a CSV's are, and
"line N" in a message is row N.
"""

from __future__ import annotations

import codecs
import copy
import csv
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import files
from .common import DataError

PARQUET_SUFFIXES = (".parquet", ".pq")
_PARQUET_MAGIC = b"PAR1"

# Rows per chunk of pandas' fallback reader: a few megabytes of strings.
_PANDAS_CHUNK_ROWS = 1 << 16

# pyarrow reads in parallel only files of this many bytes per thread: each
# thread keeps about 15 MB of blocks in flight, which beside a file of 32 MB
# per thread stays within 3 x the two columns' size, and reads about 1.5
# times as fast.
_BYTES_PER_THREAD = 1 << 25

# Rows per batch read from a Parquet file.
_PARQUET_BATCH_ROWS = 1 << 16

# Bytes per read of the scans of a CSV file. Small: freeing a large buffer
# raises glibc's threshold for serving allocations from the heap, which keeps
# freed memory (numpy's arrays of that size) in the process.
_SCAN_BYTES = 1 << 20


class Columns:
    """Some columns of a file, read by pyarrow or pandas.

    What ``pick`` reads of ``files.Table``: ``path``, ``header`` (every
    column of the file), ``n_rows``, ``lines`` (each row's line in the file,
    computed when first asked for: only messages use it) and
    :meth:`numeric`; the label column comes as :meth:`label_codes`.
    """

    def __init__(self, path, header, n_rows, numbers, labels, lines):
        self.path, self.header, self.n_rows = path, header, n_rows
        self._numbers = numbers  # column: float64 array
        self._labels = labels  # column: (distinct texts, codes into them)
        self._lines = lines

    @property
    def lines(self) -> Sequence[int]:
        if callable(self._lines):
            self._lines = self._lines()
        return self._lines

    def _missing(self, name: str) -> DataError:
        return DataError(
            f"{self.path} has no column {name!r}; its columns are {self.header}."
        )

    def numeric(self, name: str, *, allow_missing: bool) -> np.ndarray:
        """Column ``name`` as floats (missing values as NaN when allowed), with
        ``files.Table.numeric``'s messages."""
        if name not in self._numbers:
            raise self._missing(name)
        values = self._numbers[name]
        if isinstance(values, DataError):  # text that is not a number
            raise values
        if np.isfinite(values).all():
            return values
        infinite = np.isinf(values)
        if infinite.any():
            line = self.lines[int(np.argmax(infinite))]
            raise DataError(
                f"column {name!r} of {self.path} holds an infinite value on line "
                f"{line}; scores and features must be finite."
            )
        missing = np.isnan(values)
        if not allow_missing:
            raise DataError(
                f"column {name!r} of {self.path} has {np.count_nonzero(missing)} "
                f"missing values (first on line {self.lines[int(np.argmax(missing))]})."
            )
        return values

    def label_codes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Column ``name`` as class labels: ``(values, codes)``, the label of
        row ``i`` being ``values[codes[i]]``. ``values`` are what
        ``files.Table.labels`` makes of the distinct cells (integers, floats
        or strings; a label may appear more than once, written differently,
        e.g. ``1`` and ``1.0``), with its messages. Handed over, not kept:
        asked for once."""
        if name not in self._labels:
            raise self._missing(name)
        texts, codes = self._labels.pop(name)
        empty = np.array([not text.strip() for text in texts], dtype=bool)
        if empty.any():
            rows = empty[codes]
            raise DataError(
                f"column {name!r} of {self.path} has {np.count_nonzero(rows)} empty "
                f"labels (first on line {self.lines[int(np.argmax(rows))]})."
            )
        # files.Table's rules, applied once to each distinct cell.
        cells = [(text,) for text in texts]
        table = files.Table(self.path, self.header, [name], cells, [])
        return table.labels(name), codes


def label_values(table, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The labels of column ``name``: ``(values, codes)`` of a :class:`Columns`,
    or ``(labels, None)``, every row's label, of a ``files.Table``."""
    if isinstance(table, Columns):
        return table.label_codes(name)
    return table.labels(name), None


def is_label(values: np.ndarray, codes: np.ndarray | None, label) -> np.ndarray:
    """Whether each row's label is ``label`` (booleans, one a row)."""
    matches = values == label
    return matches if codes is None else matches[codes]


def read_columns(
    path: str, *, label: str, numeric: list[str], roles: dict[str, str]
) -> Columns | files.Table:
    """Columns ``label`` (class labels) and ``numeric`` of the file ``path``,
    the ``roles`` (column: what names it) among them.

    A :class:`Columns` read by pyarrow (or pandas), or, when those cannot
    give exactly what ``files.read_csv`` would, ``files.read_csv(path,
    keep=[label, *numeric], roles=roles)`` itself.
    """
    keep = [label, *numeric]
    if _is_parquet(path):
        return _read_parquet(path, label, numeric, roles)
    if path != files.STDIN and os.path.isfile(path):
        layout = _csv_layout(path, keep, roles)
        if layout is not None:
            columns = _read_scanned(path, layout, label, numeric)
            if columns is not None:
                return columns
    return files.read_csv(path, keep=keep, roles=roles)


def _read_scanned(path: str, layout: _Layout, label: str, numeric: list[str]):
    """The columns, read once :func:`_scan` has found the data readable (None
    otherwise, or when the reader cannot give what ``files.read_csv`` would).

    pyarrow reads without the interpreter lock: it parses the file as
    unquoted, the common case, while the scan runs on another core, and
    again with quotes only when the scan finds some.
    """
    if not _has_pyarrow():
        return (
            _pandas_csv(path, layout, label, numeric) if _scan(path, layout) else None
        )
    unquoted = copy.copy(layout)
    with ThreadPoolExecutor(max_workers=1) as pool:
        readable = pool.submit(_scan, path, layout)
        columns = _arrow_csv(path, unquoted, label, numeric)
        if not readable.result():
            return None
    return _arrow_csv(path, layout, label, numeric) if layout.quoted else columns


def _has_pyarrow() -> bool:
    try:
        import pyarrow.csv  # noqa: F401
    except ImportError:
        return False
    return True


def _has_pandas() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


# CSV.


class _Layout:
    """What the header line says: the separator, the column names, where the
    data start (in bytes), and whether the data hold quotes."""

    def __init__(self, delimiter, header, start):
        self.delimiter, self.header, self.start = delimiter, header, start
        self.quoted = False


def _csv_layout(path: str, keep: list[str], roles: dict[str, str]):
    """The layout of the CSV file ``path`` by its header (its data not yet
    scanned), or None when ``files.read_csv`` must read it (it then gives
    the same errors about the header)."""
    try:
        with files._open_text(path) as file:
            lines = files._bounded_lines(file, path)
            first = next(lines, "")
            delimiter = next((d for d in ",\t;" if d in first), ",")
            reader = csv.reader([first], delimiter=delimiter)
            header = [column.strip() for column in next(reader, [])]
        files._check_header(path, header, keep, roles)
        with open(path, "rb") as raw:
            start = len(raw.readline(files.MAX_LINE + 4))
    except Exception:  # a message about the header: read_csv gives it
        return None
    # A header opening a quote that its line does not close spans more lines
    # (csv joins them); the scan below counts lines by \n, which a header
    # ending in a lone \r lacks; a header without a line end has no data.
    if first.count('"') % 2 or not first.endswith("\n"):
        return None
    return _Layout(delimiter, header, start)


def _scan(path: str, layout: _Layout) -> bool:
    """Whether the data after the header can be read as ``files.read_csv``
    would: UTF-8 without NUL bytes, every line within the limits of a line
    and of a field, an even number of quotes (``layout.quoted`` says whether
    there are any: pyarrow then allows line ends in quoted values).

    Conservative, in linear time: a line end within every window of half the
    limit (in bytes, which are at least as many as the characters) bounds
    every line by the limit.
    """
    limit = min(files.MAX_LINE, csv.field_size_limit())
    window = max(limit // 2, 1)
    size = max(_SCAN_BYTES // window, 1) * window
    buffer = bytearray(size)
    decoder, quotes = None, 0
    with open(path, "rb") as file:
        file.seek(layout.start)
        while count := file.readinto(buffer):
            data = buffer if count == size else buffer[:count]
            if data.find(b"\x00") >= 0:
                return False
            if decoder is None and not data.isascii():
                decoder = codecs.getincrementaldecoder("utf-8")()
            if decoder is not None:
                try:
                    decoder.decode(data)
                except UnicodeDecodeError:
                    return False
            if data.find(b'"') >= 0:
                quotes += data.count(b'"')
            # Only whole windows: the file's end needs no line end.
            for offset in range(0, count - window + 1, window):
                if data.find(b"\n", offset, offset + window) < 0:
                    return False
    if decoder is not None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    layout.quoted = quotes > 0
    return quotes % 2 == 0


def _csv_lines(path: str, delimiter: str):
    """The line of each data row, as ``files.read_csv`` counts them (blank
    lines skipped); for messages only."""

    def lines() -> np.ndarray:
        numbers = []
        with files._open_text(path) as file:
            reader = csv.reader(files._bounded_lines(file, path), delimiter=delimiter)
            next(reader, None)
            numbers = [reader.line_num for row in reader if row]
        return np.asarray(numbers, dtype=np.int64)

    return lines


def _arrow_csv(path: str, layout: _Layout, label: str, numeric: list[str]):
    """The columns read by pyarrow, or None when ``files.read_csv`` must read
    them (an error, or a value it would refuse, such as an empty label)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [f"column{i}" for i in range(len(layout.header))]
    index = {name: names[layout.header.index(name)] for name in [label, *numeric]}
    types = {index[name]: pa.float64() for name in numeric}
    types[index[label]] = pa.dictionary(pa.int32(), pa.string())
    # Without quotes in the data, the parser need not look for them (faster);
    # with some, a quoted value may hold line ends, as csv allows.
    quote = '"' if layout.quoted else False
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(
                skip_rows=1,
                column_names=names,
                use_threads=_use_threads(pa, path),
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=layout.delimiter,
                quote_char=quote,
                double_quote=True,
                escape_char=False,
                newlines_in_values=layout.quoted,
                ignore_empty_lines=True,
            ),
            convert_options=pcsv.ConvertOptions(
                include_columns=list(index.values()),
                column_types=types,
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except MemoryError:
        raise
    except Exception:  # a parse or conversion error: read_csv names the line
        return None
    n_rows = table.num_rows
    if not n_rows:
        return None
    chunks = {name: table.column(index[name]).chunks for name in [label, *numeric]}
    del table  # each chunk is freed once copied
    pool = pa.default_memory_pool()
    pool.release_unused()  # the parser's buffers
    numbers = {}
    for name in numeric:
        values = _arrow_numbers(chunks.pop(name), n_rows)
        if not np.isfinite(values).all():
            return None
        numbers[name] = values
    texts, codes = _arrow_labels(chunks.pop(label), n_rows)
    if any(not text.strip() for text in texts):
        return None
    pool.release_unused()
    return Columns(
        path,
        layout.header,
        n_rows,
        numbers,
        {label: (texts, codes)},
        _csv_lines(path, layout.delimiter),
    )


def _use_threads(pa, path: str) -> bool:
    """Whether pyarrow reads blocks of the file in parallel: each thread
    holds blocks in flight and keeps freed memory (about 15 MB measured per
    thread), worth it when the file is large against that."""
    return os.path.getsize(path) >= _BYTES_PER_THREAD * pa.cpu_count()


def _arrow_numbers(chunks: list, n_rows: int) -> np.ndarray:
    """Numeric Arrow chunks as one float64 array (nulls as NaN), each chunk
    released once copied."""
    values = np.empty(n_rows)
    start = 0
    while chunks:
        chunk = chunks.pop(0)
        stop = start + len(chunk)
        values[start:stop] = chunk.to_numpy(zero_copy_only=False)
        start = stop
    return values


def _arrow_labels(chunks: list, n_rows: int) -> tuple[list[str], np.ndarray]:
    """Label chunks (dictionary-encoded strings) as the distinct texts that
    occur and each row's code into them, each chunk released once read."""
    texts: dict[str, int] = {}
    parts = []  # each chunk's codes into its own dictionary, and their mapping
    for chunk in chunks:
        indices = chunk.indices.to_numpy(zero_copy_only=False)
        seen = np.bincount(indices, minlength=len(chunk.dictionary)) > 0
        mapping = np.zeros(len(chunk.dictionary), dtype=np.int64)
        for i in np.flatnonzero(seen):
            mapping[i] = texts.setdefault(chunk.dictionary[i].as_py(), len(texts))
        parts.append(mapping)
    codes = np.empty(n_rows, dtype=_code_type(len(texts)))
    start = 0
    while chunks:
        chunk, mapping = chunks.pop(0), parts.pop(0)
        stop = start + len(chunk)
        codes[start:stop] = mapping[chunk.indices.to_numpy(zero_copy_only=False)]
        start = stop
    return list(texts), codes


def _code_type(n_values: int):
    """The smallest unsigned integer type indexing ``n_values`` values."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_values <= np.iinfo(dtype).max + 1:
            return dtype
    return np.int64


def _pandas_csv(path: str, layout: _Layout, label: str, numeric: list[str]):
    """The columns read by pandas in chunks (labels as text, numbers as
    floats), or None when ``files.read_csv`` must read them (no pandas, an
    error, a value it would refuse)."""
    # pandas does not count the fields of a row when it reads some columns
    # only: they are counted here first, which quotes would make ambiguous.
    if layout.quoted or not _has_pandas() or not _rows_complete(path, layout):
        return None
    import warnings

    import pandas as pd

    positions = {name: layout.header.index(name) for name in [label, *numeric]}
    dtypes = {positions[name]: "float64" for name in numeric}
    dtypes[positions[label]] = object
    texts: dict[str, int] = {}
    pieces: dict[str, list] = {name: [] for name in [label, *numeric]}
    # Floats correctly rounded, as float() parses them: pandas 3's default
    # parser, the round-trip one before.
    exact = {} if _major(pd.__version__) >= 3 else {"float_precision": "round_trip"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning: read_csv decides
            reader = pd.read_csv(
                path,
                sep=layout.delimiter,
                header=None,
                skiprows=1,
                usecols=list(positions.values()),
                dtype=dtypes,
                na_filter=False,
                quotechar='"',
                doublequote=True,
                skip_blank_lines=True,
                encoding="utf-8",
                engine="c",
                chunksize=_PANDAS_CHUNK_ROWS,
                **exact,
            )
            with reader:
                for chunk in reader:
                    for name in numeric:
                        pieces[name].append(chunk[positions[name]].to_numpy(float))
                    column = chunk[positions[label]]
                    if column.isna().any():
                        return None
                    codes, uniques = pd.factorize(column, sort=False)
                    mapping = np.array(
                        [texts.setdefault(str(text), len(texts)) for text in uniques],
                        dtype=np.int64,
                    )
                    pieces[label].append(mapping.astype(_code_type(len(texts)))[codes])
    except MemoryError:
        raise
    except Exception:
        return None
    n_rows = sum(piece.shape[0] for piece in pieces[label])
    if not n_rows or any(not text.strip() for text in texts):
        return None
    numbers = {}
    for name in numeric:
        values = _joined(pieces.pop(name), np.float64, n_rows)
        if not np.isfinite(values).all():
            return None
        numbers[name] = values
    codes = _joined(pieces.pop(label), _code_type(len(texts)), n_rows)
    return Columns(
        path,
        layout.header,
        n_rows,
        numbers,
        {label: (list(texts), codes)},
        _csv_lines(path, layout.delimiter),
    )


def _major(version: str) -> int:
    try:
        return int(version.split(".")[0])
    except ValueError:
        return 0


def _rows_complete(path: str, layout: _Layout) -> bool:
    """Whether every line after the header of the unquoted file ``path`` has
    as many fields as the header, or is blank (which ``csv`` skips)."""
    separator, expected = ord(layout.delimiter), len(layout.header) - 1
    carry = b""
    with open(path, "rb") as file:
        file.seek(layout.start)
        while True:
            block = file.read(_SCAN_BYTES)
            data = carry + block if block else carry + b"\n"
            end = data.rfind(b"\n") + 1
            data, carry = data[:end], data[end:]
            if data and not _fields_match(data, separator, expected):
                return False
            if not block:
                return True


def _fields_match(data: bytes, separator: int, expected: int) -> bool:
    """Whether each line of ``data`` (whole lines) holds ``expected``
    separators, or nothing but its line end."""
    text = np.frombuffer(data, dtype=np.uint8)
    marks = np.flatnonzero((text == separator) | (text == 10))
    ends = np.flatnonzero(text[marks] == 10)  # the line ends among the marks
    separators = np.diff(ends, prepend=-1) - 1
    if np.all(separators == expected):
        return True
    stops = marks[ends]
    lengths = np.diff(stops, prepend=-1) - 1
    carriage = text[np.maximum(stops - 1, 0)] == 13
    blank = (separators == 0) & ((lengths == 0) | ((lengths == 1) & carriage))
    return bool(np.all((separators == expected) | blank))


def _joined(pieces: list, dtype, n_rows: int) -> np.ndarray:
    """Arrays ``pieces`` as one array of ``dtype``, each freed once copied."""
    joined = np.empty(n_rows, dtype=dtype)
    start = 0
    while pieces:
        piece = pieces.pop(0)
        joined[start : start + piece.shape[0]] = piece
        start += piece.shape[0]
    return joined


# Parquet.


def _is_parquet(path: str) -> bool:
    """A Parquet file (by its suffix or its magic bytes), or a directory
    holding one."""
    if path == files.STDIN:
        return False
    if os.path.isdir(path):
        return bool(_parquet_files(path))
    if not os.path.isfile(path):
        return False
    if path.lower().endswith(PARQUET_SUFFIXES):
        return True
    try:
        with open(path, "rb") as file:
            if os.fstat(file.fileno()).st_size < 12:
                return False
            head = file.read(4)
            file.seek(-4, os.SEEK_END)
            return head == _PARQUET_MAGIC and file.read(4) == _PARQUET_MAGIC
    except OSError:
        return False


def _parquet_files(path: str) -> list[str]:
    """The Parquet files of ``path``: itself, or those under the directory
    (in sorted order, skipping names starting with "." or "_", as pyarrow's
    datasets do)."""
    if not os.path.isdir(path):
        return [path]
    found = []
    for root, directories, names in os.walk(path):
        directories[:] = sorted(d for d in directories if not d.startswith((".", "_")))
        found += [
            os.path.join(root, name)
            for name in sorted(names)
            if name.lower().endswith(PARQUET_SUFFIXES)
            and not name.startswith((".", "_"))
        ]
    return found


def _read_parquet(path: str, label: str, numeric: list[str], roles: dict[str, str]):
    """Columns of a Parquet file (or directory), one column at a time and in
    batches: beyond the arrays returned, a few megabytes are in memory."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(
            f"reading the Parquet file {path} needs pyarrow: pip install "
            '"threshold-estimators[parquet]" (or pyarrow)'
        ) from None
    import pyarrow as pa

    sources = _parquet_files(path)
    try:
        header = list(pq.read_schema(sources[0]).names)
        n_rows = sum(pq.read_metadata(source).num_rows for source in sources)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"cannot read {path} as Parquet: {exc}.") from None
    files._check_header(path, header, [label, *numeric], roles)
    if not n_rows:
        raise DataError(f"{path} has a header but no data rows.")
    numbers = {}
    for name in numeric:
        batches = _parquet_batches(pq, pa, path, sources, name)
        numbers[name] = _parquet_numbers(pa, path, name, batches, n_rows)
        pa.default_memory_pool().release_unused()
    batches = _parquet_batches(pq, pa, path, sources, label)
    texts, codes = _parquet_labels(pa, batches, n_rows)
    pa.default_memory_pool().release_unused()
    return Columns(
        path, header, n_rows, numbers, {label: (texts, codes)}, range(1, n_rows + 1)
    )


def _parquet_batches(pq, pa, path: str, sources: list[str], name: str):
    """Column ``name`` of the Parquet files, an Arrow array at a time."""
    for source in sources:
        try:
            file = pq.ParquetFile(source, pre_buffer=False, buffer_size=1 << 20)
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"cannot read {source} as Parquet: {exc}.") from None
        try:
            batches = file.iter_batches(
                batch_size=_PARQUET_BATCH_ROWS, columns=[name], use_threads=False
            )
            while True:
                try:
                    batch = next(batches, None)
                except (OSError, pa.ArrowException) as exc:
                    raise DataError(
                        f"cannot read column {name!r} of {source}: {exc}."
                    ) from None
                if batch is None:
                    break
                yield batch.column(0)
        finally:
            file.close()


def _parquet_numbers(pa, path: str, name: str, batches, n_rows: int):
    """A Parquet column as float64 (nulls as NaN): numbers as they are, text
    parsed as ``files.Table.numeric`` parses a CSV cell. A DataError (to
    raise when the column is asked for) when it holds neither."""
    values = np.empty(n_rows)
    start = 0
    for array in batches:
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        kind = array.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return _parsed_numbers(path, name, [array, *batches], n_rows)
        if not (
            pa.types.is_integer(kind)
            or pa.types.is_floating(kind)
            or pa.types.is_decimal(kind)
        ):
            return DataError(
                f"column {name!r} of {path} must be numeric; it holds values of "
                f"type {kind}."
            )
        # Integers beyond 2**53 round to the nearest float, as in a CSV file.
        array = array.cast(pa.float64(), safe=False)
        stop = start + len(array)
        values[start:stop] = array.to_numpy(zero_copy_only=False)
        start = stop
    return values


def _parsed_numbers(path: str, name: str, batches, n_rows: int):
    """Text cells parsed by ``files.Table.numeric`` (nulls as missing)."""
    cells = [
        ("" if cell is None else cell,)
        for array in batches
        for cell in array.cast("string").to_pylist()
    ]
    table = files.Table(path, [name], [name], cells, range(1, n_rows + 1))
    try:
        return table.numeric(name, allow_missing=True)
    except DataError as exc:
        return exc


def _parquet_text(value) -> str:
    """A Parquet value as its CSV export would write it (None: empty)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _parquet_labels(pa, batches, n_rows: int) -> tuple[list[str], np.ndarray]:
    """A Parquet label column as the distinct texts that occur and each row's
    code into them."""
    texts: dict[str, int] = {}
    codes = np.empty(n_rows, dtype=_code_type(0))
    start = 0
    for array in batches:
        if not pa.types.is_dictionary(array.type):
            array = array.dictionary_encode(null_encoding="encode")
        dictionary = [*array.dictionary.to_pylist(), None]  # None: a null index
        indices = _indices(array)
        seen = np.bincount(indices, minlength=len(dictionary)) > 0
        mapping = np.zeros(len(dictionary), dtype=np.int64)
        for i in np.flatnonzero(seen):
            mapping[i] = texts.setdefault(_parquet_text(dictionary[i]), len(texts))
        if np.dtype(_code_type(len(texts))).itemsize > codes.itemsize:
            codes = codes.astype(_code_type(len(texts)))
        stop = start + len(array)
        codes[start:stop] = mapping[indices]
        start = stop
    return list(texts), codes


def _indices(chunk) -> np.ndarray:
    """The indices of a dictionary chunk, a null as the dictionary's length."""
    indices = chunk.indices.fill_null(len(chunk.dictionary))
    return indices.to_numpy(zero_copy_only=False)
