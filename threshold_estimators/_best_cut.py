"""The best cut of a search, found with or without the whole curve.

Every entry point (``pick_threshold``, the tuner's pooled and per-fold
searches, each class of a multiclass target) asks :func:`find_best`, so that
they all choose alike. A least-cost objective over per-row costs on many rows
is searched by bucket bounds (``_bucket_search``), which evaluates only the
candidates that can win; every other search evaluates the whole curve. The
whole curve (for ``cv_results_``, ``ThresholdPick.curve``, plots) is always
available, built on first use when the search did not need it.
"""

from __future__ import annotations

import numpy as np

from ._bucket_layout import (
    Layout,
    bucket_sums,
    mixed_buckets,
    placed_rows,
    refined_rows,
)
from ._bucket_search import bucketed_contenders, order_keys
from ._count_buckets import (
    BOUND_SLACK_ULPS,
    UNDECIDED,
    CountPlanner,
    search_buckets,
    winner,
)
from ._search import ThresholdCurve, cut_between
from ._selection import (
    Prepared,
    _evaluate_prepared,
    best_of,
    fixed_index,
    near_top,
    prepare,
    sums_exactly,
    tie_ulps,
)
from .objectives import Objective

# Under this many rows the whole curve is as fast (measured: equal at 2**15
# rows, 7 against 10 ms at 2**16, half the time from 2**17).
_BUCKETED_MIN_ROWS = 1 << 16

# The bucketed count search zooms in until its refined buckets hold at most
# this many rows, or a 64th of them: sorting them is then a small part.
_MIN_SORTED_ROWS = 1 << 12
_EPS = np.finfo(float).eps


class Found:
    """The best candidate of a search.

    Attributes
    ----------
    threshold : float
        The candidate's threshold: a distinct score, or ``+inf`` (no
        positive call).
    lower : float or None
        The next lower distinct score; None when the candidate calls every
        row positive.
    value : float
        The objective at the candidate.
    counts : tuple of 4 numbers
        ``(tp, fp, tn, fn)`` at the candidate.
    curve, values, index
        The whole curve, the objective at every candidate (NaN where not
        evaluated) and the candidate's index in it; built on first use when
        the search did not need them.
    """

    def __init__(self, threshold, lower, value, counts, whole=None, index=None):
        self.threshold = float(threshold)
        self.lower = None if lower is None else float(lower)
        self.value = float(value)
        self.counts = counts
        self._whole = whole
        self._index = index

    @classmethod
    def on_curve(cls, curve: ThresholdCurve, values, index: int) -> Found:
        """The candidate ``index`` of a whole curve."""
        thresholds = curve.thresholds
        lower = thresholds[index + 1] if index + 1 < thresholds.size else None
        counts = tuple(column[index].item() for column in curve.counts)
        whole = (curve, values)
        return cls(thresholds[index], lower, values[index], counts, whole, index)

    def cut(self, objective: Objective, dtype=np.float64) -> float:
        """The threshold to deploy: the user's own cut for an objective that
        fixes it (:class:`~threshold_estimators.objectives.FixedThreshold`),
        else a value of ``dtype`` between this candidate and the next lower
        score (:func:`~threshold_estimators._search.cut_between`)."""
        cut = objective.fixed_cut()
        if cut is not None:
            return cut
        return cut_between(self.threshold, self.lower, dtype)

    def _built(self):
        if callable(self._whole):
            curve, values, _ = self._whole()
            self._whole = (curve, values)
        return self._whole

    @property
    def curve(self) -> ThresholdCurve:
        return self._built()[0]

    @property
    def values(self) -> np.ndarray:
        return self._built()[1]

    @property
    def index(self) -> int:
        if self._index is None:
            self._index = fixed_index(self.curve.thresholds, self.threshold)
        return self._index


