"""Exact threshold search, part one: confusion counts at every distinct score.

One sort of the scores and a few cumulative sums give the weighted confusion
counts of every possible cut (the approach of scikit-learn's
``_binary_clf_curve``); an objective is then vectorised arithmetic on those
arrays. The search is O(n log n) for the sort and O(n) after it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_weight_values


class ThresholdCurve(NamedTuple):
    """Weighted confusion counts of every candidate threshold.

    Candidate ``k`` calls a sample positive when ``score >= thresholds[k]``.
    ``thresholds`` is strictly decreasing; ``thresholds[0]`` is ``+inf`` (no
    positive call) and the others are the distinct scores, so the last
    candidate calls every sample positive.
    """

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    tn: np.ndarray
    fn: np.ndarray

    @property
    def counts(self):
        """``(tp, fp, tn, fn)``, the arguments of an objective's methods."""
        return self.tp, self.fp, self.tn, self.fn


def confusion_curve(y_positive, y_score, sample_weight=None) -> ThresholdCurve:
    """Confusion counts at every distinct score.

    Parameters
    ----------
    y_positive : array-like of bool, shape (n_samples,)
        Whether each sample belongs to the positive class.
    y_score : array-like of shape (n_samples,)
        Finite scores, greater meaning more likely positive.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights. Without weights the counts are exact integers.

    Returns
    -------
    curve : ThresholdCurve

    Examples
    --------
    >>> from threshold_estimators._search import confusion_curve
    >>> curve = confusion_curve([False, True, True, False], [0.1, 0.8, 0.4, 0.4])
    >>> curve.thresholds
    array([inf, 0.8, 0.4, 0.1])
    >>> curve.tp, curve.fp
    (array([0, 1, 2, 2]), array([0, 0, 1, 2]))
    """
    y_positive, y_score, sample_weight = _checked(y_positive, y_score, sample_weight)
    if sample_weight is None:
        thresholds, tp, fp = _unweighted_counts(y_positive, y_score)
        total_positive, total_negative = tp[-1], fp[-1]
        tn, fn = total_negative - fp, total_positive - tp
    else:
        thresholds, tp, fp, total_positive, total_negative = _weighted_counts(
            y_positive, y_score, sample_weight
        )
        # Differences of float running sums can come out a few ulps below 0.
        tn = np.maximum(total_negative - fp, 0.0)
        fn = np.maximum(total_positive - tp, 0.0)
    return ThresholdCurve(thresholds, tp, fp, tn, fn)


def confusion_curve_with_sums(
    y_positive, y_score, sample_weight, above=None, below=None
) -> tuple[ThresholdCurve, np.ndarray | None, np.ndarray | None]:
    """:func:`confusion_curve`, and sums of per-row values at every candidate.

    ``above`` (shape (n_samples,)) is summed over the rows each candidate
    calls positive (``score >= thresholds[k]``), ``below`` over
    the others, from the same sort as the counts: per-row costs are searched
    exactly, every distinct score a candidate, in one sort and a few
    cumulative sums. Each is a running sum from its own end (from the top
    score down, from the lowest up), never a total minus a prefix: a sum of
    non-negative values is then exact to its own rounding, however large
    the rows on the other side of the cut.

    Returns
    -------
    curve : ThresholdCurve
        The counts (exact integers when ``sample_weight`` is None).
    sums_above, sums_below : ndarray of shape (n_candidates,) or None
        ``sums_above[k]``: the sum of ``above`` over the rows at or above
        ``thresholds[k]`` (0 for the first, ``+inf``, candidate);
        ``sums_below[k]``: the sum of ``below`` over the rows under it.
    """
    y_positive, y_score, sample_weight = _checked(y_positive, y_score, sample_weight)
    above, below = (
        None if values is None else np.asarray(values, dtype=float)
        for values in (above, below)
    )
    for values in (above, below):
        if values is not None and values.shape != y_score.shape:
            raise ValueError(
                f"Per-row values must have shape {y_score.shape}; got {values.shape}."
            )
    if sample_weight is None:
        order = np.argsort(y_score)
        thresholds, tp, fp, starts = _unweighted_counts(y_positive, y_score, order)
        tn, fn = fp[-1] - fp, tp[-1] - tp
    else:
        thresholds, tp, fp, total_positive, total_negative, order, starts = (
            _weighted_counts(y_positive, y_score, sample_weight, keep_order=True)
        )
        tn = np.maximum(total_negative - fp, 0.0)
        fn = np.maximum(total_positive - tp, 0.0)
    sums_above = (
        None if above is None else _sums_at_or_above(_gather(above, order), starts)
    )
    sums_below = None if below is None else _sums_below(_gather(below, order), starts)
    return ThresholdCurve(thresholds, tp, fp, tn, fn), sums_above, sums_below


