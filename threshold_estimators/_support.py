"""Warnings for a rate target whose cut the rows barely support.

A precision (recall) target without a confidence bound is met on the rows it
was tuned on, and nothing more: read on a few dozen positive calls (positives),
the measured rate is a rough estimate, and the cut that just reaches it is
chosen where the estimate happened to be high. The same goes for a cut that
moves a lot from fold to fold. Both are common with rare classes and cost the
user nothing to hear about; a bound that accounts for them exists
(``confidence=``), so the warning names it.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import sklearn
from scipy.stats import beta as beta_distribution

from ._calibration import effective_size

# A rate measured on fewer rows than this is uncertain by more than about ±0.1
# at 95 % (at a rate of 0.8: ±0.14 on 30 rows).
MIN_SUPPORT = 30
# Cuts one fold standard deviation either side of the tuned cut calling this
# many times as many rows positive: the folds disagree on the decision itself.
SPREAD_CALL_RATIO = 2.0


class LowSupportWarning(UserWarning):
    """A tuned rate target rests on few rows, or its cut moves much between folds.

    Raised by :class:`~threshold_estimators.ThresholdTunedClassifier` and
    :func:`~threshold_estimators.pick_threshold` for a
    :class:`~threshold_estimators.objectives.PrecisionTarget` or
    :class:`~threshold_estimators.objectives.RecallTarget` without
    ``confidence``; the message gives the numbers and the remedy.
    """


_INTERNAL = (str(Path(__file__).parent), str(Path(sklearn.__file__).parent))


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside this package and
    scikit-learn (its validation and fit wrappers): the user's call."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    return level


def _interval(successes: int, trials: int) -> tuple[float, float]:
    """The two-sided 95 % Clopper–Pearson interval of a rate."""
    low = beta_distribution.ppf(0.025, successes, trials - successes + 1)
    high = beta_distribution.ppf(0.975, successes + 1, trials - successes)
    return (
        float(np.nan_to_num(low, nan=0.0)),
        float(np.nan_to_num(high, nan=1.0)),
    )


def warn_if_unsupported(
    objective,
    positive,
    score,
    threshold,
    *,
    fold_std=None,
    rows="out-of-fold",
    label=None,
    odds_shift=None,
    sample_weight=None,
) -> None:
    """Warn (:class:`LowSupportWarning`) when a rate target's cut rests on
    fewer than ``MIN_SUPPORT`` rows, or when its fold spread ``fold_std``
    moves the number of positive calls by ``SPREAD_CALL_RATIO`` or more.

    ``positive`` marks the tuned class's rows, ``score`` their scores (the
    cut calls ``score >= threshold``); ``rows`` names them in the message, and
    ``label`` the class, when every class has its own cut. ``odds_shift``:
    the factor a prevalence multiplies the tuned class's odds by (None:
    none). A precision decided for a new rate is its training-rate precision
    mapped through that factor, which can stretch its interval many times
    (see :func:`_shifted_support`); recall does not depend on the rate.
    ``sample_weight``: the rows' weights at the training balance, on which
    the factor was computed; the precision it maps is then the weighted one,
    on Kish's effective number of calls.
    """
    kind = getattr(objective, "_constrained", "")
    if not kind or objective.confidence is not None or not np.isfinite(threshold):
        return
    score = np.asarray(score, dtype=float)
    called = score >= threshold
    true_positives = int(np.count_nonzero(called & positive))
    if kind == "precision":
        trials, what = int(np.count_nonzero(called)), "positive calls"
        target = objective.min_precision
    else:
        trials, what = int(np.count_nonzero(positive)), "positives"
        target = objective.min_recall
    subject = f"The cut {threshold:.4g}" + (
        "" if label is None else f" of class {label!r}"
    )
    remedy = (
        f"Set {type(objective).__name__}({target:g}, confidence=0.9) for a cut "
        f"whose {kind} bound accounts for it, or tune on more rows."
    )
    if kind == "precision" and odds_shift is not None and trials > 0:
        hits, calls = float(true_positives), float(trials)
        if sample_weight is not None:
            weight = np.asarray(sample_weight, dtype=float)[called]
            if not weight.sum() > 0:
                return
            calls = effective_size(weight)
            hits = calls * weight[positive[called]].sum() / weight.sum()
        # Few calls stay a warning even where the shift would narrow the
        # delta method's interval: on them the method itself is rough.
        support = _shifted_support(hits, calls, odds_shift)
        if min(calls, support) < MIN_SUPPORT:
            _warn_shifted(subject, remedy, hits, calls, odds_shift, rows)
            return
    if 0 < trials < MIN_SUPPORT:
        low, high = _interval(true_positives, trials)
        warnings.warn(
            f"{subject} rests on {trials} {rows} {what}: its "
            f"{kind}, {true_positives / trials:.3g} on them, is only known to lie "
            f"in [{low:.3g}, {high:.3g}] (95 %), and a {kind} target read on fewer "
            f"than {MIN_SUPPORT} {what} may not hold on new data. {remedy}",
            LowSupportWarning,
            stacklevel=_caller_level(),
        )
        return
    if fold_std is None or not np.isfinite(fold_std) or not fold_std > 0:
        return
    fewest = int(np.count_nonzero(score >= threshold + fold_std))
    most = int(np.count_nonzero(score >= threshold - fold_std))
    if most >= SPREAD_CALL_RATIO * max(fewest, 1):
        warnings.warn(
            f"{subject} moves much between folds (standard deviation "
            f"{fold_std:.3g}): cuts one standard deviation either side call "
            f"{fewest} and {most} {rows} rows positive ({np.count_nonzero(called)} "
            f"at the cut), so the {kind} target is met by the pooled rows but "
            f"not reliably by each fold's. {remedy}",
            LowSupportWarning,
            stacklevel=_caller_level(),
        )


def _shifted(precision, odds_shift):
    """A precision at the training rate, read at the rate whose odds are
    ``odds_shift`` times the training odds."""
    # (1 - p) apart: at p = 1 a tiny factor must not vanish into 1 + s - 1.
    return odds_shift * precision / (odds_shift * precision + (1.0 - precision))


def _shifted_support(true_positives: int, calls: int, odds_shift: float) -> float:
    """The number of calls whose plain precision would be as uncertain as
    the shifted precision of ``true_positives`` hits in ``calls``.

    The shifted precision ``q = s p / (s p + 1 - p)`` of a measured ``p``
    has, by the delta method, the variance of a rate ``q`` measured on
    ``calls (s p + 1 - p)^2 / s`` rows: a rate falling 15-fold (``s``
    about 1/17) leaves the precision of 400 calls as uncertain as that of
    about 35 when it is 0.8 after the shift.
    """
    precision = true_positives / calls
    return calls * (odds_shift * precision + (1.0 - precision)) ** 2 / odds_shift


def _warn_shifted(subject, remedy, true_positives, calls, odds_shift, rows):
    """``true_positives`` of ``calls``, both effective counts with weights."""
    low, high = (
        _shifted(bound, odds_shift) for bound in _interval(true_positives, calls)
    )
    equivalent = _shifted_support(true_positives, calls, odds_shift)
    warnings.warn(
        f"{subject} rests on {calls:.0f} {rows} positive calls at the training "
        f"rate, and the rate it is decided for multiplies the odds of a positive "
        f"by {odds_shift:.3g}: its precision there, "
        f"{_shifted(true_positives / calls, odds_shift):.3g}, is only known to "
        f"lie in [{low:.3g}, {high:.3g}] (95 %), as uncertain as a precision "
        f"read on {_calls_text(equivalent)}, and a precision target read on fewer "
        f"than {MIN_SUPPORT} may not hold on new data. {remedy}",
        LowSupportWarning,
        stacklevel=_caller_level(),
    )


def _calls_text(calls: float) -> str:
    return "under one call" if calls < 1 else f"{calls:.0f} calls"
