"""Objectives: what a decision threshold is chosen for.

An objective turns weighted confusion counts into a score per candidate threshold.
The counts come as four arrays ``tp, fp, tn, fn`` with one entry per candidate
(see :func:`threshold_estimators.confusion_curve`), so every objective is plain
vectorised arithmetic and the search over all candidates is exact.

Each objective answers three questions about the candidates:

- ``score``: the value to maximize (a cost objective returns the negative cost, so
  that greater is always better, as in scikit-learn scorers);
- ``feasible``: which candidates satisfy the objective's constraint, if it has one;
- ``tiebreak``: among candidates with equal score, which one is preferred.

Objectives are small scikit-learn style objects (``get_params`` / ``set_params``),
so ``objective__min_precision`` can be searched by ``GridSearchCV``.
"""

from __future__ import annotations

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = [
    "F1",
    "CostMatrix",
    "FBeta",
    "InfeasibleTargetError",
    "Objective",
    "PrecisionTarget",
    "RecallTarget",
    "ScorerObjective",
]

# Relative tolerance used when comparing a ratio of float counts with a target,
# so that e.g. 19 / 20 >= 0.95 holds despite rounding in weighted cumulative sums.
_RATIO_TOL = 1e-12


class InfeasibleTargetError(ValueError):
    """No threshold satisfies a precision or recall target."""


def _ratio(numerator, denominator, *, undefined=0.0):
    """``numerator / denominator`` with ``undefined`` where the denominator is 0."""
    numerator, denominator = np.asarray(numerator), np.asarray(denominator)
    out = np.full(np.broadcast(numerator, denominator).shape, undefined, dtype=float)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def precision_recall(tp, fp, tn, fn):
    """Precision and recall of each candidate; precision is NaN with no positive call.

    Parameters
    ----------
    tp, fp, tn, fn : ndarray of shape (n_candidates,)
        Weighted confusion counts.

    Returns
    -------
    precision, recall : ndarray of shape (n_candidates,)
    """
    return _ratio(tp, tp + fp, undefined=np.nan), _ratio(tp, tp + fn)


class Objective(BaseEstimator):
    """Base class of the objectives evaluated on confusion counts.

    Subclasses implement :meth:`score`; constrained objectives also override
    :meth:`feasible`, :meth:`tiebreak` and :meth:`fallback`.
    """

    _parameter_constraints: dict = {}

    def score(self, tp, fp, tn, fn) -> np.ndarray:
        """Objective value of each candidate (greater is better)."""
        raise NotImplementedError

    def feasible(self, tp, fp, tn, fn) -> np.ndarray:
        """Boolean mask of the candidates that satisfy the objective's constraint."""
        return np.ones(np.shape(tp), dtype=bool)

    def tiebreak(self, tp, fp, tn, fn) -> np.ndarray:
        """Secondary key among equal scores (greater is preferred).

        The default prefers nothing; the search then keeps the highest threshold,
        i.e. the fewest positive calls.
        """
        return np.zeros(np.shape(tp))

    def fallback(self, tp, fp, tn, fn) -> int:
        """Index to use when no candidate is feasible, or raise ``ValueError``."""
        raise InfeasibleTargetError(f"No threshold satisfies {self!r}.")

    def _validate(self) -> Objective:
        self._validate_params()
        return self


class F1(Objective):
    """F1 score of the positive class: ``2 tp / (2 tp + fp + fn)``.

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators.objectives import F1
    >>> F1().score(tp=np.array([0, 3]), fp=np.array([0, 1]),
    ...            tn=np.array([5, 4]), fn=np.array([4, 1]))
    array([0.  , 0.75])
    """

    def score(self, tp, fp, tn, fn):
        return _ratio(2 * tp, 2 * tp + fp + fn)