def _checked(y_positive, y_score, sample_weight):
    """The inputs of :func:`confusion_curve` as arrays, or a ValueError."""
    y_positive = np.asarray(y_positive)
    if y_positive.dtype != bool:
        raise ValueError(
            "confusion_curve needs boolean labels (e.g. y == pos_label); got an "
            f"array of dtype {y_positive.dtype}."
        )
    y_score = as_float_array(y_score, "y_score")
    if y_score.ndim != 1 or y_score.size == 0:
        raise ValueError(
            "confusion_curve needs a non-empty 1-D array of scores; got shape "
            f"{y_score.shape}."
        )
    if not np.all(np.isfinite(y_score)):
        raise ValueError(
            "confusion_curve needs finite scores; y_score holds "
            f"{np.count_nonzero(np.isnan(y_score))} NaN and "
            f"{np.count_nonzero(np.isinf(y_score))} infinite values."
        )
    shapes = {"y_positive": y_positive.shape}
    if sample_weight is not None:
        sample_weight = as_float_array(sample_weight, "sample_weight")
        shapes["sample_weight"] = sample_weight.shape
    for name, shape in shapes.items():
        if shape != y_score.shape:
            raise ValueError(
                f"{name} and y_score must have the same shape; got {shape} and "
                f"{y_score.shape}."
            )
    if sample_weight is not None:
        check_weight_values(sample_weight)
    return y_positive, y_score, sample_weight


def as_float_array(values, name: str) -> np.ndarray:
    """``values`` as float64, or a ValueError naming ``name`` (not numpy's)."""
    if np.ma.is_masked(values):
        raise ValueError(
            f"{name} has masked entries; drop those rows instead (a mask would be "
            "ignored)."
        )
    kind = np.asarray(values).dtype.kind
    if kind not in "biufO":
        raise ValueError(
            f"{name} must be an array of real numbers; got dtype "
            f"{np.asarray(values).dtype}."
        )
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers; {exc}.") from None


# The helpers below return as soon as their temporaries are no longer needed and
# write results in place: at 10^7 scores each array of n values is 80 MB, and
# its first touch costs about as much time as the sort.


def _unweighted_counts(y_positive, y_score, order=None):
    """Decreasing thresholds and the exact integer tp, fp at each (and, given
    the sorting ``order`` of the scores, the run starts in that order)."""
    if order is None:
        sorted_score, positives_up_to = _sort_with_positives(y_positive, y_score)
    else:
        sorted_score = _gather(y_score, order)
        positives_up_to = np.cumsum(_gather(y_positive, order), dtype=np.int64)
    starts = _run_starts(sorted_score)
    thresholds = _descending_thresholds(sorted_score, starts)
    del sorted_score
    positives_before = _before(positives_up_to, starts)
    n_positive = positives_up_to[-1]
    del positives_up_to
    tp = np.zeros(starts.size + 1, dtype=np.int64)
    np.subtract(n_positive, positives_before[::-1], out=tp[1:])
    del positives_before
    # fp = (samples at or above the threshold) - tp; a run starting at index j of
    # the sorted scores has n - j samples at or above it.
    fp = np.zeros_like(tp)
    np.subtract(y_score.size, starts[::-1], out=fp[1:])
    fp[1:] -= tp[1:]
    if order is None:
        return thresholds, tp, fp
    return thresholds, tp, fp, starts


