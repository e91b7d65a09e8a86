"""Reading only the columns a command needs from a large CSV or Parquet file.

``files.read_csv`` holds every kept cell as a Python string: about 18 times
the file's size in memory, and seconds per million rows. For ``pick``, which
needs a label column and a few numeric ones, :func:`read_columns` reads those
columns only, with pyarrow (in parallel on large files; :mod:`.csv_columns`)
or, without pyarrow, with pandas in chunks, and returns them compact
(:mod:`.compact`): the numbers as float64 arrays, the labels as codes (one
byte a row for up to 256 distinct texts) into their distinct values.

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

Parquet (:mod:`.parquet_columns`) is read with pyarrow, a column at a time,
in batches; its values mean what they would in its CSV export.
"""

from __future__ import annotations

import os

from . import files
from .compact import Columns, is_label, label_values
from .csv_columns import Layout, arrow_csv, csv_layout, scan
from .pandas_columns import pandas_csv
from .parquet_columns import is_parquet, read_parquet

__all__ = ["Columns", "is_label", "label_values", "read_columns"]


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
    if is_parquet(path):
        return read_parquet(path, label, numeric, roles)
    if path != files.STDIN and os.path.isfile(path):
        layout = csv_layout(path, keep, roles)
        if layout is not None:
            columns = _read_scanned(path, layout, label, numeric)
            if columns is not None:
                return columns
    return files.read_csv(path, keep=keep, roles=roles)


def _read_scanned(path: str, layout: Layout, label: str, numeric: list[str]):
    """The columns read by pyarrow (which scans the data as it parses them)
    or, without it, by pandas once the data are scanned; None when they must
    be read by ``files.read_csv``."""
    if _has_pyarrow():
        return arrow_csv(path, layout, label, numeric)
    if _has_pandas() and scan(path, layout):
        return pandas_csv(path, layout, label, numeric)
    return None


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