class FBeta(Objective):
    """F-beta score of the positive class.

    ``(1 + beta²) tp / ((1 + beta²) tp + beta² fn + fp)``: ``beta > 1`` weighs
    recall more, ``beta < 1`` weighs precision more.

    Parameters
    ----------
    beta : float, default=1.0
        Weight of recall relative to precision; must be positive.

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators.objectives import FBeta
    >>> FBeta(beta=2).score(tp=np.array([3]), fp=np.array([1]),
    ...                     tn=np.array([4]), fn=np.array([1]))
    array([0.75])
    """

    _parameter_constraints: dict = {"beta": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, beta: float = 1.0):
        self.beta = beta

    def score(self, tp, fp, tn, fn):
        beta2 = self.beta**2
        return _ratio((1 + beta2) * tp, (1 + beta2) * tp + beta2 * fn + fp)


class _RateTarget(Objective):
    """Maximize one rate subject to a lower bound on the other."""

    _parameter_constraints: dict = {
        "on_infeasible": [StrOptions({"raise", "warn"})],
    }
    _constrained = ""  # "precision" or "recall": the rate bounded from below
    _target_param = ""

    def _rates(self, tp, fp, tn, fn):
        """(constrained rate, maximized rate)."""
        precision, recall = precision_recall(tp, fp, tn, fn)
        if self._constrained == "precision":
            return precision, recall
        return recall, precision

    def score(self, tp, fp, tn, fn):
        maximized = self._rates(tp, fp, tn, fn)[1]
        return np.nan_to_num(maximized, nan=0.0)

    def feasible(self, tp, fp, tn, fn):
        constrained = self._rates(tp, fp, tn, fn)[0]
        target = getattr(self, self._target_param)
        # NaN precision (no positive call) is never feasible: comparisons are False.
        return (constrained >= target * (1 - _RATIO_TOL)) & (np.asarray(tp) > 0)

    def tiebreak(self, tp, fp, tn, fn):
        return np.nan_to_num(self._rates(tp, fp, tn, fn)[0], nan=-1.0)

    def fallback(self, tp, fp, tn, fn):
        constrained, maximized = self._rates(tp, fp, tn, fn)
        constrained = np.nan_to_num(constrained, nan=-1.0)
        best = constrained.max()
        # Among the candidates with the best reachable constrained rate, the one
        # with the most of the maximized rate.
        on_best = np.flatnonzero(constrained == best)
        index = int(on_best[np.argmax(np.nan_to_num(maximized[on_best], nan=-1.0))])
        other = "recall" if self._constrained == "precision" else "precision"
        target = getattr(self, self._target_param)
        message = (
            f"No threshold reaches {self._constrained} >= {target:g} on the "
            f"out-of-fold data: the best {self._constrained} reachable is "
            f"{max(best, 0.0):.4f} ({other} {np.nan_to_num(maximized[index]):.4f} "
            "there)."
        )
        if self.on_infeasible == "raise":
            raise InfeasibleTargetError(
                f"{message} Lower {self._target_param}, or pass "
                f"on_infeasible='warn' to fall back to the threshold with the "
                f"highest {self._constrained}."
            )
        warnings.warn(
            f"{message} Falling back to the threshold with the highest "
            f"{self._constrained}.",
            UserWarning,
            stacklevel=3,
        )
        return index


class PrecisionTarget(_RateTarget):
    """Maximize recall subject to precision >= ``min_precision``.

    Among the thresholds whose out-of-fold precision reaches ``min_precision``,
    the one with the highest recall is chosen; ties go to the higher precision.
    A threshold with no positive call has undefined precision and is never
    feasible.

    Parameters
    ----------
    min_precision : float in (0, 1]
        The precision the decision must reach.
    on_infeasible : {"raise", "warn"}, default="raise"
        What to do when no threshold reaches ``min_precision``: ``"raise"`` a
        ``ValueError`` that states the best precision reachable, or ``"warn"``
        and fall back to the threshold with the highest precision (ties go to the
        higher recall).

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators.objectives import PrecisionTarget
    >>> tp, fp = np.array([0, 4, 6, 8]), np.array([0, 0, 1, 4])
    >>> fn, tn = 8 - tp, 8 - fp
    >>> objective = PrecisionTarget(min_precision=0.8)
    >>> objective.feasible(tp, fp, tn, fn)
    array([False,  True,  True, False])
    >>> objective.score(tp, fp, tn, fn)
    array([0.  , 0.5 , 0.75, 1.  ])
    """

    _parameter_constraints: dict = {
        **_RateTarget._parameter_constraints,
        "min_precision": [Interval(Real, 0, 1, closed="right")],
    }
    _constrained = "precision"
    _target_param = "min_precision"

    def __init__(self, min_precision: float, *, on_infeasible: str = "raise"):
        self.min_precision = min_precision
        self.on_infeasible = on_infeasible