def _sort_with_positives(y_positive, y_score):
    """The sorted scores, and the number of positives up to each position.

    The count is exact at the last position of each run of tied scores, the only
    positions read. No permutation is needed: sorting values is several times
    faster than ``np.argsort``.
    """
    bits = y_score.view(np.uint64)
    if bits.max() < 1 << 63:
        # Non-negative scores (probabilities among them; not -0.0) have the sign
        # bit of their IEEE 754 representation at 0, and their bit patterns order
        # as their values do: one integer sort of (bits << 1 | label) sorts the
        # scores and carries the labels along.
        keys = bits << np.uint64(1)
        keys |= y_positive
        keys.sort()
        positives_up_to = np.bitwise_and(keys, np.uint64(1)).view(np.int64)
        np.cumsum(positives_up_to, out=positives_up_to)
        keys >>= np.uint64(1)
        return keys.view(np.float64), positives_up_to
    # Any other scores: each positive is counted at the start of its run of ties,
    # found from its rank among all sorted scores.
    sorted_score = np.sort(y_score)
    rank = np.searchsorted(sorted_score, np.sort(y_score[y_positive]), "left")
    positives_up_to = np.bincount(rank, minlength=sorted_score.size)
    del rank
    np.cumsum(positives_up_to, out=positives_up_to)
    return sorted_score, positives_up_to


def _weighted_counts(y_positive, y_score, sample_weight, keep_order=False):
    """Decreasing thresholds and the weighted tp, fp at each, and the totals
    (and with ``keep_order`` the sorting order and the run starts in it)."""
    # Any sort will do: ties are merged, so stability buys nothing.
    order = np.argsort(y_score)
    sorted_score = _gather(y_score, order)
    starts = _run_starts(sorted_score)
    thresholds = _descending_thresholds(sorted_score, starts)
    del sorted_score
    sorted_weight = _gather(sample_weight, order)
    positives_up_to = np.where(_gather(y_positive, order), sorted_weight, 0.0)
    if not keep_order:
        del order
    np.cumsum(positives_up_to, out=positives_up_to)
    weight_up_to = np.cumsum(sorted_weight, out=sorted_weight)
    total_positive = positives_up_to[-1]
    total_negative = weight_up_to[-1] - total_positive
    positives_before = _before(positives_up_to, starts)
    del positives_up_to
    negatives_before = _before(weight_up_to, starts)
    del weight_up_to
    negatives_before -= positives_before
    np.maximum(negatives_before, 0.0, out=negatives_before)
    tp = np.zeros(starts.size + 1)
    fp = np.zeros_like(tp)
    np.subtract(total_positive, positives_before[::-1], out=tp[1:])
    np.subtract(total_negative, negatives_before[::-1], out=fp[1:])
    np.maximum(tp, 0.0, out=tp)
    np.maximum(fp, 0.0, out=fp)
    if keep_order:
        return thresholds, tp, fp, total_positive, total_negative, order, starts
    return thresholds, tp, fp, total_positive, total_negative


