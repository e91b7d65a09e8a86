"""Buckets of order-preserving score keys, and the sums of their rows.

A layout splits a range of keys into up to ``2**_LOG2_BUCKETS`` buckets by
their leading bits (linear time, no sort); the sums of a layout's buckets add
up across chunks of rows, so the same layout serves rows held in one array
or spread over dask partitions. The searches of :mod:`._count_buckets` and
:mod:`._cost_buckets` plan and zoom on these sums.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._bucket_search import _LOG2_BUCKETS


class Layout(NamedTuple):
    """Buckets of keys in ``[low, high]``: bucket ``(key - low) >> shift``."""

    low: int
    high: int
    shift: int
    n_buckets: int

    @classmethod
    def spanning(cls, low, high, log2_buckets: int = _LOG2_BUCKETS) -> Layout:
        low, high = int(low), int(high)
        shift = max((high - low).bit_length() - log2_buckets, 0)
        return cls(low, high, shift, ((high - low) >> shift) + 1)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        return (keys >= np.uint64(self.low)) & (keys <= np.uint64(self.high))

    def buckets(self, keys: np.ndarray) -> np.ndarray:
        """The buckets of keys in the layout's range."""
        bucket = keys - np.uint64(self.low)
        bucket >>= np.uint64(self.shift)
        return bucket.view(np.int64)

    def boundary(self, bucket: np.ndarray) -> np.ndarray:
        """The smallest key of each bucket (the range's end past the last)."""
        start = np.asarray(bucket, dtype=np.uint64) << np.uint64(self.shift)
        start += np.uint64(self.low)
        return np.minimum(start, np.uint64(self.high + 1))


class BucketSums(NamedTuple):
    """Per bucket: the weight of its positives and of its negatives, and its
    number of rows. Sums of chunks' sums are the sums of the whole."""

    positive: np.ndarray
    negative: np.ndarray
    rows: np.ndarray


def bucket_sums(layout: Layout, keys, y_positive, weight, placed=None) -> BucketSums:
    """The sums of the rows whose keys lie in the layout's range; ``placed``,
    ``(inside, bucket)``, spares recomputing which rows those are."""
    inside, bucket = placed or placed_rows(layout, keys)
    if inside is not None:
        y_positive = y_positive[inside]
        weight = None if weight is None else weight[inside]
    n = layout.n_buckets
    # One count of (bucket, class) pairs: no copy of either class's rows.
    pair = np.left_shift(bucket, 1)
    pair |= y_positive
    if weight is None:
        negative, positive = np.bincount(pair, minlength=2 * n).reshape(n, 2).T
        return BucketSums(positive, negative, positive + negative)
    negative, positive = np.bincount(pair, weight, 2 * n).reshape(n, 2).T
    return BucketSums(positive, negative, np.bincount(bucket, minlength=n))


def refined_rows(layout: Layout, refined: np.ndarray, keys, placed=None):
    """The rows that lie in a refined bucket, as an index or a mask: refined
    buckets hold few rows, so their positions, taken once, spare a pass
    over every row for each array they select from."""
    inside, bucket = placed or placed_rows(layout, keys)
    if inside is None:
        return np.flatnonzero(refined.take(bucket))
    kept = np.zeros(keys.shape, dtype=bool)
    kept[inside] = refined[bucket]
    return kept


def placed_rows(layout: Layout, keys, key_range=None):
    """``(inside, bucket)``: the rows in the layout's range (None: all of
    them) and their buckets. ``key_range``, the keys' ``(min, max)`` when
    known, spares the pass that tests each key when the layout spans it."""
    if (
        key_range is not None
        and layout.low <= key_range[0] <= key_range[1] <= layout.high
    ):
        return None, layout.buckets(keys)
    inside = layout.contains(keys)
    if inside.all():
        return None, layout.buckets(keys)
    return inside, layout.buckets(keys[inside])


def mixed_buckets(n_buckets: int, bucket: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which of ``n_buckets`` buckets hold more than one distinct key, from
    the ``bucket`` and ``keys`` of their rows (no sort: each row is compared
    with one key written for its bucket)."""
    written = np.zeros(n_buckets, dtype=keys.dtype)
    written[bucket] = keys
    mixed = np.zeros(n_buckets, dtype=bool)
    mixed[bucket[keys != written[bucket]]] = True
    return mixed
