"""Turn the ``objective`` parameter into an :class:`~.objectives.Objective`.

scikit-learn scorer names and ``make_scorer`` scorers whose metric is a function
of the confusion counts become exact count objectives. Any other scorer or
callable is evaluated at a bounded number of candidate thresholds
(:class:`ScorerObjective`), because each evaluation costs a full pass over the
data.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    check_scoring,
    f1_score,
    fbeta_score,
    jaccard_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
)
from sklearn.utils._param_validation import Interval

from ._search import ThresholdCurve
from .objectives import F1, CostMatrix, FBeta, Objective, _Maximized, _ratio


class _CountMetric(_Maximized):
    """A scikit-learn binary metric written on the confusion counts."""

    def __init__(self, metric: str):
        self.metric = metric

    def score(self, tp, fp, tn, fn):
        if self.metric == "precision":
            return _ratio(tp, tp + fp)
        if self.metric == "recall":
            return _ratio(tp, tp + fn)
        if self.metric == "accuracy":
            return _ratio(tp + tn, tp + fp + tn + fn)
        if self.metric == "balanced_accuracy":
            return (_ratio(tp, tp + fn) + _ratio(tn, tn + fp)) / 2
        if self.metric == "jaccard":
            return _ratio(tp, tp + fp + fn)
        if self.metric == "matthews_corrcoef":
            tp, fp, tn, fn = (np.asarray(c, dtype=float) for c in (tp, fp, tn, fn))
            denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
            return _ratio(tp * tn - fp * fn, denominator)
        raise ValueError(f"Unknown count metric {self.metric!r}.")


_COUNT_METRICS = {
    accuracy_score: "accuracy",
    balanced_accuracy_score: "balanced_accuracy",
    jaccard_score: "jaccard",
    matthews_corrcoef: "matthews_corrcoef",
    precision_score: "precision",
    recall_score: "recall",
}


class _ThresholdedPredictions(ClassifierMixin, BaseEstimator):
    """Stands in for a fitted classifier whose predictions are already known."""

    def __init__(self, classes, predictions):
        self.classes = classes
        self.predictions = predictions

    @property
    def classes_(self):
        return self.classes

    def fit(self, X, y):  # pragma: no cover - never fitted, present for the API
        return self

    def predict(self, X):
        return self.predictions


class ScorerObjective(Objective):
    """Any scikit-learn scorer, evaluated at a bounded set of candidate thresholds.

    The scorer is called as ``scorer(estimator, X, y)`` with the pooled
    out-of-fold data, where ``estimator.predict`` returns the labels decided by
    one candidate threshold. Because each call is a full pass over the data, at
    most ``n_candidates`` thresholds are tried: all distinct scores when there
    are that few, otherwise the distinct scores at evenly spaced ranks, always
    including the two extreme cuts. For an exact search, use a count objective
    (:mod:`threshold_estimators.objectives`) or a scorer name such as ``"f1"``.

    Parameters
    ----------
    scorer : callable
        A scorer ``scorer(estimator, X, y, sample_weight=None)``, e.g. from
        :func:`sklearn.metrics.make_scorer`. It must use ``predict``: a scorer on
        probabilities does not depend on the decision threshold.
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
        self, curve: ThresholdCurve, y, y_score, sample_weight, classes, pos_label
    ):
        """Scorer value at each candidate of ``curve``, on labels ``y``."""
        y_score = np.asarray(y_score)
        negative_label = classes[classes != pos_label][0]
        X_placeholder = np.zeros((y_score.shape[0], 1))
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        values = []
        for threshold in curve.thresholds:
            predictions = np.where(y_score >= threshold, pos_label, negative_label)
            stand_in = _ThresholdedPredictions(classes, predictions)
            values.append(self.scorer(stand_in, X_placeholder, y, **kwargs))
        return np.asarray(values, dtype=float)

    def score(self, tp, fp, tn, fn):
        raise TypeError(
            "ScorerObjective needs the labels and scores, not only the counts; "
            "it is evaluated by ThresholdTunedClassifier through score_curve."
        )


def resolve_objective(objective, estimator, positive_index: int) -> Objective:
    """The validated objective to optimize, with the positive class at index 1.

    Parameters
    ----------
    objective : Objective, str or callable
        The ``objective`` parameter of :class:`ThresholdTunedClassifier`.
    estimator : estimator instance
        The inner estimator, passed to :func:`sklearn.metrics.check_scoring`.
    positive_index : int
        Index of the tuned class in ``classes_``; a :class:`CostMatrix` written
        in ``classes_`` order is reoriented so that its positive class comes
        second.
    """
    if isinstance(objective, CostMatrix):
        objective = clone(objective)._validate()
        if positive_index == 0:
            objective.matrix = np.asarray(objective.matrix, dtype=float)[::-1, ::-1]
        return objective
    if isinstance(objective, Objective):
        return clone(objective)._validate()

    scorer = check_scoring(estimator, scoring=objective)
    metric = getattr(scorer, "_score_func", None)
    kwargs = dict(getattr(scorer, "_kwargs", {}))
    response_method = getattr(scorer, "_response_method", "predict")
    if response_method != "predict":
        raise ValueError(
            "The objective must depend on the predicted labels, but the scorer "
            f"{objective!r} uses {response_method!r}, which no decision threshold "
            "changes. Use a label metric (e.g. 'f1', 'balanced_accuracy') or an "
            "objective from threshold_estimators.objectives."
        )
    if getattr(scorer, "_sign", 1) == 1 and kwargs.get("average", "binary") == "binary":
        kwargs.pop("average", None)
        if metric is f1_score and not kwargs:
            return F1()
        if metric is fbeta_score and set(kwargs) == {"beta"}:
            return FBeta(beta=kwargs["beta"])._validate()
        if metric in _COUNT_METRICS and not kwargs:
            return _CountMetric(_COUNT_METRICS[metric])
    return ScorerObjective(scorer)
