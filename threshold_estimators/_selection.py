"""Exact threshold search, part two: the objective on the counts, and the choice.

``evaluate`` runs an objective on the curve of every candidate (count
objectives on the counts, row objectives on the rows); ``run_search`` then
chooses the best feasible candidate with the tie rules below, or the
candidate of a cut the user fixed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.utils import _safe_indexing

from ._search import ThresholdCurve, confusion_curve, confusion_curve_with_sums
from .objectives import Objective
from .objectives._base import Rows, _power_of_two

# Scores (and tie-break keys) within rounding of the best are ties. Unweighted
# counts (and integer weights, which sum exactly) are exact integers, so a ratio
# objective on them is compared exactly (two distinct F1 values of 10^7 rows can
# differ by less than 16 ulps). What is rounded gets a tolerance: an objective
# with real parameters scaled by the user (costs) declares its own ``tie_ulps``,
# and real-valued weights add a base plus four ulps per row: their counts are
# running sums, each off by at most about one ulp of the total per term added,
# so the rounding of a ratio of them grows at worst linearly with the rows. Without it,
# multiplying every weight or every cost by a constant (which rounds each
# product) could move the cut between candidates equal in exact arithmetic.
_WEIGHTED_TIE_ULPS = 16
_TIE_ULPS_PER_WEIGHTED_ROW = 4


# Weighted totals in this range are rescaled by no power of two: products such as
# ``(1 + beta**2) * tp`` (beta**2 up to 1e100, see FBeta) stay far from overflow,
# and the few subnormal products of extreme betas do not change a score.
_SAFE_TOTALS = (2.0**-50, 2.0**50)


def sums_exactly(sample_weight) -> bool:
    """Whether every running sum of the weights is exact in float64.

    Integer-valued weights (unit weights, frequency weights) whose total stays
    below 2**53 sum without rounding: their counts are compared exactly, as
    unweighted counts are, so ``sample_weight=np.ones(n)`` chooses exactly what
    no weights choose.
    """
    if sample_weight is None:
        return True
    head = sample_weight[:64]
    if not np.all(head == np.round(head)):
        return False  # real weights show it at once: no pass over them all
    with np.errstate(over="ignore"):
        return bool(
            np.all(sample_weight == np.round(sample_weight))
            and sample_weight.sum() < 2.0**53
        )


def evaluation_counts(
    objective: Objective, curve: ThresholdCurve, squared=None, weight_scale=1.0
):
    """The counts ``objective`` is evaluated on.

    Weighted counts whose total lies outside ``_SAFE_TOTALS`` are divided by a
    power of two that brings it near 1: exact, so every ratio of counts is
    unchanged to the bit, and no objective overflows however large the weights
    (``(1 + beta**2) * tp`` with weights near the float maximum). ``squared``,
    the curve of the squared weights times ``weight_scale``, lets an objective
    that needs sample sizes read effective (Kish) counts instead, which do not
    depend on the weights' scale.
    """
    counts = curve.counts
    if squared is not None:
        scaled = tuple(np.asarray(c) * weight_scale for c in counts)
        return objective.effective_counts(scaled, squared.counts)
    total = curve.tp[-1] + curve.fp[-1]
    if curve.tp.dtype.kind == "f" and not _SAFE_TOTALS[0] < total < _SAFE_TOTALS[1]:
        scale = _power_of_two(total)
        counts = tuple(c * scale for c in counts)
    return counts


def best_candidate(
    objective: Objective,
    curve: ThresholdCurve,
    score=None,
    *,
    counts=None,
    n_weighted: int = 0,
) -> int:
    """Index of the best feasible candidate of ``curve`` for ``objective``.

    Among the feasible candidates, the highest score wins; scores within
    rounding of it are ties (exact equality on unweighted counts; see
    ``Objective.tie_ulps`` and ``_WEIGHTED_TIE_ULPS``), which go to the
    objective's tie-break key, then to the highest threshold (fewest positive
    calls). With no feasible candidate the
    objective's ``fallback`` decides (it raises, or warns and returns an index).

    Parameters
    ----------
    objective : Objective
    curve : ThresholdCurve
    score : ndarray of shape (n_candidates,), default=None
        The objective's score of each candidate, if already computed.
    counts : tuple of 4 ndarrays, default=None
        The counts to evaluate (see :func:`evaluation_counts`); the curve's own
        by default.
    n_weighted : int, default=0
        The number of weighted rows behind the counts (0: exact counts).
    """
    if counts is None:
        counts = evaluation_counts(objective, curve)
    if score is None:
        score = objective.score(*counts)
    feasible = objective.feasible(*counts) & ~np.isnan(score)
    if not feasible.any():
        return objective.fallback(*counts)
    ulps = tie_ulps(objective, n_weighted)
    magnitudes = getattr(objective, "tie_magnitudes_", None)
    best = near_top(np.where(feasible, score, -np.inf), ulps, magnitudes)
    if np.count_nonzero(best) == 1:
        return int(np.argmax(best))
    tiebreak = np.where(best, objective.tiebreak(*counts), -np.inf)
    return int(np.argmax(near_top(tiebreak, ulps)))


def tie_ulps(objective: Objective, n_weighted: int) -> float:
    """The tolerance, in ulps, within which the objective's values are ties."""
    if not n_weighted:
        return objective.tie_ulps
    return (
        objective.tie_ulps
        + _WEIGHTED_TIE_ULPS
        + _TIE_ULPS_PER_WEIGHTED_ROW * n_weighted
    )


