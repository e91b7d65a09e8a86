"""Exact least per-row cost from bucket sums that add up across chunks of rows.

The twin of :func:`~threshold_estimators._bucket_search.bucketed_contenders`
for rows that are not in one place (dask partitions). Per bucket of
consecutive scores, each chunk sums its rows' costs if called positive, if
called negative and the cheaper of the two (and the weights of its positives
and negatives, for the counts); the chunks' sums add up to the whole's. From
them, every bucket edge's cost (running sums from each side's far end, as in
memory) and a bound on every cut inside each bucket. The buckets whose bound
comes within the tie tolerance of the best edge are refined, zooming as the
count search does (:func:`~threshold_estimators._count_buckets.search_buckets`)
until their rows are few enough to gather; every distinct score in them is
then evaluated exactly.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from ._bucket_layout import Layout, bucket_sums, placed_rows
from ._count_buckets import UNDECIDED
from ._selection import near_top
from .objectives._base import Rows

_EPS = np.finfo(float).eps

# Sums of the same n rounded terms taken in another order (per chunk, then
# across chunks) differ by a random walk of n steps of at most half an ulp
# of their magnitude (standard deviation about 0.4 sqrt(n) ulps for the two
# orders): a cost within this many times sqrt(n) ulps (ten deviations) of
# the tie tolerance's edge could be a tie for one order and not the other.
# (The worst case, n ulps, takes an adversarial order: the tolerance itself,
# 4 n ulps, is wide enough for it.)
_ORDER_ULPS_PER_ROOT_ROW = 4


class CostSums(NamedTuple):
    """Per bucket: the costs of its rows if called positive and if called
    negative, the cheaper of the two summed over its rows, the weight of its
    positives and of its negatives, and its number of rows."""

    if_positive: np.ndarray
    if_negative: np.ndarray
    least: np.ndarray
    positive: np.ndarray
    negative: np.ndarray
    rows: np.ndarray


def cost_sums(
    layout: Layout, keys, if_positive, if_negative, y_positive, weight
) -> CostSums:
    """The sums of the rows whose keys lie in the layout's range."""
    inside, bucket = placed_rows(layout, keys)
    if inside is not None:
        if_positive, if_negative = if_positive[inside], if_negative[inside]
        y_positive = y_positive[inside]
        weight = None if weight is None else weight[inside]
    n = layout.n_buckets
    counts = bucket_sums(layout, keys, y_positive, weight, placed=(None, bucket))
    return CostSums(
        np.bincount(bucket, if_positive, n),
        np.bincount(bucket, if_negative, n),
        np.bincount(bucket, np.minimum(if_positive, if_negative), n),
        *counts,
    )


class CostCandidates(NamedTuple):
    """Candidates with their cost sums and counts.

    Each calls the rows whose key is at least ``key``; ``above`` and
    ``below`` sum the costs of the rows it calls positive and of the others,
    ``tp``, ``fp`` the weights of the positives and negatives it calls and
    ``fn``, ``tn`` of those it does not (each summed on its own side, as the
    costs are: no count is a total minus a part, never a rounding below 0).
    ``threshold`` and ``lower`` are as for the count search's candidates
    (NaN until resolved on the rows, for the winner).
    """

    key: np.ndarray
    above: np.ndarray
    below: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray
    threshold: np.ndarray
    lower: np.ndarray

    @classmethod
    def joined(cls, parts) -> CostCandidates:
        """The parts as one list in decreasing threshold, one candidate per
        key: a distinct score of a refined bucket rather than the same cut
        read at a bucket edge (its threshold is known)."""
        merged = [np.concatenate([getattr(p, f) for p in parts]) for f in cls._fields]
        key, threshold = merged[0], merged[cls._fields.index("threshold")]
        order = np.lexsort((~np.isnan(threshold), key))[::-1]
        key = key[order]
        first = np.r_[True, key[1:] != key[:-1]][: key.size]
        return cls(*(column[order][first] for column in merged))


