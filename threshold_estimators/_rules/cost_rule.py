"""The k x k cost rule: expected costs of tempered probabilities, and offsets."""

from __future__ import annotations

from .._folds import response
from .._multiclass import cost_decision, select_cost_rule
from ._base import DecisionRule


class CostRule(DecisionRule):
    """A sample goes to ``argmin_k (E_k - threshold_[k])``.

    ``E = softmax(log(predict_proba) / cost_temperature_) @ matrix`` are the
    expected costs under probabilities recalibrated by a temperature fitted on
    the out-of-fold log-loss. The offsets ``threshold_`` are zero (plug-in
    Bayes) unless offsets fitted on other folds cost significantly less on each
    held-out fold; ``cost_rule_`` says which rule was kept (see
    :func:`~threshold_estimators._multiclass.select_cost_rule`).
    """

    def fit(self, oof, y, sample_weight, X):
        y_index = self.classes.searchsorted(y)
        rule, offsets, temperature, cost = select_cost_rule(
            self.objective.matrix, y_index, oof.score, sample_weight, oof.fold
        )
        self.threshold_, self.best_score_ = offsets, -cost
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
        decision = cost_decision(
            self.objective.matrix, raw, self.cost_temperature_, self.threshold_
        )
        return self.classes[decision]
