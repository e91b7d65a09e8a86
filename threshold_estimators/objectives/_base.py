"""The objective contract, and the count helpers every objective uses."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.metadata_routing import UNUSED, MetadataRequest

# Relative tolerance used when comparing a ratio of float counts with a target,
# so that e.g. 19 / 20 >= 0.95 holds despite rounding in weighted cumulative sums.
_RATIO_TOL = 1e-12
_EPSILON = np.finfo(float).eps


class InfeasibleTargetError(ValueError):
    """No threshold satisfies a precision or recall target."""


class NoPreferenceError(ValueError):
    """The rows give no reason to prefer one threshold to another (e.g. every
    per-row cost of a fold is the same for every decision)."""


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

    # The counts ``score`` takes are not metadata: without this, scikit-learn
    # would generate a ``set_score_request(tp=..., ...)`` method from its
    # signature. What an objective requests is ``metadata_names``.
    __metadata_request__score = {name: UNUSED for name in ("tp", "fp", "tn", "fn")}

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

    def for_rows(self, rows: Rows) -> Objective:
        """The objective as evaluated on these rows; itself by default.

        An objective whose value depends on more than the tuned class's counts
        (the labels that rows below the cut receive, per-row costs) returns a
        copy that holds what it needs of the rows (see :class:`Rows`).
        """
        return self

    # Per-row values the objective reads summed at every candidate:
    # ``(above, below)``, summed over the rows each candidate calls positive
    # and over the others (each of shape (n_rows,), or None).
    # The search sums them from the same sort as the counts and hands them
    # over as ``Rows.sums``; None: nothing to sum.
    summed_rows = None

    # Whether the objective's value is minus the (scaled) sum of its
    # ``summed_rows`` over both sides of the cut, feasible everywhere and
    # with no tie-break: its least cost is then searched by bounds on
    # buckets of scores (``_bucket_search``). Such an objective sets
    # ``gain_magnitude_`` (the total absolute cost when some are gains, else
    # None) and, in ``_evaluate``, ``tie_magnitudes_``.
    sums_are_costs = False

    # ``(d_tp, d_fp)``: the objective's value and feasibility can only move
    # with the true positives in the direction of ``d_tp`` and with the false
    # positives in that of ``d_fp`` (+1 up, -1 down), all else fixed; the
    # best cut is then searched by bounds on buckets of scores
    # (``_count_buckets``). None: no such promise, the whole curve is searched.
    count_directions = None

    # Whether the metadata routed to the objective are what it requested
    # (``get_metadata_routing``); only a plain scorer function cannot request.
    routes_metadata = True

    @property
    def metadata_names(self) -> tuple:
        """Names of the per-row metadata (given to ``fit`` or
        ``pick_threshold``) the objective reads; none by default."""
        return ()

    def get_metadata_routing(self):
        """The metadata the objective requests, for scikit-learn's routing.

        Its ``score`` requests each of :attr:`metadata_names`: naming a
        per-row cost in the objective is the request, so no
        ``set_score_request`` is needed.

        Returns
        -------
        routing : MetadataRequest
        """
        request = MetadataRequest(owner=self)
        for name in self.metadata_names:
            request.score.add_request(param=name, alias=True)
        return request

    def _evaluate(self, curve, counts, rows):
        """The search's entry point: which candidates are evaluated, and values.

        A count objective evaluates every candidate of ``curve`` from
        ``counts`` (the curve's counts, prepared by the search): it returns
        ``(None, score)``. ``rows`` (see :class:`Rows`) are for row objectives.
        """
        return None, self.score(*counts)

    # Which way a rate estimated with an error should be read for the
    # decision: -1, its lower confidence bound (a precision bound holds at
    # least as well at any higher rate); +1, its upper bound (an alert
    # budget); 0, the estimate itself (no confidence promised).
    prevalence_side = 0

    def fixed_cut(self) -> float | None:
        """The cut the user gave (see :class:`FixedThreshold`), or None: searched."""
        return None

    # Row objectives (scorers) are evaluated on the rows themselves, which the
    # search must then be given; count objectives never read them.
    reads_rows = False

    # Whether the objective reads each row's best other class
    # (``Rows.alternative``): what a row below a one-vs-rest cut is labelled,
    # which label metrics and scorers judge; count objectives never do.
    reads_alternative = False

    @property
    def display_name(self) -> str:
        """How displays and reports name the objective."""
        return type(self).__name__

    def curve_label(self, values):
        """Legend label and plotted values of the objective curve, or None when
        the curve is not worth drawing (it repeats precision or recall)."""
        return self.display_name, np.asarray(values, dtype=float)

    @property
    def target_line(self) -> tuple[str, float] | None:
        """``(rate, target)`` drawn as a horizontal line by displays, or None."""
        return None

    # The scikit-learn metric of the combined labels reported as best_score_
    # when every class is tuned (accuracy-like metrics), or None: the mean
    # over classes of each one-vs-rest value.
    label_metric = None

    def _validate(self) -> Objective:
        self._validate_params()
        return self

    def _resolve(self, positive_index: int | None, n_classes: int) -> Objective:
        """A validated copy for a target of ``n_classes`` classes whose tuned
        class is ``positive_index`` (None: every class)."""
        return clone(self)._validate()


class Rows(NamedTuple):
    """The rows a search runs on, for objectives that need more than counts."""

    y: np.ndarray
    y_score: np.ndarray
    sample_weight: np.ndarray | None
    classes: np.ndarray
    pos_label: object
    X: object = None
    alternative: np.ndarray | None = None
    # Per-row metadata (per-row costs, a routed scorer's parameters), aligned
    # with ``y``; None: nothing was routed.
    metadata: dict | None = None
    # ``summed_rows`` summed at every candidate: ``(above, below)``.
    sums: tuple | None = None
    # With a prevalence: the factor by which the reweighting multiplied the
    # odds of the tuned class against the rest (its ratio over the rest's);
    # a confidence bound is computed before it and mapped through it.
    odds_shift: float | None = None
    # Where the rows were among those given, when some (of zero weight) were
    # dropped; None: all of them, in order. Messages name rows by it.
    row_numbers: np.ndarray | None = None
    # ``(positive, negative)`` total weights of the weighted rows, summed in
    # row order (as a curve's cumulative sums end), when the caller summed
    # them already; None: the search sums them.
    binary_totals: tuple | None = None
