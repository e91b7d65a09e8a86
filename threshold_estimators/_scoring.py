"""Turn the ``objective`` parameter into an :class:`~.objectives.Objective`.

scikit-learn scorer names and ``make_scorer`` scorers whose metric is a function
of the confusion counts become exact count objectives. Any other scorer or
callable is evaluated at a bounded number of candidate thresholds
(:class:`ScorerObjective`), because each evaluation costs a full pass over the
data.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
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

from ._search import confusion_curve
from .objectives import F1, FBeta, Objective, ScorerObjective
from .objectives._base import _ratio


class _CountMetric(Objective):
    """A scikit-learn binary metric written on the confusion counts.

    ``average`` is scikit-learn's, on a binary target: "binary" (the tuned
    class), "micro" (the counts of both classes summed), "macro" (the mean of
    both classes' values) or "weighted" (weighted by their supports);
    ``zero_division`` is the value where the metric is undefined.
    """

    def __init__(
        self,
        metric: str,
        *,
        average: str = "binary",
        zero_division: float = 0.0,
        beta: float = 1.0,
    ):
        self.metric = metric
        self.average = average
        self.zero_division = zero_division
        self.beta = beta

    @property
    def display_name(self) -> str:
        if self.average == "binary":
            return self.metric
        return f"{self.metric} ({self.average})"

    @property
    def label_metric(self):
        # With every class tuned, accuracy-like metrics are reported on the
        # combined out-of-fold labels (each class's cut still maximizes its
        # one-vs-rest value).
        return _LABEL_METRICS.get(self.metric)

    def score(self, tp, fp, tn, fn):
        if self.average == "binary":
            return self._of_class(tp, fp, tn, fn)
        if self.average == "micro":  # each class's counts summed
            return self._of_class(tp + tn, fp + fn, tp + tn, fn + fp)
        positive = self._of_class(tp, fp, tn, fn)
        negative = self._of_class(tn, fn, tp, fp)  # the other class's view
        if self.average == "macro":
            return (positive + negative) / 2
        return _ratio(positive * (tp + fn) + negative * (tn + fp), tp + fp + tn + fn)

    def _of_class(self, tp, fp, tn, fn):
        undefined = self.zero_division
        if self.metric == "precision":
            return _ratio(tp, tp + fp, undefined=undefined)
        if self.metric == "recall":
            return _ratio(tp, tp + fn, undefined=undefined)
        if self.metric in ("f1", "fbeta"):
            beta2 = self.beta**2
            return _ratio(
                (1 + beta2) * tp,
                (1 + beta2) * tp + beta2 * fn + fp,
                undefined=undefined,
            )
        if self.metric == "jaccard":
            return _ratio(tp, tp + fp + fn, undefined=undefined)
        if self.metric == "accuracy":
            return _ratio(tp + tn, tp + fp + tn + fn)
        if self.metric == "balanced_accuracy":
            return (_ratio(tp, tp + fn) + _ratio(tn, tn + fp)) / 2
        if self.metric == "matthews_corrcoef":
            tp, fp, tn, fn = (np.asarray(c, dtype=float) for c in (tp, fp, tn, fn))
            denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
            return _ratio(tp * tn - fp * fn, denominator)
        raise ValueError(f"Unknown count metric {self.metric!r}.")


class _OneClassLabelMetric(Objective):
    """Multiclass accuracy or balanced accuracy with one class tuned, exactly.

    Rows at or above the cut are called the tuned class; the others get their
    best other class, which is right for some of them. The metric of those
    labels is the tuned class's counts plus, below each cut, the weight of the
    rows whose best other class is their class: one more cumulative sum over
    the same sorted scores, so the search stays exact over every candidate.
    """

    reads_alternative = True

    def __init__(self, metric: str):
        self.metric = metric

    @property
    def display_name(self) -> str:
        return self.metric

    def for_rows(self, rows):
        y, y_score, sample_weight = rows.y, rows.y_score, rows.sample_weight
        alternative, pos_label = rows.alternative, rows.pos_label
        weight = np.ones(len(y)) if sample_weight is None else sample_weight
        classes, y_index = np.unique(y, return_inverse=True)
        right_below = (alternative == y) & (y != pos_label)
        bound = clone(self)
        bound.n_classes_ = classes.size
        if self.metric == "accuracy":
            # Below each cut, the weight of the rows that their best other class
            # labels right (the curve's "fn"), as a share of all: exact sums for
            # integer weights, divided once.
            below = confusion_curve(right_below, y_score, weight).fn
            bound.right_below_ = below / weight.sum()
            return bound
        # Each row weighs its share of its class, so that the sums are the other
        # classes' recalls. Those shares are rounded: ties within the rounding of
        # their running sums (an ulp per row at most) are ties.
        share = weight / np.bincount(y_index, weights=weight)[y_index]
        bound.right_below_ = confusion_curve(right_below, y_score, share).fn
        bound.tie_ulps = 4 * len(y)
        return bound

    def score(self, tp, fp, tn, fn):
        if self.metric == "accuracy":
            return _ratio(tp, tp + fp + tn + fn) + self.right_below_
        # The tuned class's recall and the other classes' (summed), averaged.
        return (_ratio(tp, tp + fn) + self.right_below_) / self.n_classes_


# Metrics of one class's counts that scikit-learn averages over the classes
# (``average``), and which take ``zero_division``.
_AVERAGED_METRICS = {
    f1_score: "f1",
    fbeta_score: "fbeta",
    jaccard_score: "jaccard",
    precision_score: "precision",
    recall_score: "recall",
}

_COUNT_METRICS = {
    accuracy_score: "accuracy",
    balanced_accuracy_score: "balanced_accuracy",
    jaccard_score: "jaccard",
    matthews_corrcoef: "matthews_corrcoef",
    precision_score: "precision",
    recall_score: "recall",
}


# Metrics whose multiclass value is defined on the labels themselves, so that
# their one-vs-rest count version would contradict the metric's own function.
_MULTICLASS_METRICS = frozenset(
    {accuracy_score, balanced_accuracy_score, matthews_corrcoef}
)


_LABEL_METRICS = {
    "accuracy": accuracy_score,
    "balanced_accuracy": balanced_accuracy_score,
    "matthews_corrcoef": matthews_corrcoef,
}


def resolve_objective(
    objective,
    estimator,
    positive_index: int,
    *,
    n_classes: int = 2,
    two_classes: bool = True,
) -> Objective:
    """The validated objective to optimize, with the positive class at index 1.

    Parameters
    ----------
    objective : Objective, str or callable
        The ``objective`` parameter of :class:`ThresholdTunedClassifier`.
    estimator : estimator instance
        The inner estimator, passed to :func:`sklearn.metrics.check_scoring`.
    positive_index : int or None
        Index of the tuned class in ``classes_`` (None: every class); a binary
        :class:`CostMatrix` written in ``classes_`` order is reoriented so that
        its positive class comes second.
    n_classes : int, default=2
        Number of classes of the target.
    two_classes : bool, default=True
        Whether the two classes of a binary search are the target's own; not
        when one class is searched against the rest of a multiclass target
        (an averaged metric of those two would not be the scorer's).
    """
    if isinstance(objective, type):
        raise ValueError(
            "objective must be an instance or a scorer, e.g. F1() or 'f1'; got the "
            f"class {objective.__name__}."
        )
    if isinstance(objective, Objective):
        return objective._resolve(positive_index, n_classes)

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
    if getattr(scorer, "_sign", 1) == 1 and positive_index is not None:
        # The scorer's class is the tuned one (see ``tuned_class``).
        kwargs.pop("pos_label", None)
    averaged = _averaged_metric(metric, kwargs, n_classes if two_classes else 0)
    if averaged is not None and getattr(scorer, "_sign", 1) == 1:
        return averaged
    if getattr(scorer, "_sign", 1) == 1 and kwargs.get("average", "binary") == "binary":
        kwargs.pop("average", None)
        if metric is f1_score and not kwargs:
            return F1()
        if metric is fbeta_score and set(kwargs) == {"beta"}:
            return FBeta(beta=kwargs["beta"])._validate()
        if metric in _COUNT_METRICS and not kwargs:
            one_class = n_classes > 2 and positive_index is not None
            if one_class and metric in _MULTICLASS_METRICS:
                # With one class tuned against the rest, the rows below the cut
                # go to their best other class, right or wrong: the one-vs-rest
                # count would not be the metric of those labels.
                if metric is matthews_corrcoef:
                    # A function of the whole k x k confusion matrix: the
                    # scorer itself, at a bounded set of cuts.
                    return ScorerObjective(scorer)
                return _OneClassLabelMetric(_COUNT_METRICS[metric])
            return _CountMetric(_COUNT_METRICS[metric])
    return ScorerObjective(scorer)


def _averaged_metric(metric, kwargs, n_classes) -> Objective | None:
    """A count objective for a precision, recall, F-score or Jaccard scorer with
    ``average`` or ``zero_division`` on a binary target, else None (those of
    the plain binary metric keep their own objects: F1, FBeta, _CountMetric)."""
    if n_classes != 2 or metric not in _AVERAGED_METRICS:
        return None
    kwargs = dict(kwargs)
    average = kwargs.pop("average", "binary")
    zero_division = kwargs.pop("zero_division", "warn")
    beta = kwargs.pop("beta", 1.0) if metric is fbeta_score else 1.0
    if zero_division == "warn":
        zero_division = 0.0
    plain = average == "binary" and zero_division == 0.0
    if (
        plain
        or kwargs
        or average not in ("binary", "micro", "macro", "weighted")
        or not isinstance(zero_division, (int, float))
        or np.isnan(zero_division)
        or not (isinstance(beta, (int, float)) and beta > 0)
    ):
        return None
    return _CountMetric(
        _AVERAGED_METRICS[metric],
        average=average,
        zero_division=float(zero_division),
        beta=float(beta),
    )


def tuned_class(pos_label, objective, estimator):
    """The class to tune: ``pos_label``, else a scorer's own ``pos_label``.

    A scorer built with ``make_scorer(f1_score, pos_label="a")`` states its
    class; it is tuned when the estimator names none, and naming another one
    is an error rather than a silent choice between the two.
    """
    if isinstance(objective, (Objective, type)) or not (
        isinstance(objective, str) or callable(objective)
    ):
        return pos_label
    try:
        scorer = check_scoring(estimator, scoring=objective)
    except (TypeError, ValueError):
        return pos_label  # resolve_objective reports it
    scorer_label = getattr(scorer, "_kwargs", {}).get("pos_label")
    if scorer_label is None:
        return pos_label
    if pos_label is not None and pos_label != scorer_label:
        raise ValueError(
            f"pos_label={pos_label!r} and the objective scorer's "
            f"pos_label={scorer_label!r} name different classes; give the class "
            "once (either one), or the same in both."
        )
    return scorer_label