def _gather(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``values[order]``: ``np.take`` is a little faster than fancy indexing
    on a random permutation (5.1 against 6.0 ms for 10^6 floats, measured
    within the search; up to 3x apart on a cold, isolated call)."""
    return np.take(values, order)


def _sums_at_or_above(sorted_values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of the (ascending-score) rows from each run start to the end, for
    the candidates in decreasing order, with 0 first (the ``+inf`` candidate).

    Summed from the top score down, so that each sum is a running sum of the
    rows it covers (no total minus a prefix, which would cancel).
    """
    n = sorted_values.size
    sums = np.zeros(starts.size + 1)
    if starts.size == n:  # all distinct: every prefix from the top, in place
        np.cumsum(sorted_values[::-1], out=sums[1:])
        return sums
    from_top = np.cumsum(sorted_values[::-1])
    # The run starting at ascending index j covers n - j rows from the top.
    sums[1:] = from_top[n - starts[::-1] - 1]
    return sums


def _sums_below(sorted_values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of the (ascending-score) rows before each run start, for the
    candidates in decreasing order: every row under the first (``+inf``)
    candidate, none under the last. Running sums from the lowest score up."""
    from_bottom = np.cumsum(sorted_values)
    sums = np.zeros(starts.size + 1)
    sums[0] = from_bottom[-1]
    # Candidate k >= 1 is the run starting at starts[-k]; the first run has
    # nothing under it.
    if starts.size == sorted_values.size:  # all distinct: no gather
        sums[1:-1] = from_bottom[-2::-1]
    else:
        sums[1:-1] = from_bottom[starts[:0:-1] - 1]
    return sums


def _descending_thresholds(sorted_score, starts):
    """``+inf`` (no positive call), then the distinct scores, decreasing."""
    thresholds = np.empty(starts.size + 1)
    thresholds[0] = np.inf
    if starts.size == sorted_score.size:  # all distinct: no gather needed
        thresholds[1:] = sorted_score[::-1]
    else:
        np.take(sorted_score, starts[::-1], out=thresholds[1:])
    return thresholds


def _before(running_total: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``running_total`` just before each start (0 before the first element)."""
    if starts.size == running_total.size:  # all values distinct: no gather needed
        return np.concatenate((running_total[:0], [0], running_total[:-1]))
    before = running_total[starts - 1]
    before[0] = 0  # starts[0] is 0: nothing comes before it
    return before


def _run_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Indices where a run of equal values starts in a sorted array."""
    is_start = np.empty(sorted_values.shape, dtype=bool)
    is_start[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=is_start[1:])
    return np.flatnonzero(is_start)


def cut_point(thresholds: np.ndarray, index: int, dtype=np.float64) -> float:
    """A threshold that reproduces candidate ``index`` on the scores it came from.

    Every value in ``(thresholds[index + 1], thresholds[index]]`` gives the same
    decisions on those scores: see :func:`cut_between`.
    """
    lower = thresholds[index + 1] if index + 1 < thresholds.size else None
    return cut_between(thresholds[index], lower, dtype)


def cut_between(upper: float, lower: float | None, dtype=np.float64) -> float:
    """A threshold that calls positive the scores ``>= upper`` and no lower one.

    ``upper`` is a candidate threshold (a score, or ``+inf``: no positive
    call) and ``lower`` the next lower distinct score (None: there is none).
    The rule is the midpoint of that gap, so new scores falling in it are
    split evenly; at the ends, the lowest score (every sample positive) and
    the next float above the highest score (none positive).

    ``dtype`` is the floating type of the scores as the estimator returns them
    (float16, float32 or float64; anything else is compared in float64). The
    cut is a value of that type, so that comparing scores of that type with it,
    which rounds it to that type, keeps exactly the decisions searched.
    """
    dtype = np.dtype(dtype)
    kind = dtype.type if dtype in (np.float16, np.float32) else np.float64
    if upper == np.inf:
        with np.errstate(over="ignore"):
            above = np.nextafter(kind(lower), kind(np.inf))
        # Above the largest value of the type only float64 has room left.
        if not np.isfinite(above):
            above = np.nextafter(lower, np.inf)
        return float(above)
    if lower is None:
        return float(upper)
    # Halves first: no overflow near the float max. Rounded to the scores' type.
    midpoint = float(kind(lower / 2 + upper / 2))
    # Adjacent values have no midpoint; the inclusive upper end is always exact.
    return float(midpoint if lower < midpoint <= upper else upper)
