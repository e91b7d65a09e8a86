"""The sharp sequence: a fixed sequence of tests at the sharp numbers of trials.

The one-sided Clopper–Pearson test of "rate >= p" on ``n`` trials passes with
at least ``k(n)`` successes, the fewest whose bound reaches ``p``; at the target
itself it then passes with probability ``P(Binomial(n, p) >= k(n)) <= alpha``.
That probability is a sawtooth in ``n``: close to ``alpha`` where ``k(n)`` has
just stepped up, then falling (at target 0.9, alpha 0.1: 0.098 at 22 trials,
0.020 at 37, 0.095 at 38), because a test on a count can only be exact at
some sizes. Where it has fallen, the test asks for a record better than the
target needs, and a fixed sequence of tests stops at its first failure.

The sharp sequence tests only the numbers of trials where the test's size at
the target is at least ``_SHARP_SHARE`` of alpha, in increasing order, and
stops at the first failure among them. Which numbers of trials these are
depends on ``p``, ``alpha`` and ``n`` alone, never on the labels, so the
sequence is fixed in advance and the fixed-sequence argument holds for it: if
a true precision falls as the cut descends (the classes' likelihood ratio
rises with the score), the hypotheses "precision < p" are nested, the first
false claim can only be made at the first tested cut below the true one, and
that test errs with probability at most alpha (see the confidence guide).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

# A number of trials is tested when the test's size there is at least this
# share of alpha. Measured on bench_guarantee's grid (100 repetitions per
# cell): 0.9 kept the most recall (0.935 of the pointwise rule's, against
# 0.926 at 0.8 and 0.922 at 0.97; every cut tested, 0.884).
_SHARP_SHARE = 0.9

# Candidates judged at a time: the sequence usually stops within the first.
_BLOCK = 4096

# With tied scores a candidate adds several calls at once: up to this many,
# it is tested if a sharp number lies among them; beyond, if a perfect record
# of its calls could pass (the tested set still depends on the scores alone).
_SPAN = 16


def sharp(trials: np.ndarray, target: float, alpha: float) -> np.ndarray:
    """Whether the test of ``rate >= target`` at level ``alpha`` is sharp on
    ``trials`` (rounded down, see ``_whole``): passable, with size at least
    ``_SHARP_SHARE * alpha`` at the target.

    Weighted counts bring Kish's effective number of trials, rounded down
    here: a candidate is tested at a sharp number only once its effective
    trials reach it (rounded to the nearest, 21.8 trials would be tested as
    22, where a perfect record of 21.8 cannot pass at p = 0.9).
    """
    n = _whole(trials)
    if not 0 < target < 1:
        return np.zeros(n.shape, dtype=bool)
    # The fewest successes passing: the least k with P(X >= k) <= alpha,
    # which is exactly where the Clopper–Pearson bound reaches the target.
    critical = binom.isf(alpha, n, target) + 1
    size = binom.sf(critical - 1, n, target)
    return (n >= 1) & (critical <= n) & (size >= _SHARP_SHARE * alpha)


def sharp_sequence(passes: np.ndarray, trials: np.ndarray, target, alpha):
    """The candidates a sharp sequence selects from: every candidate down to
    the lowest tested one that passes before the first tested one that fails
    (none when the first test fails).

    ``passes`` and ``trials`` are in test order (increasing trials). A
    candidate is tested when a sharp number of calls lies between the
    previous candidate's (excluded) and its own: without ties, when its own
    number is sharp; with ties, which let a candidate add many calls at once,
    the test falls to the first candidate at or beyond each sharp number.
    Either way the tested candidates depend on the scores alone. The
    candidates above the lowest one passed are selectable too: where
    precision does not rise as the cut descends, theirs is at least as high
    (a cut with as much recall and fewer false calls is then chosen).
    """
    calls = _whole(trials)
    previous = np.r_[0.0, calls[:-1]]

    def tested(indices):
        return _passes_over_a_sharp_number(
            previous[indices], calls[indices], target, alpha
        )

    # The sequence stops at the first tested candidate that fails: only the
    # failing candidates need judging, in order, a block at a time.
    failing = np.flatnonzero(~passes)
    stop = passes.size
    for start in range(0, failing.size, _BLOCK):
        block = failing[start : start + _BLOCK]
        hits = np.flatnonzero(tested(block))
        if hits.size:
            stop = int(block[hits[0]])
            break
    # The lowest tested candidate above the stop (all of which pass).
    lowest = -1
    for end in range(stop, 0, -_BLOCK):
        block = np.arange(max(end - _BLOCK, 0), end)
        hits = np.flatnonzero(tested(block))
        if hits.size:
            lowest = int(block[hits[-1]])
            break
    feasible = np.zeros(passes.shape, dtype=bool)
    feasible[: lowest + 1] = True
    return feasible


def _whole(trials) -> np.ndarray:
    """Trials rounded down, after a relative 1e-9 for the rounding of
    effective counts (constant weights give 21.999999... for 22 rows)."""
    return np.floor(np.asarray(trials, dtype=float) * (1 + 1e-9))


def _passes_over_a_sharp_number(previous, calls, target, alpha) -> np.ndarray:
    """Whether a sharp number of calls lies in ``(previous, calls]``: judged
    on the numbers themselves for a step of up to ``_SPAN`` calls; a longer
    step (ties) is tested once a perfect record of its calls could pass."""
    step = calls - previous
    span = np.where(step > _SPAN, 0, np.clip(step, 0, None)).astype(np.intp)
    found = (step > _SPAN) & (calls >= np.log(alpha) / np.log(target))
    wide = np.flatnonzero(span > 0)
    if not wide.size:
        return found
    counts = span[wide]
    ends = np.cumsum(counts)
    # calls - span + 1, ..., calls for each candidate, one after the other.
    offsets = np.arange(ends[-1]) - np.repeat(ends - counts, counts)
    numbers = np.repeat(calls[wide] - counts + 1, counts) + offsets
    found[wide] = np.logical_or.reduceat(sharp(numbers, target, alpha), ends - counts)
    return found
