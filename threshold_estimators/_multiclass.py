"""Every class of a multiclass target: per-class thresholds, or a k x k cost rule.

Per-class thresholds: each class ``k`` gets its own exact one-vs-rest search on
its score column, and a sample goes to the class whose score clears its
threshold by the most, in the logit domain: ``argmax_k (z_k - z_{t_k})``. That
is the argmax of the operating log-odds of DESIGN §4 with unit slopes; with
recalibration, of each class's fitted piecewise logistic.

Cost rule: with expected costs ``E[i, k] = sum_j p_ij C[j, k]``, the plug-in Bayes
decision is ``argmin_k E[i, k]``; here ``argmin_k (E[i, k] - offset_k)`` with one
offset per class fitted on the out-of-fold data by exact coordinate descent,
starting from zero offsets (plug-in Bayes), so the out-of-fold cost never
exceeds plug-in Bayes's. Because fitted offsets can overfit a well-calibrated
model, the offsets, plug-in Bayes and plain argmax are compared by
cross-validation over the folds and the best is kept.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import logit
from sklearn.exceptions import ConvergenceWarning

from ._search import cut_point, run_search
from .objectives import InfeasibleTargetError

# As in the calibrator: probabilities are clipped before the logit.
_EPS = 1e-15


def logits(scores: np.ndarray, probability: bool) -> np.ndarray:
    """Scores in the logit domain (probabilities clipped to [1e-15, 1 - 1e-15])."""
    if not probability:
        return np.asarray(scores, dtype=float)
    return logit(np.clip(scores, _EPS, 1 - _EPS))


def best_other(scores: np.ndarray, column: int, classes: np.ndarray) -> np.ndarray:
    """The label of the highest-scored class other than ``column``, per row."""
    others = np.array(scores, dtype=float, copy=True)
    others[:, column] = -np.inf
    return classes[np.argmax(others, axis=1)]


def per_class_thresholds(objective, y, scores, sample_weight, classes, X=None):
    """Each class's exact one-vs-rest threshold and its objective there."""
    thresholds, best_scores = np.empty(len(classes)), np.empty(len(classes))
    for column, label in enumerate(classes):
        try:
            curve, values, best = run_search(
                objective,
                y,
                scores[:, column],
                sample_weight,
                pos_label=label,
                classes=classes,
                X=X,
                alternative=best_other(scores, column, classes),
            )
        except InfeasibleTargetError as error:
            raise InfeasibleTargetError(f"Class {label!r}: {error}") from error
        thresholds[column] = cut_point(curve.thresholds, best)
        best_scores[column] = values[best]
    return thresholds, best_scores


def margins(scores, thresholds, probability: bool) -> np.ndarray:
    """How far each class's score clears its threshold, in the logit domain."""
    return logits(scores, probability) - logits(thresholds, probability)


