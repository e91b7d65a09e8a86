"""CSV columns for ``pick`` read by pandas in chunks, where pyarrow is not
installed, once :func:`.csv_columns.scan` has let the data through."""

from __future__ import annotations

import numpy as np

from .compact import Columns, code_type, joined
from .csv_columns import SCAN_BYTES, Layout, csv_lines

# Rows per chunk of pandas' fallback reader: a few megabytes of strings.
_PANDAS_CHUNK_ROWS = 1 << 16


def pandas_csv(path: str, layout: Layout, label: str, numeric: list[str]):
    """The columns read by pandas in chunks (labels as text, numbers as
    floats), or None when ``files.read_csv`` must read them (an error, a
    value it would refuse). Only once :func:`scan` has found the data
    readable."""
    # pandas does not count the fields of a row when it reads some columns
    # only: they are counted here first, which quotes would make ambiguous.
    if layout.quoted or not _rows_complete(path, layout):
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
                    pieces[label].append(mapping.astype(code_type(len(texts)))[codes])
    except MemoryError:
        raise
    except Exception:
        return None
    n_rows = sum(piece.shape[0] for piece in pieces[label])
    if not n_rows or any(not text.strip() for text in texts):
        return None
    numbers = {}
    for name in numeric:
        values = joined(pieces.pop(name), np.float64, n_rows)
        if not np.isfinite(values).all():
            return None
        numbers[name] = values
    codes = joined(pieces.pop(label), code_type(len(texts)), n_rows)
    return Columns(
        path,
        layout.header,
        n_rows,
        numbers,
        {label: (list(texts), codes)},
        csv_lines(path, layout.delimiter),
    )


def _major(version: str) -> int:
    try:
        return int(version.split(".")[0])
    except ValueError:
        return 0


def _rows_complete(path: str, layout: Layout) -> bool:
    """Whether every line after the header of the unquoted file ``path`` has
    as many fields as the header, or is blank (which ``csv`` skips)."""
    separator, expected = ord(layout.delimiter), len(layout.header) - 1
    carry = b""
    with open(path, "rb") as file:
        file.seek(layout.start)
        while True:
            block = file.read(SCAN_BYTES)
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