def find_best(objective: Objective, y, y_score, sample_weight, **rows) -> Found:
    """The best candidate for ``objective`` over the scores of labels ``y``.

    ``rows`` are :func:`~threshold_estimators._selection.prepare`'s keywords.
    Same choice as :func:`~threshold_estimators._selection.run_search`:
    the best feasible candidate, ties (within rounding) going to the highest
    threshold, or the candidate of a fixed cut.
    """
    prepared = prepare(objective, y, y_score, sample_weight, **rows)
    for shortcut in (_least_summed_cost, _best_counts_by_buckets):
        found = shortcut(prepared)
        if found is not None:
            return found
    return Found.on_curve(*best_of(_evaluate_prepared(prepared)))


class _WholeCurve:
    """The whole curve of a prepared search, built when first asked for (a
    plain object rather than a closure, so that a pick can be pickled)."""

    def __init__(self, prepared: Prepared):
        self.prepared = prepared

    def __call__(self):
        return best_of(_evaluate_prepared(self.prepared))


def _least_summed_cost(prepared: Prepared) -> Found | None:
    """The least-cost candidate by bucket bounds, or None when the objective
    is not a sum of per-row costs, the rows are few, or the bounds prune too
    little (the whole curve is then searched)."""
    objective, rows, y_positive = prepared
    if (
        not objective.sums_are_costs
        or objective.summed_rows is None
        or objective.fixed_cut() is not None
        or rows.y_score.shape[0] < _BUCKETED_MIN_ROWS
    ):
        return None
    y_score, weight = rows.y_score, rows.sample_weight
    ulps = tie_ulps(objective, 0 if sums_exactly(weight) else y_score.shape[0])
    contenders = bucketed_contenders(
        y_score,
        *objective.summed_rows,
        tie_ulps=ulps,
        gain_magnitude=objective.gain_magnitude_,
    )
    if contenders is None:
        return None
    thresholds = contenders.thresholds
    _, values = objective._evaluate(
        None, None, rows._replace(sums=(contenders.above, contenders.below))
    )
    # The thresholds decrease: the first of the ties is the highest.
    best = int(np.argmax(near_top(values, ulps, objective.tie_magnitudes_)))
    threshold = thresholds[best]
    called = y_score >= threshold
    under = np.max(y_score, where=~called, initial=-np.inf)
    lower = None if under == -np.inf else under
    return Found(
        threshold,
        lower,
        values[best],
        _counts(called, y_positive, weight),
        whole=_WholeCurve(prepared),
    )


def _counts(called, y_positive, weight) -> tuple:
    """``(tp, fp, tn, fn)`` of the decisions ``called``: integers without
    weights, sums of the weights otherwise."""
    if weight is None:
        tp = int(np.count_nonzero(called & y_positive))
        n_called, n_positive = int(np.count_nonzero(called)), int(y_positive.sum())
        fp = n_called - tp
        return tp, fp, y_positive.size - n_positive - fp, n_positive - tp
    sums = [
        float(np.sum(weight, where=called & truth))
        for truth in (y_positive, ~y_positive)
    ]
    missed = [
        float(np.sum(weight, where=~called & truth))
        for truth in (~y_positive, y_positive)
    ]
    return sums[0], sums[1], missed[0], missed[1]


