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

Objectives are small scikit-learn style objects (``get_params`` / ``set_params``),
so ``objective__min_precision`` can be searched by ``GridSearchCV``.
"""

from __future__ import annotations

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.stats import beta as beta_distribution
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = [
    "F1",
    "CostMatrix",
    "FBeta",
    "InfeasibleTargetError",
    "Objective",
    "PrecisionTarget",
    "RecallTarget",
    "ScorerObjective",
]

# Relative tolerance used when comparing a ratio of float counts with a target,
# so that e.g. 19 / 20 >= 0.95 holds despite rounding in weighted cumulative sums.
_RATIO_TOL = 1e-12
_EPSILON = np.finfo(float).eps


class InfeasibleTargetError(ValueError):
    """No threshold satisfies a precision or recall target."""


def _ratio(numerator, denominator, *, undefined=0.0):
    """``numerator / denominator`` with ``undefined`` where the denominator is 0."""
    numerator, denominator = np.asarray(numerator), np.asarray(denominator)
    out = np.empty(np.broadcast_shapes(numerator.shape, denominator.shape))
    # Divide everywhere, then overwrite the few undefined entries: a masked
    # divide (``where=``) costs about twice as much on a million candidates.
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(numerator, denominator, out=out)
    out[np.broadcast_to(~(denominator > 0), out.shape)] = undefined
    return out


def _power_of_two(magnitude: float) -> float:
    """A power of two bringing ``magnitude`` into [0.5, 1): an exact rescaling."""
    if not np.isfinite(magnitude) or magnitude <= 0:
        return 1.0
    # Capped at 2**1023, the largest power of two: a subnormal magnitude then
    # comes up to at least 2**-52 rather than to an infinite factor.
    return float(np.ldexp(1.0, min(-int(np.frexp(magnitude)[1]), 1023)))


def cost_array(matrix) -> np.ndarray:
    """A cost matrix as a 2-D float array, or a ValueError saying why it is not.

    Its largest entry must be a normal float (at least about 2.2e-308 in
    magnitude): below that, costs lose their relative precision and equal
    decisions could no longer be told apart from better ones.
    """
    try:
        array = np.asarray(matrix, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            "CostMatrix needs a square matrix of numbers, as equal-length rows "
            f"(rows: true class, columns: predicted class); got {matrix!r}."
        ) from None
    if array.ndim != 2:
        raise ValueError(
            "CostMatrix needs a 2-D matrix (rows: true class, columns: predicted "
            f"class); got an array of shape {array.shape}."
        )
    largest = np.abs(array).max(initial=0.0)
    if 0 < largest < np.finfo(float).tiny:
        raise ValueError(
            "CostMatrix entries are all below the smallest normal float, "
            f"{np.finfo(float).tiny:.3g}, in magnitude (largest {largest:.3g}); "
            "multiply them all by the same factor: only their ratios matter."
        )
    return array


def precision_recall(tp, fp, tn, fn):
    """Precision and recall of each candidate; precision is NaN with no positive call.

    Parameters
    ----------
    tp, fp, tn, fn : ndarray of shape (n_candidates,)
        Weighted confusion counts.

    Returns
    -------
    precision, recall : ndarray of shape (n_candidates,)
    """
    return _ratio(tp, tp + fp, undefined=np.nan), _ratio(tp, tp + fn)


class Objective(BaseEstimator):
    """Base class of the objectives evaluated on confusion counts.

    Subclasses implement :meth:`score`; constrained objectives also override
    :meth:`feasible`, :meth:`tiebreak` and :meth:`fallback`.
    """

    _parameter_constraints: dict = {}

    # Scores this many ulps (of the largest score) apart are ties on exact
    # counts. Ratios of integer counts are compared exactly; an objective whose
    # scores are rounded products of parameters the user may rescale (costs)
    # needs a tolerance, or rescaling could move the cut between equal costs.
    tie_ulps: int = 0

    def score(self, tp, fp, tn, fn) -> np.ndarray:
        """Objective value of each candidate (greater is better)."""
        raise NotImplementedError

    def feasible(self, tp, fp, tn, fn) -> np.ndarray:
        """Boolean mask of the candidates that satisfy the objective's constraint."""
        return np.ones(np.shape(tp), dtype=bool)

    def tiebreak(self, tp, fp, tn, fn) -> np.ndarray:
        """Secondary key among equal scores (greater is preferred).

        The default prefers nothing; the search then keeps the highest threshold,
        i.e. the fewest positive calls.
        """
        return np.zeros(np.shape(tp))

    def fallback(self, tp, fp, tn, fn) -> int:
        """Index to use when no candidate is feasible, or raise ``ValueError``."""
        raise InfeasibleTargetError(f"No threshold satisfies {self!r}.")

    @property
    def needs_sample_sizes(self) -> bool:
        """Whether weighted counts must become effective sample sizes first.

        Ratios of counts do not depend on the scale of the weights; a
        confidence bound does, so it reads :meth:`effective_counts`.
        """
        return False

    def effective_counts(self, counts, squared_counts):
        """The counts to evaluate, from weighted counts and squared-weight counts.

        Parameters
        ----------
        counts : tuple of 4 ndarrays
            ``tp, fp, tn, fn`` as sums of the weights.
        squared_counts : tuple of 4 ndarrays
            The same sums of the squared weights.
        """
        return counts

    def for_rows(self, y, y_score, sample_weight, alternative, pos_label):
        """The objective as evaluated on these rows; itself by default.

        An objective whose value depends on more than the tuned class's counts
        (the labels that rows below the cut receive) returns a copy that holds
        what it needs of the rows, aligned with the candidates of their curve.
        """
        return self

    def _validate(self) -> Objective:
        self._validate_params()
        return self


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

    def __init__(self, beta: float = 1.0):
        self.beta = beta

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
        if not all(np.array_equal(c, np.round(c)) for c in (tp, fp, fn)):
            # Weighted counts: the cross products are rounded, so differences
            # within their rounding are ties, as for the scores themselves.
            for difference, terms in ((major, major_terms), (minor, minor_terms)):
                rounding = 8 * _EPSILON * (np.abs(terms[0]) + np.abs(terms[1]))
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
        cancelled = np.abs(key) <= 8 * _EPSILON * (
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


class _RateTarget(Objective):
    """Maximize one rate subject to a lower bound on the other.

    Without ``confidence`` a candidate is feasible when its out-of-fold rate
    reaches the target. With ``confidence = 1 - alpha`` the rate is replaced by
    its one-sided Clopper–Pearson lower bound, and ``selection`` says which
    candidates may be selected (see :class:`PrecisionTarget`). The counts reach
    :meth:`feasible` in curve order: decreasing threshold, so increasing number
    of positive calls.
    """

    _parameter_constraints: dict = {
        # Below 0.5 the "lower" bound would sit above the estimate.
        "confidence": [Interval(Real, 0.5, 1, closed="left"), None],
        "selection": [StrOptions({"pointwise", "fixed_sequence", "bonferroni"})],
        "on_infeasible": [StrOptions({"raise", "warn"})],
    }
    _constrained = ""  # "precision" or "recall": the rate bounded from below
    _target_param = ""
    # Candidates examined by selection="bonferroni": a grid fixed by the
    # number of calls, so it depends on the scores only, not the labels.
    _BONFERRONI_GRID = 20

    def _rates(self, tp, fp, tn, fn):
        """(constrained rate, maximized rate)."""
        precision, recall = precision_recall(tp, fp, tn, fn)
        if self._constrained == "precision":
            return precision, recall
        return recall, precision

    def _trials(self, tp, fp, tn, fn):
        """The denominator of the constrained rate."""
        tp = np.asarray(tp, dtype=float)
        return tp + (fp if self._constrained == "precision" else fn)

    @property
    def needs_sample_sizes(self) -> bool:
        return self.confidence is not None

    def effective_counts(self, counts, squared_counts):
        """Counts rescaled to Kish's effective sample size of the bounded rate.

        The rows behind the bounded rate's denominator (the positive calls for
        precision, the positives for recall) hold ``n_eff = (Σw)² / Σw²`` rows'
        worth of information, so all four counts are multiplied by
        ``Σw / Σw²`` of those rows: every rate is unchanged, the bound's number
        of trials becomes ``n_eff``, the bound no longer depends on the scale
        of the weights, and unit weights give the plain counts.
        """
        tp, fp, tn, fn = (np.asarray(c, dtype=float) for c in counts)
        tp2, fp2, _, fn2 = (np.asarray(c, dtype=float) for c in squared_counts)
        if self._constrained == "precision":
            weight, squared = tp + fp, tp2 + fp2
        else:
            weight, squared = tp + fn, tp2 + fn2
        scale = _ratio(weight, squared)
        return tp * scale, fp * scale, tn * scale, fn * scale

    def lower_bound(self, tp, fp, tn, fn, *, alpha=None) -> np.ndarray:
        """One-sided Clopper–Pearson lower bound of the constrained rate.

        ``beta.ppf(alpha, k, n - k + 1)`` with ``k = tp`` successes out of
        ``n`` trials (``tp + fp`` for precision, ``tp + fn`` for recall), and 0
        where ``k = 0``. The search passes weighted counts through
        :meth:`effective_counts` first (Kish's effective sample size), so that
        the bound does not depend on the scale of the weights.

        Parameters
        ----------
        tp, fp, tn, fn : ndarray of shape (n_candidates,)
            Weighted confusion counts.
        alpha : float, default=None
            One minus the confidence; ``1 - confidence`` when None.

        Returns
        -------
        bound : ndarray of shape (n_candidates,)
        """
        if alpha is None:
            if self.confidence is None:
                raise ValueError(
                    "lower_bound needs confidence (or alpha); got confidence=None."
                )
            alpha = 1 - self.confidence
        successes = np.asarray(tp, dtype=float)
        trials = self._trials(tp, fp, tn, fn)
        bound = np.zeros(np.broadcast(successes, trials).shape)
        some = successes > 0
        bound[some] = beta_distribution.ppf(
            alpha, successes[some], trials[some] - successes[some] + 1
        )
        return bound

    @staticmethod
    def _perfect_record_trials(alpha, target):
        """Fewest trials where a perfect record clears the bound at ``alpha``:
        ``alpha ** (1 / n) >= target``, i.e. ``n >= log(alpha) / log(target)``."""
        return np.log(alpha) / np.log(target) if target < 1 else np.inf

    def _bounded_rate(self, tp, fp, tn, fn):
        """What the target is compared with: the rate, or its lower bound."""
        if self.confidence is None:
            return self._rates(tp, fp, tn, fn)[0]
        return self.lower_bound(tp, fp, tn, fn)

    def score(self, tp, fp, tn, fn):
        maximized = self._rates(tp, fp, tn, fn)[1]
        return np.nan_to_num(maximized, nan=0.0)

    def feasible(self, tp, fp, tn, fn):
        target = getattr(self, self._target_param)
        if self.confidence is None or self.selection == "pointwise":
            # NaN precision (no positive call) is never feasible.
            return (self._bounded_rate(tp, fp, tn, fn) >= target * (1 - _RATIO_TOL)) & (
                np.asarray(tp) > 0
            )
        if self.selection == "bonferroni":
            return self._bonferroni_feasible(tp, fp, tn, fn, target)
        return self._fixed_sequence_feasible(tp, fp, tn, fn, target)

    def _fixed_sequence_feasible(self, tp, fp, tn, fn, target):
        """Candidates passing every test from the conservative end up to them.

        The tests run in a fixed order, from the fewest positive calls
        (precision) or the most (recall), each at level alpha; the first
        failure stops the sequence. The sequence starts at the first candidate
        where a perfect record could clear the bound (``alpha ** (1 / n) >=
        target``, i.e. ``n >= log(alpha) / log(target)`` trials), so that
        the few top-ranked samples, which cannot pass, do not stop it at once.
        """
        alpha = 1 - self.confidence
        passes = self.lower_bound(tp, fp, tn, fn) >= target * (1 - _RATIO_TOL)
        trials = self._trials(tp, fp, tn, fn)
        needed = self._perfect_record_trials(alpha, target)
        if self._constrained == "recall":
            # Recall is bounded best with every sample called positive: test
            # from the lowest threshold upwards.
            passes, trials = passes[::-1], trials[::-1]
        started = trials >= needed * (1 - _RATIO_TOL)
        if not started.any():
            return np.zeros(passes.shape, dtype=bool)
        first = int(np.argmax(started))
        feasible = np.zeros(passes.shape, dtype=bool)
        feasible[first:] = np.logical_and.accumulate(passes[first:])
        return feasible[::-1] if self._constrained == "recall" else feasible

    def _bonferroni_feasible(self, tp, fp, tn, fn, target):
        """Grid candidates whose bound at ``alpha / grid size`` clears the target.

        The grid is fixed by the number of trials alone, never the labels: for
        precision, geometrically spaced numbers of positive calls, from the
        fewest where a perfect record could clear the bound to all of them
        (fine where precision targets usually bind, among the top scores); for
        recall, geometrically spaced numbers of negative calls (candidates
        counted from the lowest threshold).
        """
        size = self._BONFERRONI_GRID
        alpha = (1 - self.confidence) / size
        tp, fp, tn, fn = (np.asarray(c, dtype=float) for c in (tp, fp, tn, fn))
        if self._constrained == "precision":
            calls = tp + fp
        else:
            # Candidates are in decreasing threshold: fewer negative calls
            # (tn + fn) is the conservative end for recall.
            calls = (tn + fn)[::-1]
        feasible = np.zeros(calls.shape, dtype=bool)
        if self._constrained == "precision":
            first = max(self._perfect_record_trials(alpha, target), 1.0)
            if not first <= calls[-1]:
                return feasible
            levels = np.geomspace(first, calls[-1], size)
        else:
            # From zero negative calls (every sample positive, recall 1) up.
            levels = np.geomspace(1.0, calls[-1] + 1.0, size) - 1.0
        grid = np.unique(np.searchsorted(calls, levels * (1 - _RATIO_TOL)))
        grid = grid[grid < calls.size]
        if self._constrained == "recall":
            grid = calls.size - 1 - grid
        bound = self.lower_bound(*(c[grid] for c in (tp, fp, tn, fn)), alpha=alpha)
        feasible[grid] = bound >= target * (1 - _RATIO_TOL)
        return feasible

    def tiebreak(self, tp, fp, tn, fn):
        return np.nan_to_num(self._rates(tp, fp, tn, fn)[0], nan=-1.0)

    def fallback(self, tp, fp, tn, fn):
        rate, maximized = self._rates(tp, fp, tn, fn)
        if self.confidence is None:
            constrained = np.nan_to_num(rate, nan=-1.0)
        else:
            constrained = self.lower_bound(tp, fp, tn, fn)
        best = constrained.max()
        # Among the candidates with the best reachable constrained rate (or
        # bound), to rounding, the one with the most of the maximized rate.
        on_best = np.flatnonzero(constrained >= best - abs(best) * _RATIO_TOL)
        index = int(on_best[np.argmax(np.nan_to_num(maximized[on_best], nan=-1.0))])
        other = "recall" if self._constrained == "precision" else "precision"
        target = getattr(self, self._target_param)
        what = self._constrained
        if self.confidence is None:
            reached = f"the best {what} reachable is {max(best, 0.0):.4f}"
            where = ""
        else:
            what = f"{what} (lower {self.confidence:g}-confidence bound)"
            if best >= target * (1 - _RATIO_TOL) and self.selection == "bonferroni":
                reached = (
                    f"no threshold of the fixed grid clears its bound at alpha / "
                    f"{self._BONFERRONI_GRID} (elsewhere the pointwise bound reaches "
                    f"{best:.4f})"
                )
            elif best >= target * (1 - _RATIO_TOL):
                # The fixed sequence can leave a clearing bound unselected.
                reached = (
                    f"the fixed sequence of tests from the conservative end failed "
                    f"before any threshold (a later one has bound {best:.4f}, but "
                    "selecting it would void the confidence; selection="
                    "'pointwise' accepts it at the price of the guarantee)"
                )
            else:
                reached = f"the best lower bound reachable is {best:.4f}"
            where = f"{self._constrained} {rate[index]:.4f}, "
        message = (
            f"No threshold reaches {what} >= {target:g} on the out-of-fold data: "
            f"{reached} ({where}{other} {np.nan_to_num(maximized[index]):.4f} "
            "there)."
        )
        highest = "bound" if self.confidence is not None else self._constrained
        if self.on_infeasible == "raise":
            raise InfeasibleTargetError(
                f"{message} Lower {self._target_param}"
                f"{'' if self.confidence is None else ' or confidence'}, or pass "
                f"on_infeasible='warn' to fall back to the threshold with the "
                f"highest {highest}."
            )
        warnings.warn(
            f"{message} Falling back to the threshold with the highest {highest}.",
            UserWarning,
            stacklevel=3,
        )
        return index


class PrecisionTarget(_RateTarget):
    """Maximize recall subject to precision >= ``min_precision``.

    Among the thresholds whose out-of-fold precision reaches ``min_precision``,
    the one with the highest recall is chosen; ties go to the higher precision.
    A threshold with no positive call has undefined precision and is never
    feasible.

    Parameters
    ----------
    min_precision : float in (0, 1]
        The precision the decision must reach.
    confidence : float in [0.5, 1), default=None
        If given, ``1 - alpha``: a threshold is feasible only when the one-sided
        Clopper–Pearson lower bound of its pooled out-of-fold precision (see
        :meth:`lower_bound`) reaches ``min_precision``, so that the precision
        of the threshold finally selected holds on new data with probability
        about ``confidence``. The promise is exact for the fold models and
        approximate for the refitted one (fitted on more data, it usually
        ranks at least as well).
    selection : {"pointwise", "fixed_sequence", "bonferroni"}, \
            default="pointwise"
        With ``confidence``, which thresholds may be selected (the one with the
        highest recall among them is):

        - ``"pointwise"``: every threshold whose own bound clears the target.
          Selecting the best of many tested thresholds could let the error
          exceed ``alpha``; in simulation (``benchmarks/bench_guarantee.py``,
          1,000 repetitions, confidence 0.9) the true precision held in
          91–93 % of repetitions, with 74–91 % of the oracle's recall at
          targets 0.8–0.9: the nominal level, measured, not proved.
        - ``"fixed_sequence"``: test the thresholds in a fixed order from the
          conservative end (from the first one where a perfect record could
          clear the bound, i.e. ``n >= log(alpha) / log(min_precision)``
          positive calls) and stop at the first failure. This controls the
          error of the selected threshold at ``alpha`` on paper, but one
          false positive among the top scores stops the sequence: it kept
          only 39–76 % of the oracle's recall there, and often found nothing.
        - ``"bonferroni"``: 20 thresholds fixed in advance, geometrically
          spaced in the number of positive calls from the fewest where a
          perfect record could clear the bound, each bounded at
          ``alpha / 20``: valid, but the most conservative.

        Ignored without ``confidence``.
    on_infeasible : {"raise", "warn"}, default="raise"
        What to do when no threshold reaches ``min_precision``: ``"raise"`` a
        ``ValueError`` that states the best precision (with ``confidence``:
        lower bound) reachable, or ``"warn"`` and fall back to the threshold
        with the highest precision (lower bound); ties go to the higher recall.

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators.objectives import PrecisionTarget
    >>> tp, fp = np.array([0, 4, 6, 8]), np.array([0, 0, 1, 4])
    >>> fn, tn = 8 - tp, 8 - fp
    >>> objective = PrecisionTarget(min_precision=0.8)
    >>> objective.feasible(tp, fp, tn, fn)
    array([False,  True,  True, False])
    >>> objective.score(tp, fp, tn, fn)
    array([0.  , 0.5 , 0.75, 1.  ])
    """

    _parameter_constraints: dict = {
        **_RateTarget._parameter_constraints,
        "min_precision": [Interval(Real, 0, 1, closed="right")],
    }
    _constrained = "precision"
    _target_param = "min_precision"

    def __init__(
        self,
        min_precision: float,
        *,
        confidence: float | None = None,
        selection: str = "pointwise",
        on_infeasible: str = "raise",
    ):
        self.min_precision = min_precision
        self.confidence = confidence
        self.selection = selection
        self.on_infeasible = on_infeasible


class RecallTarget(_RateTarget):
    """Maximize precision subject to recall >= ``min_recall``.

    The mirror of :class:`PrecisionTarget`: among the thresholds whose out-of-fold
    recall reaches ``min_recall``, the one with the highest precision; ties go to
    the higher recall. Calling every sample positive always has recall 1, so this
    point target is always feasible.

    Parameters
    ----------
    min_recall : float in (0, 1]
        The recall the decision must reach.
    confidence : float in [0.5, 1), default=None
        If given, ``1 - alpha``: a threshold is feasible only when the one-sided
        Clopper–Pearson lower bound of its out-of-fold recall reaches
        ``min_recall`` (see :class:`PrecisionTarget`). With few positives even
        calling every sample positive may not clear the bound (``n_positives <
        log(alpha) / log(min_recall)``); the target is then infeasible.
    selection : {"pointwise", "fixed_sequence", "bonferroni"}, \
            default="pointwise"
        As for :class:`PrecisionTarget`; the fixed sequence starts from the
        lowest threshold (every sample positive, recall 1) and moves up.
    on_infeasible : {"raise", "warn"}, default="raise"
        What to do when no threshold reaches the target, as for
        :class:`PrecisionTarget`. Without ``confidence`` calling every sample
        positive always reaches it.

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators.objectives import RecallTarget
    >>> tp, fp = np.array([0, 4, 6, 8]), np.array([0, 0, 1, 4])
    >>> RecallTarget(min_recall=0.7).feasible(tp, fp, 8 - fp, 8 - tp)
    array([False, False,  True,  True])
    """

    _parameter_constraints: dict = {
        **_RateTarget._parameter_constraints,
        "min_recall": [Interval(Real, 0, 1, closed="right")],
    }
    _constrained = "recall"
    _target_param = "min_recall"

    def __init__(
        self,
        min_recall: float,
        *,
        confidence: float | None = None,
        selection: str = "pointwise",
        on_infeasible: str = "raise",
    ):
        self.min_recall = min_recall
        self.confidence = confidence
        self.selection = selection
        self.on_infeasible = on_infeasible


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

    def _binary_costs(self):
        """Costs of (tn, fp, fn, tp), the positive class being ``classes_[1]``."""
        matrix = cost_array(self.matrix)
        if matrix.shape != (2, 2):
            raise ValueError(
                "CostMatrix needs a 2x2 matrix for a binary target (rows: true "
                f"class, columns: predicted class); got shape {matrix.shape}."
            )
        if not np.all(np.isfinite(matrix)):
            raise ValueError(
                f"CostMatrix entries must be finite; got {matrix.tolist()}."
            )
        costs = matrix[0, 0], matrix[0, 1], matrix[1, 0], matrix[1, 1]
        cost_tn, cost_fp, cost_fn, cost_tp = costs
        if not (cost_fp > cost_tn and cost_fn > cost_tp):
            raise ValueError(
                "CostMatrix expresses no preference between thresholds: for each "
                "true class i the wrong prediction must cost more than the right "
                "one (matrix[i][j] > matrix[i][i] for j != i); got "
                f"{matrix.tolist()}."
            )
        return costs

    def score(self, tp, fp, tn, fn):
        costs = np.array(self._binary_costs())
        # Costs are brought below 1 by a power of two (exact) and the mean cost
        # scaled back: no product or sum overflows, even at the float maximum.
        scale = _power_of_two(np.abs(costs).max())
        cost_tn, cost_fp, cost_fn, cost_tp = costs * scale
        total = tp + fp + tn + fn
        cost = cost_tn * tn + cost_fp * fp + cost_fn * fn + cost_tp * tp
        return -_ratio(cost, total) / scale


def _is_number(value) -> bool:
    return np.asarray(value).dtype.kind in "iuf"


def _accepts_sample_weight(scorer) -> bool:
    try:
        parameters = inspect.signature(scorer).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: try it
        return True
    return any(
        p.name == "sample_weight" or p.kind is inspect.Parameter.VAR_KEYWORD
        for p in parameters
    )


class _ThresholdedPredictions(ClassifierMixin, BaseEstimator):
    """Stands in for a fitted classifier whose predictions are already known."""

    def __init__(self, classes, predictions):
        self.classes = classes
        self.predictions = predictions

    @property
    def classes_(self):
        return self.classes

    def fit(self, X, y):
        return self

    def predict(self, X):
        return self.predictions


class ScorerObjective(Objective):
    """Any scikit-learn scorer, evaluated at a bounded set of candidate thresholds.

    The scorer is called as ``scorer(estimator, X, y)`` on the pooled
    out-of-fold rows of ``X`` and their labels, where ``estimator.predict``
    returns the labels decided by one candidate threshold. Because each call
    is a full pass over the data, at most ``n_candidates`` thresholds are
    tried: all distinct scores when there are that few, otherwise the distinct
    scores at evenly spaced ranks, always including the two extreme cuts. For
    an exact search, use a count objective or a scorer name such as ``"f1"``.

    Parameters
    ----------
    scorer : callable
        A scorer ``scorer(estimator, X, y)``, e.g. from
        :func:`sklearn.metrics.make_scorer`. It must use ``predict``: a scorer on
        probabilities does not depend on the decision threshold. With sample
        weights, it must accept ``sample_weight`` (scikit-learn scorers do).
    n_candidates : int, default=256
        Maximum number of thresholds evaluated.
    """

    _parameter_constraints: dict = {
        "scorer": [callable],
        "n_candidates": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(self, scorer, *, n_candidates: int = 256):
        self.scorer = scorer
        self.n_candidates = n_candidates

    def candidate_indices(self, n_thresholds: int) -> np.ndarray:
        """Indices, into a curve of ``n_thresholds`` candidates, to evaluate."""
        if n_thresholds <= self.n_candidates:
            return np.arange(n_thresholds)
        return np.unique(np.linspace(0, n_thresholds - 1, self.n_candidates).round())

    def score_curve(
        self, curve, X, y, y_score, sample_weight, classes, pos_label, alternative=None
    ):
        """Scorer value at each candidate of ``curve``, on rows ``X``, labels ``y``."""
        kwargs = {}
        if sample_weight is not None:
            if not _accepts_sample_weight(self.scorer):
                raise ValueError(
                    f"The scorer {self.scorer!r} does not accept sample_weight, but "
                    "fit received sample weights; give the scorer a sample_weight "
                    "parameter or fit without weights."
                )
            kwargs["sample_weight"] = sample_weight
        y_score = np.asarray(y_score)
        if alternative is None:  # binary: the other class
            alternative = classes[classes != pos_label][0]
        values = np.empty(curve.thresholds.size)
        for k, threshold in enumerate(curve.thresholds):
            predictions = np.where(y_score >= threshold, pos_label, alternative)
            stand_in = _ThresholdedPredictions(classes, predictions)
            values[k] = self._call(stand_in, X, y, kwargs)
        if not np.any(np.isfinite(values)):
            raise ValueError(
                f"The objective {self.scorer!r} returned no finite value at any "
                f"candidate threshold (values from {np.nanmin(values, initial=np.inf)}"
                f" to {np.nanmax(values, initial=-np.inf)}, NaN left out); it must "
                "return a finite number for some of them."
            )
        return values

    def _call(self, stand_in, X, y, kwargs) -> float:
        """One scorer value, or an error saying what a scorer must be."""
        try:
            value = self.scorer(stand_in, X, y, **kwargs)
        except TypeError as exc:
            raise TypeError(
                f"The objective {self.scorer!r} must be a scorer, callable as "
                "scorer(estimator, X, y) (a metric f(y_true, y_pred) becomes one "
                f"with sklearn.metrics.make_scorer(f)); calling it raised: {exc}"
            ) from exc
        if isinstance(value, (bool, np.bool_)) or not (
            isinstance(value, Real) or (np.ndim(value) == 0 and _is_number(value))
        ):
            raise ValueError(
                f"The objective {self.scorer!r} must return one number per call; "
                f"it returned {type(value).__name__} {value!r:.80}."
            )
        return float(value)

    def score(self, tp, fp, tn, fn):
        raise TypeError(
            "ScorerObjective needs the labels and scores, not only the counts; "
            "it is evaluated by ThresholdTunedClassifier through score_curve."
        )