def check_cost_matrix(matrix, n_classes: int) -> np.ndarray:
    """A k x k cost matrix as floats, or a ValueError stating the rule broken."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape == (2, 2):
        raise ValueError(
            "Only binary classification is supported with a 2x2 CostMatrix; y "
            f"has {n_classes} classes, so the matrix must be {n_classes}x{n_classes}."
        )
    if matrix.shape != (n_classes, n_classes):
        raise ValueError(
            f"CostMatrix needs a {n_classes}x{n_classes} matrix for {n_classes} "
            f"classes (rows: true class, columns: predicted class); got shape "
            f"{matrix.shape}."
        )
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"CostMatrix entries must be finite; got {matrix.tolist()}.")
    diagonal = np.diag(matrix)[:, None]
    off_diagonal = ~np.eye(n_classes, dtype=bool)
    if np.any(
        matrix[off_diagonal] < np.broadcast_to(diagonal, matrix.shape)[off_diagonal]
    ) or np.all(matrix == diagonal):
        raise ValueError(
            "CostMatrix expresses no preference: for each true class i no wrong "
            "prediction may cost less than the right one (matrix[i][j] >= "
            "matrix[i][i]), and some must cost more; got "
            f"{matrix.tolist()}."
        )
    return matrix


def _weighted_cost(matrix, y_index, decision, weight):
    return np.sum(weight * matrix[y_index, decision]) / np.sum(weight)


def fit_cost_offsets(matrix, y_index, proba, sample_weight=None, max_sweeps=50):
    """Per-class offsets minimizing the cost of ``argmin_k (E[:, k] - offset_k)``.

    Coordinate descent: with the other offsets fixed, the cost as a function of
    one offset is a step function whose steps are known exactly (one per
    distinct gap between a sample's expected cost for that class and its best
    rival), so each coordinate is minimized exactly from one sort. Starting at
    zero (plug-in Bayes), every accepted step lowers the cost. Samples of zero
    weight are ignored.

    Returns the offsets and the mean out-of-fold cost they reach.
    """
    weight = np.ones(len(y_index)) if sample_weight is None else sample_weight
    kept = weight > 0  # zero weights must not shape the steps
    y_index, proba, weight = y_index[kept], proba[kept], weight[kept]
    expected = proba @ matrix
    offsets = np.zeros(matrix.shape[0])
    cost = _weighted_cost(matrix, y_index, np.argmin(expected, axis=1), weight)
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
            to_k = (weight * matrix[y_index, k])[order]
            to_rival = (weight * matrix[y_index, rival])[order]
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
                matrix, y_index, np.argmin(expected - trial, axis=1), weight
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


def _rule_cost(rule, matrix, y_index, proba, weight, offsets=None):
    if rule == "argmax":
        decision = np.argmax(proba, axis=1)
    else:
        decision = np.argmin(
            proba @ matrix - (0 if offsets is None else offsets), axis=1
        )
    return _weighted_cost(matrix, y_index, decision, weight)


def select_cost_rule(matrix, y_index, proba, sample_weight, fold):
    """Choose, by cross-validation over the folds, among three cost rules.

    ``"offsets"`` (fitted per-class offsets), ``"bayes"`` (plug-in Bayes, zero
    offsets) and ``"argmax"``. Fitted offsets gain out of fold by
    construction, but can overfit a well-calibrated model: each rule is scored
    on every fold with offsets fitted on the other folds. The better of the
    two fixed rules is kept unless the offsets beat it by more than one
    standard error of the per-fold difference (the one-standard-error rule).
    With a single fold there is nothing to validate on: the offsets are kept.

    Returns the rule, the offsets (zeros unless ``"offsets"``), and the
    out-of-fold cost of the rule.
    """
    weight = np.ones(len(y_index)) if sample_weight is None else sample_weight
    offsets, cost = fit_cost_offsets(matrix, y_index, proba, weight)
    folds = np.unique(fold)
    if folds.size < 2:
        return "offsets", offsets, cost
    rules = ("argmax", "bayes", "offsets")
    fold_cost = {rule: [] for rule in rules}
    fold_weight = []
    for f in folds:
        test, train = fold == f, fold != f
        fold_weight.append(weight[test].sum())
        fold_offsets, _ = fit_cost_offsets(
            matrix, y_index[train], proba[train], weight[train]
        )
        for rule in rules:
            fold_cost[rule].append(
                _rule_cost(
                    rule,
                    matrix,
                    y_index[test],
                    proba[test],
                    weight[test],
                    fold_offsets if rule == "offsets" else None,
                )
            )
    fold_weight = np.asarray(fold_weight) / np.sum(fold_weight)
    fixed = min(("bayes", "argmax"), key=lambda r: fold_weight @ fold_cost[r])
    # One-standard-error rule: the fitted offsets must beat the better fixed
    # rule by more than the fold-to-fold noise of that difference.
    difference = np.asarray(fold_cost["offsets"]) - np.asarray(fold_cost[fixed])
    standard_error = np.std(difference, ddof=1) / np.sqrt(difference.size)
    rule = "offsets" if difference.mean() + standard_error < 0 else fixed
    if rule == "offsets":
        return rule, offsets, cost
    zero = np.zeros(matrix.shape[0])
    return rule, zero, _rule_cost(rule, matrix, y_index, proba, weight)
