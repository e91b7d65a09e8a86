"""What every fitted decision rule has: the fitted state and the inner outputs.

A rule is fitted once, at ``ThresholdTunedClassifier.fit``, from the pooled
out-of-fold scores, and then applies its decision to the fitted estimator's
outputs. It owns what the decision needs (cuts, calibrators, offsets), its
``cv_results_`` and its fold statistics; the estimator keeps the parameters,
the validation, the routing and the out-of-fold scoring, and delegates.
"""

from __future__ import annotations

import numpy as np

from .._folds import in_sorted_order
from .._prevalence import odds_shift


class DecisionRule:
    """Base of the fitted decision rules.

    Parameters
    ----------
    objective : Objective
        The resolved objective the rule is fitted for.
    classes : ndarray
        The sorted class labels.
    pos_label : object or None
        The tuned class; None when every class is.
    response_method : str
        The estimator's method whose output the rule reads.
    recalibrate : bool
        Whether to fit calibrators on the out-of-fold scores.
    store_cv_results : bool
        Whether to keep ``cv_results_`` (the whole out-of-fold curves).

    Attributes
    ----------
    threshold_, best_score_, threshold_std_, calibrator_, cv_results_,
    cost_rule_, cost_temperature_
        As the fitted attributes of the same names of
        :class:`~threshold_estimators.ThresholdTunedClassifier`, which reads
        them from its rule; ``cv_results_`` is None unless stored.
    """

    # The name of the type of the scores the rule was fitted on (the
    # estimator's own; threshold_ is a value of it): a string, which skops
    # loads without a type to trust. A class attribute: rules fitted before
    # it was kept read float64 scores.
    score_dtype_ = "float64"

    def __init__(
        self,
        objective,
        *,
        classes,
        pos_label,
        response_method: str,
        recalibrate: bool,
        store_cv_results: bool,
        class_ratio=None,
    ):
        self.objective = objective
        self.classes = classes
        self.pos_label = pos_label
        self.response_method = response_method
        self.recalibrate = recalibrate
        self.store_cv_results = store_cv_results
        # With a prevalence: each class's new over its training proportion,
        # by which its rows' weights were multiplied (None: no prevalence).
        self.class_ratio = class_ratio
        self.calibrator_ = None
        self.threshold_std_ = None
        self.cv_results_ = None
        self.cost_rule_ = None
        self.cost_temperature_ = None

    def training_weights(self, y, sample_weight):
        """The weights at the training class balance: a prevalence's
        reweighting undone (calibrators are fitted at that balance, then
        their intercept moved by the log of :meth:`odds_shifts`)."""
        if self.class_ratio is None:
            return sample_weight
        return sample_weight / self.class_ratio[self.classes.searchsorted(y)]

    def odds_shifts(self, y, sample_weight) -> np.ndarray | None:
        """The factor by which a prevalence multiplies the odds of each class
        against the rest (see ``_prevalence.odds_shift``); None without a
        prevalence. Its log, added to a calibrated posterior's intercept, is
        Bayes' prior correction."""
        if self.class_ratio is None:
            return None
        weight = self.training_weights(y, sample_weight)
        index = self.classes.searchsorted(y)
        training = np.bincount(index, weights=weight, minlength=len(self.classes))
        return np.array(
            [odds_shift(self.class_ratio, training, k) for k in range(training.size)]
        )

    @property
    def score_kind(self) -> str:
        """What the calibrators read: probabilities or decision values."""
        return "probability" if self.response_method == "predict_proba" else "decision"

    def fit(self, oof, y, sample_weight, X, metadata=None, *, class_totals=None):
        """Fit the decision on out-of-fold scores.

        Parameters
        ----------
        oof : OutOfFold
            The pooled out-of-fold scores (see ``_folds``).
        y, sample_weight : ndarray
            The labels and weights (or None) of the out-of-fold rows.
        X : array-like or None
            The out-of-fold rows, for objectives evaluated on rows; else None.
        metadata : dict or None
            Per-row metadata of the out-of-fold rows for the objective (its
            per-row costs, or a scorer's routed parameters); None: none routed.
        class_totals : ndarray of shape (n_classes,) or None
            Each class's total ``sample_weight``, summed over these rows in
            their order, when the caller has it already (its weights'
            check sums it); a rule may use it rather than sum again. None:
            not known, or no weights.
        """
        raise NotImplementedError

    def predict(self, estimator, X) -> np.ndarray:
        """The labels the rule gives the rows ``X`` scored by ``estimator``."""
        raise NotImplementedError

    def probabilities(self, estimator, X, method: str) -> np.ndarray:
        """``predict_proba``, ``predict_log_proba`` or
        ``predict_posterior_proba``: recalibrated, or the estimator's own."""
        return self.inner(estimator, X, method)

    def decision_function(self, estimator, X) -> np.ndarray:
        """Operating log-odds when recalibrated, else the estimator's own."""
        return self.inner(estimator, X, "decision_function")

    @staticmethod
    def inner(estimator, X, method: str) -> np.ndarray:
        """The estimator's own ``method``, columns in sorted class order."""
        return in_sorted_order(getattr(estimator, method)(X), estimator.classes_)
