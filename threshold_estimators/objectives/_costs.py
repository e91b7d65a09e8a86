"""Cost matrices: the least expected cost of the decisions."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from ._base import Objective, _power_of_two, _ratio, cost_array


class CostMatrix(Objective):
    """Minimize the expected cost of the decisions.

    Parameters
    ----------
    matrix : array-like of shape (2, 2)
        ``matrix[i][j]`` is the cost of predicting class ``j`` when the truth is
        class ``i``, with classes in the order of ``classes_`` (sorted, as in
        :func:`sklearn.metrics.confusion_matrix`). Negative entries are gains.
        For each true class, the wrong decision must cost strictly more than the
        right one, otherwise no threshold is better than calling every sample
        the same class.

    Notes
    -----
    :meth:`score` returns the *negative* mean cost per unit of sample weight, so
    that greater is better, as for scikit-learn's ``neg_*`` scorers.

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators.objectives import CostMatrix
    >>> fraud = CostMatrix([[0, 1], [100, 0]])  # a missed fraud costs 100 alerts
    >>> fraud.score(tp=np.array([0, 9]), fp=np.array([0, 50]),
    ...             tn=np.array([90, 40]), fn=np.array([10, 1]))
    array([-10. ,  -1.5])
    """

    _parameter_constraints: dict = {"matrix": ["array-like"]}

    # Each mean cost is a sum of rounded products cost x count: equal costs in
    # exact arithmetic may differ by a few ulps once the matrix is rescaled.
    tie_ulps = 16

    def __init__(self, matrix):
        self.matrix = matrix

    def _validate(self):
        super()._validate()
        self._binary_costs()
        return self

    def _resolve(self, positive_index, n_classes):
        if n_classes > 2 and positive_index is not None:
            raise ValueError(
                f"A CostMatrix on a {n_classes}-class target applies to every "
                "class: leave pos_label=None for the k x k cost rule, or tune one "
                "class with F1, FBeta, PrecisionTarget, RecallTarget or a scorer."
            )
        objective = clone(self)
        if n_classes > 2:
            objective.matrix = objective.checked_matrix(n_classes)
            return objective
        objective._validate()
        if positive_index == 0:  # the positive class second, as the counts read
            objective.matrix = np.asarray(objective.matrix, dtype=float)[::-1, ::-1]
        return objective

    def checked_matrix(self, n_classes: int = 2) -> np.ndarray:
        """The matrix as floats for ``n_classes`` classes, or a ValueError
        stating the rule broken: the one place where a cost matrix is checked."""
        matrix = cost_array(self.matrix)
        if n_classes == 2:
            if matrix.shape != (2, 2):
                raise ValueError(
                    "CostMatrix needs a 2x2 matrix for a binary target (rows: true "
                    f"class, columns: predicted class); got shape {matrix.shape}."
                )
        elif matrix.shape == (2, 2):
            raise ValueError(
                "Only binary classification is supported with a 2x2 CostMatrix; y "
                f"has {n_classes} classes, so the matrix must be "
                f"{n_classes}x{n_classes}."
            )
        elif matrix.shape != (n_classes, n_classes):
            raise ValueError(
                f"CostMatrix needs a {n_classes}x{n_classes} matrix for {n_classes} "
                f"classes (rows: true class, columns: predicted class); got shape "
                f"{matrix.shape}."
            )
        if not np.all(np.isfinite(matrix)):
            raise ValueError(
                f"CostMatrix entries must be finite; got {matrix.tolist()}."
            )
        diagonal = np.diag(matrix)[:, None]
        off_diagonal = ~np.eye(n_classes, dtype=bool)
        wrong = matrix[off_diagonal]
        right = np.broadcast_to(diagonal, matrix.shape)[off_diagonal]
        if n_classes == 2 and not np.all(wrong > right):
            raise ValueError(
                "CostMatrix expresses no preference between thresholds: for each "
                "true class i the wrong prediction must cost more than the right "
                "one (matrix[i][j] > matrix[i][i] for j != i); got "
                f"{matrix.tolist()}."
            )
        if np.any(wrong < right) or np.all(matrix == diagonal):
            raise ValueError(
                "CostMatrix expresses no preference: for each true class i no wrong "
                "prediction may cost less than the right one (matrix[i][j] >= "
                "matrix[i][i]), and some must cost more; got "
                f"{matrix.tolist()}."
            )
        return matrix

    def _binary_costs(self):
        """Costs of (tn, fp, fn, tp), the positive class being ``classes_[1]``."""
        matrix = self.checked_matrix(2)
        return matrix[0, 0], matrix[0, 1], matrix[1, 0], matrix[1, 1]

    display_name = "cost per sample"

    def curve_label(self, values):
        return self.display_name, -np.asarray(values, dtype=float)

    def score(self, tp, fp, tn, fn):
        costs = np.array(self._binary_costs())
        # Costs are brought below 1 by a power of two (exact) and the mean cost
        # scaled back: no product or sum overflows, even at the float maximum.
        scale = _power_of_two(np.abs(costs).max())
        cost_tn, cost_fp, cost_fn, cost_tp = costs * scale
        total = tp + fp + tn + fn
        cost = cost_tn * tn + cost_fp * fp + cost_fn * fn + cost_tp * tp
        return -_ratio(cost, total) / scale
