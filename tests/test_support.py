"""Support warnings: a rate target's cut resting on few rows, or moving between
folds, is reported with its numbers and the confidence option (issue 17)."""

import re
import warnings

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from threshold_estimators import (
    LowSupportWarning,
    ThresholdTunedClassifier,
    pick_threshold,
)
from threshold_estimators.objectives import (
    FixedThreshold,
    PrecisionTarget,
    RecallTarget,
)


def few_calls_scores(n_top=5, n_rest=200, seed=0):
    """``n_top`` positives on top of the scores, then a mixed rest."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(n_top), rng.random(n_rest) < 0.2].astype(int)
    score = np.r_[np.linspace(0.95, 1.0, n_top), rng.uniform(0, 0.9, n_rest)]
    return y, score


def test_a_precision_cut_on_few_calls_warns_with_its_interval():
    y, score = few_calls_scores()
    with pytest.warns(LowSupportWarning) as record:
        found = pick_threshold(y, score, PrecisionTarget(0.9))
    calls = int(np.count_nonzero(score >= found.threshold))
    hits = int(np.count_nonzero((score >= found.threshold) & (y == 1)))
    assert 0 < calls < 30
    message = str(record[0].message)
    assert f"rests on {calls} scored positive calls" in message
    interval = binomtest(hits, calls).proportion_ci(0.95, method="exact")
    low, high = map(float, re.search(r"\[([\d.]+), ([\d.]+)\]", message).groups())
    assert low == pytest.approx(interval.low, abs=6e-4)
    assert high == pytest.approx(interval.high, abs=6e-4)
    assert "PrecisionTarget(0.9, confidence=0.9)" in message
    # The warning points at the caller, not at the library or scikit-learn.
    assert record[0].filename == __file__


def test_a_recall_target_on_few_positives_warns():
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(12), np.zeros(300)].astype(int)
    score = np.r_[rng.uniform(0.3, 1, 12), rng.uniform(0, 0.8, 300)]
    with pytest.warns(LowSupportWarning, match="rests on 12 scored positives"):
        pick_threshold(y, score, RecallTarget(0.8))


@pytest.mark.parametrize(
    "objective",
    [
        PrecisionTarget(0.9, confidence=0.9),  # the bound accounts for it
        "f1",  # no target to miss
        FixedThreshold(0.97),  # the user's own cut
    ],
)
def test_no_warning_without_an_unbounded_rate_target(objective):
    y, score = few_calls_scores()
    with warnings.catch_warnings():
        warnings.simplefilter("error", LowSupportWarning)
        try:
            pick_threshold(y, score, objective)
        except ValueError:  # an infeasible bound is an error, not a warning
            assert not isinstance(objective, str)


def test_many_calls_and_a_stable_cut_do_not_warn():
    rng = np.random.default_rng(2)
    y = (rng.random(20_000) < 0.3).astype(int)
    score = rng.normal(size=y.size) + 2 * y
    with warnings.catch_warnings():
        warnings.simplefilter("error", LowSupportWarning)
        pick_threshold(y, score, PrecisionTarget(0.8))
        ThresholdTunedClassifier(
            LogisticRegression(), objective=PrecisionTarget(0.8)
        ).fit(score[:, None], y)


def test_a_cut_that_moves_between_folds_warns_with_the_calls_either_side():
    """The issue's story: one digit tuned on 55 positives; the strict target's
    cut moves by about a quarter of the probability range between folds."""
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    keep = np.r_[
        np.flatnonzero(y != 5), rng.choice(np.flatnonzero(y == 5), 55, replace=False)
    ]
    X, y = X[keep], y[keep]
    model = ThresholdTunedClassifier(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        objective=PrecisionTarget(0.99),
        pos_label=5,
        cv=StratifiedKFold(5),
    )
    with pytest.warns(LowSupportWarning, match="moves much between folds") as record:
        model.fit(X, y)
    message = str(record[0].message)
    # The counts, recomputed from the kept out-of-fold scores.
    score = model.out_of_fold_["score"]
    score = score[:, list(model.classes_).index(5)] if score.ndim == 2 else score
    cut, std = model.threshold_, model.threshold_std_
    fewest = np.count_nonzero(score >= cut + std)
    most = np.count_nonzero(score >= cut - std)
    assert f"call {fewest} and {most} out-of-fold rows positive" in message
    assert most >= 2 * max(fewest, 1)
    assert f"standard deviation {std:.3g}" in message


def test_the_guide_table_of_positives_needed_is_the_bound():
    """docs/guide/confidence.md's table, recomputed from the Clopper–Pearson
    bound with scipy's binomial test (an independent implementation)."""
    from pathlib import Path

    guide = Path(__file__).resolve().parents[1] / "docs" / "guide" / "confidence.md"
    text = guide.read_text(encoding="utf-8")
    rows = re.findall(r"^\| (0\.\d+) \| (.+) \|$", text, flags=re.MULTILINE)
    assert len(rows) == 4

    def lower(hits, calls, confidence):
        if hits == 0:
            return 0.0
        return (
            binomtest(hits, calls, alternative="greater")
            .proportion_ci(confidence, method="exact")
            .low
        )

    def fewest(target, confidence, precision):
        for calls in range(1, 5000):
            if (
                lower(int(np.floor(precision * calls + 1e-9)), calls, confidence)
                >= target
            ):
                return calls
        raise AssertionError

    for target, cells in rows:
        target = float(target)
        for confidence, cell in zip((0.9, 0.95, 0.99), cells.split(" | "), strict=True):
            perfect, halfway = (int(v) for v in cell.split(" / "))
            assert perfect == fewest(target, confidence, 1.0)
            if target < 0.99:  # the 0.99 column scans thousands of bounds: slow
                assert halfway == fewest(target, confidence, (1 + target) / 2)