class RecallTarget(_RateTarget):
    """Maximize precision subject to recall >= ``min_recall``.

    The mirror of :class:`PrecisionTarget`: among the thresholds whose out-of-fold
    recall reaches ``min_recall``, the one with the highest precision; ties go to
    the higher recall. Calling every sample positive always has recall 1, so this
    point target is always feasible.

    Parameters
    ----------
    min_recall : float in (0, 1]
        The recall the decision must reach.
    on_infeasible : {"raise", "warn"}, default="raise"
        Kept for symmetry with :class:`PrecisionTarget`.

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators.objectives import RecallTarget
    >>> tp, fp = np.array([0, 4, 6, 8]), np.array([0, 0, 1, 4])
    >>> RecallTarget(min_recall=0.7).feasible(tp, fp, 8 - fp, 8 - tp)
    array([False, False,  True,  True])
    """

    _parameter_constraints: dict = {
        **_RateTarget._parameter_constraints,
        "min_recall": [Interval(Real, 0, 1, closed="right")],
    }
    _constrained = "recall"
    _target_param = "min_recall"

    def __init__(self, min_recall: float, *, on_infeasible: str = "raise"):
        self.min_recall = min_recall
        self.on_infeasible = on_infeasible


class CostMatrix(Objective):
    """Minimize the expected cost of the decisions.

    Parameters
    ----------
    matrix : array-like of shape (2, 2)
        ``matrix[i][j]`` is the cost of predicting class ``j`` when the truth is
        class ``i``, with classes in the order of ``classes_`` (sorted, as in
        :func:`sklearn.metrics.confusion_matrix`). Negative entries are gains.
        For each true class, the wrong decision must cost strictly more than the
        right one, otherwise no threshold is better than calling every sample
        the same class.

    Notes
    -----
    :meth:`score` returns the *negative* mean cost per unit of sample weight, so
    that greater is better, as for scikit-learn's ``neg_*`` scorers.

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators.objectives import CostMatrix
    >>> fraud = CostMatrix([[0, 1], [100, 0]])  # a missed fraud costs 100 alerts
    >>> fraud.score(tp=np.array([0, 9]), fp=np.array([0, 50]),
    ...             tn=np.array([90, 40]), fn=np.array([10, 1]))
    array([-10. ,  -1.5])
    """

    _parameter_constraints: dict = {"matrix": ["array-like"]}

    def __init__(self, matrix):
        self.matrix = matrix

    def _validate(self):
        super()._validate()
        self._binary_costs()
        return self

    def _binary_costs(self):
        """Costs of (tn, fp, fn, tp), the positive class being ``classes_[1]``."""
        matrix = np.asarray(self.matrix, dtype=float)
        if matrix.shape != (2, 2):
            raise ValueError(
                "CostMatrix needs a 2x2 matrix for a binary target (rows: true "
                f"class, columns: predicted class); got shape {matrix.shape}."
            )
        if not np.all(np.isfinite(matrix)):
            raise ValueError(
                f"CostMatrix entries must be finite; got {matrix.tolist()}."
            )
        costs = matrix[0, 0], matrix[0, 1], matrix[1, 0], matrix[1, 1]
        cost_tn, cost_fp, cost_fn, cost_tp = costs
        if not (cost_fp > cost_tn and cost_fn > cost_tp):
            raise ValueError(
                "CostMatrix expresses no preference between thresholds: for each "
                "true class i the wrong prediction must cost more than the right "
                "one (matrix[i][j] > matrix[i][i] for j != i); got "
                f"{matrix.tolist()}."
            )
        return costs

    def score(self, tp, fp, tn, fn):
        cost_tn, cost_fp, cost_fn, cost_tp = self._binary_costs()
        total = tp + fp + tn + fn
        cost = cost_tn * tn + cost_fp * fp + cost_fn * fn + cost_tp * tp
        return -_ratio(cost, total)


