"""Every class of a multiclass target: per-class thresholds, or a k x k cost rule.

Per-class thresholds: each class ``k`` gets its own exact one-vs-rest search on
its score column, and a sample goes to the class whose score clears its
threshold by the most, in the logit domain: ``argmax_k (z_k - z_{t_k})``. That
is the argmax of the operating log-odds of DESIGN §4 with unit slopes; with
recalibration, of each class's fitted piecewise logistic.

Cost rule: with probabilities ``p`` and expected costs ``E = p @ C``, the
plug-in Bayes decision is ``argmin_k E[i, k]``, optimal when ``p`` is
calibrated. So ``p`` is first recalibrated by a temperature fitted on the
out-of-fold log-loss (one parameter), then plug-in Bayes applies; per-class
offsets ``argmin_k (E[i, k] - offset_k)``, fitted by exact coordinate descent,
replace it only when, fitted on other folds, they cost significantly less on
the held-out fold (a paired test per sample).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, logit, softmax
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning

from ._best_cut import find_best
from .objectives import InfeasibleTargetError
from .objectives._base import _power_of_two

# As in the calibrator: probabilities are clipped before the logit.
_EPS = 1e-15


def logits(scores: np.ndarray, probability: bool) -> np.ndarray:
    """Scores in the logit domain (probabilities clipped to [1e-15, 1 - 1e-15])."""
    # In float64 whatever the scores' type: float32 would clip 1 - 1e-15 to 1.
    scores = np.asarray(scores, dtype=float)
    if not probability:
        return scores
    return logit(np.clip(scores, _EPS, 1 - _EPS))


def top_two(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's highest-scored column and its runner-up (first index on ties).

    One copy of the scores serves every class: the best other class of column
    ``k`` is the first where it is not ``k``, else the second.
    """
    masked = np.array(scores, dtype=float, copy=True)
    first = np.argmax(masked, axis=1)
    masked[np.arange(masked.shape[0]), first] = -np.inf
    return first, np.argmax(masked, axis=1)


def best_other(scores: np.ndarray, column: int, classes: np.ndarray, top=None):
    """The label of the highest-scored class other than ``column``, per row;
    ``top`` is :func:`top_two` of the scores when already computed."""
    first, second = top_two(scores) if top is None else top
    return classes[np.where(first == column, second, first)]


def per_class_thresholds(
    objective,
    y,
    scores,
    sample_weight,
    classes,
    X=None,
    dtype=np.float64,
    metadata=None,
    odds_shifts=None,
):
    """Each class's exact one-vs-rest threshold and its objective there; the cuts
    are values of ``dtype``, the estimator's own score type (see ``cut_point``).
    ``odds_shifts``: with a prevalence, each class's (see ``Rows.odds_shift``)."""
    thresholds, best_scores = np.empty(len(classes)), np.empty(len(classes))
    # Each row's two best classes, only for an objective that reads what a
    # row below a cut is labelled (two passes over the score matrix).
    top = top_two(scores) if objective.reads_alternative else None
    for column, label in enumerate(classes):
        try:
            found = find_best(
                objective,
                y,
                scores[:, column],
                sample_weight,
                pos_label=label,
                classes=classes,
                X=X,
                alternative=None
                if top is None
                else best_other(scores, column, classes, top),
                metadata=metadata,
                odds_shift=None if odds_shifts is None else odds_shifts[column],
            )
        except InfeasibleTargetError as error:
            raise InfeasibleTargetError(f"Class {label!r}: {error}") from error
        thresholds[column] = found.cut(objective, dtype)
        best_scores[column] = found.value
    return thresholds, best_scores


def margins(scores, thresholds, probability: bool) -> np.ndarray:
    """How far each class's score clears its threshold, in the logit domain."""
    return logits(scores, probability) - logits(thresholds, probability)


def every_class_decision(scores, thresholds, probability: bool, calibrators):
    """Index of each row's class when every class is tuned: the largest margin
    over its threshold, or with calibrators the largest operating log-odds
    (the argmax of the renormalized operating probabilities)."""
    if calibrators is None:
        return np.argmax(margins(scores, thresholds, probability), axis=1)
    log_odds = [
        calibrator.decision_function(scores[:, column])
        for column, calibrator in enumerate(calibrators)
    ]
    return np.argmax(np.column_stack(log_odds), axis=1)


def _weighted_cost(realized, decision, weight):
    """Mean cost per unit weight of the decisions, ``realized[i, k]`` being
    the cost of deciding class k for sample i."""
    return np.sum(weight * realized[np.arange(decision.size), decision]) / np.sum(
        weight
    )


