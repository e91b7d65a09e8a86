"""``pick_threshold`` on dask arrays: the exact search, run where the rows are.

Three passes over the partitions, none of which brings the rows to the
driver (:mod:`~threshold_estimators._count_buckets` has the bounds):

1. the smallest and largest score, which lay out ``2**16`` buckets of
   consecutive scores (the leading bits of their order-preserving keys);
2. per partition, each bucket's positive and negative weight, summed over
   the partitions by a tree reduction: the counts of every bucket edge,
   exact, and a bound on every cut inside each bucket;
3. the rows of the few buckets whose bound reaches the best edge (within the
   tie tolerance), gathered and searched exactly, every distinct score a
   candidate;

and, when the winner lies at a bucket's edge, one more reduction for the
neighbouring scores its cut is placed between. The driver holds a few
bucket-sized arrays and the gathered rows, whatever the number of rows:
the same threshold and counts as the in-memory search (weighted counts to
rounding: they are summed in another order).
"""

from __future__ import annotations

import numpy as np

from ._bucket_layout import BucketSums, Layout, bucket_sums, placed_rows, refined_rows
from ._bucket_search import signed_order_keys
from ._count_buckets import (
    BOUND_SLACK_ULPS,
    UNDECIDED,
    CountPlanner,
    candidate_curve,
    search_buckets,
    winner,
)
from ._selection import evaluation_counts, tie_ulps
from ._validation import plain

# The search zooms in (another pass) until the rows to gather are at most
# this many: the driver's memory does not grow with the rows.
MAX_SORTED_ROWS = 1 << 16
_MAX_ZOOMS = 5
_EPS = np.finfo(float).eps


def is_dask_collection(value) -> bool:
    """Whether ``value`` is a dask array, series or dataframe (without
    importing dask when it is not installed or not used)."""
    module = type(value).__module__
    return module.startswith("dask") and hasattr(value, "dask")


def _as_dask_array(value, name: str):
    import dask.array as da

    if hasattr(value, "to_dask_array"):  # a dask series
        # Optimized first: the partitions the lengths are counted on are then
        # the array's (a column of a Parquet read may otherwise be optimized
        # into fewer partitions for the count than for the array).
        if hasattr(value, "optimize"):
            value = value.optimize()
        value = value.to_dask_array(lengths=True)
    if not isinstance(value, da.Array):
        value = da.from_array(np.asarray(value))
    if value.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D; got a dask array of shape {value.shape}."
        )
    if any(np.isnan(size) for size in value.chunks[0]):
        value = value.compute_chunk_sizes()  # e.g. a filtered array
    if 0 in value.chunks[0] and value.shape[0]:
        # Empty partitions (a filtered frame's) hold nothing to search, and
        # some of dask's reductions fail on them.
        value = value.rechunk((tuple(size for size in value.chunks[0] if size),))
    return value


def _weighted_rows(y, score, weight, pos_label):
    """A block's rows as arrays, without its zero-weight rows (which, as in
    memory, neither create candidates nor move the cut)."""
    score = np.asarray(score, dtype=float)
    positive = np.asarray(y) == pos_label
    if weight is None:
        return score, positive, None
    weight = np.asarray(weight, dtype=float)
    kept = weight > 0
    return score[kept], positive[kept], weight[kept]


def _block_sums(layout, y, score, weight, pos_label):
    score, positive, weight = _weighted_rows(y, score, weight, pos_label)
    sums = bucket_sums(layout, signed_order_keys(score), positive, weight)
    return np.stack([np.asarray(column, dtype=float) for column in sums])[None]


def _block_rows(layout, refined, y, score, weight, pos_label):
    score, positive, weight = _weighted_rows(y, score, weight, pos_label)
    keys = signed_order_keys(score)
    kept = refined_rows(layout, refined, keys)
    return (
        score[kept],
        keys[kept],
        positive[kept],
        None if weight is None else weight[kept],
    )


