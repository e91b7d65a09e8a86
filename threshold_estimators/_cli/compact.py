"""The columns a command read, held compact: numbers as float64 arrays, labels
as codes (one byte a row for up to 256 distinct texts) into their distinct
values. What the CSV and Parquet readers of :mod:`.columns` return."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import files
from .common import DataError


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


def code_type(n_values: int):
    """The smallest unsigned integer type indexing ``n_values`` values."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_values <= np.iinfo(dtype).max + 1:
            return dtype
    return np.int64


def joined(pieces: list, dtype, n_rows: int) -> np.ndarray:
    """Arrays ``pieces`` (NumPy's, or Arrow's without nulls) as one array of
    ``dtype``, each freed once copied."""
    whole = np.empty(n_rows, dtype=dtype)
    start = 0
    while pieces:
        piece = pieces.pop(0)
        whole[start : start + len(piece)] = piece
        start += len(piece)
    return whole