def test_every_class_tuned_warns_per_class_by_name():
    """Digits, every class tuned for precision 0.99 on about 36 rows a class:
    the classes whose cut rests on few calls are named."""
    X, y = load_digits(return_X_y=True)
    rows = np.random.default_rng(3).choice(y.size, 360, replace=False)
    model = ThresholdTunedClassifier(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        objective=PrecisionTarget(0.99),
        pos_label=None,
    )
    with pytest.warns(LowSupportWarning) as record:
        model.fit(X[rows], y[rows])
    messages = [str(w.message) for w in record]
    named = {int(m) for m in re.findall(r"of class (\d+) ", " ".join(messages))}
    assert named and named <= set(range(10))
    score = model.out_of_fold_["score"]
    for label in named:
        calls = np.count_nonzero(score[:, label] >= model.threshold_[label])
        own = [m for m in messages if f"of class {label} " in m]
        assert any(f"rests on {calls} out-of-fold" in m for m in own) or any(
            "moves much" in m for m in own
        )


def gaussian_scores(n=20_000, rate=0.15, separation=2.0, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rate).astype(int)
    return y, rng.normal(size=n) + separation * y


def test_a_precision_decided_for_a_rare_rate_warns_with_its_mapped_interval():
    """Precision 0.8 at a rate of 0.002 is precision ~0.998 at 0.15, read on
    a handful of false positives: hundreds of calls, but an uncertain
    precision there."""
    y, score = gaussian_scores(separation=3.0)
    with pytest.warns(LowSupportWarning, match="multiplies the odds") as record:
        found = pick_threshold(y, score, PrecisionTarget(0.8), prevalence=0.002)
    called = score >= found.threshold
    calls, hits = int(called.sum()), int((called & (y == 1)).sum())
    assert calls >= 30  # the warning is the shift's, not the calls'
    training = y.mean()
    shift = (0.002 / 0.998) / (training / (1 - training))
    message = str(record[0].message)
    assert f"rests on {calls} scored positive calls" in message
    assert f"by {shift:.3g}" in message
    interval = binomtest(hits, calls).proportion_ci(0.95, method="exact")

    def mapped(p):
        return shift * p / (shift * p + 1 - p)

    low, high = map(float, re.search(r"\[([\d.]+), ([\d.]+)\]", message).groups())
    assert low == pytest.approx(mapped(interval.low), abs=6e-4)
    assert high == pytest.approx(mapped(interval.high), abs=6e-4)
    assert high - low > 0.25


