"""Parquet columns for ``pick``: a ``.parquet`` or ``.pq`` file, a file starting
with Parquet's magic bytes, or a directory of such files, read with pyarrow a
column at a time, in batches. Its values mean what they would in its CSV
export: labels are compared as their text (integers, floats, strings; booleans
as ``True``/``False``), numbers stored as text are parsed as a CSV's are, and
"line N" in a message is row N."""

from __future__ import annotations

import os

import numpy as np

from . import files
from .common import DataError
from .compact import Columns, code_type

PARQUET_SUFFIXES = (".parquet", ".pq")
_PARQUET_MAGIC = b"PAR1"

# Rows per batch read from a Parquet file.
_PARQUET_BATCH_ROWS = 1 << 16


def is_parquet(path: str) -> bool:
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


def read_parquet(path: str, label: str, numeric: list[str], roles: dict[str, str]):
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


def parquet_text(value) -> str:
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
    codes = np.empty(n_rows, dtype=code_type(0))
    start = 0
    for array in batches:
        if not pa.types.is_dictionary(array.type):
            array = array.dictionary_encode(null_encoding="encode")
        dictionary = [*array.dictionary.to_pylist(), None]  # None: a null index
        indices = _indices(array)
        seen = np.bincount(indices, minlength=len(dictionary)) > 0
        mapping = np.zeros(len(dictionary), dtype=np.int64)
        for i in np.flatnonzero(seen):
            mapping[i] = texts.setdefault(parquet_text(dictionary[i]), len(texts))
        if np.dtype(code_type(len(texts))).itemsize > codes.itemsize:
            codes = codes.astype(code_type(len(texts)))
        stop = start + len(array)
        codes[start:stop] = mapping[indices]
        start = stop
    return list(texts), codes


def _indices(chunk) -> np.ndarray:
    """The indices of a dictionary chunk, a null as the dictionary's length."""
    indices = chunk.indices.fill_null(len(chunk.dictionary))
    return indices.to_numpy(zero_copy_only=False)