def _block_key_range(layout, refined, y, score, weight, pos_label):
    """Per refined bucket (in order), the least and greatest key of the
    block's rows there (the greatest key and 0 where it has none)."""
    score, _, _ = _weighted_rows(y, score, weight, pos_label)
    keys = signed_order_keys(score)
    inside, bucket = placed_rows(layout, keys)
    if inside is not None:
        keys = keys[inside]
    chosen = np.flatnonzero(refined)
    in_refined = refined[bucket]
    position = np.searchsorted(chosen, bucket[in_refined])
    keys = keys[in_refined]
    least = np.full(chosen.size, np.iinfo(np.uint64).max, dtype=np.uint64)
    greatest = np.zeros(chosen.size, dtype=np.uint64)
    np.minimum.at(least, position, keys)
    np.maximum.at(greatest, position, keys)
    return least, greatest


class MixedBuckets:
    """``search_buckets``' ``mixed_of`` over partitions: which refined buckets
    hold more than one distinct key, from each partition's least and
    greatest key per bucket (``blocks``: each partition's labels, scores and
    weights, delayed)."""

    def __init__(self, blocks, pos_label):
        self.blocks, self.pos_label = blocks, pos_label

    def __call__(self, layout, refined):
        import dask

        parts = [
            dask.delayed(_block_key_range)(layout, refined, *block, self.pos_label)
            for block in self.blocks
        ]
        least, greatest = dask.delayed(_joined_ranges)(parts).compute()
        mixed = np.zeros(layout.n_buckets, dtype=bool)
        mixed[np.flatnonzero(refined)] = least < greatest
        return mixed


def _joined_ranges(parts):
    least = np.minimum.reduce([part[0] for part in parts])
    greatest = np.maximum.reduce([part[1] for part in parts])
    return least, greatest


def _block_extreme(key, y, score, weight, pos_label, side):
    """The smallest score whose key is at least ``key`` (``side`` "above"),
    or the largest below it (``side`` "below")."""
    score, _, _ = _weighted_rows(y, score, weight, pos_label)
    keys = signed_order_keys(score)
    if side == "above":
        return np.min(score, where=keys >= key, initial=np.inf)
    return np.max(score, where=keys < key, initial=-np.inf)


def first_pass(y, y_score, sample_weight, labels, along=None):
    """One reduction over the rows (``along``, dask values, computed with
    it): the keys of the least and greatest score of positive weight, the
    totals of the positives and the negatives (integers without weights),
    and ``along`` computed; a ValueError for scores or weights the search
    refuses. ``labels`` are the negative and the positive class."""
    import dask
    import dask.array as da

    positive = y == labels[1]
    counted = y_score
    if sample_weight is None:
        weight_ok, positives, negatives = True, positive.sum(), (~positive).sum()
    else:
        # Zero-weight rows are left out, as in memory.
        counted = da.where(sample_weight > 0, y_score, np.nan)
        weight_ok = (
            da.isfinite(sample_weight).all()
            & (sample_weight >= 0).all()
            & (sample_weight > 0).any()
        )
        positives = da.where(positive, sample_weight, 0.0).sum()
        negatives = da.where(positive, 0.0, sample_weight).sum()
    low, high, finite, weight_ok, positives, negatives, along = dask.compute(
        da.nanmin(counted),
        da.nanmax(counted),
        da.isfinite(y_score).all(),
        weight_ok,
        positives,
        negatives,
        along,
    )
    if not finite:
        raise ValueError("y_score must be finite; got NaN or infinite values.")
    if not weight_ok:
        raise ValueError(
            "sample_weight must be finite and non-negative, with a positive entry."
        )
    if sample_weight is None:
        totals = (int(positives), int(negatives))
    else:
        totals = (float(positives), float(negatives))
        for label, total in zip(labels, totals[::-1], strict=True):
            if not total > 0:
                raise ValueError(
                    "Each class needs a positive total sample_weight; class "
                    f"{plain(label)!r} has total weight {total}."
                )
    return signed_order_keys(np.array([low, high], dtype=float)), totals, along