class CostPlan(NamedTuple):
    """The buckets to refine, and every occupied bucket's edge (laid out as
    :class:`~threshold_estimators._count_buckets.Plan`): edge ``k`` calls
    every row above ``occupied[k]``, at cost ``edge_above[k] +
    edge_below[k]``; ``value`` is minus that cost (greater is better)."""

    occupied: np.ndarray
    edge_key: np.ndarray
    edge_above: np.ndarray
    edge_below: np.ndarray
    edge_tp: np.ndarray
    edge_fp: np.ndarray
    edge_fn: np.ndarray
    edge_tn: np.ndarray
    value: np.ndarray
    ok: np.ndarray
    refined: np.ndarray
    # Ties of costs are relative to each cut's own cost (``near_top``'s
    # ``magnitudes``), not to a largest value over the curve.
    magnitude: float = 0.0

    def edges(self, keep: np.ndarray) -> CostCandidates:
        size = np.count_nonzero(keep)
        return CostCandidates(
            self.edge_key[keep],
            self.edge_above[keep],
            self.edge_below[keep],
            self.edge_tp[keep],
            self.edge_fp[keep],
            self.edge_fn[keep],
            self.edge_tn[keep],
            np.full(size, np.nan),
            np.full(size, np.nan),
        )

    def carried(self, top: int, bottom: int) -> tuple:
        """What a zoom into the edges ``top`` to ``bottom`` carries: the
        costs and counts called positive above its range, and those called
        negative below it."""
        return (
            self.edge_above[top],
            self.edge_below[bottom],
            self.edge_tp[top],
            self.edge_fp[top],
            self.edge_fn[bottom],
            self.edge_tn[bottom],
        )


class CostPlanner:
    """How :func:`~threshold_estimators._count_buckets.search_buckets` plans
    and reads the buckets of per-row costs.

    ``tie_ulps`` is the objective's tie tolerance plus the bounds' rounding;
    ``gain_magnitude`` the total absolute cost when some costs are gains
    (each cut's rounding is then relative to it), else None.
    """

    start = (0.0, 0.0, 0, 0, 0, 0)  # no row lies outside the first range
    # A bucket's bound is loose by the savings of its rows, so a zoom (whose
    # buckets are narrower) leaves only about a quarter of the rows: more
    # zooms than a count objective needs.
    max_zooms = 8

    def __init__(self, tie_ulps: float, gain_magnitude: float | None):
        self.tie_ulps = tie_ulps
        self.gain_magnitude = gain_magnitude

    # Buckets of one distinct score are not gathered (``mixed_of``): scores
    # crowded into a few buckets cost no gathering.
    min_occupied = 1

    def plan(self, sums: CostSums, layout, carried, best_outside, min_occupied):
        occupied = np.flatnonzero(sums.rows)[::-1]
        if occupied.size < max(min_occupied, 1):
            return None
        above, below, tp, fp, fn, tn = carried
        # Running sums from each side's far end, never a total minus a part:
        # a small cost is not swamped by the rounding of a large total.
        edge_above = np.cumsum(np.r_[above, sums.if_positive[occupied]])
        edge_below = _from_bottom(below, sums.if_negative[occupied])
        edge_tp = np.cumsum(np.r_[tp, sums.positive[occupied]])
        edge_fp = np.cumsum(np.r_[fp, sums.negative[occupied]])
        cost = edge_above + edge_below
        bound = edge_above[:-1] + (edge_below[1:] + sums.least[occupied])
        best = min(cost.min(), -best_outside)
        # As in memory: wide enough for every tie on both sides and the
        # sums' own rounding.
        magnitude = np.abs(best) + np.abs(bound)
        if self.gain_magnitude is not None:
            magnitude = magnitude + self.gain_magnitude
        refined = bound <= best + 4 * _EPS * self.tie_ulps * magnitude
        return CostPlan(
            occupied,
            layout.boundary(np.r_[occupied + 1, occupied[-1]]),
            edge_above,
            edge_below,
            edge_tp,
            edge_fp,
            _from_bottom(fn, sums.positive[occupied]),
            _from_bottom(tn, sums.negative[occupied]),
            -cost,
            np.ones(cost.size, dtype=bool),
            refined,
        )

    def inner(self, plan: CostPlan, layout, rows) -> CostCandidates:
        """Every distinct score of the refined buckets, from their rows
        ``(scores, keys, if_positive, if_negative, y_positive, weight)``
        (weight None: unit), in any order."""
        scores, keys, if_positive, if_negative, y_positive, weight = rows
        bucket = layout.buckets(keys)
        order = np.lexsort((scores, bucket))  # bucket, then score, ascending
        scores, keys, bucket = scores[order], keys[order], bucket[order]
        if_positive, if_negative = if_positive[order], if_negative[order]
        if weight is None:
            hits = y_positive[order].astype(np.int64)
            misses = 1 - hits
        else:
            hits = np.where(y_positive[order], weight[order], 0.0)
            misses = np.where(y_positive[order], 0.0, weight[order])
        position = np.empty(layout.n_buckets, dtype=np.int64)
        position[plan.occupied] = np.arange(plan.occupied.size)
        # Where each bucket's rows begin, and the end (none when no row).
        bounds = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1], True])
        bounds = bounds[: bucket.size + (bucket.size > 0)]
        parts = [plan.edges(np.zeros(plan.edge_key.size, dtype=bool))]
        # One bucket at a time, each sum running within its bucket (as in
        # memory): no bucket's sums carry another's rounding.
        for begin, end in itertools.pairwise(bounds):
            span = slice(begin, end)
            parts.append(
                _bucket_candidates(
                    plan,
                    position[bucket[begin]],
                    *(column[span] for column in (keys, scores, if_positive)),
                    *(column[span] for column in (if_negative, hits, misses)),
                )
            )
        return CostCandidates.joined(parts)

    joined = staticmethod(CostCandidates.joined)


