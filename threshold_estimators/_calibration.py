"""PiecewiseLogisticCalibrator: probabilities that agree with a moved threshold.

In the logit domain ``z`` (``logit(p)`` for probabilities, the score itself for a
decision function), with the threshold at ``z_t`` and the hinge features
``u = min(z - z_t, 0)`` and ``v = max(z - z_t, 0)``, a three-parameter logistic
regression is fitted by maximum likelihood::

    posterior  p(z) = expit(c + a·u + b·v)   calibrated, at the training class balance
    operating  q(z) = expit(a·u + b·v)       the same curve without the intercept

``q`` is 0.5 at the threshold (one ulp above it), monotone, and tends to 0 and 1 at
the ends: it is the probability of the positive class under the class balance for
which the threshold is the Bayes-optimal cut (the odds of ``p`` divided by ``e^c``). Two
slopes let it correct the model's calibration differently on each side of the cut.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    column_or_1d,
)

from .objectives._base import _power_of_two

# Probabilities are clipped to [_EPS, 1 - _EPS] before the logit when fitting, so
# that scores of exactly 0 or 1 have a finite likelihood (logit(1e-15) ≈ -34.5).
# When transforming, 0 and 1 are not clipped: they map exactly to 0 and 1.
_EPS = 1e-15
# The slopes are bounded so that the map stays increasing when the likelihood
# prefers a flat or decreasing side, and finite when a side is separable.
MIN_SLOPE = 1e-3
MAX_SLOPE = 1e3


def _to_logit(
    scores: np.ndarray,
    kind: str,
    *,
    clip: bool,
    offset: float = 0.0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The scores in the logit domain minus ``offset``, in ``out`` (a new array by
    default).

    ``log(p / (1 - p))`` in one buffer: ``scipy.special.logit`` within an ulp or two
    (and ∓inf at 0 and 1 alike) in half the time on large arrays.
    """
    if kind == "decision":
        return np.subtract(scores, offset, out=out)
    if clip:
        scores = np.clip(scores, _EPS, 1 - _EPS)
    out = np.subtract(1.0, scores, out=out)
    with np.errstate(divide="ignore"):
        np.divide(scores, out, out=out)
        np.log(out, out=out)
    out -= offset
    return out


def effective_size(weight: np.ndarray) -> float:
    """Kish's effective sample size ``(Σw)² / Σw²``: the number of rows for unit
    weights, and the same for any rescaling of the weights."""
    # Divided by the largest weight first, so that neither sum overflows.
    largest = weight.max(initial=0.0)
    if not largest > 0:
        return 0.0
    scaled = weight / largest
    return float(scaled.sum() ** 2 / (scaled @ scaled))


def hinge_features(calibrator, scores: np.ndarray) -> np.ndarray:
    """The rows' features ``[1, u, v]`` of a fitted calibrator's logistic model
    (``[1, z]`` with one slope), clipped as in its fit."""
    z = _to_logit(
        np.asarray(scores, dtype=float),
        calibrator.score_kind_,
        clip=True,
        offset=calibrator.threshold_logit_,
    )
    if calibrator.n_slopes_ == 1:
        return np.column_stack([np.ones_like(z), z])
    return np.column_stack([np.ones_like(z), np.minimum(z, 0.0), np.maximum(z, 0.0)])


def parameter_covariance(calibrator, scores, positive, weight=None) -> np.ndarray:
    """The covariance of a fitted calibrator's parameters (intercept, slopes).

    The inverse of the logistic model's information, the weights scaled to
    Kish's effective number of rows. The class counts of the rows it was
    fitted on carry no information about the calibration, only about the
    training rate, which the decision holds fixed: as in case-control
    logistic regression (Prentice and Pyke 1979), the intercept's variance is
    that of the full likelihood less ``1/n₊ + 1/n₋``.
    """
    features = hinge_features(calibrator, scores)
    weight = np.ones(positive.size) if weight is None else np.asarray(weight, float)
    weight = weight * (effective_size(weight) / weight.sum())
    p = calibrator.predict_posterior_proba(scores)[:, 1]
    information = (features * (weight * p * (1.0 - p))[:, None]).T @ features
    covariance = np.linalg.pinv(information)
    n_positive = effective_size(weight[positive])
    n_negative = effective_size(weight[~positive])
    if n_positive > 0 and n_negative > 0:
        covariance[0, 0] = max(covariance[0, 0] - 1 / n_positive - 1 / n_negative, 0)
    return covariance


