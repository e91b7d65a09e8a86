"""Row objectives: any scikit-learn scorer, at a bounded set of cuts."""

from __future__ import annotations

import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.metadata_routing import get_routing_for_object

from ._base import Objective


def _is_number(value) -> bool:
    return np.asarray(value).dtype.kind in "iuf"


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
        self,
        curve,
        X,
        y,
        y_score,
        sample_weight,
        classes,
        pos_label,
        alternative=None,
        metadata=None,
    ):
        """Scorer value at each candidate of ``curve``, on rows ``X``, labels ``y``.

        ``metadata`` (routed by scikit-learn's metadata routing, aligned with
        the rows) are the scorer's keyword arguments, ``sample_weight`` among
        them only if it requested them; without routing (None) it gets the
        weights.
        """
        kwargs = {}
        if metadata is not None:
            kwargs = dict(metadata)
        elif sample_weight is not None:
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
        values = np.empty(curve.thresholds.size)
        for k, threshold in enumerate(curve.thresholds):
            predictions = np.where(y_score >= threshold, pos_label, alternative)
            stand_in = _ThresholdedPredictions(classes, predictions)
            values[k] = self._call(stand_in, X, y, kwargs)
        if not np.any(np.isfinite(values)):
            raise ValueError(
                f"The objective {self.scorer!r} returned no finite value at any "
                f"candidate threshold (values from {np.nanmin(values, initial=np.inf)}"
                f" to {np.nanmax(values, initial=-np.inf)}, NaN left out); it must "
                "return a finite number for some of them."
            )
        return values

    def _call(self, stand_in, X, y, kwargs) -> float:
        """One scorer value, or an error saying what a scorer must be."""
        try:
            value = self.scorer(stand_in, X, y, **kwargs)
        except TypeError as exc:
            raise TypeError(
                f"The objective {self.scorer!r} must be a scorer, callable as "
                "scorer(estimator, X, y) (a metric f(y_true, y_pred) becomes one "
                "with sklearn.metrics.make_scorer(f)), and receive the metadata "
                "its metric needs (with metadata routing enabled, requested by "
                "set_score_request and given to fit or pick_threshold; a display "
                f"takes them as metadata=); calling it raised: {exc}"
            ) from exc
        if isinstance(value, (bool, np.bool_)) or not (
            isinstance(value, Real) or (np.ndim(value) == 0 and _is_number(value))
        ):
            raise ValueError(
                f"The objective {self.scorer!r} must return one number per call; "
                f"it returned {type(value).__name__} {value!r:.80}."
            )
        return float(value)

    reads_rows = True
    reads_alternative = True

    def _evaluate(self, curve, counts, rows):
        """A subset of the candidates (see :meth:`candidate_indices`), scored on
        the rows themselves: the entry point of row objectives."""
        subset = self.candidate_indices(curve.thresholds.size).astype(int)
        sub_curve = type(curve)(*(values[subset] for values in curve))
        metadata = rows.metadata
        if rows.odds_shift is not None:
            metadata = self._with_decision_weights(metadata, rows.sample_weight)
        try:
            values = self.score_curve(
                sub_curve,
                rows.X,
                rows.y,
                rows.y_score,
                rows.sample_weight,
                rows.classes,
                rows.pos_label,
                rows.alternative,
                metadata,
            )
        except (TypeError, ValueError) as error:
            if rows.odds_shift is not None and "sample_weight" in str(error):
                raise ValueError(self._prevalence_needs_weights()) from error
            raise
        return subset, values

    def _with_decision_weights(self, metadata, weight):
        """A routed scorer's metadata with the weights the decision is made
        with: a prevalence reweights the rows by class, and the scorer only
        sees it through them (without routing, None: it gets them anyway)."""
        if metadata is None:
            return None
        requests = get_routing_for_object(self.scorer)
        if not requests.consumes(method="score", params={"sample_weight"}):
            raise ValueError(self._prevalence_needs_weights())
        return {**metadata, "sample_weight": weight}

    def _prevalence_needs_weights(self) -> str:
        return (
            "prevalence reweights the rows by class (each class's new share over "
            f"its training share), and the scorer {self.scorer!r} would only see "
            "that through sample_weight, which it does not take: it would score "
            "the decision at the training rate. Give a scorer that takes "
            "sample_weight (with metadata routing, request it: "
            "scorer.set_score_request(sample_weight=True)), or a count objective "
            "(e.g. 'f1')."
        )

    @property
    def routes_metadata(self) -> bool:
        """Whether the scorer states its metadata requests (scikit-learn
        scorers do); a plain function takes the weights when it accepts them,
        routing or not."""
        return hasattr(self.scorer, "get_metadata_routing")

    def get_metadata_routing(self):
        """The scorer's own metadata requests (``set_score_request``).

        Returns
        -------
        routing : MetadataRequest or MetadataRouter
        """
        return get_routing_for_object(self.scorer)

    @property
    def display_name(self) -> str:
        name = getattr(self.scorer, "_score_func", self.scorer)
        return f"scorer {getattr(name, '__name__', type(name).__name__)}"

    def score(self, tp, fp, tn, fn):
        raise TypeError(
            "ScorerObjective needs the labels and scores, not only the counts; "
            "it is evaluated on rows by the search (see _evaluate)."
        )
