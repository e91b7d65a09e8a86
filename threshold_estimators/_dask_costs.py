"""``pick_threshold`` on dask arrays with per-row costs: the least cost, exact.

The passes of the count search (:mod:`~threshold_estimators._dask_search`)
with per-row costs summed in the buckets (:mod:`~threshold_estimators.
_cost_buckets`): one reduction checks the rows and finds the scales, then the
bucket sums, zooms and the gathered rows of the few buckets that can hold
the least cost. Each partition computes its rows' costs with the in-memory
search's own arithmetic (``CostMatrix.oriented_row_costs``, the same
power-of-two rescaling), so only the order of the sums differs: the same
threshold and counts as in memory, the cost to rounding.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from ._bucket_layout import Layout, refined_rows
from ._bucket_search import signed_order_keys
from ._cost_buckets import CostPlanner, CostSums, cheapest, cost_sums
from ._count_buckets import BOUND_SLACK_ULPS, UNDECIDED, search_buckets
from ._dask_search import (
    MAX_SORTED_ROWS,
    MixedBuckets,
    _as_dask_array,
    _summed,
    first_pass,
    resolved_cut,
)
from ._selection import tie_ulps
from .objectives._costs import RowCostScales


class _RowCosts:
    """A partition's rows of positive weight, with each row's rescaled cost
    if called negative and if called positive (as ``CostMatrix.for_rows``
    computes them in memory)."""

    def __init__(self, objective, scales, pos_label, y, score, weight, *columns):
        kept = slice(None) if weight is None else np.asarray(weight) > 0
        self.score = np.asarray(score, dtype=float)[kept]
        self.positive = (np.asarray(y) == pos_label)[kept]
        self.weight = None if weight is None else np.asarray(weight, dtype=float)[kept]
        named = {
            name: np.asarray(column, dtype=float)[kept]
            for name, column in zip(objective.metadata_names, columns, strict=True)
        }
        self.if_negative, self.if_positive = objective.oriented_row_costs(
            named, self.positive
        )
        # The counts are of the weights themselves, not of the rescaled ones.
        scales.rescale(self.if_negative, self.if_positive, self.weight)
        self.keys = signed_order_keys(self.score)


def _block_cost_sums(layout, *block):
    rows = _RowCosts(*block)
    sums = cost_sums(
        layout,
        rows.keys,
        rows.if_positive,
        rows.if_negative,
        rows.positive,
        rows.weight,
    )
    return np.stack([np.asarray(column, dtype=float) for column in sums])[None]


def _block_cost_rows(layout, refined, *block):
    rows = _RowCosts(*block)
    kept = refined_rows(layout, refined, rows.keys)
    return (
        rows.score[kept],
        rows.keys[kept],
        rows.if_positive[kept],
        rows.if_negative[kept],
        rows.positive[kept],
        None if rows.weight is None else rows.weight[kept],
    )


def _row_checks(objective, y, weight, columns, pos_label):
    """Dask values checking the rows as the in-memory search does: each
    per-row cost finite (on every row), and on the rows of positive weight
    the least and greatest cost, the least saving of the right decision and
    where it is, and the greatest; with the rows' costs (if called negative,
    if called positive) for a look at one row."""
    import dask.array as da

    finite = {
        name: (
            da.isnan(column).sum(),
            da.isinf(column).sum(),
            da.argmax(~da.isfinite(column)),
        )
        for name, column in columns.items()
    }
    positive = y == pos_label
    # np.where on dask arrays is dask's: the costs of the in-memory search.
    if_negative, if_positive = map(
        da.asarray, objective.oriented_row_costs(columns, positive)
    )
    # -(a - b) is b - a in floating point: the savings of ``row_savings``.
    saving = da.where(positive, if_negative - if_positive, if_positive - if_negative)
    kept = True if weight is None else weight > 0

    def least(values):
        return da.where(kept, values, np.inf)

    def greatest(values):
        return da.where(kept, values, -np.inf)

    costs = (
        da.minimum(least(if_negative).min(), least(if_positive).min()),
        da.maximum(greatest(if_negative).max(), greatest(if_positive).max()),
        least(saving).min(),
        least(saving).argmin(),
        greatest(saving).max(),
    )
    return (finite, costs), (if_negative, if_positive)


def dask_least_cost(objective, y, y_score, sample_weight, metadata, *, labels):
    """``(threshold, lower, value, counts, gathered)`` of the least-cost
    candidate of a binary ``CostMatrix`` naming per-row costs (given in
    ``metadata``), over dask arrays ``y`` and ``y_score`` (and
    ``sample_weight``, or None); ``gathered`` is the number of rows brought
    to the driver."""
    import dask
    import dask.array as da

    pos_label = labels[1]
    y_score = _as_dask_array(y_score, "y_score")
    chunks = y_score.chunks
    y = _as_dask_array(y, "y_true").rechunk(chunks)
    weight = sample_weight
    if weight is not None:
        weight = _as_dask_array(weight, "sample_weight").rechunk(chunks)
    columns = {
        name: _as_dask_array(metadata[name], name).astype(float).rechunk(chunks)
        for name in objective.metadata_names
    }
    checks, costs = _row_checks(objective, y, weight, columns, pos_label)
    weight_stats = (
        (y.size, True, None)
        if weight is None
        else (
            (weight > 0).sum(),
            (weight == da.round(weight)).all() & (weight.sum() < 2.0**53),
            weight.max(),
        )
    )
    keys, _, (checks, weight_stats) = first_pass(
        y, y_score, weight, labels, along=(checks, weight_stats)
    )
    finite, (low, high, least_saving, where_least, most_saving) = checks
    for name, counted in finite.items():
        _check_finite(name, *counted)
    if least_saving < 0:
        row = int(where_least)
        is_positive, row_costs = dask.compute(
            y[row] == pos_label, (costs[0][row], costs[1][row])
        )
        right, wrong = (1, 0) if is_positive else (0, 1)
        objective._refuse_a_wrong_preference(
            row, right, wrong, row_costs[wrong], row_costs[right]
        )
    if not most_saving > 0:
        objective._refuse_no_preference()
    n_kept, integral, largest_weight = weight_stats
    scales = RowCostScales.of(low, high, largest_weight)
    blocks = _blocks(objective, scales, pos_label, y, y_score, weight, columns)
    total_weight = float(
        n_kept if weight is None else (weight * scales.weight).sum().compute()
    )
    gains = None
    if low < 0:
        parts = [dask.delayed(_absolute_costs)(*block) for block in blocks]
        gains = float(dask.delayed(sum)(parts).compute())
    bound = clone(objective)._bound(scales, total_weight, gains, int(n_kept))
    ulps = tie_ulps(bound, 0 if weight is None or integral else int(n_kept))
    gathered = []

    def sums_of(layout):
        parts = [dask.delayed(_block_cost_sums)(layout, *block) for block in blocks]
        total = dask.delayed(_summed)(parts).compute()
        counts = list(total[3:])
        if weight is None:
            counts[:2] = (counts[0].astype(np.int64), counts[1].astype(np.int64))
        return CostSums(*total[:3], *counts[:2], counts[2].astype(np.int64))

    def rows_of(layout, refined):
        parts = dask.compute(
            *(dask.delayed(_block_cost_rows)(layout, refined, *b) for b in blocks)
        )
        rows = [np.concatenate([part[i] for part in parts]) for i in range(5)]
        weights = None if weight is None else np.concatenate([p[5] for p in parts])
        gathered.append(rows[0].size)
        return (*rows, weights)

    found = search_buckets(
        CostPlanner(ulps + BOUND_SLACK_ULPS, bound.gain_magnitude_),
        Layout.spanning(keys[0], keys[1]),
        sums_of,
        rows_of,
        max_rows=MAX_SORTED_ROWS,
        mixed_of=MixedBuckets(_label_score_weight(blocks), pos_label),
    )
    if found is None:
        raise ValueError(
            "The per-row costs are too flat over the scores for the distributed "
            f"search to gather at most {MAX_SORTED_ROWS} rows: compute them "
            "(dask.compute) and call pick_threshold on in-memory arrays."
        )
    best = cheapest(bound, found[0], ulps, int(n_kept))
    if best is UNDECIDED:
        raise ValueError(
            "Two cuts are within rounding of a tie, and which one the exact "
            "search counts as tied depends on the order of the sums: compute "
            "the arrays (dask.compute) and call pick_threshold on in-memory "
            "arrays."
        )
    threshold, lower = resolved_cut(best, _label_score_weight(blocks), pos_label)
    return threshold, lower, best.value, best.counts, int(sum(gathered))


def _label_score_weight(blocks):
    """Each block's labels, scores and weights (delayed)."""
    return [block[3:6] for block in blocks]


def _blocks(objective, scales, pos_label, y, y_score, weight, columns):
    """Per partition, the arguments of ``_RowCosts``: delayed blocks."""
    parts = [y.to_delayed().ravel(), y_score.to_delayed().ravel()]
    parts.append(
        [None] * y_score.numblocks[0] if weight is None else weight.to_delayed().ravel()
    )
    parts += [column.to_delayed().ravel() for column in columns.values()]
    return [
        (objective, scales, pos_label, *block) for block in zip(*parts, strict=True)
    ]


def _absolute_costs(*block):
    rows = _RowCosts(*block)
    return np.abs(rows.if_positive).sum() + np.abs(rows.if_negative).sum()


def _check_finite(name, n_nan, n_inf, first):
    if n_nan or n_inf:
        raise ValueError(
            f"The per-row cost {name!r} must be finite; it holds {int(n_nan)} NaN "
            f"and {int(n_inf)} infinite values (first at row {int(first)})."
        )