def _accepts_sample_weight(scorer) -> bool:
    try:
        parameters = inspect.signature(scorer).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: try it
        return True
    return any(
        p.name == "sample_weight" or p.kind is inspect.Parameter.VAR_KEYWORD
        for p in parameters
    )


class _ThresholdedPredictions(ClassifierMixin, BaseEstimator):
    """Stands in for a fitted classifier whose predictions are already known."""

    def __init__(self, classes, predictions):
        self.classes = classes
        self.predictions = predictions

    @property
    def classes_(self):
        return self.classes

    def fit(self, X, y):
        return self

    def predict(self, X):
        return self.predictions


class ScorerObjective(Objective):
    """Any scikit-learn scorer, evaluated at a bounded set of candidate thresholds.

    The scorer is called as ``scorer(estimator, X, y)`` on the pooled
    out-of-fold rows of ``X`` and their labels, where ``estimator.predict``
    returns the labels decided by one candidate threshold. Because each call
    is a full pass over the data, at most ``n_candidates`` thresholds are
    tried: all distinct scores when there are that few, otherwise the distinct
    scores at evenly spaced ranks, always including the two extreme cuts. For
    an exact search, use a count objective or a scorer name such as ``"f1"``.

    Parameters
    ----------
    scorer : callable
        A scorer ``scorer(estimator, X, y)``, e.g. from
        :func:`sklearn.metrics.make_scorer`. It must use ``predict``: a scorer on
        probabilities does not depend on the decision threshold. With sample
        weights, it must accept ``sample_weight`` (scikit-learn scorers do).
    n_candidates : int, default=256
        Maximum number of thresholds evaluated.
    """

    _parameter_constraints: dict = {
        "scorer": [callable],
        "n_candidates": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(self, scorer, *, n_candidates: int = 256):
        self.scorer = scorer
        self.n_candidates = n_candidates

    def candidate_indices(self, n_thresholds: int) -> np.ndarray:
        """Indices, into a curve of ``n_thresholds`` candidates, to evaluate."""
        if n_thresholds <= self.n_candidates:
            return np.arange(n_thresholds)
        return np.unique(np.linspace(0, n_thresholds - 1, self.n_candidates).round())

    def score_curve(
        self, curve, X, y, y_score, sample_weight, classes, pos_label, alternative=None
    ):
        """Scorer value at each candidate of ``curve``, on rows ``X``, labels ``y``."""
        kwargs = {}
        if sample_weight is not None:
            if not _accepts_sample_weight(self.scorer):
                raise ValueError(
                    f"The scorer {self.scorer!r} does not accept sample_weight, but "
                    "fit received sample weights; give the scorer a sample_weight "
                    "parameter or fit without weights."
                )
            kwargs["sample_weight"] = sample_weight
        y_score = np.asarray(y_score)
        if alternative is None:  # binary: the other class
            alternative = classes[classes != pos_label][0]
        values = []
        for threshold in curve.thresholds:
            predictions = np.where(y_score >= threshold, pos_label, alternative)
            stand_in = _ThresholdedPredictions(classes, predictions)
            values.append(self.scorer(stand_in, X, y, **kwargs))
        return np.asarray(values, dtype=float)

    def score(self, tp, fp, tn, fn):
        raise TypeError(
            "ScorerObjective needs the labels and scores, not only the counts; "
            "it is evaluated by ThresholdTunedClassifier through score_curve."
        )