def fit_cost_offsets(
    matrix, y_index, proba, sample_weight=None, max_sweeps=50, realized=None
):
    """Per-class offsets minimizing the cost of ``argmin_k (E[:, k] - offset_k)``.

    ``E = proba @ matrix``; the cost paid is ``realized[i, k]`` for deciding
    class k on sample i (``matrix[y_index]`` by default; per-row costs
    otherwise).

    Coordinate descent: with the other offsets fixed, the cost as a function of
    one offset is a step function whose steps are known exactly (one per
    distinct gap between a sample's expected cost for that class and its best
    rival), so each coordinate is minimized exactly from one sort. Starting at
    zero (plug-in Bayes), every accepted step lowers the cost. Samples of zero
    weight are ignored.

    Returns the offsets and the mean out-of-fold cost they reach.
    """
    weight = np.ones(len(y_index)) if sample_weight is None else sample_weight
    realized = matrix[y_index] if realized is None else realized
    kept = weight > 0  # zero weights must not shape the steps
    proba, weight, realized = proba[kept], weight[kept], realized[kept]
    expected = proba @ matrix
    offsets = np.zeros(matrix.shape[0])
    cost = _weighted_cost(realized, np.argmin(expected, axis=1), weight)
    for _ in range(max_sweeps):
        changed = False
        for k in range(matrix.shape[0]):
            adjusted = expected - offsets
            adjusted[:, k] = np.inf
            rival = np.argmin(adjusted, axis=1)
            # Sample i goes to k exactly when offset_k > gap_i.
            gap = expected[:, k] - adjusted[np.arange(len(rival)), rival]
            order = np.argsort(gap)
            sorted_gap = gap[order]
            to_k = (weight * realized[:, k])[order]
            to_rival = (weight * realized[np.arange(rival.size), rival])[order]
            # Cost when the m samples of smallest gap go to k, m = 0..n; only
            # splits between distinct gaps can be produced by an offset.
            totals = np.concatenate(([0.0], np.cumsum(to_k))) + np.concatenate(
                (np.cumsum(to_rival[::-1])[::-1], [0.0])
            )
            reachable = np.ones(totals.size, dtype=bool)
            reachable[1:-1] = sorted_gap[1:] != sorted_gap[:-1]
            m = int(np.argmin(np.where(reachable, totals, np.inf)))
            if m == 0:
                candidate = sorted_gap[0] - 1.0
            elif m == len(sorted_gap):
                candidate = sorted_gap[-1] + 1.0
            else:
                candidate = sorted_gap[m - 1] / 2 + sorted_gap[m] / 2
            trial = offsets.copy()
            trial[k] = candidate
            new_cost = _weighted_cost(
                realized, np.argmin(expected - trial, axis=1), weight
            )
            # Only strict improvements: a step along a flat stretch could stop
            # the descent while another coordinate can still gain.
            if new_cost < cost - 1e-12:
                offsets, cost, changed = trial, new_cost, True
        if not changed:
            break
    else:
        warnings.warn(
            f"The k x k cost rule stopped after {max_sweeps} sweeps of coordinate "
            "descent before converging; the offsets are the best found.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return offsets, cost


def class_mean_costs(realized, y_index, sample_weight=None) -> np.ndarray:
    """``out[i, k]``: the (weighted) mean cost of deciding k for the samples
    of true class i; the matrix itself when the costs are constant per class.

    A class without samples (or without weight) keeps zeros: its row of the
    matrix never enters an expected cost that matters.
    """
    n_classes = realized.shape[1]
    weight = np.ones(len(y_index)) if sample_weight is None else sample_weight
    totals = np.bincount(y_index, weights=weight, minlength=n_classes)
    sums = np.zeros((n_classes, n_classes))
    np.add.at(sums, y_index, weight[:, None] * realized)
    means = np.divide(
        sums, totals[:, None], out=np.zeros_like(sums), where=totals[:, None] > 0
    )
    # Constant costs come back exactly (a mean of equal values can round).
    for i in range(n_classes):
        rows = realized[y_index == i]
        if rows.size and np.all(rows == rows[0]):
            means[i] = rows[0]
    return means


def fit_temperature(proba, y_index, sample_weight=None) -> float:
    """The temperature ``T`` minimizing the weighted log-loss of
    ``softmax(log(proba) / T)``: one parameter, so it hardly overfits.

    ``T > 1`` softens an over-confident model, ``T < 1`` sharpens an
    under-confident (e.g. strongly regularized) one. Searched over
    ``log T`` in [-5, 5] by :func:`scipy.optimize.minimize_scalar`.
    """
    weight = np.ones(len(y_index)) if sample_weight is None else sample_weight
    log_proba = np.log(np.clip(proba, _EPS, 1))
    rows = np.arange(len(y_index))

    def log_loss(log_temperature):
        tempered_log = log_softmax(log_proba / np.exp(log_temperature), axis=1)
        return -(weight @ tempered_log[rows, y_index]) / weight.sum()

    result = minimize_scalar(log_loss, bounds=(-5.0, 5.0), method="bounded")
    return float(np.exp(result.x))


def tempered(proba, temperature: float) -> np.ndarray:
    """``softmax(log(proba) / temperature)``, rows summing to 1."""
    # In float64 whatever the estimator's dtype, as in the fit: in float16 the
    # clip at 1e-15 would underflow to 0 and its log to -inf.
    proba = np.asarray(proba, dtype=np.float64)
    return softmax(np.log(np.clip(proba, _EPS, 1)) / temperature, axis=1)


def cost_decision(matrix, proba, temperature, offsets) -> np.ndarray:
    """``argmin_k (tempered(proba) @ matrix - offsets)_k`` per row."""
    # Scaled by a power of two as in the fit: the same decisions, no overflow.
    scale = _power_of_two(np.abs(matrix).max())
    expected = tempered(proba, temperature) @ (matrix * scale)
    return np.argmin(expected - np.asarray(offsets) * scale, axis=1)


# One-sided level of the paired test the offsets must pass to replace
# plug-in Bayes.
_SELECTION_LEVEL = 0.05


def _significantly_lower(challenger, incumbent, weight) -> bool:
    """Whether per-sample costs ``challenger`` beat ``incumbent`` beyond noise.

    A one-sided paired z-test on the weighted per-sample differences at level
    ``_SELECTION_LEVEL``, with Kish's effective sample size for the weights.
    Per-sample pairs give a far steadier standard error than the handful of
    per-fold means.
    """
    difference = challenger - incumbent
    total = weight.sum()
    mean = weight @ difference / total
    variance = weight @ (difference - mean) ** 2 / total
    effective_n = total**2 / (weight @ weight)
    if effective_n < 2 or mean >= 0:
        return False
    if variance == 0:
        return True
    z = mean / np.sqrt(variance / (effective_n - 1))
    return bool(norm.cdf(z) < _SELECTION_LEVEL)


def select_cost_rule(matrix, y_index, proba, sample_weight, fold, realized=None):
    """The k x k cost rule: plug-in Bayes on temperature-scaled probabilities,
    with per-class offsets only where they validate.

    The temperature is fitted on the out-of-fold log-loss (a calibration step
    with one parameter). ``"bayes"`` is the plug-in Bayes decision on the
    tempered probabilities, optimal if they are calibrated. ``"offsets"``
    replaces it only when offsets fitted on the other folds cost less on each
    held-out fold, per sample, by more than noise (a one-sided paired test at
    the 5 % level): fitted offsets always gain on the data they were fitted
    on. With a single fold there is nothing to validate on, and plug-in Bayes
    is kept.

    ``realized[i, k]`` is the cost of deciding class k for sample i:
    ``matrix[y_index]`` by default; with per-row costs, ``matrix`` is their
    per-class mean (the expected costs of a new row) and ``realized`` the
    rows' own costs, which the offsets and the reported cost are fitted on.

    Returns the rule, the offsets (zeros unless ``"offsets"``), the
    temperature, and the out-of-fold cost of the rule.
    """
    weight = np.ones(len(y_index)) if sample_weight is None else sample_weight
    realized = matrix[y_index] if realized is None else realized
    # Costs and weights are brought below 1 by powers of two (exact): no sum
    # overflows, and the descent's improvement tolerance is relative to the
    # costs. The offsets and the cost are scaled back on return.
    matrix_scale = _power_of_two(max(np.abs(matrix).max(), np.abs(realized).max()))
    matrix = matrix * matrix_scale
    realized = realized * matrix_scale
    weight = weight * _power_of_two(weight.max())
    rule, offsets, temperature, cost = _select_scaled_cost_rule(
        matrix, y_index, proba, weight, fold, realized
    )
    return rule, offsets / matrix_scale, temperature, cost / matrix_scale


def _select_scaled_cost_rule(matrix, y_index, proba, weight, fold, realized):
    kept = weight > 0
    temperature = fit_temperature(proba[kept], y_index[kept], weight[kept])
    calibrated = tempered(proba, temperature)
    zero = np.zeros(matrix.shape[0])
    bayes_decision = np.argmin(calibrated @ matrix, axis=1)
    rows = np.arange(len(y_index))
    bayes_cost = realized[rows, bayes_decision]
    folds = np.unique(fold)
    if folds.size >= 2:
        cross_fitted = np.empty(len(y_index))
        for f in folds:
            test, train = fold == f, fold != f
            fold_offsets, _ = fit_cost_offsets(
                matrix,
                y_index[train],
                calibrated[train],
                weight[train],
                realized=realized[train],
            )
            decision = np.argmin(calibrated[test] @ matrix - fold_offsets, axis=1)
            cross_fitted[test] = realized[test][np.arange(decision.size), decision]
        if _significantly_lower(cross_fitted[kept], bayes_cost[kept], weight[kept]):
            offsets, cost = fit_cost_offsets(
                matrix, y_index, calibrated, weight, realized=realized
            )
            return "offsets", offsets, temperature, cost
    return (
        "bayes",
        zero,
        temperature,
        _weighted_cost(realized, bayes_decision, weight),
    )
