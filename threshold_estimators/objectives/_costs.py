"""Cost matrices: the least expected cost of the decisions, constant or per row."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.base import clone

from ._base import NoPreferenceError, Objective, _power_of_two, _ratio, cost_array
from ._cost_entries import per_row_cost, split_entries


class CostMatrix(Objective):
    """Minimize the expected cost of the decisions.

    Parameters
    ----------
    matrix : array-like of shape (2, 2) or (n_classes, n_classes)
        ``matrix[i][j]`` is the cost of predicting class ``j`` when the truth is
        class ``i``, with classes in the order of ``classes_`` (sorted, as in
        :func:`sklearn.metrics.confusion_matrix`). Negative entries are gains.
        For each true class, the wrong decision must cost strictly more than the
        right one, otherwise no threshold is better than calling every sample
        the same class.

        An entry may also be the *name* of a per-row cost, given to ``fit`` (or
        :func:`~threshold_estimators.pick_threshold`) as a keyword argument:
        ``CostMatrix([[0, 5], ["amount", 0]])`` with ``fit(X, y,
        amount=amount)`` means that a missed positive costs its row's amount.
        Per-row costs are used by the threshold search only (never passed to
        the estimator's ``fit``), multiplied by the sample weights, and searched
        exactly. For each row, a wrong decision must cost at least as much as
        the right one for its true class, and some row must prefer one.

    Attributes
    ----------
    metadata_names : tuple of str
        The names of the per-row costs the matrix reads (empty for numbers
        only). With scikit-learn's metadata routing enabled, the objective
        requests them itself.

    Notes
    -----
    :meth:`score` returns the *negative* mean cost per unit of sample weight, so
    that greater is better, as for scikit-learn's ``neg_*`` scorers. With
    per-row costs, the cost of every candidate threshold is a running sum of
    the flagged rows' costs from the top score down plus one of the others'
    from the lowest score up: the search stays exact over every distinct
    score, with no cancellation between costs of very different sizes. On
    many rows, bounds on buckets of scores first set aside the cuts that
    cannot be the cheapest, and only the others are sorted and evaluated.

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators.objectives import CostMatrix
    >>> fraud = CostMatrix([[0, 1], [100, 0]])  # a missed fraud costs 100 alerts
    >>> fraud.score(tp=np.array([0, 9]), fp=np.array([0, 50]),
    ...             tn=np.array([90, 40]), fn=np.array([10, 1]))
    array([-10. ,  -1.5])

    A missed fraud costs its amount, a false alarm 5:

    >>> from threshold_estimators import pick_threshold
    >>> y = np.array([0, 0, 1, 0, 1, 1])
    >>> scores = np.array([0.1, 0.3, 0.35, 0.4, 0.8, 0.9])
    >>> amount = np.array([10.0, 80.0, 4.0, 25.0, 300.0, 60.0])
    >>> by_amount = CostMatrix([[0, 5], ["amount", 0]])
    >>> by_amount.metadata_names
    ('amount',)
    >>> pick = pick_threshold(y, scores, by_amount, amount=amount)
    >>> print(f"cut {pick.threshold:.2f}, cost per row {-pick.score:.3f}")
    cut 0.60, cost per row 0.667

    (the fraud of 4.0 at 0.35 is not worth the alarm at 0.4 it would bring.)
    """

    _parameter_constraints: dict = {"matrix": ["array-like"]}

    # Each mean cost is a sum of rounded products cost x count: equal costs in
    # exact arithmetic may differ by a few ulps once the matrix is rescaled.
    tie_ulps = 16

    sums_are_costs = True

    def __init__(self, matrix):
        self.matrix = matrix

    def _validate(self):
        super()._validate()
        self._checked_entries(2)
        return self

    @property
    def count_directions(self):
        """A binary matrix of fixed costs, where each wrong call costs more
        than the right one, costs less with every true positive and more
        with every false positive: searched by bounds on buckets of counts.
        Per-row costs are summed over rows instead (``summed_rows``)."""
        if np.shape(self.matrix) != (2, 2) or self.metadata_names:
            return None
        return (1, -1)

    @property
    def metadata_names(self) -> tuple:
        _, names = split_entries(self.matrix)
        return () if names is None else tuple(sorted(set(names[names != None])))  # noqa: E711

    def _resolve(self, positive_index, n_classes):
        if n_classes > 2 and positive_index is not None:
            raise ValueError(
                f"A CostMatrix on a {n_classes}-class target applies to every "
                "class: leave pos_label=None for the k x k cost rule, or tune one "
                "class with F1, FBeta, PrecisionTarget, RecallTarget or a scorer."
            )
        objective = clone(self)
        numbers, names = objective._checked_entries(n_classes)
        if names is not None:
            numbers = np.where(names == None, numbers, names)  # noqa: E711
        if n_classes > 2:
            objective.matrix = numbers
            return objective
        objective._validate()
        if positive_index == 0:  # the positive class second, as the counts read
            objective.matrix = numbers[::-1, ::-1]
        return objective

    def _checked_entries(self, n_classes: int):
        """``(numbers, names)`` for ``n_classes`` classes (see
        :meth:`checked_matrix`); a number paired with a name is checked against
        the per-row values when they come (:meth:`row_costs`)."""
        numbers, names = split_entries(self.matrix)
        if names is None:
            return self.checked_matrix(n_classes), None
        self._check_shape(numbers.shape, n_classes)
        if not np.all(np.isfinite(numbers)):
            raise ValueError(
                f"CostMatrix entries must be finite; got {self._listed()}."
            )
        named = names != None  # noqa: E711
        right = np.broadcast_to(np.diag(numbers)[:, None], numbers.shape)
        both_numbers = ~named & ~np.broadcast_to(np.diag(named)[:, None], named.shape)
        if np.any(both_numbers & (numbers < right)):
            raise ValueError(
                "CostMatrix expresses no preference: for each true class i no wrong "
                "prediction may cost less than the right one (matrix[i][j] >= "
                f"matrix[i][i]); got {self._listed()}."
            )
        return numbers, names

    def _listed(self):
        matrix = self.matrix
        return matrix.tolist() if isinstance(matrix, np.ndarray) else matrix

    @staticmethod
    def _check_shape(shape, n_classes):
        if n_classes == 2:
            if shape != (2, 2):
                raise ValueError(
                    "CostMatrix needs a 2x2 matrix for a binary target (rows: true "
                    f"class, columns: predicted class); got shape {shape}."
                )
        elif shape == (2, 2):
            raise ValueError(
                "Only binary classification is supported with a 2x2 CostMatrix; y "
                f"has {n_classes} classes, so the matrix must be "
                f"{n_classes}x{n_classes}."
            )
        elif shape != (n_classes, n_classes):
            raise ValueError(
                f"CostMatrix needs a {n_classes}x{n_classes} matrix for {n_classes} "
                f"classes (rows: true class, columns: predicted class); got shape "
                f"{shape}."
            )

    def row_costs(self, metadata, truth) -> np.ndarray:
        """The cost of each decision for each row, shape (n_rows, n_classes).

        Row ``r`` of true class index ``truth[r]`` costs ``out[r, j]`` when
        predicted as class ``j``: the matrix's number, or the row's value of
        the per-row cost the entry names, taken from ``metadata``. Raises a
        ValueError for a missing or malformed per-row cost, or a row whose
        wrong decision costs less than the right one.
        """
        truth = np.asarray(truth, dtype=np.intp)
        numbers, names = split_entries(self.matrix)
        if names is None:
            return numbers[truth]
        columns = self._columns(metadata, truth.size)
        n_classes = numbers.shape[0]
        of_class = [truth == i for i in range(n_classes)]
        # Column by column (each contiguous): a few passes over the rows.
        costs = np.empty((truth.size, n_classes), order="F")
        right = np.empty(truth.size)
        for j in range(n_classes):
            np.take(numbers[:, j], truth, out=costs[:, j])
            for i in np.flatnonzero(names[:, j] != None):  # noqa: E711
                np.copyto(costs[:, j], columns[names[i, j]], where=of_class[i])
        for i in range(n_classes):
            np.copyto(right, costs[:, i], where=of_class[i])
        indifferent = True
        for j in range(n_classes):
            cheaper = costs[:, j] < right
            if cheaper.any():
                r = int(np.argmax(cheaper))
                self._refuse_a_wrong_preference(r, truth[r], j, costs[r, j], right[r])
            indifferent = indifferent and bool(np.all(costs[:, j] == right))
        if indifferent:
            self._refuse_no_preference()
        return costs

    def _refuse_a_wrong_preference(self, row, truth, wrong, wrong_cost, right_cost):
        raise ValueError(
            "CostMatrix costs must prefer the right decision: for each row, "
            "predicting a wrong class may not cost less than predicting its true "
            f"class; row {row} (true class index {truth}) costs {wrong_cost:.6g} as "
            f"class index {wrong} and {right_cost:.6g} as its own (per-row costs "
            f"{list(self.metadata_names)})."
        )

    def _refuse_no_preference(self):
        raise NoPreferenceError(
            "CostMatrix expresses no preference: on every row every decision costs "
            "the same, so no threshold is better than another (per-row costs "
            f"{list(self.metadata_names)})."
        )

    def _columns(self, metadata, n_rows: int) -> dict:
        """The per-row costs the matrix names, checked, as float arrays."""
        metadata = {} if metadata is None else metadata
        self.check_given(metadata)
        return {
            name: per_row_cost(name, metadata[name], n_rows)
            for name in self.metadata_names
        }

    def check_given(self, metadata: dict) -> None:
        """A ValueError naming the per-row costs ``metadata`` lacks."""
        missing = [name for name in self.metadata_names if name not in metadata]
        if missing:
            raise ValueError(
                f"CostMatrix reads the per-row costs {missing}, which were not "
                f"given: pass them as keyword arguments, e.g. fit(X, y, "
                f"{missing[0]}=...) or pick_threshold(..., {missing[0]}=...); got "
                f"{sorted(metadata) or 'no metadata'}."
            )

    def _binary_row_costs(self, metadata, positive, row_numbers=None):
        """Each row's cost if called negative and if called positive (the
        matrix oriented with the positive class second), checked as in
        :meth:`row_costs`: the binary case in a few passes over the rows
        (``row_numbers``: where they were among the rows given, for
        messages)."""
        columns = self._columns(metadata, positive.size)
        if_negative, if_positive = self.oriented_row_costs(columns, positive)
        saving = row_savings(if_negative, if_positive, positive)
        if saving.min() < 0:
            r = int(np.argmin(saving))
            right, wrong = (1, 0) if positive[r] else (0, 1)
            costs = (if_negative[r], if_positive[r])
            row = r if row_numbers is None else int(row_numbers[r])
            self._refuse_a_wrong_preference(
                row, right, wrong, costs[wrong], costs[right]
            )
        if not saving.max() > 0:
            self._refuse_no_preference()
        return if_negative, if_positive

    def for_rows(self, rows):
        """With per-row costs: a copy holding each row's weighted cost of being
        called positive and of being called negative, which the search sums
        over the rows above and under every candidate cut."""
        if not self.metadata_names:
            return self
        positive = np.asarray(rows.y) == rows.pos_label
        if_negative, if_positive = self._binary_row_costs(
            rows.metadata, positive, rows.row_numbers
        )
        low = min(if_negative.min(), if_positive.min())
        high = max(if_negative.max(), if_positive.max())
        weight = rows.sample_weight
        scales = RowCostScales.of(low, high, None if weight is None else weight.max())
        weight = scales.rescale(if_negative, if_positive, rows.sample_weight)
        total_weight = float(positive.size) if weight is None else weight.sum()
        bound = clone(self)
        bound.summed_rows = (if_positive, if_negative)
        gains = np.abs(if_positive).sum() + np.abs(if_negative).sum()
        return bound._bound(
            scales, total_weight, gains if low < 0 else None, positive.size
        )

    def _bound(self, scales, total_weight, gain_magnitude, n_rows):
        """The copy's attributes for its rescaled per-row cost sums (this
        objective's ``for_rows``, or the distributed search's sums)."""
        # With gains the sums may cancel: each cut's rounding is then bounded
        # relative to the total magnitude rather than to its own cost.
        self.gain_magnitude_ = gain_magnitude
        self.total_weight_ = total_weight
        self.cost_scale_ = scales.cost
        # Running sums of rounded per-row products: ties within their
        # rounding, relative to each cut's own cost (see ``_evaluate``).
        self.tie_ulps = type(self).tie_ulps + 4 * n_rows
        return self

    def oriented_row_costs(self, columns: dict, positive):
        """Each row's cost if called negative and if called positive (the
        matrix oriented with the positive class second), from the per-row
        cost ``columns`` (float arrays by name), unchecked."""
        numbers, names = split_entries(self.matrix)

        def entry(i, j):
            name = names[i, j]
            return numbers[i, j] if name is None else columns[name]

        if_negative = np.where(positive, entry(1, 0), entry(0, 0))
        if_positive = np.where(positive, entry(1, 1), entry(0, 1))
        return if_negative, if_positive

    def _evaluate(self, curve, counts, rows):
        if rows.sums is None:
            return None, self.score(*counts)
        above, below = rows.sums
        scale = self.total_weight_ * self.cost_scale_
        cost = above + below
        magnitude = cost if self.gain_magnitude_ is None else self.gain_magnitude_
        self.tie_magnitudes_ = np.broadcast_to(magnitude / scale, cost.shape)
        return None, -cost / scale

    def checked_matrix(self, n_classes: int = 2) -> np.ndarray:
        """The matrix as floats for ``n_classes`` classes, or a ValueError
        stating the rule broken: the one place where a cost matrix is checked."""
        matrix = cost_array(self.matrix)
        self._check_shape(matrix.shape, n_classes)
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
        if self.metadata_names:
            raise ValueError(
                f"CostMatrix with per-row costs {list(self.metadata_names)} is "
                "evaluated on rows, with those costs given to fit or pick_threshold; "
                "it has no value on counts alone."
            )
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


def row_savings(if_negative, if_positive, positive):
    """What the right decision saves on each row: never negative, and
    positive somewhere, for a matrix that expresses a preference."""
    saving = if_negative - if_positive
    np.negative(saving, out=saving, where=~positive)
    return saving


class RowCostScales(NamedTuple):
    """Powers of two (exact) that bring the per-row costs and the weights
    below 1, so that no product or sum overflows; the mean cost is scaled
    back by ``cost``."""

    cost: float
    weight: float | None

    @classmethod
    def of(cls, low, high, largest_weight) -> RowCostScales:
        """From the least and greatest per-row cost and the largest weight
        (None: unweighted) of the rows searched."""
        weight = None if largest_weight is None else _power_of_two(largest_weight)
        return cls(_power_of_two(max(high, -low)), weight)

    def rescale(self, if_negative, if_positive, sample_weight):
        """Rescale the costs in place, weighted; return the rescaled weights."""
        if_positive *= self.cost
        if_negative *= self.cost
        if sample_weight is None:
            return None
        weight = sample_weight * self.weight
        if_positive *= weight
        if_negative *= weight
        return weight
