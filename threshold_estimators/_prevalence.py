"""Decisions for another base rate: label shift, reweighting and its estimate.

Under label shift the class-conditional score distributions stay and only the
class proportions move. The confusion counts at a new rate are then the
out-of-fold counts with each class's rows reweighted by ``π'_k / π_k``, its
new over its training proportion, so every objective is searched exactly for
the new rate by the same search on reweighted rows (``shifted_weights``).

The new rate can also be estimated from unlabelled deployment rows
(``estimate_prevalence``): by expectation-maximization on calibrated
posteriors (Saerens, Latinne and Decaestecker 2002), or by black-box shift
estimation from the out-of-fold confusion matrix (Lipton, Wang and Smola
2018).
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real
from typing import NamedTuple

import numpy as np
from scipy.stats import norm

from ._validation import class_index, plain

# A rate (a class's proportion) below this reweights rows by factors whose
# products with counts and odds leave float64's range.
_SMALLEST_RATE = 1e-100
# Fewer unlabelled rows than this give a rate no better than a guess.
MIN_UNLABELLED_ROWS = 50

# EM stops when the rate moves less than this between iterations.
_EM_TOLERANCE = 1e-10
_EM_MAX_ITERATIONS = 10_000


class PrevalenceEstimate(NamedTuple):
    """A base rate estimated from unlabelled rows.

    ``value`` is the rate (binary or one tuned class: the tuned class's rate;
    every class: one proportion per class), ``std`` its standard error,
    ``interval`` a 95 % normal interval clipped to [0, 1], ``method`` how it
    was estimated and ``n_rows`` the number of unlabelled rows.
    """

    value: float | np.ndarray
    std: float | np.ndarray
    interval: tuple
    method: str
    n_rows: int


def class_proportions(y, sample_weight, classes) -> np.ndarray:
    """The (weighted) share of each class among the rows."""
    index = class_index(y, classes)
    totals = np.bincount(index, weights=sample_weight, minlength=len(classes))
    return totals / totals.sum()


def _by_class(prevalence, classes):
    """Proportions keyed by class (a dict, or a pandas Series indexed by the
    classes, in any order) as a list in the order of ``classes``; anything
    else as it is. A Series with pandas' default index (0, 1, ...) that does
    not name the classes is read in order, as an array is."""
    if isinstance(prevalence, Mapping):
        labels, values = list(prevalence.keys()), list(prevalence.values())
    elif hasattr(prevalence, "index") and hasattr(prevalence, "to_numpy"):
        labels, values = list(prevalence.index), list(prevalence.to_numpy())
        known = {plain(c) for c in classes}
        default = labels == list(range(len(labels)))
        if default and {plain(label) for label in labels} != known:
            return values
    else:
        return prevalence
    named = {plain(label): value for label, value in zip(labels, values, strict=True)}
    wanted = [plain(c) for c in classes]
    if len(named) != len(labels) or set(named) != set(wanted):
        raise ValueError(
            "prevalence given by class must name every class of classes_ "
            f"{wanted} once; got {[plain(label) for label in labels]}."
        )
    return [named[c] for c in wanted]


def check_prevalence(prevalence, classes, pos_label):
    """``prevalence`` as the rates the decision is made for, or a ValueError.

    Returns one proportion per class (in the order of ``classes``), or None
    for None. A number is the rate of the tuned class (``pos_label``; a
    binary target's positive class); the other classes keep their relative
    sizes. Every class tuned (``pos_label=None``) needs one proportion per
    class.
    """
    if prevalence is None:
        return None
    prevalence = _by_class(prevalence, classes)
    if isinstance(prevalence, (bool, np.bool_, str, bytes)):
        raise ValueError(
            "prevalence must be a rate strictly between 0 and 1, or one "
            f"proportion per class; got {prevalence!r}."
        )
    if isinstance(prevalence, np.ndarray) and prevalence.ndim == 0:
        prevalence = prevalence.item()
    n_classes = len(classes)
    if isinstance(prevalence, Real) and not isinstance(prevalence, bool):
        if pos_label is None:
            raise ValueError(
                f"prevalence for a {n_classes}-class target whose every class is "
                f"tuned (pos_label=None) must give one proportion per class, in "
                f"the order of classes_ {[plain(c) for c in classes]}; got the "
                f"number {prevalence!r}."
            )
        rate = float(prevalence)
        if 0.0 < rate < _SMALLEST_RATE:
            raise ValueError(
                f"prevalence {prevalence!r} is below {_SMALLEST_RATE:g}: the rows "
                "reweighted to it would leave float64's range (no decision "
                "could be told from another)."
            )
        if not 0.0 < rate < 1.0:
            raise ValueError(
                "prevalence must be a rate strictly between 0 and 1 (the share of "
                f"class {plain(pos_label)!r} the decision is made for); got "
                f"{prevalence!r}."
            )
        return rate
    try:
        given = np.asarray(prevalence)
        # Numbers only: text ("0.3") and booleans are refused in a list as
        # they are alone.
        if given.dtype.kind not in "iuf":
            raise TypeError
        proportions = given.astype(float)
    except (TypeError, ValueError):
        raise ValueError(
            "prevalence must be a rate in (0, 1) or one proportion per class; "
            f"got {prevalence!r}."
        ) from None
    if proportions.shape != (n_classes,):
        raise ValueError(
            f"prevalence must give one proportion per class ({n_classes}, in the "
            f"order of classes_ {[plain(c) for c in classes]}); got shape "
            f"{proportions.shape}."
        )
    if np.any((proportions > 0) & (proportions < _SMALLEST_RATE)):
        raise ValueError(
            f"prevalence proportions below {_SMALLEST_RATE:g} would reweight the "
            "rows out of float64's range; got "
            f"{proportions.tolist()}."
        )
    if not np.all(np.isfinite(proportions)) or np.any(proportions <= 0):
        raise ValueError(
            "prevalence proportions must be finite and strictly positive (a class "
            "with no share cannot be decided for); got "
            f"{proportions.tolist()}."
        )
    if not np.isclose(proportions.sum(), 1.0, rtol=0, atol=1e-9):
        raise ValueError(
            "prevalence proportions must sum to 1; got "
            f"{proportions.tolist()} (sum {proportions.sum():.12g})."
        )
    return proportions / proportions.sum()


def target_proportions(prevalence, training, classes, pos_label) -> np.ndarray:
    """One proportion per class from a checked ``prevalence``: a number is the
    tuned class's share, the others scaled to keep their relative sizes."""
    if not isinstance(prevalence, float):
        return prevalence
    column = int(np.flatnonzero(classes == pos_label)[0])
    others = training.sum() - training[column]
    proportions = training * ((1.0 - prevalence) / others)
    proportions[column] = prevalence
    return proportions


def shifted_weights(y, sample_weight, classes, class_ratio) -> np.ndarray:
    """Each row's weight times its class's ratio (new over training
    proportion)."""
    weight = class_ratio[np.searchsorted(classes, y)]
    return weight if sample_weight is None else weight * sample_weight


def odds_shift(class_ratio, training, column: int) -> float:
    """The factor by which reweighting with ``class_ratio`` (each class's new
    over its ``training`` proportion) multiplies the odds of class ``column``
    against the rest: its ratio over the rest's pooled one."""
    new = training * class_ratio
    # The rest summed, not the whole less the class: a class of nearly the
    # whole weight would leave the rest to cancellation (a rate of 1e-20).
    rest_training = np.delete(training, column).sum()
    rest_new = np.delete(new, column).sum()
    return float(class_ratio[column] / (rest_new / rest_training))


def reported_prevalence(proportions, classes, pos_label):
    """What ``prevalence_`` reports: the tuned class's rate, or the vector."""
    if pos_label is None:
        return proportions
    return float(proportions[int(np.flatnonzero(classes == pos_label)[0])])


def decision_weights(y, sample_weight, classes, pos_label, prevalence, totals=None):
    """The weights the decision is searched with for ``prevalence`` (checked
    already by :func:`check_prevalence`), what ``prevalence_`` reports (the
    given rate, or the training rate for None) and each class's new over
    its training proportion (None for None). ``totals``: the classes' total
    weights in these rows, when already summed."""
    if totals is None:
        training = class_proportions(y, sample_weight, classes)
    else:
        training = totals / totals.sum()
    if prevalence is None:
        return sample_weight, reported_prevalence(training, classes, pos_label), None
    proportions = target_proportions(prevalence, training, classes, pos_label)
    ratio = proportions / training
    weight = shifted_weights(y, sample_weight, classes, ratio)
    return weight, reported_prevalence(proportions, classes, pos_label), ratio


# ---------------------------------------------------------------- estimation


def check_unlabelled_rows(n_rows: int):
    if n_rows < MIN_UNLABELLED_ROWS:
        raise ValueError(
            f"Estimating the prevalence needs at least {MIN_UNLABELLED_ROWS} "
            f"unlabelled rows; got {n_rows}. Pass the rate itself "
            "(retarget(prevalence=...)) if it is known."
        )


def em_rate(
    posterior: np.ndarray,
    training_rate: float,
    *,
    calibration: tuple[np.ndarray, np.ndarray] | None = None,
) -> PrevalenceEstimate:
    """The positive rate of unlabelled rows by expectation-maximization.

    ``posterior`` holds calibrated probabilities of the positive class at the
    training rate. Each iteration re-weighs them to the current rate and
    averages (Saerens, Latinne and Decaestecker 2002); the fixed point is
    the maximum-likelihood rate of the mixture, whose observed Fisher
    information gives the sampling part of the standard error.

    ``calibration``, ``(features, covariance)``, carries the error of the
    calibrator the posteriors come from: the rows' features of its logistic
    model and the covariance of its parameters. The estimate moves with the
    parameters by implicit differentiation of the fixed-point equation, and
    that variance (delta method) is added: with a calibrator fitted on a few
    hundred positives it is often the larger part.
    """
    posterior = np.clip(posterior, 1e-15, 1 - 1e-15)
    positive_odds = posterior / training_rate
    negative_odds = (1.0 - posterior) / (1.0 - training_rate)
    rate = training_rate
    for _ in range(_EM_MAX_ITERATIONS):
        mixed = rate * positive_odds
        updated = float(np.mean(mixed / (mixed + (1.0 - rate) * negative_odds)))
        if abs(updated - rate) < _EM_TOLERANCE:
            rate = updated
            break
        rate = updated
    mixture = rate * positive_odds + (1.0 - rate) * negative_odds
    information = np.sum(((positive_odds - negative_odds) / mixture) ** 2)
    variance = 1.0 / information if information > 0 else np.inf
    if calibration is not None and 0 < rate < 1 and np.isfinite(variance):
        variance += _calibration_variance(
            rate * positive_odds / mixture, rate, *calibration
        )
    return _estimate(rate, float(np.sqrt(variance)), "em", posterior.size)


def _calibration_variance(shifted, rate, features, covariance) -> float:
    """The variance the calibrator's parameters give the EM rate.

    At the fixed point ``G(r, θ) = mean(h) - r = 0``, with ``h`` the posteriors
    moved to the rate ``r``, ``h = expit(θ·f + logit r - logit π)``; so
    ``∂G/∂θ = mean(h(1 - h) f)``, ``∂G/∂r = mean(h(1 - h)) / (r(1 - r)) - 1``
    and ``dr/dθ = -(∂G/∂θ) / (∂G/∂r)``.
    """
    spread = shifted * (1.0 - shifted)
    slope_in_rate = spread.mean() / (rate * (1.0 - rate)) - 1.0
    if not slope_in_rate < 0:  # a flat likelihood: the rate is not identified
        return np.inf
    gradient = -(spread @ features) / spread.size / slope_in_rate
    return float(max(gradient @ covariance @ gradient, 0.0))


def bbse_rate(called, tpr: float, fpr: float, n_positive, n_negative):
    """The positive rate of unlabelled rows from their share of positive calls.

    With the out-of-fold true and false positive rates ``tpr`` and ``fpr`` of
    the decision, the share ``q`` of positive calls on the new rows is
    ``π tpr + (1 - π) fpr`` under label shift (Lipton, Wang and Smola 2018),
    so ``π = (q - fpr) / (tpr - fpr)``; the standard error adds the sampling
    variances of ``q``, ``tpr`` and ``fpr`` (delta method).
    """
    n_rows = called.size
    q = float(np.mean(called))
    if not tpr - fpr > 0:
        raise ValueError(
            "The decision tells the classes apart no better than chance on the "
            f"out-of-fold rows (true positive rate {tpr:.4g}, false positive "
            f"rate {fpr:.4g}): black-box shift estimation cannot invert it. Use "
            "method='em' or give the prevalence."
        )
    rate = (q - fpr) / (tpr - fpr)
    variance = (
        q * (1 - q) / n_rows
        + rate**2 * tpr * (1 - tpr) / max(n_positive, 1)
        + (1 - rate) ** 2 * fpr * (1 - fpr) / max(n_negative, 1)
    ) / (tpr - fpr) ** 2
    return _estimate(rate, float(np.sqrt(variance)), "bbse", n_rows)


def bbse_proportions(predicted, confusion) -> PrevalenceEstimate:
    """Class proportions of unlabelled rows from their predicted classes.

    ``confusion[i, j]`` is the out-of-fold share of class-``j`` rows
    predicted as class ``i``; the predicted shares ``q`` of the new rows
    solve ``confusion @ π = q`` under label shift (Lipton, Wang and Smola
    2018). The standard error is the sampling error of ``q`` propagated
    through the inverse.
    """
    n_classes = confusion.shape[0]
    q = np.bincount(predicted, minlength=n_classes) / predicted.size
    try:
        inverse = np.linalg.inv(confusion)
    except np.linalg.LinAlgError:
        raise ValueError(
            "The out-of-fold confusion matrix of the decision is singular: some "
            "classes are never told apart, so black-box shift estimation cannot "
            "recover their proportions. Give the prevalence instead."
        ) from None
    proportions = inverse @ q
    covariance_q = (np.diag(q) - np.outer(q, q)) / predicted.size
    std = np.sqrt(np.clip(np.diag(inverse @ covariance_q @ inverse.T), 0, None))
    return _estimate(proportions, std, "bbse", predicted.size)


def _estimate(value, std, method, n_rows) -> PrevalenceEstimate:
    """The estimate, or a ValueError when it lies at or beyond the boundary."""
    values = np.atleast_1d(np.asarray(value, dtype=float))
    # Less than half a row of a class among the rows is no rate at all (EM
    # only tends to 0 or 1, never reaching it).
    floor = 0.5 / n_rows
    if np.any(values < floor) or np.any(values > 1 - floor):
        which = "0" if np.min(values) < floor else "1"
        reach = np.clip(
            values + (1 if which == "0" else -1) * 1.96 * np.asarray(std), 0, 1
        )
        raise ValueError(
            f"The prevalence estimated ({method}) from {n_rows} unlabelled rows is "
            f"at the boundary {which} (estimate {np.round(values, 4).tolist()}, "
            f"standard error {np.round(np.atleast_1d(std), 4).tolist()}): "
            "the new rows look as if a class were absent (or alone). Either the "
            "shift is not a label shift (the scores of each class moved too: "
            "covariate shift, a changed model input), or the rows are too few "
            "to see a rare class. No decision can be made for a rate of 0 or 1; "
            "give the prevalence itself if it is known (the 95 % interval reaches "
            f"{np.round(reach, 4).tolist()}: a rate there is compatible with these "
            "rows)."
        )
    half = norm.ppf(0.975) * np.asarray(std)
    interval = (
        np.clip(np.asarray(value) - half, 0, 1),
        np.clip(np.asarray(value) + half, 0, 1),
    )
    if np.ndim(value) == 0:
        value, std = float(value), float(std)
        interval = (float(interval[0]), float(interval[1]))
    else:
        # The solved proportions sum to 1 up to rounding.
        value = value / value.sum()
    return PrevalenceEstimate(value, std, interval, method, int(n_rows))
