"""Alert budgets: flag at most a share of the rows, and find the most there."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
from scipy.stats import beta as beta_distribution
from sklearn.base import clone
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import (
    _RATIO_TOL,
    InfeasibleTargetError,
    Objective,
    _ratio,
    precision_recall,
)


class AlertBudget(Objective):
    """Flag at most a share of the rows, maximizing recall there.

    An operations team can review at most ``max_positive_rate`` of the rows
    (transactions, claims, patients): among the thresholds that call at most
    that (weighted) share of the rows positive, the one finding the most
    positives is chosen; among equal recalls, the one flagging the fewest
    rows. Optional floors ``min_precision`` and ``min_recall`` must hold as
    well: a budget and a quality bar at once.

    Parameters
    ----------
    max_positive_rate : float in (0, 1]
        The largest share of rows called positive (weighted by the sample
        weights): ``(tp + fp) / (tp + fp + tn + fn)``.
    min_precision : float in [0, 1], default=None
        A precision the flagged rows must also reach.
    min_recall : float in [0, 1], default=None
        A recall the flagged rows must also reach.
    confidence : float in [0.5, 1), default=None
        Leave a margin for the rate on new data: a threshold is feasible only
        if the one-sided Clopper–Pearson *upper* bound, at this confidence, of
        its flagged rate is within the budget (computed on Kish's effective
        sample size with weights; at a ``prevalence``, on the variance of the
        classes' rates mixed in the stated proportions). The out-of-fold rate
        is an estimate; with
        ``confidence=0.95`` the rate of the population the rows come from
        exceeds the budget at the chosen threshold with probability about 5 %
        or less. A batch of ``m`` new rows still varies around that rate by
        about ``sqrt(rate / m)``: when the cap must hold on every batch, rank
        the batch at serving time and flag its top ``floor(budget * m)``.
    on_infeasible : {"raise", "warn"}, default="raise"
        When no threshold meets the budget and the floors: raise
        :class:`InfeasibleTargetError` stating what is reachable, or warn and
        keep the budget alone (the floors are dropped). A budget that no
        non-empty set of flagged rows meets (the top score tied over more rows
        than the budget) always raises.

    Notes
    -----
    The budget holds on the rows the threshold is tuned on. A threshold is
    carried to new data, where the share of rows above it varies; see
    ``confidence`` for a margin, and the "Deployment decisions" guide.

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators import pick_threshold
    >>> from threshold_estimators.objectives import AlertBudget
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random(10_000) < 0.01
    >>> scores = rng.normal(size=10_000) + 2.5 * y
    >>> pick = pick_threshold(y, scores, AlertBudget(0.02))
    >>> print(f"flagged {pick.positive_rate:.2%}, recall {pick.recall:.2f}")
    flagged 2.00%, recall 0.60
    """

    _parameter_constraints: dict = {
        "max_positive_rate": [Interval(Real, 0, 1, closed="right")],
        "min_precision": [Interval(Real, 0, 1, closed="both"), None],
        "min_recall": [Interval(Real, 0, 1, closed="both"), None],
        "confidence": [Interval(Real, 0.5, 1, closed="left"), None],
        "on_infeasible": [StrOptions({"raise", "warn"})],
    }

    @property
    def prevalence_side(self) -> int:
        """A confidence bound on the flagged rate is read at the upper end of
        an estimated rate: a cut flags more rows where positives are more
        common (its true positive rate exceeds its false positive rate)."""
        return 1 if self.confidence is not None else 0

    def __init__(
        self,
        max_positive_rate: float,
        *,
        min_precision: float | None = None,
        min_recall: float | None = None,
        confidence: float | None = None,
        on_infeasible: str = "raise",
    ):
        self.max_positive_rate = max_positive_rate
        self.min_precision = min_precision
        self.min_recall = min_recall
        self.confidence = confidence
        self.on_infeasible = on_infeasible

    def positive_rate(self, tp, fp, tn, fn) -> np.ndarray:
        """The share of rows called positive at each candidate."""
        tp, fp = np.asarray(tp, dtype=float), np.asarray(fp, dtype=float)
        return _ratio(tp + fp, tp + fp + np.asarray(tn) + np.asarray(fn))

    def upper_bound(self, tp, fp, tn, fn) -> np.ndarray:
        """One-sided Clopper–Pearson upper bound of the flagged rate:
        ``beta.ppf(confidence, k + 1, n - k)`` with ``k = tp + fp`` flagged
        out of ``n`` rows (1 where every row is flagged)."""
        if self.confidence is None:
            raise ValueError("upper_bound needs confidence; got confidence=None.")
        flagged = np.asarray(tp, dtype=float) + np.asarray(fp, dtype=float)
        total = flagged + np.asarray(tn, dtype=float) + np.asarray(fn, dtype=float)
        bound = np.ones(np.shape(flagged))
        some_left = total - flagged > 0
        bound[some_left] = beta_distribution.ppf(
            self.confidence, flagged[some_left] + 1, (total - flagged)[some_left]
        )
        return bound

    @property
    def needs_sample_sizes(self) -> bool:
        return self.confidence is not None

    # With a prevalence and confidence: the class proportions are the stated
    # ones, not a sample's (see ``for_rows``).
    proportions_fixed = False

    def for_rows(self, rows):
        """With a prevalence, the flagged rate mixes the classes in the stated
        proportions: its error is that of a stratified sample, each class's
        rate read on that class's rows (see :meth:`effective_counts`)."""
        if rows.odds_shift is None or self.confidence is None:
            return self
        bound = clone(self)
        bound.proportions_fixed = True
        return bound

    def effective_counts(self, counts, squared_counts):
        """Counts rescaled to the effective sample size of the flagged rate:
        the rates are unchanged, the bound no longer depends on the weights'
        scale, and unit weights give the plain counts.

        Drawn rows (no prevalence): Kish's size of all the rows, the rate's
        denominator. At a prevalence ``π'`` the class weights differ by the
        classes' ratios, and Kish's size of such mixed weights misstates the
        rate's variance; the rate is ``π' TPR + (1 − π') FPR`` with the
        proportions fixed, so its variance is the stratified one,
        ``π'² TPR (1 − TPR) / n₁ + (1 − π')² FPR (1 − FPR) / n₀`` (each
        class's Kish size ``n₁``, ``n₀``), and the size is the one a binomial
        of the same rate and variance has.
        """
        counts = tuple(np.asarray(c, dtype=float) for c in counts)
        squared = tuple(np.asarray(c, dtype=float) for c in squared_counts)
        total = sum(counts)
        if self.proportions_fixed:
            scale = _ratio(_stratified_size(counts, squared), total)
        else:
            scale = _ratio(total, sum(squared))
        return tuple(c * scale for c in counts)

    def _within_budget(self, tp, fp, tn, fn) -> np.ndarray:
        flagged = np.asarray(tp) + np.asarray(fp)
        if self.confidence is None:
            rate = self.positive_rate(tp, fp, tn, fn)
        else:
            rate = self.upper_bound(tp, fp, tn, fn)
        # A candidate that flags nothing is no decision, whatever the budget.
        return (rate <= self.max_positive_rate * (1 + _RATIO_TOL)) & (flagged > 0)

    def _floors_met(self, tp, fp, tn, fn) -> np.ndarray:
        precision, recall = precision_recall(tp, fp, tn, fn)
        met = np.ones(np.shape(tp), dtype=bool)
        if self.min_precision is not None:
            met &= np.nan_to_num(precision, nan=-1.0) >= self.min_precision * (
                1 - _RATIO_TOL
            )
        if self.min_recall is not None:
            met &= recall >= self.min_recall * (1 - _RATIO_TOL)
        return met

    def score(self, tp, fp, tn, fn):
        return precision_recall(tp, fp, tn, fn)[1]

    def feasible(self, tp, fp, tn, fn):
        return self._within_budget(tp, fp, tn, fn) & self._floors_met(tp, fp, tn, fn)

    @property
    def display_name(self) -> str:
        name = f"recall at flagged rate <= {self.max_positive_rate:g}"
        floors = [
            f"{what} >= {value:g}"
            for what, value in (
                ("precision", self.min_precision),
                ("recall", self.min_recall),
            )
            if value is not None
        ]
        if floors:
            name += f", {' and '.join(floors)}"
        if self.confidence is not None:
            name += f" ({self.confidence:g} confidence)"
        return name

    def curve_label(self, values):
        return None  # recall, already drawn

    @property
    def target_line(self):
        if self.min_precision is not None:
            return "precision", self.min_precision
        if self.min_recall is not None:
            return "recall", self.min_recall
        return None

    def fallback(self, tp, fp, tn, fn):
        within = self._within_budget(tp, fp, tn, fn)
        rate = self.positive_rate(tp, fp, tn, fn)
        precision, recall = precision_recall(tp, fp, tn, fn)
        bounded = "flagged rate" + (
            "" if self.confidence is None else f" (upper {self.confidence:g} bound)"
        )
        if not within.any():
            flags = np.asarray(tp) + np.asarray(fp) > 0
            if self.confidence is None:
                reason = (
                    "the fewest rows any threshold flags (those tied at the top "
                    f"score) are a share of {rate[flags].min():.4g}. Raise "
                    "max_positive_rate, or break the ties in the scores."
                )
            else:
                bound = self.upper_bound(tp, fp, tn, fn)[flags].min()
                reason = (
                    f"the smallest upper {self.confidence:g} bound of any "
                    f"threshold's flagged rate is {bound:.4g} (too few rows for "
                    "the margin). Raise max_positive_rate, lower confidence, or "
                    "tune on more rows."
                )
            raise InfeasibleTargetError(
                f"No threshold flags at most {self.max_positive_rate:g} of the rows "
                f"with its {bounded}: {reason}"
            )
        # The best recall within the budget, the fewest flags among equals
        # (the first in curve order).
        index = int(np.argmax(np.where(within, recall, -np.inf)))
        best_precision = np.nan_to_num(precision[within], nan=0.0).max()
        message = (
            f"No threshold meets {self.display_name} on the out-of-fold data: "
            f"within the budget the best precision reachable is "
            f"{best_precision:.4f} and the best recall {recall[index]:.4f} "
            f"(precision {np.nan_to_num(precision[index]):.4f} there)."
        )
        if self.on_infeasible == "raise":
            raise InfeasibleTargetError(
                f"{message} Lower the floors, raise max_positive_rate, or pass "
                "on_infeasible='warn' to keep the budget alone."
            )
        warnings.warn(
            f"{message} Keeping the budget alone: the threshold with the best "
            "recall within it.",
            UserWarning,
            stacklevel=3,
        )
        return index


def _stratified_size(counts, squared):
    """The binomial size matching the variance of the flagged rate of a
    sample stratified by class (see ``AlertBudget.effective_counts``);
    where that variance is 0 (each class flagged wholly or not at all), the
    two classes' Kish sizes summed."""
    tp, fp, tn, fn = counts
    tp2, fp2, tn2, fn2 = squared
    positives, negatives = tp + fn, fp + tn
    total = positives + negatives
    n_positive = _ratio(positives**2, tp2 + fn2)
    n_negative = _ratio(negatives**2, fp2 + tn2)
    tpr, fpr = _ratio(tp, positives), _ratio(fp, negatives)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = (positives / total) ** 2 * tpr * (1 - tpr) / n_positive + (
            negatives / total
        ) ** 2 * fpr * (1 - fpr) / n_negative
        rate = (tp + fp) / total
        size = rate * (1 - rate) / variance
    return np.where(variance > 0, size, n_positive + n_negative)