def dask_best(objective, y, y_score, sample_weight, *, labels):
    """``(threshold, lower, value, counts, gathered)`` of the best candidate
    of a count objective monotone in the counts, over dask arrays ``y`` and
    ``y_score`` (and ``sample_weight``, or None); ``gathered`` is the number
    of rows brought to the driver."""
    import dask

    y_score = _as_dask_array(y_score, "y_score")
    y = _as_dask_array(y, "y_true").rechunk(y_score.chunks)
    exact = sample_weight is None
    if not exact:
        sample_weight = _as_dask_array(sample_weight, "sample_weight").rechunk(
            y_score.chunks
        )
    keys, totals, _ = first_pass(y, y_score, sample_weight, labels)
    pos_label = labels[1]
    blocks = list(
        zip(
            y.to_delayed().ravel(),
            y_score.to_delayed().ravel(),
            (
                [None] * y_score.numblocks[0]
                if exact
                else sample_weight.to_delayed().ravel()
            ),
            strict=True,
        )
    )

    def sums_of(layout):
        parts = [
            dask.delayed(_block_sums)(layout, *block, pos_label) for block in blocks
        ]
        total = dask.delayed(_summed)(parts).compute()
        return BucketSums(
            *(total[i].astype(np.int64) if exact else total[i] for i in range(3))
        )

    gathered = []

    def rows_of(layout, refined):
        parts = dask.compute(
            *(
                dask.delayed(_block_rows)(layout, refined, *block, pos_label)
                for block in blocks
            )
        )
        columns = [np.concatenate([part[i] for part in parts]) for i in range(3)]
        weight = None if exact else np.concatenate([part[3] for part in parts])
        gathered.append(columns[0].size)
        return (*columns, weight)

    n_weighted = 0 if exact else int(y_score.shape[0])
    found = search_buckets(
        CountPlanner(
            objective,
            totals,
            (tie_ulps(objective, n_weighted) + BOUND_SLACK_ULPS) * _EPS,
            # Buckets of one distinct score are not gathered: scores crowded
            # into a few buckets cost no gathering.
            min_occupied=1,
            # Four zooms bring any range of 64-bit keys to one key per bucket.
            max_zooms=_MAX_ZOOMS,
        ),
        Layout.spanning(keys[0], keys[1]),
        sums_of,
        rows_of,
        max_rows=MAX_SORTED_ROWS,
        mixed_of=MixedBuckets(blocks, pos_label),
    )
    if found is None:
        raise ValueError(
            "The objective is too flat over the scores for the distributed "
            f"search to gather at most {MAX_SORTED_ROWS} rows after "
            f"{_MAX_ZOOMS} zooms: compute them (dask.compute) and "
            "call pick_threshold on in-memory arrays."
        )
    found, magnitude = found
    best = winner(objective, found, totals, n_weighted, magnitude)
    if best is UNDECIDED:
        raise ValueError(
            "Two cuts are within rounding of a tie, and which ones the exact "
            "search counts as tied depends on cuts the distributed search does "
            "not gather: compute the arrays (dask.compute) and call "
            "pick_threshold on in-memory arrays."
        )
    if best is None:
        counts = evaluation_counts(objective, candidate_curve(found, totals))
        objective.fallback(*counts)  # raises, saying the best reachable
        raise ValueError(
            f"No threshold satisfies {objective!r} among the candidates the "
            "distributed search kept; with on_infeasible='warn' compute the "
            "arrays and call pick_threshold in memory for the fallback cut."
        )
    threshold, lower = resolved_cut(best, blocks, pos_label)
    return threshold, lower, best.value, best.counts, int(sum(gathered))


def resolved_cut(best, blocks, pos_label) -> tuple[float, float | None]:
    """The winner's threshold and next lower score (None: it calls every
    row), each read on the rows when the candidates did not know it;
    ``blocks`` holds each partition's labels, scores and weights."""
    import dask

    threshold, lower = best.threshold, best.lower
    if np.isnan(threshold) or np.isnan(lower):
        extremes = []
        for side in ("above", "below"):
            parts = [
                dask.delayed(_block_extreme)(best.key, *block, pos_label, side)
                for block in blocks
            ]
            extremes.append(dask.delayed(min if side == "above" else max)(parts))
        above, below = dask.compute(*extremes)
        threshold = above if np.isnan(threshold) else threshold
        lower = below if np.isnan(lower) else lower
    return float(threshold), None if lower == -np.inf else float(lower)


def _summed(parts):
    return np.sum(parts, axis=0)[0]
