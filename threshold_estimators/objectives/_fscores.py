"""F-scores: F1, F-beta, and F1 at a cut the user gives."""

from __future__ import annotations

import copy
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import _EPSILON, Objective, _ratio


class F1(Objective):
    """F1 score of the positive class: ``2 tp / (2 tp + fp + fn)``.

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators.objectives import F1
    >>> F1().score(tp=np.array([0, 3]), fp=np.array([0, 1]),
    ...            tn=np.array([5, 4]), fn=np.array([4, 1]))
    array([0.  , 0.75])
    """

    display_name = "F1"
    count_directions = (1, -1)

    def score(self, tp, fp, tn, fn):
        twice_tp = 2 * tp
        return _ratio(twice_tp, twice_tp + fp + fn)


class FBeta(Objective):
    """F-beta score of the positive class.

    ``(1 + beta²) tp / ((1 + beta²) tp + beta² fn + fp)``: ``beta > 1`` weighs
    recall more, ``beta < 1`` weighs precision more.

    Parameters
    ----------
    beta : float, default=1.0
        Weight of recall relative to precision; must be positive.

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators.objectives import FBeta
    >>> FBeta(beta=2).score(tp=np.array([3]), fp=np.array([1]),
    ...                     tn=np.array([4]), fn=np.array([1]))
    array([0.75])
    """

    _parameter_constraints: dict = {"beta": [Interval(Real, 0, None, closed="neither")]}

    count_directions = (1, -1)

    def __init__(self, beta: float = 1.0):
        self.beta = beta

    @property
    def display_name(self) -> str:
        return f"F-beta (beta={self.beta:g})"

    # Above this beta**2, (1 + beta**2) * tp could overflow: the score is then
    # computed divided through by 1 + beta**2 (the same value, other roundings).
    _LARGE_BETA2 = 1e100

    def score(self, tp, fp, tn, fn):
        beta = float(self.beta)
        if beta * beta <= self._LARGE_BETA2:
            beta2 = beta**2
            return _ratio((1 + beta2) * tp, (1 + beta2) * tp + beta2 * fn + fp)
        # tp / (tp + w fn + (1 - w) fp) with w = beta² / (1 + beta²), which
        # rounds to 1 here (the score is the recall, up to fp / beta²).
        inverse2 = (1 / beta) ** 2
        tp = np.asarray(tp, dtype=float)
        return _ratio(tp, tp + fn / (1 + inverse2) + fp * inverse2 / (1 + inverse2))

    # The score takes a few roundings, in which an extreme beta's second-order
    # term can vanish: scores this close are re-ranked by the exact key below.
    tie_ulps = 4

    # Weighted counts are sums of this many rows' weights, each sum rounded
    # once a row (see ``for_rows``); None: not bound to rows.
    _summed_rows = None

    def for_rows(self, rows):
        """A copy that knows how many weighted rows its counts sum: the
        tie-break's cross products inherit their rounding."""
        if rows.sample_weight is None:
            return self
        bound = copy.copy(self)
        bound._summed_rows = int(np.shape(rows.y)[0])
        return bound

    def _rounding(self) -> float:
        """Ulps, of the cross products' magnitude, within which a difference
        of weighted counts' cross products is rounding: their own (8), and
        the counts' (a sequential sum of ``m`` rows errs by up to ``m``
        ulps of its terms' total, in each of the two counts of a product)."""
        return 8.0 + 4.0 * (self._summed_rows or 0)

    def tiebreak(self, tp, fp, tn, fn):
        """The exact order among scores equal to rounding.

        F-beta is ``1 / (1 + Q)`` with ``Q = (beta² fn + fp) / ((1 + beta²) tp)``.
        Against the best-scoring candidate ``r``, ``Q_r - Q_i`` is computed from
        the cross products ``fp_r tp_i - fp_i tp_r`` and ``fn_r tp_i - fn_i tp_r``,
        exact for integer counts: a key accurate to its own last digit, where
        the score loses ``beta²``'s term below the float resolution (e.g. at
        equal precision a tiny beta still prefers the higher recall).
        """
        tp, fp, fn = (np.asarray(c, dtype=float) for c in (tp, fp, fn))
        score = self.score(tp, fp, tn, fn)
        r = int(np.argmax(score))
        if not tp[r] > 0:
            return super().tiebreak(tp, fp, tn, fn)
        beta = float(self.beta)
        # Q_r - Q_i, times tp_i tp_r, is major + weight * minor (major: the false
        # positives' cross product for beta <= 1; divided through by beta² else).
        positives = (fp[r] * tp, fp * tp[r])
        negatives = (fn[r] * tp, fn * tp[r])
        if beta <= 1:
            (major_terms, minor_terms), weight = (positives, negatives), beta * beta
        else:
            (major_terms, minor_terms), weight = (negatives, positives), 1 / beta / beta
        major = major_terms[0] - major_terms[1]
        minor = minor_terms[0] - minor_terms[1]
        # Exact counts round only the key's own arithmetic; weighted ones
        # carry their sums' rounding into every cross product.
        weighted = not all(np.array_equal(c, np.round(c)) for c in (tp, fp, fn))
        ulps = self._rounding() if weighted else 8.0
        if weighted:
            # Differences within the cross products' rounding are ties, as
            # for the scores themselves.
            for difference, terms in ((major, major_terms), (minor, minor_terms)):
                rounding = ulps * _EPSILON * (np.abs(terms[0]) + np.abs(terms[1]))
                difference[np.abs(difference) <= rounding] = 0.0
        scale = tp * tp[r]
        with np.errstate(divide="ignore", invalid="ignore"):
            major, minor = major / scale, minor / scale
        scored = tp > 0
        major[~scored] = -np.inf
        nonzero = np.abs(major[scored & (major != 0)])
        gap = nonzero.min() if nonzero.size else np.inf
        if weight * np.abs(minor[scored]).max(initial=0.0) < gap / 4:
            # The weighted minor term can never outweigh a major difference (and
            # may underflow): order by the major term, then the minor one.
            return _lexicographic_rank(major, minor)
        key = major + weight * minor
        # A tie in exact arithmetic (the two terms cancel) leaves the rounding
        # of the weighted term: within it, the candidates tie.
        cancelled = np.abs(key) <= ulps * _EPSILON * (
            np.abs(major) + weight * np.abs(minor)
        )
        key[cancelled] = 0.0
        key[~scored] = -np.inf
        return key


