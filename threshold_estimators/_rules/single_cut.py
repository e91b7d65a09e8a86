"""One cut on the score of one class: binary targets, or one class of many."""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy.special import softmax

from .._best_cut import find_best
from .._calibration import PiecewiseLogisticCalibrator
from .._fold_stats import curve_results, fold_searches, spread
from .._folds import oriented_score, positive_score, response
from .._pick import searched_pick
from .._support import warn_if_unsupported
from ._base import DecisionRule


class SingleCut(DecisionRule):
    """A sample is called ``pos_label`` when its score is ``>= threshold_``.

    On a binary target the other class is predicted below the cut; on a
    multiclass target, the most likely other class. With ``recalibrate`` a
    :class:`PiecewiseLogisticCalibrator` is fitted around the cut on the
    out-of-fold scores, and its operating probabilities (0.5 at the cut) are
    the classifier's.

    Attributes
    ----------
    counts_ : dict
        ``tp``, ``fp``, ``tn``, ``fn`` of the decision on the out-of-fold data.
    fold_thresholds_ : ndarray of shape (n_folds,)
        Each fold's own best threshold (NaN without a feasible one).
    """

    @property
    def column(self) -> int:
        """The tuned class's index in ``classes``."""
        return int(np.flatnonzero(self.classes == self.pos_label)[0])

    def fit(self, oof, y, sample_weight, X, metadata=None, *, class_totals=None):
        shifts = self.odds_shifts(y, sample_weight)
        shift = None if shifts is None else float(shifts[self.column])
        search = partial(
            find_best,
            self.objective,
            pos_label=self.pos_label,
            classes=self.classes,
            odds_shift=shift,
        )
        pick = searched_pick(
            self.objective,
            y,
            oof.score,
            sample_weight,
            dtype=oof.dtype,
            pos_label=self.pos_label,
            classes=self.classes,
            X=X,
            alternative=oof.alternative,
            metadata=metadata,
            odds_shift=shift,
            binary_totals=self._binary_totals(class_totals),
        )
        self.threshold_, self.best_score_ = pick.threshold, pick.score
        self.score_dtype_ = np.dtype(oof.dtype).name
        self.counts_ = {name: getattr(pick, name) for name in ("tp", "fp", "tn", "fn")}
        if self.recalibrate:
            # Fitted at the training balance, then moved to the prevalence's.
            self.calibrator_ = PiecewiseLogisticCalibrator(
                threshold=self.threshold_, score_kind=self.score_kind
            ).fit(
                oof.score,
                y == self.pos_label,
                sample_weight=self.training_weights(y, sample_weight),
            )
            if shift is not None:
                self.calibrator_.intercept_ += np.log(shift)
        # The curves are kept only when stored: at 10^6 candidates their
        # precision and recall cost as much as a pass of the search.
        pooled = curve_results(pick.search) if self.store_cv_results else None
        fold_thresholds, fold_curves = self._fold_thresholds(
            search, oof, y, sample_weight, X, pooled, metadata
        )
        self.fold_thresholds_ = fold_thresholds
        self.threshold_std_ = self._spread(fold_thresholds)
        warn_if_unsupported(
            self.objective,
            y == self.pos_label,
            oof.score,
            self.threshold_,
            fold_std=self.threshold_std_,
            odds_shift=shift,
            sample_weight=self.training_weights(y, sample_weight),
        )
        if self.store_cv_results:
            self.cv_results_ = {
                **pooled,
                **dict(zip(("tp", "fp", "tn", "fn"), pick.curve.counts, strict=True)),
                "fold_thresholds": fold_thresholds,
                "fold_curves": fold_curves,
                "fold_threshold_std": self.threshold_std_,
            }
        return self

    def _binary_totals(self, class_totals):
        """``(positive, negative)`` total weights from the classes' totals,
        on a binary target (the rest of many classes would be a new sum,
        in another order than the rows')."""
        if class_totals is None or len(self.classes) != 2:
            return None
        column = self.column
        return float(class_totals[column]), float(class_totals[1 - column])

    @staticmethod
    def _spread(fold_thresholds) -> float:
        return float(spread(fold_thresholds))

    def _fold_thresholds(
        self, search, oof, y, sample_weight, X, pooled_curve, metadata=None
    ):
        """Each fold's own best threshold and, when stored, its curve.

        A single fold is the pooled data itself: its search would repeat the
        pooled one (``cv="prefit"``, a float ``cv``), so its result is reused.
        """
        if np.all(oof.fold == oof.fold[0]):
            fold_curves = [pooled_curve] if self.store_cv_results else None
            return np.asarray([self.threshold_]), fold_curves
        return fold_searches(
            search,
            self.objective,
            y,
            oof,
            sample_weight,
            X,
            metadata,
            keep_curves=self.store_cv_results,
        )

    def scores(self, estimator, X):
        """The tuned class's scores of ``X``, compared with ``threshold_``, and
        on a multiclass target each row's best other class (else None)."""
        return positive_score(estimator, X, self.response_method, self.pos_label)

    def predict(self, estimator, X):
        score, alternative = self.scores(estimator, X)
        # Compared in float64, where every score type (float16, float32,
        # integers) is exact and the search took place: a float32 comparison
        # would round the cut to float32 first.
        called = np.asarray(score, dtype=np.float64) >= self.threshold_
        if alternative is not None:
            return np.where(called, self.pos_label, alternative)
        column = self.column
        negative, positive = labels = self.classes[[1 - column, column]]
        if self.classes.dtype.kind in "biu" and {negative, positive} == {0, 1}:
            # Labels 0 and 1 are the decision itself: casting it costs a
            # twentieth of any indexing (a tenth of the estimator's predict).
            if positive == 0:
                np.logical_not(called, out=called)
            return called.astype(self.classes.dtype)
        # Otherwise indexing a two-label table is the cheapest (np.where
        # with scalars costs about twice as much).
        return labels.take(called.view(np.uint8))

    def probabilities(self, estimator, X, method):
        """The calibrator's ``method`` on the tuned class's scores.

        The calibrator gives (other, tuned class) columns. For a binary target
        they are reordered as ``classes``. For a multiclass target the other
        classes share the first column in proportion to the estimator's
        probabilities (or the softmax of its decision function).
        """
        if self.calibrator_ is None:
            return self.inner(estimator, X, method)
        raw, column = response(estimator, X, self.response_method, self.pos_label)
        if len(self.classes) == 2:
            score = oriented_score(raw, column, self.classes)[0]
            if method == "predict_proba":
                # The scores come straight from the estimator: no second check.
                score = np.ascontiguousarray(score, dtype=float)
                two_columns = self.calibrator_._predict_proba(score, validate=False)
            else:
                two_columns = getattr(self.calibrator_, method)(score)
            # (other, tuned) reordered as classes, whatever the estimator's order.
            return two_columns if column == 1 else two_columns[:, ::-1]
        log = method == "predict_log_proba"
        two_columns = getattr(self.calibrator_, method.replace("_log", ""))(
            raw[:, column]
        )
        if self.response_method == "decision_function":
            raw = softmax(raw, axis=1)
        others = raw.astype(float, copy=True)
        others[:, column] = 0.0
        total = others.sum(axis=1, keepdims=True)
        # Rows where the estimator gives the other classes nothing: share evenly.
        share = np.divide(
            others,
            total,
            out=np.full_like(others, 1 / (others.shape[1] - 1)),
            where=total > 0,
        )
        share[:, column] = 0.0
        proba = share * two_columns[:, :1]
        proba[:, column] = two_columns[:, 1]
        if log:
            with np.errstate(divide="ignore"):
                return np.log(proba)
        return proba

    def decision_function(self, estimator, X):
        if self.calibrator_ is None:
            return self.inner(estimator, X, "decision_function")
        if len(self.classes) > 2:
            return self.probabilities(estimator, X, "predict_log_proba")
        log_odds = self.calibrator_.decision_function(self.scores(estimator, X)[0])
        return log_odds if self.column == 1 else -log_odds
