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

There are two kinds, each with one entry point for the search (``_evaluate``):
**count objectives** (every class here but :class:`ScorerObjective`) are
functions of the counts, evaluated at every candidate by :meth:`Objective.score`;
**row objectives** (:class:`ScorerObjective`) need the rows themselves and are
evaluated at a bounded subset of candidates. :class:`FixedThreshold` is a count
objective whose cut is given rather than searched (``fixed_cut``). Each objective
also names itself for displays (``display_name``, ``curve_label``,
``target_line``), so no caller needs to know its type.

Objectives are small scikit-learn style objects (``get_params`` / ``set_params``),
so ``objective__min_precision`` can be searched by ``GridSearchCV``.
"""

from ._base import InfeasibleTargetError, Objective
from ._budget import AlertBudget
from ._costs import CostMatrix
from ._fscores import F1, FBeta, FixedThreshold
from ._scorer import ScorerObjective
from ._targets import PrecisionTarget, RecallTarget

__all__ = [
    "F1",
    "AlertBudget",
    "CostMatrix",
    "FBeta",
    "FixedThreshold",
    "InfeasibleTargetError",
    "Objective",
    "PrecisionTarget",
    "RecallTarget",
    "ScorerObjective",
]

# The public classes live in submodules but are known by this module's name:
# their pickles, skops type names and documentation read
# ``threshold_estimators.objectives.F1`` whatever the file layout.
for _public in (
    F1,
    AlertBudget,
    CostMatrix,
    FBeta,
    FixedThreshold,
    InfeasibleTargetError,
    Objective,
    PrecisionTarget,
    RecallTarget,
    ScorerObjective,
):
    _public.__module__ = __name__
del _public
