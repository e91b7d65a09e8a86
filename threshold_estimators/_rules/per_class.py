"""Every class of a multiclass target tuned, each with its own one-vs-rest cut."""

from __future__ import annotations

import numpy as np
from scipy.special import log_expit, log_softmax, softmax

from .._calibration import PiecewiseLogisticCalibrator
from .._fold_stats import fold_class_thresholds, spread
from .._folds import response
from .._multiclass import every_class_decision, per_class_thresholds
from .._support import warn_if_unsupported
from .._validation import plain
from ._base import DecisionRule


class PerClassCuts(DecisionRule):
    """Each class ``k`` gets its own exact one-vs-rest threshold ``t_k``.

    A sample goes to the class whose score clears its threshold by the most in
    the logit domain, ``argmax_k (logit(p_k) - logit(t_k))`` (score
    differences for ``decision_function``), or, recalibrated, to the class
    with the highest operating probability (each class's piecewise logistic,
    renormalized over the classes).

    With an accuracy-like objective (``objective.label_metric``), ``best_score_``
    is that scikit-learn metric of the combined out-of-fold labels.
    """

    def fit(self, oof, y, sample_weight, X, metadata=None, *, class_totals=None):
        objective, classes = self.objective, self.classes
        # One-vs-rest: the rest's pooled ratio (exact for one class against
        # classes sharing a ratio, an approximation otherwise).
        shifts = self.odds_shifts(y, sample_weight)
        threshold, class_scores = per_class_thresholds(
            objective,
            y,
            oof.score,
            sample_weight,
            classes,
            X,
            oof.dtype,
            metadata,
            shifts,
        )
        self.threshold_ = threshold
        self.score_dtype_ = np.dtype(oof.dtype).name
        self.best_score_ = float(np.mean(class_scores))
        if self.recalibrate:
            # Fitted at the training balance, then moved to the prevalence's.
            training_weight = self.training_weights(y, sample_weight)
            self.calibrator_ = [
                PiecewiseLogisticCalibrator(
                    threshold=threshold[column], score_kind=self.score_kind
                ).fit(oof.score[:, column], y == label, training_weight)
                for column, label in enumerate(classes)
            ]
            if shifts is not None:
                for calibrator, shift in zip(self.calibrator_, shifts, strict=True):
                    calibrator.intercept_ += np.log(shift)
        label_metric = objective.label_metric
        if label_metric is not None:
            # Accuracy-like metrics are defined on the combined labels: the
            # mean of one-vs-rest values would contradict the metric itself.
            decision = every_class_decision(
                oof.score, threshold, self._probability, self.calibrator_
            )
            self.best_score_ = float(
                label_metric(y, classes[decision], sample_weight=sample_weight)
            )
        fold_thresholds = fold_class_thresholds(
            objective,
            y,
            oof,
            sample_weight,
            classes,
            X,
            metadata,
            pooled=threshold,
            odds_shifts=shifts,
        )
        self.threshold_std_ = spread(fold_thresholds)
        for column, label in enumerate(classes):
            warn_if_unsupported(
                objective,
                y == label,
                oof.score[:, column],
                threshold[column],
                fold_std=self.threshold_std_[column],
                label=plain(label),
                odds_shift=None if shifts is None else float(shifts[column]),
                sample_weight=self.training_weights(y, sample_weight),
            )
        if self.store_cv_results:
            self.cv_results_ = {
                "class_thresholds": threshold,
                "class_scores": class_scores,
                "fold_thresholds": fold_thresholds,
                "fold_threshold_std": self.threshold_std_,
            }
        return self

    @property
    def _probability(self) -> bool:
        return self.response_method == "predict_proba"

    def predict(self, estimator, X):
        raw, _ = response(estimator, X, self.response_method, None)
        if self.calibrator_ is not None:
            decision = np.argmax(self._operating(raw, "predict_proba"), axis=1)
        else:
            decision = every_class_decision(
                raw, self.threshold_, self._probability, None
            )
        return self.classes[decision]

    def probabilities(self, estimator, X, method):
        if self.calibrator_ is None:
            return self.inner(estimator, X, method)
        raw, _ = response(estimator, X, self.response_method, None)
        return self._operating(raw, method)

    def decision_function(self, estimator, X):
        if self.calibrator_ is None:
            return self.inner(estimator, X, "decision_function")
        return self.probabilities(estimator, X, "predict_log_proba")

    def _operating(self, raw, method):
        """Each class's operating probability, renormalized over the classes.

        Computed as a softmax of the log operating probabilities, so that rows
        far from the training data (probabilities that round to 0 or 1) give
        neither NaN nor artificial ties.
        """
        if method == "predict_posterior_proba":  # clipped, as the binary posterior
            log_odds = [
                calibrator.intercept_
                + calibrator._operating_logit(raw[:, column], clip=True)[0]
                for column, calibrator in enumerate(self.calibrator_)
            ]
        else:
            log_odds = [
                calibrator.decision_function(raw[:, column])
                for column, calibrator in enumerate(self.calibrator_)
            ]
        log_q = log_expit(np.column_stack(log_odds))
        if method in ("predict_log_proba", "decision_function"):
            return log_softmax(log_q, axis=1)
        return softmax(log_q, axis=1)
