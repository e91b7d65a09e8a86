"""Fitted decision rules: one small object per kind of decision.

``choose_rule`` is the one place that looks at the kind of target and
objective; everything after it asks the rule.

==================  ============================================  ===============
rule                decision                                      chosen for
==================  ============================================  ===============
``SingleCut``       ``score >= threshold_`` on one class          binary target,
                                                                  or ``pos_label=k``
``FixedCut``        the same, at the user's cut                   ``FixedThreshold``
``PerClassCuts``    the class clearing its own cut by the most    every class tuned
``CostRule``        least expected cost, with per-class offsets   k x k ``CostMatrix``
==================  ============================================  ===============
"""

from __future__ import annotations

import numpy as np

from ..objectives import AlertBudget, CostMatrix, FixedThreshold, Objective
from ._base import DecisionRule
from .cost_rule import CostRule
from .fixed_cut import FixedCut
from .per_class import PerClassCuts
from .single_cut import SingleCut

__all__ = [
    "CostRule",
    "DecisionRule",
    "FixedCut",
    "PerClassCuts",
    "SingleCut",
    "choose_rule",
    "is_binary_only",
]


def choose_rule(
    objective: Objective,
    *,
    classes: np.ndarray,
    pos_label,
    response_method: str,
    recalibrate: bool,
    store_cv_results: bool,
    estimator_name: str = "The estimator",
    class_ratio=None,
) -> DecisionRule:
    """The unfitted rule for this objective and target (``pos_label=None``:
    every class of a multiclass target is tuned), or a ValueError saying why
    none applies."""
    params = {
        "classes": classes,
        "pos_label": pos_label,
        "response_method": response_method,
        "recalibrate": recalibrate,
        "store_cv_results": store_cv_results,
        "class_ratio": class_ratio,
    }
    if pos_label is not None:
        if isinstance(objective, FixedThreshold):
            return FixedCut(objective, **params)
        return SingleCut(objective, **params)
    if isinstance(objective, (FixedThreshold, AlertBudget)):
        what = (
            "FixedThreshold gives the cut of one class"
            if isinstance(objective, FixedThreshold)
            else "AlertBudget limits the rows flagged as one class (per-class "
            "budgets would not hold once the classes compete for each row)"
        )
        raise ValueError(
            f"{what}: use it on a binary target or with pos_label=k; y has "
            f"{len(classes)} classes and pos_label=None."
        )
    if not isinstance(objective, CostMatrix):
        return PerClassCuts(objective, **params)
    if response_method != "predict_proba":
        raise ValueError(
            "The k x k cost rule needs predict_proba (expected costs are "
            f"probability-weighted); {estimator_name} gives {response_method}. "
            "Wrap it in CalibratedClassifierCV first."
        )
    if recalibrate:
        raise ValueError(
            "recalibrate=True is not available with the k x k cost rule, "
            "whose decision is not a threshold per class."
        )
    return CostRule(objective, **params)


def is_binary_only(objective, pos_label) -> bool:
    """Whether the constructor parameters admit only binary targets: a 2 x 2
    cost matrix, or a fixed cut with no class named to apply it to."""
    if isinstance(objective, (FixedThreshold, AlertBudget)):
        return pos_label is None
    matrix = getattr(objective, "matrix", None)
    return isinstance(objective, CostMatrix) and np.shape(matrix) == (2, 2)