def test_the_same_cut_without_the_shift_does_not_warn():
    y, score = gaussian_scores()
    with warnings.catch_warnings():
        warnings.simplefilter("error", LowSupportWarning)
        pick_threshold(y, score, PrecisionTarget(0.8))
        pick_threshold(y, score, PrecisionTarget(0.8), prevalence=0.3)


def test_the_shifted_support_is_the_spread_of_the_shifted_precision():
    """The support behind the warning, against draws: the precision ``q``
    mapped from binomial hits varies as a rate measured on that many rows."""
    from threshold_estimators._support import _shifted, _shifted_support

    rng = np.random.default_rng(4)
    for calls, precision, shift in [
        (400, 0.986, 1 / 17.6),
        (2000, 0.5, 0.2),
        (300, 0.3, 8.0),
    ]:
        hits = rng.binomial(calls, precision, size=200_000)
        spread = np.std(_shifted(hits / calls, shift))
        support = _shifted_support(round(precision * calls), calls, shift)
        q = _shifted(precision, shift)
        assert spread == pytest.approx(np.sqrt(q * (1 - q) / support), rel=0.1)


def test_retargeting_to_a_rare_rate_warns_and_a_confidence_does_not():
    y, score = gaussian_scores(separation=3.0, seed=1)
    X = score[:, None]
    model = ThresholdTunedClassifier(
        LogisticRegression(), objective=PrecisionTarget(0.8)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", LowSupportWarning)
        model.fit(X, y)
    with pytest.warns(LowSupportWarning, match="multiplies the odds"):
        model.retarget(prevalence=0.002)
    bounded = ThresholdTunedClassifier(
        LogisticRegression(), objective=PrecisionTarget(0.8, confidence=0.9)
    ).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LowSupportWarning)
        bounded.retarget(prevalence=0.02)


def _shifted_message(y, score, **kwargs):
    with pytest.warns(LowSupportWarning, match="multiplies the odds") as record:
        found = pick_threshold(y, score, PrecisionTarget(0.8), **kwargs)
    return found, str(record[0].message)


def test_weights_constant_per_class_leave_the_shifted_warning_as_it_was():
    """Found by a review: the precision mapped was read on unweighted calls
    but the odds factor on the weighted training rate. Weights constant
    within each class are cancelled by the prevalence's reweighting: the cut,
    its precision and the precision the warning gives must all stay."""
    y, score = gaussian_scores(separation=3.0)
    plain, plain_text = _shifted_message(y, score, prevalence=0.002)
    weighted, weighted_text = _shifted_message(
        y, score, prevalence=0.002, sample_weight=np.where(y == 1, 10.0, 1.0)
    )
    assert weighted.threshold == plain.threshold
    reported = [
        re.search(r"its precision there, ([\d.]+)", text).group(1)
        for text in (plain_text, weighted_text)
    ]
    assert reported[0] == reported[1] == f"{plain.precision:.3g}"


def test_a_vanishing_odds_factor_does_not_divide_by_zero():
    """Found by a review: at an odds factor below float64's resolution
    around 1 and a cut without false positives, s p + 1 - p rounded to 0."""
    y, score = gaussian_scores(rate=0.5, separation=3.0)
    found, text = _shifted_message(y, score, prevalence=1e-16)
    assert np.isfinite(found.threshold)
    assert "under one call" in text