def _bucket_candidates(plan, k, keys, scores, if_positive, if_negative, hits, misses):
    """The candidates of the distinct scores of occupied bucket ``k``, from
    its rows in increasing score."""
    size = scores.size
    runs = np.flatnonzero(np.r_[True, scores[1:] != scores[:-1]])
    from_top = size - runs - 1

    def down(values):  # from the bucket's top down to each run's start
        return np.cumsum(values[::-1])[from_top]

    def up(values):  # from the bucket's bottom up to under each run
        sums = np.zeros(size + 1, dtype=values.dtype)
        np.cumsum(values, out=sums[1:])
        return sums[runs]

    lower = np.full(runs.size, np.nan)
    lower[1:] = scores[runs[1:] - 1]
    return CostCandidates(
        keys[runs],
        plan.edge_above[k] + down(if_positive),
        up(if_negative) + plan.edge_below[k + 1],
        plan.edge_tp[k] + down(hits),
        plan.edge_fp[k] + down(misses),
        up(hits) + plan.edge_fn[k + 1],
        up(misses) + plan.edge_tn[k + 1],
        scores[runs],
        lower,
    )


class Cheapest(NamedTuple):
    """The least-cost candidate (see ``_count_buckets.Winner``)."""

    key: np.uint64
    threshold: float
    lower: float
    value: float
    counts: tuple


def cheapest(
    objective, found: CostCandidates, ulps: float, n_rows: int
) -> Cheapest | str:
    """The least-cost candidate by the in-memory search's rules: the highest
    threshold among the costs within ``ulps`` of the least, relative to each
    cut's own cost (``objective`` is a per-row ``CostMatrix`` bound to its
    sums over ``n_rows`` rows). ``UNDECIDED`` when a cost lies so near the
    tolerance's edge that the order of the sums could decide whether it is
    a tie."""
    rows = Rows(None, None, None, None, None, sums=(found.above, found.below))
    _, values = objective._evaluate(None, None, rows)
    magnitudes = objective.tie_magnitudes_
    order_ulps = _ORDER_ULPS_PER_ROOT_ROW * np.sqrt(n_rows)
    narrow = near_top(values, max(ulps - order_ulps, 0.0), magnitudes)
    wide = near_top(values, ulps + order_ulps, magnitudes)
    best = int(np.argmax(near_top(values, ulps, magnitudes)))
    if int(np.argmax(narrow)) != int(np.argmax(wide)):
        return UNDECIDED
    return Cheapest(
        found.key[best],
        found.threshold[best],
        found.lower[best],
        float(values[best]),
        tuple(getattr(found, name)[best].item() for name in ("tp", "fp", "tn", "fn")),
    )


def _from_bottom(below, per_bucket):
    """Edge ``k``'s sum over the buckets from ``k`` down (the buckets listed
    from the top), plus ``below``: running sums from the bottom."""
    return np.cumsum(np.r_[below, per_bucket[::-1]])[::-1]