# The weights read as counts warn when a class's total weight is below this share
# of its effective number of rows (weights an order of magnitude below counts,
# e.g. normalized to sum 1; class-balancing weights keep at least half) and its
# smoothed target moves by more than this probability.
_COUNT_SHARE_WARNING = 0.1
_TARGET_SHIFT_WARNING = 0.01


def _platt_targets(positive: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Platt's smoothed targets: (N+ + 1) / (N+ + 2) and 1 / (N- + 2).

    They are the posterior means of a uniform prior on each side, as in
    scikit-learn's sigmoid calibration; they keep a separable side's slope
    finite. ``N+`` and ``N-`` are the total weights of the classes, so integer
    weights act as repeated rows (scikit-learn's convention for sample weights,
    and its sigmoid calibration's). Weights far below counts (e.g. normalized
    to sum 1) make the targets flatter than the rows warrant: that warns.
    """
    with np.errstate(over="ignore"):
        n_positive = weight[positive].sum()
        n_negative = weight[~positive].sum()
    _warn_if_weights_are_not_counts(
        n_positive,
        n_negative,
        effective_size(weight[positive]),
        effective_size(weight[~positive]),
    )
    above = (n_positive + 1) / (n_positive + 2) if np.isfinite(n_positive) else 1.0
    return np.where(positive, above, 1 / (n_negative + 2))


def _warn_if_weights_are_not_counts(n_positive, n_negative, eff_positive, eff_negative):
    far_below = [
        total < _COUNT_SHARE_WARNING * rows
        and 1 / (total + 2) - 1 / (rows + 2) > _TARGET_SHIFT_WARNING
        for total, rows in ((n_positive, eff_positive), (n_negative, eff_negative))
    ]
    if any(far_below):
        warnings.warn(
            "PiecewiseLogisticCalibrator reads sample_weight as counts of rows, "
            f"as scikit-learn does; these class totals ({n_negative:.3g} and "
            f"{n_positive:.3g}) are far below the rows they weigh (effective "
            f"sizes {eff_negative:.3g} and {eff_positive:.3g}), which flattens the "
            "probabilities towards the base rate. Rescale the weights to counts, "
            "e.g. w * len(w) / w.sum() (the threshold does not depend on it).",
            UserWarning,
            stacklevel=4,
        )


def _maximize_likelihood(features, target, weight):
    """Weighted logistic fit on soft targets, slopes held in [MIN_SLOPE, MAX_SLOPE].

    ``features[:, 0]`` is the intercept column. Returns scipy's result, whose
    ``fun`` is the mean cross-entropy per unit weight.
    """
    total = weight.sum()
    prevalence = np.clip(weight @ target / total, 1e-6, 1 - 1e-6)

    def loss_and_gradient(params):
        eta = features @ params
        # Cross-entropy -[t log σ(η) + (1 - t) log σ(-η)], computed stably.
        loss = -(weight @ (target * log_expit(eta) + (1 - target) * log_expit(-eta)))
        gradient = features.T @ (weight * (expit(eta) - target))
        return loss / total, gradient / total

    start = np.r_[logit(prevalence), np.ones(features.shape[1] - 1)]
    bounds = [(None, None)] + [(MIN_SLOPE, MAX_SLOPE)] * (features.shape[1] - 1)
    result = minimize(
        loss_and_gradient,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 1000, "gtol": 1e-10, "ftol": 1e-15},
    )
    if not result.success and not _at_stationary_point(result, bounds):
        warnings.warn(
            "PiecewiseLogisticCalibrator: the likelihood maximization did not "
            f"converge ({result.message}); the parameters are the last iterate.",
            ConvergenceWarning,
            stacklevel=4,
        )
    return result


# A line search that can make no progress (L-BFGS-B's "ABNORMAL") at a point
# whose projected gradient is this small has met the optimum to rounding: the
# loss is a mean cross-entropy, of order 1, and its last digits are noise.
_STATIONARY_GRADIENT = 1e-7


def _at_stationary_point(result, bounds) -> bool:
    """Whether ``result`` stopped where the projected gradient vanishes."""
    gradient = np.array(result.jac, dtype=float)
    for i, (low, high) in enumerate(bounds):
        # At a bound, a gradient pushing outwards is no sign of non-convergence.
        if low is not None and result.x[i] <= low and gradient[i] > 0:
            gradient[i] = 0.0
        if high is not None and result.x[i] >= high and gradient[i] < 0:
            gradient[i] = 0.0
    return bool(np.all(np.isfinite(gradient))) and (
        np.abs(gradient).max() < _STATIONARY_GRADIENT
    )


def _as_columns(proba: np.ndarray) -> np.ndarray:
    """(1 - q, q) as columns, from a (2, n) array holding ``q`` in its second row;
    returned transposed, as scikit-learn's linear models return theirs, so that
    each column is contiguous."""
    np.subtract(1.0, proba[1], out=proba[0])
    return proba.T


class PiecewiseLogisticCalibrator(ClassifierMixin, BaseEstimator):
    """Two-slope logistic recalibration around a decision threshold.

    Fitted on 1-D scores and binary labels, it maps a score to the *operating*
    probability ``q``, which is 0.5 at ``threshold`` (one ulp above, so that the
    threshold's own side wins every tie): ``predict`` and ``predict_proba`` then
    agree on every sample. The calibrated posterior, at the
    class balance of the training data, is :meth:`predict_posterior_proba`.

    Parameters
    ----------
    threshold : float, default=0.5
        The decision threshold on the score scale (a probability when
        ``score_kind="probability"``).
    score_kind : {"auto", "probability", "decision"}, default="auto"
        ``"probability"``: scores in [0, 1], mapped through the logit;
        ``"decision"``: unbounded scores used as logits; ``"auto"``:
        ``"probability"`` when every training score lies in [0, 1].
    slopes : {"auto", "one", "two"}, default="auto"
        ``"two"``: independent slopes below and above the threshold; ``"one"``:
        a single slope (Platt scaling around the threshold); ``"auto"``: two
        slopes only when they improve the likelihood by more than the Bayesian
        information criterion charges for the extra parameter
        (``2·Δloglik > log(Σ sample_weight)``, see Notes), which guards a side
        with few events from an over-steep slope.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The labels; ``classes_[1]`` is the positive class.
    intercept_ : float
        ``c``: the log-odds of the positive class at the threshold under the
        training balance. ``q`` is ``p`` with its odds divided by ``e^c``, a prior
        shift to the balance at which the threshold is the Bayes cut.
    slope_below_, slope_above_ : float
        ``a`` and ``b``: the slopes, in the logit domain, below and above the
        threshold. ``a = b = 1`` on a calibrated model gives the plain logit
        shift ``q = expit(logit(p) - logit(threshold))``.
    n_slopes_ : int
        1 when one slope serves both sides (``slopes="one"``, one-sided data, or
        ``slopes="auto"`` where the data did not support two), else 2.
    threshold_logit_ : float
        ``z_t``, the threshold in the logit domain.
    score_kind_ : str
        ``"probability"`` or ``"decision"``.
    fallback_ : str or None
        Which documented fallback the fit needed, if any:

        - ``"one-sided"``: every training score lies on one side of the
          threshold, so the other side's slope is unidentified: one slope serves
          both sides;
        - ``"bounded slope"``: the likelihood wanted a slope outside
          [1e-3, 1e3] (a non-positive slope: scores that fall with the
          positive rate on one side); the slope is held at the bound, which
          keeps the map increasing.

    n_features_in_ : int
        Always 1.

    Notes
    -----
    The fit maximizes the likelihood of Platt's smoothed targets,
    ``(N+ + 1) / (N+ + 2)`` for positives and ``1 / (N- + 2)`` for negatives, as
    scikit-learn's sigmoid calibration does: a side the scores separate keeps a
    finite slope instead of a diverging one.

    Sample weights are read as counts of rows, as scikit-learn reads them
    (integer weights act as repeated rows): they weigh the likelihood terms,
    whose maximum depends only on their ratios, and the class sizes ``N+`` and
    ``N-`` of the smoothed targets and the ``n`` of the information criterion
    are their totals. Weights far below counts (normalized to sum 1, say)
    would flatten the targets towards 1/2, and so the probabilities: a
    ``UserWarning`` says so when a target moves by more than 0.01 from where
    the class's effective number of rows, Kish's ``(Σw)² / Σw²``, puts it.
    Rescale such weights to counts, ``w * len(w) / w.sum()``; the tuned
    threshold does not depend on their scale.

    Probabilities are clipped to ``[1e-15, 1 - 1e-15]`` before the logit when
    fitting and in :meth:`predict_posterior_proba`, so a model that outputs
    exactly 0 or 1 gets the posterior the data showed at those outputs. The
    operating probability is not clipped: 0 maps to exactly 0 and 1 to exactly
    1. ``predict_proba`` is guaranteed to be ``>= 0.5`` exactly where the score
    is ``>= threshold``, even where rounding in the logit would blur it.

    Examples
    --------
    >>> import numpy as np
    >>> from threshold_estimators import PiecewiseLogisticCalibrator
    >>> rng = np.random.default_rng(0)
    >>> scores = rng.uniform(size=20_000)
    >>> y = rng.uniform(size=20_000) < scores  # calibrated scores
    >>> calibrator = PiecewiseLogisticCalibrator(threshold=0.25).fit(scores, y)
    >>> calibrator.predict_proba([0.0, 0.25, 1.0])[:, 1]
    array([0. , 0.5, 1. ])
    >>> # Calibrated scores: slopes near 1, intercept near logit(0.25) = -1.10.
    >>> print(f"a={calibrator.slope_below_:.2f} b={calibrator.slope_above_:.2f} "
    ...       f"c={calibrator.intercept_:.2f}")
    a=1.02 b=1.02 c=-1.11
    >>> calibrator.n_slopes_  # calibrated data need no second slope
    1
    """

    _parameter_constraints: dict = {
        "threshold": [Real],
        "score_kind": [StrOptions({"auto", "probability", "decision"})],
        "slopes": [StrOptions({"auto", "one", "two"})],
    }

    def __init__(
        self, threshold: float = 0.5, *, score_kind: str = "auto", slopes: str = "auto"
    ):
        self.threshold = threshold
        self.score_kind = score_kind
        self.slopes = slopes

    def _validate_scores(self, scores, *, reset: bool) -> np.ndarray:
        scores = check_array(
            scores, ensure_2d=False, dtype=np.float64, input_name="scores"
        )
        if scores.ndim == 2:
            if scores.shape[1] != 1:
                raise ValueError(
                    "PiecewiseLogisticCalibrator takes 1-D scores (or one column); "
                    f"got an array of shape {scores.shape}."
                )
            scores = scores[:, 0]
        kind = self.score_kind_ if not reset else self.score_kind
        in_unit_interval = scores.min() >= 0 and scores.max() <= 1
        if kind == "auto":
            kind = "probability" if in_unit_interval else "decision"
        if kind == "probability" and not in_unit_interval:
            raise ValueError(
                "score_kind='probability' needs scores in [0, 1]; got scores from "
                f"{scores.min():g} to {scores.max():g}."
            )
        if reset:
            self.score_kind_ = kind
            self.n_features_in_ = 1
        return scores

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, scores, y, sample_weight=None):
        """Fit the intercept and the two slopes by maximum likelihood.

        Parameters
        ----------
        scores : array-like of shape (n_samples,) or (n_samples, 1)
            Scores of the positive class, e.g. out-of-fold probabilities.
        y : array-like of shape (n_samples,)
            Binary labels; ``classes_[1]`` (the greater label) is positive.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the likelihood terms.

        Returns
        -------
        self : object
            The fitted calibrator.
        """
        scores = self._validate_scores(scores, reset=True)
        y = column_or_1d(y)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.size != 2:
            raise ValueError(
                "PiecewiseLogisticCalibrator needs binary labels; got "
                f"{self.classes_.size} class(es): {self.classes_.tolist()[:10]}."
            )
        if len(y) != len(scores):
            raise ValueError(
                f"scores and y have different lengths: {len(scores)} and {len(y)}."
            )
        weight = _check_sample_weight(sample_weight, scores, dtype=np.float64)
        if not np.all(np.isfinite(weight)) or np.any(weight < 0):
            raise ValueError(
                "sample_weight must be finite and non-negative; got values from "
                f"{weight.min():g} to {weight.max():g}."
            )
        if not weight.max(initial=0.0) > 0:
            raise ValueError("sample_weight must have a positive entry; got all 0.")
        with np.errstate(over="ignore"):
            if not np.isfinite(weight.sum()):
                raise ValueError(
                    "sample_weight sums to infinity in float64; divide it by a "
                    "constant (weights are read as counts of rows)."
                )
        positive = y == self.classes_[1]
        # The targets and the information criterion read the weights as counts;
        # the likelihood (a mean per unit weight) depends only on their ratios,
        # so it gets them scaled by a power of two (exact) that keeps every
        # weighted sum finite.
        target = _platt_targets(positive, weight)
        with np.errstate(over="ignore"):
            total = weight.sum()
        weight = weight * _power_of_two(weight.max())
        if not np.isfinite(self.threshold):
            raise ValueError(f"threshold must be finite; got {self.threshold!r}.")

        self.threshold_logit_ = float(
            _to_logit(
                np.array([self.threshold], dtype=float), self.score_kind_, clip=True
            )[0]
        )
        z = _to_logit(scores, self.score_kind_, clip=True, offset=self.threshold_logit_)
        has_below = np.any(weight[z < 0] > 0)
        has_above = np.any(weight[z > 0] > 0)
        # The tied model (one slope, a = b) is Platt scaling around the threshold.
        one = _maximize_likelihood(
            np.column_stack([np.ones_like(z), z]), target, weight
        )
        params, self.fallback_ = one.x, None
        if not (has_below and has_above):
            self.fallback_ = "one-sided"
        elif self.slopes != "one":
            features = np.column_stack(
                [np.ones_like(z), np.minimum(z, 0.0), np.maximum(z, 0.0)]
            )
            two = _maximize_likelihood(features, target, weight)
            # BIC for the extra slope, with weights counted as repeated rows: two
            # slopes only when the data support them.
            gain = 2 * total * (one.fun - two.fun)
            if self.slopes == "two" or gain > np.log(max(total, 1.0)):
                params = two.x
        self.n_slopes_ = params.size - 1
        self.intercept_ = float(params[0])
        self.slope_below_ = float(params[1])
        self.slope_above_ = float(params[-1])
        at_bound = np.isclose(params[1:], MIN_SLOPE) | np.isclose(params[1:], MAX_SLOPE)
        if np.any(at_bound):
            self.fallback_ = "bounded slope"
        return self

    def _operating_logit(
        self,
        scores,
        *,
        clip: bool = False,
        validate: bool = True,
        out: np.ndarray | None = None,
        scratch: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``a·u + b·v`` for new scores (in ``out``), and the scores themselves.

        ``validate=False`` is for scores the tuned classifier has just taken from
        its own fitted estimator (a 1-D float array): validating a million of
        them again costs as much as the rest of the transform. ``out`` and
        ``scratch``, two float arrays of the scores' length, spare allocating
        (and first touching) new ones.
        """
        check_is_fitted(self)
        if validate:
            scores = self._validate_scores(scores, reset=False)
        eta = _to_logit(
            scores, self.score_kind_, clip=clip, offset=self.threshold_logit_, out=out
        )
        a, b = self.slope_below_, self.slope_above_
        if a == b:
            eta *= a
            return eta, scores
        # a·min(η, 0) + b·max(η, 0) is max(a·η, b·η) when a < b (min when a > b):
        # the same floats, ±inf kept, in three passes instead of a slope per row.
        above = np.multiply(eta, b, out=scratch)
        eta *= a
        (np.maximum if a < b else np.minimum)(eta, above, out=eta)
        return eta, scores

    def _logit_rows(self, scores, *, clip: bool, validate: bool):
        """A new (2, n) array holding the operating logit in its second row (the
        first is scratch), and the scores: the probabilities are built in place in
        it, so that :func:`_as_columns` allocates nothing but the result."""
        check_is_fitted(self)
        if validate:
            scores = self._validate_scores(scores, reset=False)
        rows = np.empty((2, scores.shape[0]))
        self._operating_logit(
            scores, clip=clip, validate=False, out=rows[1], scratch=rows[0]
        )
        return rows, scores

    def predict_proba(self, scores):
        """Operating probabilities, 0.5 at the threshold.

        Parameters
        ----------
        scores : array-like of shape (n_samples,) or (n_samples, 1)

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            Columns in the order of ``classes_``.
        """
        return self._predict_proba(scores, validate=True)

    def _predict_proba(self, scores, *, validate: bool):
        proba, scores = self._logit_rows(scores, clip=False, validate=validate)
        q = expit(proba[1], out=proba[1])
        # The decision is the comparison of raw scores; the logit's rounding must
        # not let the probability disagree with it. At the threshold itself q is
        # one ulp above 0.5, so that both argmax and ">= 0.5" pick the tuned side.
        # Such rows are rare: find them, then fix only them.
        off = q == 0.5
        if self.score_kind_ == "probability":
            # Decision scores need no more: ``score - threshold`` has the exact
            # sign, which positive slopes and expit keep or round to 0.5.
            off |= (q > 0.5) != (scores >= self.threshold)
        rows = np.flatnonzero(off)
        q[rows] = np.where(
            scores[rows] >= self.threshold, np.nextafter(0.5, 1), np.nextafter(0.5, 0)
        )
        return _as_columns(proba)

    def predict_log_proba(self, scores):
        """Logarithm of :meth:`predict_proba` (``-inf`` where it is exactly 0).

        Parameters
        ----------
        scores : array-like of shape (n_samples,) or (n_samples, 1)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, 2)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(scores))

    def decision_function(self, scores):
        """Operating log-odds ``a·u + b·v``: positive exactly from the threshold up.

        Parameters
        ----------
        scores : array-like of shape (n_samples,) or (n_samples, 1)

        Returns
        -------
        log_odds : ndarray of shape (n_samples,)
            ``> 0`` where the score is ``>= threshold`` (the smallest positive
            float at the threshold itself), ``< 0`` below it.
        """
        eta, scores = self._operating_logit(scores)
        tiny = np.finfo(float).smallest_subnormal
        return np.where(
            scores >= self.threshold, np.maximum(eta, tiny), np.minimum(eta, -tiny)
        )

    def predict(self, scores):
        """Labels: ``classes_[1]`` where the score is ``>= threshold``.

        Parameters
        ----------
        scores : array-like of shape (n_samples,) or (n_samples, 1)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(scores)
        return self.classes_[(proba[:, 1] >= 0.5).astype(int)]

    def predict_posterior_proba(self, scores):
        """Calibrated probabilities at the training class balance.

        ``expit(c + a·u + b·v)``: use these when the probability itself matters
        (expected counts, risk scores); their 0.5 point is not the threshold.

        Parameters
        ----------
        scores : array-like of shape (n_samples,) or (n_samples, 1)

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
        """
        # Clipped as in fit: the posterior of a score of exactly 0 or 1 is what
        # the fit learnt at the clipped logit, not an extrapolation to 0 or 1.
        proba, _ = self._logit_rows(scores, clip=True, validate=True)
        eta = np.add(self.intercept_, proba[1], out=proba[1])
        expit(eta, out=eta)
        return _as_columns(proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.classifier_tags.multi_class = False
        return tags