def near_top(
    values: np.ndarray, ulps: float, magnitudes=None, *, magnitude=None
) -> np.ndarray:
    """Where ``values`` is within ``ulps`` ulps of its maximum; exactly at the
    maximum when ``ulps`` is 0.

    The ulps are of the largest finite magnitude of ``values`` (at least
    ``magnitude``, when given: the values are then some of a curve's), or, given
    ``magnitudes`` (what each value's rounding is relative to, as per-row
    cost sums are), of each candidate's own magnitude plus the maximum's: a
    small cost is then told from a smaller one however large other cuts'
    costs are.
    """
    top = values.max()
    if ulps == 0 or not np.isfinite(top):
        return values == top
    if magnitudes is not None:
        top_magnitude = magnitudes[np.argmax(values)]
        return values >= top - ulps * np.finfo(float).eps * (magnitudes + top_magnitude)
    largest = np.abs(values[np.isfinite(values)]).max()
    if magnitude is not None:
        largest = max(largest, magnitude)
    return values >= top - ulps * np.finfo(float).eps * largest


class Evaluation(NamedTuple):
    """An objective evaluated on the candidates of a curve (see :func:`evaluate`)."""

    curve: ThresholdCurve
    values: np.ndarray  # one per candidate, NaN where not evaluated
    objective: Objective  # bound to the rows (``Objective.for_rows``)
    counts: tuple  # the counts it was evaluated on (``evaluation_counts``)
    subset: np.ndarray | None  # the candidates evaluated; None: all of them
    n_weighted: int  # rows behind rounded counts (0: exact counts)


class Prepared(NamedTuple):
    """What a search runs on: the objective bound to the rows (zero-weight
    rows dropped) and the labels as booleans."""

    objective: Objective
    rows: Rows
    y_positive: np.ndarray


def prepare(
    objective: Objective,
    y,
    y_score,
    sample_weight,
    *,
    pos_label,
    classes,
    X=None,
    alternative=None,
    metadata=None,
    odds_shift=None,
    binary_totals=None,
) -> Prepared:
    """Drop the samples of zero weight and bind ``objective`` to the rows.

    Zero-weight samples must not create candidates or move the cut, exactly
    as if they were absent. ``binary_totals``: the positive and negative
    total weights of the rows, summed in row order, when known.
    """
    kept = None
    if sample_weight is not None and not np.all(sample_weight > 0):
        kept = np.flatnonzero(sample_weight > 0)
        y, y_score, sample_weight = y[kept], y_score[kept], sample_weight[kept]
        X = None if X is None else _safe_indexing(X, kept)
        alternative = None if alternative is None else alternative[kept]
        metadata = subset_metadata(metadata, kept)
    rows = Rows(
        y,
        y_score,
        sample_weight,
        classes,
        pos_label,
        X,
        alternative,
        metadata,
        odds_shift=odds_shift,
        row_numbers=kept,
        binary_totals=binary_totals,
    )
    return Prepared(objective.for_rows(rows), rows, y == pos_label)


