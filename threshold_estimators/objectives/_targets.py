"""Rate targets: the best recall at a precision, or the reverse."""

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
from ._sharp_sequence import sharp_sequence


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
        "selection": [
            StrOptions({"pointwise", "sharp_sequence", "fixed_sequence", "bonferroni"})
        ],
        "on_infeasible": [StrOptions({"raise", "warn"})],
    }
    _constrained = ""  # "precision" or "recall": the rate bounded from below
    _target_param = ""
    # Candidates examined by selection="bonferroni": a grid fixed by the
    # number of calls, so it depends on the scores only, not the labels.
    _BONFERRONI_GRID = 20

    # With a prevalence and a confidence bound on precision: the odds shift
    # of the tuned class (see ``for_rows``); None otherwise.
    odds_shift = None

    def for_rows(self, rows):
        """With a prevalence, a precision bound is computed on the counts at
        the training balance and then mapped to the new one.

        Reweighting by class makes a negative row weigh ``k`` times less (or
        more) than a positive one, and Kish's effective size of such mixed
        weights would let one or two negatives in the top tail decide the
        bound. The bound of the training-balance precision ``q`` (each
        class's rows with their own weights) is the one the search already
        trusts; precision at the new rate is the increasing map
        ``odds(p) = k odds(q)``, so the bound maps with it.
        """
        shift = rows.odds_shift
        if shift is None or self.confidence is None or self._constrained != "precision":
            return self
        bound = clone(self)
        bound.odds_shift = float(shift)
        return bound

    def _shifted(self, precision):
        """Training-balance precision mapped to the new rate (``odds_shift``)."""
        if self.odds_shift is None:
            return precision
        shift = self.odds_shift
        with np.errstate(invalid="ignore", divide="ignore"):
            return shift * precision / (shift * precision + (1 - precision))

    def _unshifted(self, target):
        """The training-balance precision that maps to ``target`` (see
        ``_shifted``): where the tests of a selection can first pass."""
        if self.odds_shift is None:
            return target
        return target / (target + self.odds_shift * (1 - target))

    def _rates(self, tp, fp, tn, fn):
        """(constrained rate, maximized rate)."""
        precision, recall = precision_recall(tp, fp, tn, fn)
        if self._constrained == "precision":
            return self._shifted(precision), recall
        return recall, precision

    def _trials(self, tp, fp, tn, fn):
        """The denominator of the constrained rate."""
        tp = np.asarray(tp, dtype=float)
        return tp + (fp if self._constrained == "precision" else fn)

    @property
    def needs_sample_sizes(self) -> bool:
        return self.confidence is not None

    @property
    def count_directions(self):
        """Precision and recall (and their bounds) rise with the true
        positives and fall with the false ones; the sequence and grid rules
        judge a candidate by others, so their cut is searched on the whole
        curve."""
        if self._selects_pointwise:
            return (1, -1)
        return None

    @property
    def _selects_pointwise(self) -> bool:
        """Whether the feasible candidates are those whose own bound passes.

        So for every rule but Bonferroni's on recall: its bound has the same
        number of trials (the positives) at every candidate and rises with
        the true positives, hence as the cut descends, so the candidates that
        pass form an unbroken run from the lowest cut, which is exactly what
        a sequence of tests from that end accepts.
        """
        if self.confidence is None or self.selection == "pointwise":
            return True
        return self._constrained == "recall" and self.selection != "bonferroni"

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
        if self.odds_shift is not None:
            # Back to the training balance: the negatives' weights times the
            # shift (and their squares times its square); ``_rates`` and
            # ``lower_bound`` map precision forward again.
            fp, fp2 = fp * self.odds_shift, fp2 * self.odds_shift**2
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
        return self._shifted(bound) if self._constrained == "precision" else bound

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
        if self._selects_pointwise:
            # NaN precision (no positive call) is never feasible.
            return self._passes(tp, fp, tn, fn, target) & (np.asarray(tp) > 0)
        if self.selection == "bonferroni":
            return self._bonferroni_feasible(tp, fp, tn, fn, target)
        if self.selection == "sharp_sequence":
            return self._sharp_sequence_feasible(tp, fp, tn, fn, target)
        return self._fixed_sequence_feasible(tp, fp, tn, fn, target)

    def _sharp_sequence_feasible(self, tp, fp, tn, fn, target):
        """The fixed sequence over the sharp numbers of positive calls (see
        ``_sharp_sequence``); precision only (see ``_selects_pointwise``)."""
        passes = self._passes(tp, fp, tn, fn, target)
        trials = self._trials(tp, fp, tn, fn)
        selectable = sharp_sequence(
            passes, trials, self._unshifted(target), 1 - self.confidence
        )
        # No positive call: precision undefined, never feasible.
        return selectable & (np.asarray(tp) > 0)

    def _fixed_sequence_feasible(self, tp, fp, tn, fn, target):
        """Candidates passing every test from the conservative end up to them.

        The tests run in a fixed order, from the fewest positive calls, each
        at level alpha; the first failure stops the sequence. The sequence
        starts at the first candidate where a perfect record could clear the
        bound (``alpha ** (1 / n) >= target``, i.e. ``n >= log(alpha) /
        log(target)`` trials), so that the few top-ranked samples, which
        cannot pass, do not stop it at once. Precision only: on recall the
        sequence is the pointwise rule (see ``_selects_pointwise``).
        """
        alpha = 1 - self.confidence
        passes = self._passes(tp, fp, tn, fn, target)
        trials = self._trials(tp, fp, tn, fn)
        needed = self._perfect_record_trials(alpha, self._unshifted(target))
        started = trials >= needed * (1 - _RATIO_TOL)
        if not started.any():
            return np.zeros(passes.shape, dtype=bool)
        first = int(np.argmax(started))
        feasible = np.zeros(passes.shape, dtype=bool)
        feasible[first:] = np.logical_and.accumulate(passes[first:])
        return feasible

    def _passes(self, tp, fp, tn, fn, target):
        """Where the rate, or with a confidence its lower bound, reaches the
        target. The bound (a quantile per candidate) is computed only where
        the rate itself reaches the target: at a confidence of at least 0.5
        it lies below the rate, so it cannot reach the target elsewhere."""
        needed = target * (1 - _RATIO_TOL)
        rate = self._rates(tp, fp, tn, fn)[0]
        reached = np.asarray(rate >= needed)  # NaN: never
        if self.confidence is None or not reached.any():
            return reached
        counts = np.broadcast_arrays(
            *(np.asarray(c, dtype=float) for c in (tp, fp, tn, fn))
        )
        passes = np.zeros(reached.shape, dtype=bool)
        exact = reached & ~self._surely_passes(counts, rate, needed)
        passes[reached & ~exact] = True
        passes[exact] = self.lower_bound(*(c[exact] for c in counts)) >= needed
        return passes

    def _surely_passes(self, counts, rate, needed) -> np.ndarray:
        """Where Hoeffding's lower bound ``rate - sqrt(log(1 / alpha) / 2n)``
        already reaches the target: the Clopper–Pearson bound is at least as
        high (at that rate the binomial tail is at most Hoeffding's, at most
        alpha), so its quantile need not be computed. Only for whole counts
        on the training balance, where that inequality is the binomial's."""
        trials = self._trials(*counts)
        if self.odds_shift is not None or not (
            np.all(counts[0] == np.round(counts[0]))
            and np.all(trials == np.round(trials))
        ):
            return np.zeros(trials.shape, dtype=bool)
        alpha = 1 - self.confidence
        with np.errstate(divide="ignore", invalid="ignore"):
            hoeffding = rate - np.sqrt(np.log(1 / alpha) / (2 * trials))
        return np.nan_to_num(hoeffding, nan=-np.inf) >= needed + 1e-9

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
            first = max(
                self._perfect_record_trials(alpha, self._unshifted(target)), 1.0
            )
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

    @property
    def display_name(self) -> str:
        maximized = "recall" if self._constrained == "precision" else "precision"
        target = f"{self._constrained} >= {getattr(self, self._target_param):g}"
        if self.confidence is not None:
            target += f" ({self.confidence:g} confidence)"
        return f"{maximized} at {target}"

    def curve_label(self, values):
        return None  # the maximized rate, already drawn

    @property
    def target_line(self):
        return self._constrained, getattr(self, self._target_param)

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
    selection : {"sharp_sequence", "pointwise", "fixed_sequence", \
            "bonferroni"}, default="sharp_sequence"
        With ``confidence``, which thresholds may be selected (the one with the
        highest recall among them is):

        - ``"sharp_sequence"``: test the thresholds in a fixed order from the
          fewest positive calls, but only those whose number of calls ``n``
          makes the test nearly exact (the Clopper–Pearson test's size at the
          target at least 90 % of ``alpha``: at ``min_precision=0.9``,
          ``alpha=0.1``: 22 calls, then 38, 52, 65, 66, 78, 79, ..., and
          three in four numbers beyond 1,000), and stop at the
          first of them that fails; every threshold above the lowest one that
          passed may be selected. Which numbers of calls are tested is fixed
          by ``n``, ``min_precision`` and ``alpha`` alone, so the selected
          threshold's precision holds with probability at least
          ``confidence`` whenever a row's chance of being positive does not
          fall as its score rises (proof sketch in the confidence guide). On
          ``bench_guarantee.py``'s grid (54 cells, 500 repetitions) no cell's
          coverage interval lies below the confidence, and it keeps 0.93 of
          the pointwise rule's recall (the fixed sequence 0.88): the
          default.
        - ``"pointwise"``: every threshold whose own bound clears the target.
          Selecting the best of many tested thresholds lets the error exceed
          ``alpha``: measured at the nominal level on that grid (worst cell
          0.884 at confidence 0.9), but not proved: where precision stays
          just below the target over many cuts it claims one more often than
          ``alpha`` allows (0.15 at ``alpha=0.1`` in the test suite). The
          most recall; the rule ``pick_threshold`` searches on dask arrays.
        - ``"fixed_sequence"``: the sequence over every threshold from the
          first where a perfect record could clear the bound (``n >=
          log(alpha) / log(min_precision)`` positive calls). Valid like the
          sharp sequence, but a test that asks for a better record than the
          target needs stops it more often.
        - ``"bonferroni"``: 20 thresholds fixed in advance, geometrically
          spaced in the number of positive calls from the fewest where a
          perfect record could clear the bound, each bounded at
          ``alpha / 20``: valid with no assumption on the curve, but the most
          conservative.

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

    @property
    def prevalence_side(self) -> int:
        """A confidence bound on precision is read at the lower end of an
        estimated rate: precision at a cut only rises with the rate."""
        return -1 if self.confidence is not None else 0

    def __init__(
        self,
        min_precision: float,
        *,
        confidence: float | None = None,
        selection: str = "sharp_sequence",
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
    selection : {"sharp_sequence", "pointwise", "fixed_sequence", \
            "bonferroni"}, default="sharp_sequence"
        As for :class:`PrecisionTarget`, except that the recall bound's number
        of trials, the positives, is the same at every threshold and the bound
        rises as the threshold falls: the thresholds whose own bound passes
        form an unbroken run from the lowest one, which every sequence from
        that end accepts, so the two sequences and ``"pointwise"`` select the
        same threshold. Bonferroni's grid counts negative calls.
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
        selection: str = "sharp_sequence",
        on_infeasible: str = "raise",
    ):
        self.min_recall = min_recall
        self.confidence = confidence
        self.selection = selection
        self.on_infeasible = on_infeasible
