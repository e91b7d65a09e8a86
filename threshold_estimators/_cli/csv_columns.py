"""CSV columns for ``pick``, read by pyarrow (pandas: :mod:`.pandas_columns`).

Whatever these readers could parse differently from the standard library's
``csv`` module is left to ``files.read_csv`` (they return None): a header
spanning lines, a line beyond the limit of a line or of a field, data that are
not UTF-8 or hold NUL bytes, an odd number of quotes (and for pandas, which
does not count the fields of the rows when it reads some columns, any quote),
and whatever ends in an error naming a line.

pyarrow parses an unquoted file in pieces of about 2 MiB, in parallel, each
piece scanned and parsed by one thread: the memory in flight is a few pieces,
whatever the file's size. A quoted file (whose values may hold line ends) is
parsed whole.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from . import files
from .compact import Columns, code_type, joined

# Bytes of an unquoted CSV file parsed at once. pyarrow's own threaded reader
# kept about 15 MB of blocks in flight per thread (a peak of 2.5-3.6 x the two
# columns' size on 2 M rows); pieces of 2 MiB peaked at 1.7-1.8 x, as fast.
_PIECE_BYTES = 1 << 21

# Files are read on several threads only from this many bytes per thread: a
# thread's first parse costs pyarrow's allocator a few megabytes of its own,
# and pyarrow's threaded reader (of quoted files) keeps about 15 MB in flight.
_BYTES_PER_THREAD = 1 << 25

# Bytes per read of the whole-file scans. Small: freeing a large buffer raises
# glibc's threshold for serving allocations from the heap, which keeps freed
# memory (numpy's arrays of that size) in the process.
SCAN_BYTES = 1 << 20


class Layout:
    """What the header line says: the separator, the column names, where the
    data start (in bytes), and whether the data hold quotes."""

    def __init__(self, delimiter, header, start):
        self.delimiter, self.header, self.start = delimiter, header, start
        self.quoted = False


def csv_layout(path: str, keep: list[str], roles: dict[str, str]):
    """The layout of the CSV file ``path`` by its header (its data not yet
    scanned), or None when ``files.read_csv`` must read it (it then gives
    the same errors about the header)."""
    try:
        with files._open_text(path) as file:
            lines = files._bounded_lines(file, path)
            first = next(lines, "")
            delimiter = next((d for d in ",\t;" if d in first), ",")
            # Read as files.read_csv reads it: a quoted field left open at
            # the line's end (an even count of quotes can leave one: in
            # 'x"' the quote is text) joins the lines that follow.
            reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
            header = [column.strip() for column in next(reader, [])]
            spans_lines = reader.line_num > 1
        files._check_header(path, header, keep, roles)
        with open(path, "rb") as raw:
            start = len(raw.readline(files.MAX_LINE + 4))
    except Exception:  # a message about the header: read_csv gives it
        return None
    # The scan counts lines by \n, which a header ending in a lone \r lacks;
    # a header without a line end has no data.
    if spans_lines or not first.endswith("\n"):
        return None
    return Layout(delimiter, header, start)


def _line_limit() -> int:
    """The longest line the scans let through, in bytes: ``csv``'s field
    limit, or ``files``' line limit if lower."""
    return min(files.MAX_LINE, csv.field_size_limit())


def _plain(data, window: int) -> bool:
    """Whether ``data`` holds no NUL byte and a line end in each of its whole
    windows of ``window`` bytes (from its start)."""
    if data.find(b"\x00") >= 0:
        return False
    return all(
        data.find(b"\n", offset, offset + window) >= 0
        for offset in range(0, len(data) - window + 1, window)
    )