def evaluate(objective: Objective, y, y_score, sample_weight, **rows) -> Evaluation:
    """The curve of the scores of labels ``y`` and ``objective`` on it.

    ``rows`` are :func:`prepare`'s keywords. The objective's ``_evaluate``
    says which candidates it evaluates: a count objective all of them, from
    the counts (and per-row costs from the sums of its ``summed_rows``,
    taken from the same sort); a row objective (a scorer) a subset, from the
    rows ``X`` and labels (with, for a multiclass target, the
    ``alternative`` label each row gets below the threshold) and its routed
    ``metadata``. Nothing is chosen, so an infeasible target does not raise
    here.
    """
    return _evaluate_prepared(prepare(objective, y, y_score, sample_weight, **rows))


def _evaluate_prepared(prepared: Prepared) -> Evaluation:
    objective, rows, y_positive = prepared
    y_score, sample_weight = rows.y_score, rows.sample_weight
    if objective.summed_rows is None:
        curve = confusion_curve(y_positive, y_score, sample_weight)
    else:
        curve, *sums = confusion_curve_with_sums(
            y_positive, y_score, sample_weight, *objective.summed_rows
        )
        rows = rows._replace(sums=tuple(sums))
    squared, weight_scale = None, 1.0
    if sample_weight is not None and objective.needs_sample_sizes:
        # Scaled by a power of two first, so that the squares cannot overflow.
        weight_scale = _power_of_two(sample_weight.max())
        squared = confusion_curve(
            y_positive, y_score, np.square(sample_weight * weight_scale)
        )
    counts = evaluation_counts(objective, curve, squared, weight_scale)
    # Exact counts are compared exactly; effective (Kish) counts are rescaled,
    # hence rounded, even for integer weights.
    exact = squared is None and sums_exactly(sample_weight)
    n_weighted = 0 if exact else y_score.shape[0]
    subset, values = objective._evaluate(curve, counts, rows)
    if subset is not None:
        full = np.full(curve.thresholds.size, np.nan)
        full[subset] = values
        values = full
    return Evaluation(curve, values, objective, counts, subset, n_weighted)


def subset_metadata(metadata: dict | None, rows) -> dict | None:
    """Per-row metadata restricted to ``rows`` (indices or a mask)."""
    if metadata is None:
        return None
    return {name: _safe_indexing(values, rows) for name, values in metadata.items()}


def fixed_index(thresholds: np.ndarray, cut: float) -> int:
    """The candidate whose decisions ``score >= cut`` reproduces: the one with
    the smallest threshold at or above the cut (``thresholds[0]`` is ``+inf``)."""
    return int(np.count_nonzero(thresholds >= cut)) - 1


def run_search(
    objective: Objective, y, y_score, sample_weight, **rows
) -> tuple[ThresholdCurve, np.ndarray, int]:
    """Search ``objective`` over the scores of labels ``y``, on the whole curve.

    ``rows`` are :func:`prepare`'s keywords: ``pos_label``, ``classes`` and,
    for objectives that read rows, ``X``, ``alternative`` and ``metadata``.
    Returns the curve of every candidate, the objective on it (NaN where not
    evaluated), and the index of the best candidate, which points into the
    full curve, so that the cut keeps exactly the decisions that were scored.
    An objective with a fixed cut gets the candidate that cut reproduces.
    """
    return best_of(evaluate(objective, y, y_score, sample_weight, **rows))


def best_of(found: Evaluation) -> tuple[ThresholdCurve, np.ndarray, int]:
    """``(curve, values, index of the best candidate)`` of an evaluation."""
    curve, values, subset = found.curve, found.values, found.subset
    cut = found.objective.fixed_cut()
    if cut is not None:
        return curve, values, fixed_index(curve.thresholds, cut)
    if subset is None:
        best = best_candidate(
            found.objective,
            curve,
            values,
            counts=found.counts,
            n_weighted=found.n_weighted,
        )
        return curve, values, best
    best = best_candidate(
        found.objective,
        ThresholdCurve(*(column[subset] for column in curve)),
        values[subset],
        counts=tuple(c[subset] for c in found.counts),
        n_weighted=found.n_weighted,
    )
    return curve, values, int(subset[best])
