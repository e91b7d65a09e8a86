"""Exact least per-row cost without sorting every score: bounds on buckets.

The cost of a cut is the sum, over the rows, of each row's cost if called
positive (the rows at or above the cut) or if called negative (the others).
Sorting every score to evaluate every cut is the full search
(:func:`~threshold_estimators._search.confusion_curve_with_sums`). Most cuts
need not be looked at: group the rows into buckets of consecutive scores (the
leading bits of each score's order-preserving integer key, in linear time);
every cut inside bucket ``j`` costs at least

    (costs if positive of the buckets above) + (costs if negative of the
    buckets below) + (the sum over ``j``'s rows of the cheaper of the two),

and the cut at each bucket's edge costs exactly the two outer sums plus
the bucket's costs on one side. Only the buckets whose bound comes within
the tie tolerance of the best edge can hold the optimum, or a tie with it;
their rows alone are sorted, and every distinct score in them evaluated
exactly. Nothing is approximated: the buckets only decide which candidates
need their cost computed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# 2**16 buckets: their sums are a few hundred kilobytes, and on scores spread
# like a classifier's a typical optimum's bucket holds a handful of rows.
_LOG2_BUCKETS = 16

# Above this share of the rows left to sort, pruning has failed (a flat cost
# curve, or scores crowded into few buckets): the full search is as fast.
_MAX_SORTED_SHARE = 0.125

# Under this many occupied buckets, pruning is not tried (measured: scores
# rounded to one decimal took 91 ms by a failed attempt and the fallback
# against 73 ms for the whole curve at 10^6 rows).
_MIN_OCCUPIED_BUCKETS = 256

# Above this many buckets to refine, their per-bucket loop would cost more
# than the full search.
_MAX_REFINED_BUCKETS = 512


class Contenders(NamedTuple):
    """The candidates that may be the least cost or tie with it.

    ``thresholds`` is strictly decreasing (``+inf`` first: no positive call);
    ``above`` and ``below`` are the sums of the per-row costs over the rows
    each candidate calls positive and over the others, each a running sum
    over its own side, as in the full search.
    """

    thresholds: np.ndarray
    above: np.ndarray
    below: np.ndarray


def order_keys(y_score: np.ndarray) -> np.ndarray:
    """Unsigned integers that order as the (finite) scores do; equal scores,
    ``-0.0`` and ``0.0`` included, get equal keys."""
    bits = y_score.view(np.uint64)
    if bits.size and bits.max() < np.uint64(1 << 63):
        return bits  # non-negative scores: their bit patterns already order
    return signed_order_keys(y_score)


def signed_order_keys(y_score: np.ndarray) -> np.ndarray:
    """The keys of :func:`order_keys` as a mix of signs gets them, whatever
    the signs of these scores: keys of chunks of one set of scores compare
    with each other (the shortcut for non-negative scores would not)."""
    # -0.0 + 0.0 is +0.0: one key for the two zeros.
    bits = (y_score + 0.0).view(np.uint64)
    negative = bits >= np.uint64(1 << 63)
    return np.where(negative, ~bits, bits | np.uint64(1 << 63))


def bucketed_contenders(
    y_score: np.ndarray,
    if_positive: np.ndarray,
    if_negative: np.ndarray,
    *,
    tie_ulps: float,
    gain_magnitude: float | None,
    log2_buckets: int = _LOG2_BUCKETS,
    max_sorted_share: float = _MAX_SORTED_SHARE,
    min_occupied: int = _MIN_OCCUPIED_BUCKETS,
) -> Contenders | None:
    """The candidates that may be the least cost (or tie with it).

    Parameters
    ----------
    y_score : ndarray of shape (n_rows,)
        Finite float64 scores.
    if_positive, if_negative : ndarray of shape (n_rows,)
        Each row's cost if called positive and if called negative.
    tie_ulps : float
        Costs within this many ulps of each other's magnitudes are ties
        (see ``_selection.near_top``): every candidate that may be one is
        returned.
    gain_magnitude : float or None
        With gains (negative costs), the sum of the absolute costs, which
        each cost's rounding is relative to; None: the costs are not
        negative, and each cut's rounding is relative to its own cost.
    log2_buckets : int
        At most ``2**log2_buckets`` buckets.
    max_sorted_share : float
        Give up (return None) when more than this share of the rows would
        have to be sorted.
    min_occupied : int
        Give up when fewer buckets than this hold a row.

    Returns
    -------
    contenders : Contenders or None
        None when pruning would not pay (scores crowded into few buckets, a
        flat cost curve): the caller runs the full search.
    """
    keys = order_keys(y_score)
    low = keys.min()
    span = int(keys.max() - low)
    shift = np.uint64(max(span.bit_length() - log2_buckets, 0))
    bucket = keys - low
    bucket >>= shift
    bucket = bucket.view(np.int64)
    n_buckets = (span >> int(shift)) + 1
    occupied = np.bincount(bucket, minlength=n_buckets) > 0
    if np.count_nonzero(occupied) < min_occupied:
        # Few distinct scores crowd the rows into few buckets: pruning could
        # not leave few rows to sort (and the whole curve is short anyway).
        return None
    # Per bucket: the costs of its rows if called positive, if called
    # negative, and the least of the two.
    positive_sum = np.bincount(bucket, if_positive, n_buckets)
    negative_sum = np.bincount(bucket, if_negative, n_buckets)
    least_sum = np.bincount(bucket, np.minimum(if_positive, if_negative), n_buckets)
    # Running sums from the far end of each side (never a total minus a
    # prefix): above[j] over the buckets after j, below[j] before it.
    outer_above = np.zeros(n_buckets)
    np.cumsum(positive_sum[:0:-1], out=outer_above[-2::-1])
    outer_below = np.zeros(n_buckets)
    np.cumsum(negative_sum[:-1], out=outer_below[1:])
    # Calling every row of bucket j negative and every row above positive is
    # a candidate (the lowest score of the next bucket up, or +inf).
    edge = outer_above + (outer_below + negative_sum)
    best_edge = edge[occupied].min()
    bound = outer_above + (outer_below + least_sum)
    # Wide enough for every tie (the tolerance of ``near_top`` on both
    # sides) and the bucket sums' own rounding (below one tolerance).
    ulp = np.finfo(float).eps * tie_ulps
    magnitude = np.abs(best_edge) + np.abs(bound)
    if gain_magnitude is not None:
        magnitude = magnitude + gain_magnitude
    refined = np.flatnonzero(occupied & (bound <= best_edge + 4 * ulp * magnitude))
    if refined.size > _MAX_REFINED_BUCKETS:
        return None
    is_refined = np.zeros(n_buckets, dtype=bool)
    is_refined[refined] = True
    rows = np.flatnonzero(is_refined[bucket])
    if rows.size > max_sorted_share * y_score.size:
        return None
    order = rows[np.argsort(y_score[rows])]
    # Sorted by score, the rows are sorted by bucket too: one segment each.
    rows_bucket = bucket[order]
    begins = np.searchsorted(rows_bucket, refined, side="left")
    ends = np.searchsorted(rows_bucket, refined, side="right")
    # The +inf candidate first: every row negative, summed from the lowest up.
    thresholds = [np.array([np.inf])]
    above = [np.zeros(1)]
    below = [np.array([outer_below[-1] + negative_sum[-1]])]
    # Buckets from the top down, so that the thresholds decrease.
    for j, begin, end in zip(refined[::-1], begins[::-1], ends[::-1], strict=True):
        segment = order[begin:end]
        scores = y_score[segment]
        runs = np.flatnonzero(np.r_[True, scores[1:] != scores[:-1]])[::-1]
        # Within the bucket: the costs if positive from its top down to each
        # run start, and the costs if negative under it from its bottom up.
        from_top = np.cumsum(if_positive[segment][::-1])
        from_bottom = np.zeros(scores.size + 1)
        np.cumsum(if_negative[segment], out=from_bottom[1:])
        thresholds.append(scores[runs])
        above.append(outer_above[j] + from_top[scores.size - runs - 1])
        below.append(from_bottom[runs] + outer_below[j])
    return Contenders(
        np.concatenate(thresholds), np.concatenate(above), np.concatenate(below)
    )