def scan(path: str, layout: Layout) -> bool:
    """Whether the data after the header can be read as ``files.read_csv``
    would: UTF-8 without NUL bytes, every line within the limits of a line
    and of a field, an even number of quotes (``layout.quoted`` says whether
    there are any: pyarrow then allows line ends in quoted values).

    Conservative, in linear time: a line end within every window of half the
    limit (in bytes, which are at least as many as the characters) bounds
    every line by the limit.
    """
    window = max(_line_limit() // 2, 1)
    size = max(SCAN_BYTES // window, 1) * window
    buffer = bytearray(size)
    decoder, quotes = None, 0
    with open(path, "rb") as file:
        file.seek(layout.start)
        while count := file.readinto(buffer):
            data = buffer if count == size else buffer[:count]
            # Only whole windows: the file's end needs no line end.
            if not _plain(data, window):
                return False
            if decoder is None and not data.isascii():
                decoder = codecs.getincrementaldecoder("utf-8")()
            if decoder is not None:
                try:
                    decoder.decode(data)
                except UnicodeDecodeError:
                    return False
            quotes += data.count(b'"')
    if decoder is not None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    layout.quoted = quotes > 0
    return quotes % 2 == 0


def csv_lines(path: str, delimiter: str):
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


class _Parsed(NamedTuple):
    """Some rows of the kept columns, as Arrow chunks (column: chunks).
    Copied into NumPy by the main thread: pyarrow's allocator gives its
    memory back when asked, where malloc's arenas of other threads keep it."""

    n_rows: int
    chunks: dict[str, list]


class _Piece(NamedTuple):
    """What a thread found in a piece of the file: whether the scan lets it
    through, its quotes, and its rows (None: not parsed, or a parse error)."""

    readable: bool
    quotes: int
    parsed: _Parsed | None


def arrow_csv(path: str, layout: Layout, label: str, numeric: list[str]):
    """The columns read by pyarrow, or None when ``files.read_csv`` must read
    them: the scan does not let the data through (:func:`scan`'s rules), or
    an error, or a value ``files.read_csv`` would refuse (an empty label, a
    number that is missing or infinite: it names their lines)."""
    import pyarrow as pa

    window = max(_line_limit() // 2, 1)
    spans = _spans(path, layout.start, window)
    if spans is None:
        return None
    threads = _reading_threads(pa, path)
    options = _options(layout, label, numeric, whole_file=False, threads=False)
    pieces = _map_in_threads(
        lambda span: _read_piece(path, span, window, options),
        spans,
        threads,
    )
    quotes = sum(piece.quotes for piece in pieces)
    if not all(piece.readable for piece in pieces) or quotes % 2:
        return None
    if quotes:  # a quoted value may hold line ends: the file is parsed whole
        del pieces
        layout.quoted = True
        try:
            options = _options(
                layout, label, numeric, whole_file=True, threads=_use_threads(pa, path)
            )
            parsed = [_parse(path, options)]
        except MemoryError:
            raise
        except Exception:  # a parse or conversion error: read_csv names the line
            return None
    else:
        parsed = [piece.parsed for piece in pieces]
        del pieces
        if any(part is None for part in parsed):
            return None
    pool = pa.default_memory_pool()
    pool.release_unused()  # the parser's buffers
    columns = _columns(path, layout, label, numeric, parsed)
    pool.release_unused()
    return columns


def _spans(path: str, start: int, window: int) -> list[tuple[int, int]] | None:
    """Byte spans of about ``_PIECE_BYTES`` covering the data from ``start``,
    each ending after a line end (the last at the file's end); None when a
    line is longer than the scan lets through."""
    size = os.path.getsize(path)
    spans = []
    with open(path, "rb") as file:
        while start < size:
            stop = start + _PIECE_BYTES
            if stop < size:
                file.seek(stop)
                rest = file.readline(2 * window + 1)
                if not rest.endswith(b"\n") and stop + len(rest) < size:
                    return None
                stop += len(rest)
            spans.append((start, min(stop, size)))
            start = stop
    return spans


def _read_piece(path, span, window, options: _Options) -> _Piece:
    """Scan the bytes ``span`` of the file, whole lines, as :func:`scan` does
    (a piece ends after a line end: a line never straddles two, and a
    multi-byte character neither), and parse them if they hold no quote."""
    import pyarrow as pa

    start, stop = span
    with open(path, "rb") as file:
        file.seek(start)
        data = file.read(stop - start)
    quotes = data.count(b'"') if data.find(b'"') >= 0 else 0
    # pyarrow drops a byte-order mark that starts its data, where csv keeps
    # it in the first cell (the file's own mark is before the header).
    if data.startswith(codecs.BOM_UTF8):
        return _Piece(False, quotes, None)
    if not _plain(data, window) or not _is_utf8(data):
        return _Piece(False, quotes, None)
    if quotes:
        return _Piece(True, quotes, None)
    try:
        parsed = _parse(pa.BufferReader(data), options)
    except MemoryError:
        raise
    except Exception:  # a parse or conversion error: read_csv names the line
        parsed = None
    return _Piece(True, 0, parsed)


def _is_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _Options(NamedTuple):
    """pyarrow's options for the file's kept columns, built once for every
    piece, and the names pyarrow gives those columns."""

    read: object
    parse: object
    convert: object
    names: dict[str, str]


def _options(layout: Layout, label, numeric, *, whole_file: bool, threads: bool):
    """Options to parse the file (``whole_file``: from its header) or a piece
    of its data, on pyarrow's ``threads`` or the caller's one."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [f"column{i}" for i in range(len(layout.header))]
    index = {name: names[layout.header.index(name)] for name in [label, *numeric]}
    types = {index[name]: pa.float64() for name in numeric}
    types[index[label]] = pa.dictionary(pa.int32(), pa.string())
    # Without quotes in the data, the parser need not look for them (faster);
    # with some, a quoted value may hold line ends, as csv allows.
    quote = '"' if layout.quoted else False
    return _Options(
        pcsv.ReadOptions(
            skip_rows=1 if whole_file else 0,
            column_names=names,
            use_threads=threads,
        ),
        pcsv.ParseOptions(
            delimiter=layout.delimiter,
            quote_char=quote,
            double_quote=True,
            escape_char=False,
            newlines_in_values=layout.quoted,
            ignore_empty_lines=True,
        ),
        pcsv.ConvertOptions(
            include_columns=list(index.values()),
            column_types=types,
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
        index,
    )


def _parse(source, options: _Options) -> _Parsed:
    """The kept columns of CSV data ``source``: the file, or a piece of its
    data without the header."""
    import pyarrow.csv as pcsv

    table = pcsv.read_csv(
        source,
        read_options=options.read,
        parse_options=options.parse,
        convert_options=options.convert,
    )
    return _Parsed(
        table.num_rows,
        {name: table.column(column).chunks for name, column in options.names.items()},
    )


def _columns(path, layout: Layout, label, numeric, parsed: list[_Parsed]):
    """The parts read, in order, joined into one :class:`Columns` (None: no
    rows, or a value ``files.read_csv`` must name the line of)."""
    n_rows = sum(part.n_rows for part in parsed)
    if not n_rows:
        return None
    chunks = {
        name: [chunk for part in parsed for chunk in part.chunks[name]]
        for name in [label, *numeric]
    }
    parsed.clear()  # each chunk is freed once copied
    numbers = {}
    for name in numeric:
        values = joined(chunks.pop(name), np.float64, n_rows)
        if not np.isfinite(values).all():
            return None
        numbers[name] = values
    texts, codes = _arrow_labels(chunks.pop(label), n_rows)
    if any(not text.strip() for text in texts):
        return None
    return Columns(
        path,
        layout.header,
        n_rows,
        numbers,
        {label: (texts, codes)},
        csv_lines(path, layout.delimiter),
    )


def _arrow_labels(chunks: list, n_rows: int) -> tuple[list[str], np.ndarray]:
    """Label chunks (dictionary-encoded strings) as the distinct texts that
    occur and each row's code into them, each chunk released once read (a
    chunk's dictionary may hold texts it does not use)."""
    texts: dict[str, int] = {}
    mappings = []  # from each chunk's dictionary to the texts; None: itself
    for chunk in chunks:
        dictionary = chunk.dictionary.to_pylist()
        if all(text in texts for text in dictionary):
            # Texts known already need no count of their rows (most chunks).
            mapping = np.array([texts[text] for text in dictionary], dtype=np.int64)
        else:
            indices = chunk.indices.to_numpy(zero_copy_only=False)
            seen = np.bincount(indices, minlength=len(dictionary)) > 0
            mapping = np.zeros(len(dictionary), dtype=np.int64)
            for i in np.flatnonzero(seen):
                mapping[i] = texts.setdefault(dictionary[i], len(texts))
        identity = np.array_equal(mapping, np.arange(mapping.size))
        mappings.append(None if identity else mapping)
    codes = np.empty(n_rows, dtype=code_type(len(texts)))
    start = 0
    while chunks:
        chunk, mapping = chunks.pop(0), mappings.pop(0)
        stop = start + len(chunk)
        indices = chunk.indices.to_numpy(zero_copy_only=False)
        # A chunk whose texts came in the order of the whole's: its indices
        # are the codes (a copy, not a lookup per row).
        codes[start:stop] = indices if mapping is None else mapping[indices]
        start = stop
    return list(texts), codes


def _map_in_threads(function, items: list, n_threads: int) -> list:
    """``[function(item) for item in items]``, on up to ``n_threads`` threads
    (pyarrow parses without the interpreter lock)."""
    if n_threads <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(n_threads, len(items))) as pool:
        return list(pool.map(function, items))


def _use_threads(pa, path: str) -> bool:
    """Whether pyarrow reads the whole file on its threads (one per core):
    each costs some memory of its own (``_BYTES_PER_THREAD``), worth it when
    the file is large against that."""
    return os.path.getsize(path) >= _BYTES_PER_THREAD * pa.cpu_count()


def _reading_threads(pa, path: str) -> int:
    """How many threads parse the pieces of the file: one per core, and per
    ``_BYTES_PER_THREAD`` of the file (on many cores, a file of a few hundred
    megabytes still gets several)."""
    return max(1, min(pa.cpu_count(), os.path.getsize(path) // _BYTES_PER_THREAD))
