"""The k x k cost rule: expected costs of tempered probabilities, and offsets."""

from __future__ import annotations

import numpy as np

from .._folds import response
from .._multiclass import class_mean_costs, cost_decision, select_cost_rule
from ._base import DecisionRule


class CostRule(DecisionRule):
    """A sample goes to ``argmin_k (E_k - threshold_[k])``.

    ``E = softmax(log(predict_proba) / cost_temperature_) @ matrix`` are the
    expected costs under probabilities recalibrated by a temperature fitted on
    the out-of-fold log-loss. The offsets ``threshold_`` are zero (plug-in
    Bayes) unless offsets fitted on other folds cost significantly less on each
    held-out fold; ``cost_rule_`` says which rule was kept (see
    :func:`~threshold_estimators._multiclass.select_cost_rule`).

    With per-row costs, ``E`` uses their mean per true class (``matrix_``):
    a new row's costs are unknown when it is decided; the offsets and the
    reported cost are fitted on the rows' own costs.
    """

    # The matrix of the expected costs: the objective's, or with per-row
    # costs their per-class mean (None: fitted before per-row costs).
    matrix_ = None

    def fit(self, oof, y, sample_weight, X, metadata=None, *, class_totals=None):
        y_index = self.classes.searchsorted(y)
        realized = self.objective.row_costs(metadata, y_index)
        self.matrix_ = (
            class_mean_costs(realized, y_index, sample_weight)
            if self.objective.metadata_names
            else self.objective.checked_matrix(len(self.classes))
        )
        if self.class_ratio is not None:
            # Bayes' prior correction: probabilities at the training balance
            # times each class's ratio, folded into the rows of the matrix
            # (the expected costs change by a common positive factor only).
            self.matrix_ = self.matrix_ * self.class_ratio[:, None]
        rule, offsets, temperature, cost = select_cost_rule(
            self.matrix_, y_index, oof.score, sample_weight, oof.fold, realized
        )
        self.threshold_, self.best_score_ = offsets, -cost
        self.score_dtype_ = np.dtype(oof.dtype).name
        self.cost_rule_, self.cost_temperature_ = rule, temperature
        if self.store_cv_results:
            self.cv_results_ = {
                "class_offsets": offsets,
                "cost": cost,
                "rule": rule,
                "temperature": temperature,
            }
        return self

    def predict(self, estimator, X):
        raw, _ = response(estimator, X, self.response_method, None)
        matrix = self.objective.matrix if self.matrix_ is None else self.matrix_
        decision = cost_decision(matrix, raw, self.cost_temperature_, self.threshold_)
        return self.classes[decision]
