"""Exact best cut of a count objective without sorting every score.

An objective whose value can only rise with the true positives and fall with
the false positives (F1, F-beta, a precision or recall target, a cost matrix
whose errors cost more than the right calls) is bounded over a bucket of
consecutive scores by its value at the bucket's best corner: every row of the
bucket a true positive's worth of gain, none of its negatives a loss. The
rows are grouped into buckets by the leading bits of their order-preserving
keys (linear time, as in :mod:`~threshold_estimators._bucket_search`); the
cuts at the buckets' edges are real candidates with exact counts; only the
buckets whose bound reaches the best edge (within the tie tolerance) are
sorted and every distinct score in them evaluated. The answer is the full
search's: same candidate, same tie rules.

The bucket sums (:func:`._bucket_layout.bucket_sums`) add up across chunks of
rows, so the same plan runs where the rows do not fit in one place (dask
partitions).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._bucket_layout import BucketSums, Layout
from ._bucket_search import _MIN_OCCUPIED_BUCKETS
from ._search import ThresholdCurve
from ._selection import best_candidate, evaluation_counts, near_top, tie_ulps

# Pruning compares bounds with the best edge within this many ulps more than
# the objective's own tie tolerance: a bound computed in floating point may
# round an ulp or two below the value it bounds.
BOUND_SLACK_ULPS = 16

# Zooms into the refined range at most this many times (each a pass over the
# rows; every zoom divides the range by up to 2**16).
_MAX_ZOOMS = 3


class Candidates(NamedTuple):
    """Candidates with exact counts.

    Each calls the rows whose key is at least ``key``: a bucket edge (its
    threshold, the smallest such score, NaN until resolved for the winner)
    or a distinct score of a refined bucket (``threshold`` that score,
    ``lower`` the next lower one within its bucket, or NaN).
    """

    key: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    threshold: np.ndarray
    lower: np.ndarray

    @classmethod
    def joined(cls, parts) -> Candidates:
        """The parts as one list in decreasing threshold (increasing calls).
        Equal keys are the same decisions, whichever comes first."""
        merged = [np.concatenate([getattr(p, f) for p in parts]) for f in cls._fields]
        order = np.argsort(merged[0], kind="stable")[::-1]
        return cls(*(column[order] for column in merged))


class Plan(NamedTuple):
    """The buckets to refine, and every occupied bucket's edge.

    ``occupied`` lists the occupied buckets from the top down; edge ``k``
    calls every row of the buckets above ``occupied[k]`` (and the rows above
    the layout's range), with counts ``edge_tp[k]``, ``edge_fp[k]``; the
    last edge calls every row of the range. ``refined`` is a mask over
    ``occupied``; ``value`` and ``ok`` are the objective and feasibility of
    each edge.
    """

    occupied: np.ndarray
    edge_key: np.ndarray
    edge_tp: np.ndarray
    edge_fp: np.ndarray
    value: np.ndarray
    ok: np.ndarray
    refined: np.ndarray
    # At least the largest |objective| of any cut in the layout's range.
    magnitude: float

    def edges(self, keep: np.ndarray) -> Candidates:
        size = np.count_nonzero(keep)
        return Candidates(
            self.edge_key[keep],
            self.edge_tp[keep],
            self.edge_fp[keep],
            np.full(size, np.nan),
            np.full(size, np.nan),
        )

    def carried(self, top: int, bottom: int) -> tuple:
        """What a zoom into the edges ``top`` to ``bottom`` carries: the
        counts called above its range."""
        return self.edge_tp[top], self.edge_fp[top]


def _counts_at(tp, fp, totals):
    positives, negatives = totals
    return tp, fp, negatives - fp, positives - tp


def plan_refinement(
    objective,
    sums: BucketSums,
    layout: Layout,
    totals: tuple,
    *,
    above: tuple = (0, 0),
    best_outside: float = -np.inf,
    slack: float,
    min_occupied: int = _MIN_OCCUPIED_BUCKETS,
) -> Plan | None:
    """The buckets that may hold the best candidate or a tie with it: those
    whose bound reaches the best edge (here or ``best_outside``) within
    ``slack``. None when fewer than ``min_occupied`` are occupied (the
    scores crowd into few buckets: pruning could not pay)."""
    occupied = np.flatnonzero(sums.rows)[::-1]
    if occupied.size < max(min_occupied, 1):
        return None
    positive = sums.positive[occupied]
    negative = sums.negative[occupied]
    # Counts above each occupied bucket: running sums from the top.
    edge_tp = np.empty(
        occupied.size + 1, dtype=np.result_type(positive, type(above[0]))
    )
    edge_fp = np.empty(
        occupied.size + 1, dtype=np.result_type(negative, type(above[1]))
    )
    edge_tp[0], edge_fp[0] = above
    np.cumsum(positive, out=edge_tp[1:])
    np.cumsum(negative, out=edge_fp[1:])
    edge_tp[1:] += above[0]
    edge_fp[1:] += above[1]
    edge_key = layout.boundary(np.r_[occupied + 1, occupied[-1]])
    edge_counts = _counts_at(edge_tp, edge_fp, totals)
    value = np.asarray(objective.score(*edge_counts), dtype=float)
    ok = objective.feasible(*edge_counts) & ~np.isnan(value)
    tp_up, fp_up = objective.count_directions
    tp_corner = edge_tp[:-1] + (positive if tp_up > 0 else 0)
    fp_corner = edge_fp[:-1] + (negative if fp_up > 0 else 0)
    corner_counts = _counts_at(tp_corner, fp_corner, totals)
    corner_value = np.asarray(objective.score(*corner_counts), dtype=float)
    refined = objective.feasible(*corner_counts) & ~np.isnan(corner_value)
    # Every cut inside a bucket lies between its best and its worst corner.
    worst_counts = _counts_at(
        edge_tp[:-1] + (0 if tp_up > 0 else positive),
        edge_fp[:-1] + (0 if fp_up > 0 else negative),
        totals,
    )
    worst_value = np.asarray(objective.score(*worst_counts), dtype=float)
    magnitude = max(
        float(np.nanmax(np.abs(part), initial=0.0))
        for part in (value, corner_value, worst_value)
    )
    best = max(value[ok].max(initial=-np.inf), best_outside)
    if best > -np.inf:
        # Ties are within the tolerance of the largest |objective| of the
        # whole curve (``_selection.near_top``), which ``magnitude`` bounds.
        refined &= corner_value >= best - slack * max(magnitude, 1e-300)
    return Plan(occupied, edge_key, edge_tp, edge_fp, value, ok, refined, magnitude)


def inner_candidates(plan: Plan, layout: Layout, rows) -> Candidates:
    """Every distinct score of the refined buckets, from their rows
    ``(scores, keys, y_positive, weight)`` (weight None: unit), in any
    order."""
    scores, keys, y_positive, weight = rows
    if scores.size == 0:
        empty = np.empty(0)
        return Candidates(keys, plan.edge_tp[:0], plan.edge_fp[:0], empty, empty)
    bucket = layout.buckets(keys)
    order = np.lexsort((scores, bucket))[::-1]  # bucket, then score, descending
    scores, keys, bucket = scores[order], keys[order], bucket[order]
    y_positive = y_positive[order]
    if weight is None:
        hits = y_positive.astype(np.int64)
        misses = 1 - hits
    else:
        weight = weight[order]
        hits = np.where(y_positive, weight, 0.0)
        misses = np.where(y_positive, 0.0, weight)
    new_bucket = np.r_[True, bucket[1:] != bucket[:-1]]
    # The last row of each run of equal scores within a bucket.
    last = np.r_[(scores[1:] != scores[:-1]) | (bucket[1:] != bucket[:-1]), True]
    # Sums from each bucket's top: running sums restarted at each bucket.
    starts = np.flatnonzero(new_bucket)
    lengths = np.diff(np.r_[starts, bucket.size])
    within_tp = _restarted_cumsum(hits, starts, lengths)
    within_fp = _restarted_cumsum(misses, starts, lengths)
    position = np.empty(layout.n_buckets, dtype=np.int64)
    position[plan.occupied] = np.arange(plan.occupied.size)
    k = position[bucket[last]]
    same_bucket_next = np.r_[bucket[1:] == bucket[:-1], False]
    lower_rows = np.flatnonzero(last)
    following = np.r_[lower_rows[1:], bucket.size]  # next run's last row
    lower = np.full(lower_rows.size, np.nan)
    has_lower = same_bucket_next[lower_rows]
    lower[has_lower] = scores[np.minimum(following, bucket.size - 1)][has_lower]
    return Candidates(
        keys[last],
        plan.edge_tp[k] + within_tp[last],
        plan.edge_fp[k] + within_fp[last],
        scores[last],
        lower,
    )


def _restarted_cumsum(values, starts, lengths):
    """Running sums of ``values`` restarted at each of ``starts``."""
    total = np.cumsum(values)
    before = np.r_[np.zeros(1, dtype=total.dtype), total[:-1]][starts]
    return total - np.repeat(before, lengths)


class CountPlanner:
    """How :func:`search_buckets` plans and reads the buckets of a count
    objective (see :func:`plan_refinement`, :func:`inner_candidates`);
    ``tolerance`` is relative: the objective's tie tolerance plus the
    bounds' rounding."""

    start = (0, 0)  # nothing is called above the first layout's range

    def __init__(
        self,
        objective,
        totals,
        tolerance: float,
        min_occupied=_MIN_OCCUPIED_BUCKETS,
        max_zooms=_MAX_ZOOMS,
    ):
        self.objective = objective
        self.totals = totals
        self.tolerance = tolerance
        # Under this many occupied buckets in the first layout, pruning is
        # not tried (in memory, the whole curve is then as fast).
        self.min_occupied = min_occupied
        # Each zoom is a pass over the rows; in memory, past a few the whole
        # curve is as fast.
        self.max_zooms = max_zooms

    def plan(self, sums, layout, carried, best_outside, min_occupied):
        return plan_refinement(
            self.objective,
            sums,
            layout,
            self.totals,
            above=carried,
            best_outside=best_outside,
            slack=self.tolerance,
            min_occupied=min_occupied,
        )

    def inner(self, plan, layout, rows) -> Candidates:
        return inner_candidates(plan, layout, rows)

    joined = staticmethod(Candidates.joined)


def search_buckets(planner, layout, sums_of, rows_of, *, max_rows, mixed_of=None):
    """Candidates that hold the best and every tie with it, and a bound on
    the largest |objective| of any cut (what ties are measured against);
    None when pruning does not pay.

    ``planner`` (:class:`CountPlanner`, or the per-row costs' planner of
    ``_cost_buckets``) turns a layout's sums into a plan of the buckets to
    refine, and their rows into candidates. ``sums_of(layout)`` sums the
    rows in a layout's range (one pass over the rows); ``rows_of(layout,
    refined)`` returns the rows of its refined buckets. While the refined
    buckets hold more than ``max_rows`` rows, the layout zooms into their
    range (another pass), keeping the edges outside it that may win.

    ``mixed_of(layout, refined)``, when given, marks which refined buckets
    hold more than one distinct key. Tied scores crowd into buckets of a
    single key that no zoom can split; such a bucket holds no cut but its
    two edges, so it needs no refining.
    """
    carried, best_outside, kept, magnitude = planner.start, -np.inf, [], 0.0
    for zoom in range(planner.max_zooms + 1):
        sums = sums_of(layout)
        plan = planner.plan(
            sums,
            layout,
            carried,
            best_outside,
            # A zoom's range holds few scores when they are tied: its
            # buckets are then few, and the ones of one score need no sort.
            min_occupied=1 if zoom else planner.min_occupied,
        )
        if plan is None:
            return None
        magnitude = max(magnitude, plan.magnitude)
        index = np.flatnonzero(plan.refined)
        n_rows = int(sums.rows[plan.occupied[index]].sum())
        if n_rows > max_rows and mixed_of is not None:
            plan = _without_single_keys(plan, layout, mixed_of)
            index = np.flatnonzero(plan.refined)
            n_rows = int(sums.rows[plan.occupied[index]].sum())
        if n_rows <= max_rows or index.size == 0:
            break
        # Zoom into the refined range: edges index[0] (its top) and
        # index[-1] + 1 (its bottom) are the next layout's first and last.
        top, bottom = index[0], index[-1] + 1
        outside = np.ones(plan.edge_key.size, dtype=bool)
        outside[top : bottom + 1] = False
        kept.append(plan.edges(outside & plan.ok))
        best_outside = max(best_outside, plan.value[plan.ok].max(initial=-np.inf))
        carried = plan.carried(top, bottom)
        if layout.shift == 0:
            break  # one key per bucket already: no zoom splits them
        layout = Layout.spanning(
            int(plan.edge_key[bottom]), int(plan.edge_key[top]) - 1
        )
    else:
        return None
    if n_rows > max_rows:
        return None
    refined = np.zeros(layout.n_buckets, dtype=bool)
    refined[plan.occupied[plan.refined]] = True
    inner = planner.inner(plan, layout, rows_of(layout, refined))
    edges = plan.edges(np.ones(plan.edge_key.size, dtype=bool))
    return planner.joined([*kept, edges, inner]), magnitude


def _without_single_keys(plan: Plan, layout: Layout, mixed_of) -> Plan:
    """The plan refining only its buckets of more than one distinct key."""
    refined = np.zeros(layout.n_buckets, dtype=bool)
    refined[plan.occupied[plan.refined]] = True
    mixed = mixed_of(layout, refined)
    return plan._replace(refined=plan.refined & mixed[plan.occupied])


def candidate_curve(found: Candidates, totals) -> ThresholdCurve:
    """The candidates as a (partial) curve, for the usual selection."""
    return ThresholdCurve(found.threshold, *_counts_at(found.tp, found.fp, totals))


class Winner(NamedTuple):
    """The best candidate: its key, its threshold and next lower score (NaN
    until resolved on the rows), its value and its counts."""

    key: np.uint64
    threshold: float
    lower: float
    value: float
    counts: tuple


# ``winner``'s answer when the candidates cannot tell which cuts the whole
# curve would count as tied (see there).
UNDECIDED = "undecided"


def winner(
    objective, found: Candidates, totals, n_weighted: int, magnitude: float
) -> Winner | str | None:
    """The best feasible candidate by the whole-curve search's rules, None
    when none is feasible (the caller falls back or raises), or
    ``UNDECIDED``.

    Values within a tolerance of the best are ties, the tolerance relative to
    the largest |objective| over the whole curve. The candidates hold the
    best, but the largest magnitude may lie at a cut they do not hold (a
    cost's worst cut): it is known to lie between theirs and ``magnitude``.
    When the ties read at those two ends differ, the candidates cannot
    decide (``UNDECIDED``: the whole curve must).
    """
    curve = candidate_curve(found, totals)
    counts = evaluation_counts(objective, curve)
    values = np.asarray(objective.score(*counts), dtype=float)
    feasible = objective.feasible(*counts) & ~np.isnan(values)
    if not np.any(feasible):
        return None
    ulps = tie_ulps(objective, n_weighted)
    if ulps and getattr(objective, "tie_magnitudes_", None) is None:
        scored = np.where(feasible, values, -np.inf)
        if not np.array_equal(
            near_top(scored, ulps), near_top(scored, ulps, magnitude=magnitude)
        ):
            return UNDECIDED
    best = best_candidate(
        objective, curve, values, counts=counts, n_weighted=n_weighted
    )
    return Winner(
        found.key[best],
        found.threshold[best],
        found.lower[best],
        float(values[best]),
        tuple(column[best].item() for column in curve.counts),
    )
