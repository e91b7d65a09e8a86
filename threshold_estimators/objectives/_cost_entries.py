"""The entries of a cost matrix: numbers, or names of per-row costs, and the
checks of the per-row values those names are given."""

from __future__ import annotations

import numpy as np

from ._base import cost_array

# fit's and pick_threshold's own arguments: a per-row cost cannot be named so.
_RESERVED = ("X", "y", "y_true", "y_score", "sample_weight", "objective", "pos_label")


def _is_name(entry) -> bool:
    return isinstance(entry, str)


def split_entries(matrix):
    """``(numbers, names)``: the matrix as floats (0 at named entries) and an
    object array of the names (None at numbers), or ``(floats, None)`` when
    every entry is a number."""
    try:
        entries = np.asarray(matrix, dtype=object)
    except ValueError:
        entries = None
    if entries is None or entries.ndim != 2 or not any(map(_is_name, entries.flat)):
        return cost_array(matrix), None
    named = np.vectorize(_is_name, otypes=[bool])(entries)
    for name in entries[named]:
        if name in _RESERVED:
            raise ValueError(
                f"CostMatrix names per-row costs passed to fit as keyword "
                f"arguments; {name!r} is one of fit's own arguments {_RESERVED}: "
                "give the per-row cost another name."
            )
        if not name.isidentifier():
            raise ValueError(
                "CostMatrix entries are numbers or the name of a per-row cost "
                "passed to fit as a keyword argument, so a name must be a valid "
                f"Python identifier; got {name!r}."
            )
    numbers = cost_array(np.where(named, 0.0, entries))
    return numbers, np.where(named, entries, None)


def per_row_cost(name: str, values, n_rows: int) -> np.ndarray:
    """The per-row cost ``name`` as a float array, or a ValueError naming it."""
    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] != n_rows:
        raise ValueError(
            f"The per-row cost {name!r} must be a 1-D array with one value per "
            f"sample ({n_rows}); got shape {array.shape}."
        )
    array = cost_numbers(name, array)
    if not np.isfinite(array).all():
        bad = ~np.isfinite(array)
        raise ValueError(
            f"The per-row cost {name!r} must be finite; it holds "
            f"{np.count_nonzero(np.isnan(array))} NaN and "
            f"{np.count_nonzero(np.isinf(array))} infinite values (first at row "
            f"{int(np.flatnonzero(bad)[0])})."
        )
    return array


def cost_numbers(name: str, array: np.ndarray) -> np.ndarray:
    """The per-row cost ``name``'s values as floats, or a ValueError naming
    it when they are not numbers."""
    kind = array.dtype.kind
    # Text is refused even when it reads as numbers ("5" is not a cost).
    is_text = kind in "USa" or (
        kind == "O" and any(isinstance(value, (str, bytes)) for value in array)
    )
    try:
        if is_text or kind not in "biufO":
            raise TypeError
        array = np.asarray(array, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"The per-row cost {name!r} must hold numbers; got dtype {array.dtype}"
            + (" holding text." if is_text else ".")
        ) from None
    return array