def _best_counts_by_buckets(prepared: Prepared) -> Found | None:
    """The best candidate of a count objective monotone in the counts, by
    bucket bounds (``_count_buckets``), or None when the objective is not
    one, the rows are few, no candidate left is feasible, or the bounds
    prune too little (the whole curve is then searched)."""
    objective, rows, y_positive = prepared
    y_score, weight = rows.y_score, rows.sample_weight
    n_rows = y_score.shape[0]
    if (
        getattr(objective, "count_directions", None) is None
        or objective.summed_rows is not None
        or objective.fixed_cut() is not None
        or n_rows < _BUCKETED_MIN_ROWS
        or (weight is not None and objective.needs_sample_sizes)
    ):
        return None
    # A column of a score matrix (one class against the rest) is strided:
    # one contiguous copy spares every pass below reading the other columns.
    y_score = np.ascontiguousarray(y_score)
    keys = order_keys(y_score)
    n_weighted = 0 if sums_exactly(weight) else n_rows
    if weight is None:
        n_positive = int(np.count_nonzero(y_positive))
        totals = (n_positive, n_rows - n_positive)
    elif rows.binary_totals is not None:
        totals = rows.binary_totals
    else:
        # One pass over the rows (two masked sums took 2.7 times as long).
        negative, positive = np.bincount(
            np.asarray(y_positive, dtype=bool).view(np.uint8),
            weights=weight,
            minlength=2,
        )
        totals = (float(positive), float(negative))

    placed = {}  # the last layout's rows in its range, and their buckets
    key_range = (int(keys.min()), int(keys.max()))

    def sums_of(layout):
        placed["rows"] = placed_rows(layout, keys, key_range)
        return bucket_sums(layout, keys, y_positive, weight, placed=placed["rows"])

    def rows_of(layout, refined):
        if not refined.any():
            kept = slice(0)
            return y_score[kept], keys[kept], y_positive[kept], None
        kept = refined_rows(layout, refined, keys, placed=placed["rows"])
        return (
            y_score[kept],
            keys[kept],
            y_positive[kept],
            None if weight is None else weight[kept],
        )

    def mixed_of(layout, refined):
        inside, bucket = placed["rows"]
        placed_keys = keys if inside is None else keys[inside]
        # Few rows lie in refined buckets: their positions, then two takes.
        rows = np.flatnonzero(refined.take(bucket))
        return mixed_buckets(
            layout.n_buckets, bucket.take(rows), placed_keys.take(rows)
        )

    found = search_buckets(
        CountPlanner(
            objective,
            totals,
            (tie_ulps(objective, n_weighted) + BOUND_SLACK_ULPS) * _EPS,
        ),
        Layout.spanning(*key_range),
        sums_of,
        rows_of,
        max_rows=max(_MIN_SORTED_ROWS, n_rows >> 6),
        mixed_of=mixed_of,
    )
    if found is None:
        return None
    found, magnitude = found
    best = winner(objective, found, totals, n_weighted, magnitude)
    if best is None or best is UNDECIDED:
        return None  # the whole curve decides (or its fallback raises)
    return _chosen(best, found, y_score, keys, prepared)


def _chosen(best, found, y_score, keys, prepared):
    """The best of the candidates, its cut resolved on the rows."""
    threshold, lower = best.threshold, best.lower
    if np.isnan(threshold) or np.isnan(lower):
        above, below = _scores_around(best.key, found.key, y_score, keys)
        threshold = above if np.isnan(threshold) else threshold
        lower = below if np.isnan(lower) else lower
    return Found(
        threshold,
        None if lower == -np.inf else lower,
        best.value,
        best.counts,
        whole=_WholeCurve(prepared),
    )


def _scores_around(key, candidate_keys, y_score, keys) -> tuple[float, float]:
    """The least score whose key is at least ``key``, and the greatest below
    it (``inf``, ``-inf`` when none).

    The rows between two neighbouring candidates are the ones one calls and
    the other does not, so each score is looked for between ``key`` and the
    next candidate key on its side: one pass that keeps few rows, rather than
    a masked reduction over every row. An empty window (neighbours making the
    same decision) falls back to all rows on that side.
    """
    higher = candidate_keys[candidate_keys > key]
    lower = candidate_keys[candidate_keys < key]
    # Both windows in one pass: the rows between the two neighbours.
    start = lower.max() if lower.size else None
    stop = higher.min() if higher.size else None
    window = _window(keys, start, stop)
    window_keys, window_scores = keys[window], y_score[window]
    is_above = window_keys >= key
    above, below = window_scores[is_above], window_scores[~is_above]
    if above.size == 0:
        above = y_score[keys >= key]
    if below.size == 0:
        below = y_score[keys < key]
    return above.min(initial=np.inf), below.max(initial=-np.inf)


def _window(keys, start, stop):
    """Which keys lie in ``[start, stop)`` (None: unbounded; a slice of every
    row when both are); unsigned differences wrap below ``start``, so one
    comparison bounds both sides."""
    if start is None and stop is None:
        return slice(None)
    if start is None:
        return keys < stop
    if stop is None:
        return keys >= start
    return (keys - start) < (stop - start)