def _lexicographic_rank(major, minor):
    """Dense ranks of the pairs (major, minor), greater pairs ranking higher."""
    order = np.lexsort((minor, major))
    pairs = np.stack([major[order], minor[order]])
    new = np.concatenate(([True], np.any(pairs[:, 1:] != pairs[:, :-1], axis=0)))
    rank = np.empty(major.size)
    rank[order] = np.cumsum(new)
    rank[~np.isfinite(major)] = -np.inf
    return rank


class FixedThreshold(Objective):
    """A cut given by the user: no search (scikit-learn's
    :class:`~sklearn.model_selection.FixedThresholdClassifier` case).

    ``ThresholdTunedClassifier(model, objective=FixedThreshold(0.25))`` calls a
    sample positive when its score is ``>= 0.25``. Fitting still produces
    out-of-fold scores, which give the decision's out-of-fold F1
    (``best_score_``), precision and recall, and, with ``recalibrate=True``,
    the piecewise logistic fitted around the cut, so that probabilities read
    0.5 at it. Binary targets and one class of a multiclass target
    (``pos_label=k``).

    Parameters
    ----------
    threshold : float
        The cut on the tuned class's score (``predict_proba`` column, or
        ``decision_function`` value); any finite number.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from threshold_estimators import ThresholdTunedClassifier
    >>> from threshold_estimators.objectives import FixedThreshold
    >>> X, y = make_classification(n_samples=500, random_state=0)
    >>> model = ThresholdTunedClassifier(
    ...     LogisticRegression(), objective=FixedThreshold(0.25), recalibrate=True
    ... ).fit(X, y)
    >>> model.threshold_
    0.25
    >>> bool((model.predict(X) == (model.predict_proba(X)[:, 1] >= 0.5)).all())
    True
    """

    _parameter_constraints: dict = {"threshold": [Real]}

    def __init__(self, threshold: float):
        self.threshold = threshold

    def _validate(self):
        super()._validate()
        if isinstance(self.threshold, (bool, np.bool_)) or not np.isfinite(
            self.threshold
        ):
            raise ValueError(
                "FixedThreshold needs a finite number, the cut on the tuned "
                f"class's score; got {self.threshold!r}."
            )
        return self

    # F1 at the cut is what a fixed cut reports.
    score = F1.score

    def fixed_cut(self) -> float:
        return float(self.threshold)

    @property
    def display_name(self) -> str:
        return f"F1 at the fixed cut {self.threshold:g}"
