"""PiecewiseLogisticCalibrator: shape properties, an independent fit, fallbacks."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, logit
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.class_weight import compute_sample_weight

from threshold_estimators import PiecewiseLogisticCalibrator, ThresholdTunedClassifier
from threshold_estimators._calibration import MAX_SLOPE, MIN_SLOPE, effective_size
from threshold_estimators.objectives import (
    F1,
    CostMatrix,
    PrecisionTarget,
    RecallTarget,
)


@st.composite
def calibration_data(draw):
    n = draw(st.integers(2, 80))
    kind = draw(st.sampled_from(["probability", "decision"]))
    if kind == "probability":
        element = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0]))
        threshold = draw(st.floats(0.01, 0.99))
    else:
        element = st.floats(-30, 30)
        threshold = draw(st.floats(-10, 10))
    scores = np.array(draw(st.lists(element, min_size=n, max_size=n)))
    y = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    y[:2] = [True, False]
    weight = None
    if draw(st.booleans()):
        weight = np.array(draw(st.lists(st.floats(0.01, 5), min_size=n, max_size=n)))
    return scores, y, weight, threshold, kind


@settings(max_examples=200, deadline=None)
@given(data=calibration_data())
def test_operating_probability_shape(data):
    scores, y, weight, threshold, kind = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a non-converged fit is still a valid map
        calibrator = PiecewiseLogisticCalibrator(threshold, score_kind=kind).fit(
            scores, y, sample_weight=weight
        )
    assert MIN_SLOPE <= calibrator.slope_below_ <= MAX_SLOPE
    assert MIN_SLOPE <= calibrator.slope_above_ <= MAX_SLOPE
    if kind == "probability":
        grid = np.unique(np.r_[0.0, np.linspace(0, 1, 201), threshold, scores, 1.0])
    else:
        grid = np.unique(np.r_[np.linspace(-60, 60, 201), threshold, scores])
    q = calibrator.predict_proba(grid)[:, 1]
    assert np.all((q >= 0) & (q <= 1))
    assert np.all(np.diff(q) >= 0), "not monotone"
    # 0.5 at the threshold, one ulp above so that the threshold's side wins ties.
    assert calibrator.predict_proba([threshold])[0, 1] == np.nextafter(0.5, 1)
    np.testing.assert_array_equal(q > 0.5, grid >= threshold)
    np.testing.assert_array_equal(q < 0.5, grid < threshold)
    np.testing.assert_array_equal(
        calibrator.decision_function(grid) > 0, grid >= threshold
    )
    np.testing.assert_array_equal(
        calibrator.predict(grid), np.where(grid >= threshold, True, False)
    )
    if kind == "probability":
        # 0 stays 0 and 1 stays 1, exactly.
        np.testing.assert_array_equal(
            calibrator.predict_proba([0.0, 1.0])[:, 1], [0, 1]
        )
    else:
        ends = calibrator.predict_proba([-1e7, 1e7])[:, 1]
        assert ends[0] < 1e-6 and ends[1] > 1 - 1e-6
    posterior = calibrator.predict_posterior_proba(grid)[:, 1]
    assert np.all(np.diff(posterior) >= 0)
    np.testing.assert_allclose(calibrator.predict_proba(grid).sum(axis=1), 1)


@pytest.mark.parametrize(
    "kind, threshold",
    [
        ("decision", 0.0),
        ("decision", 1e-300),
        ("decision", -3.7),
        ("decision", 1e6),
        ("probability", 0.3),
        ("probability", 1e-12),
        ("probability", 1 - 1e-12),
        # Beyond the logit's clip: cut points below 1e-15 and above the top score 1.
        ("probability", 1e-16),
        ("probability", 1e-300),
        ("probability", np.nextafter(1.0, 2.0)),
    ],
)
@pytest.mark.parametrize(
    "slopes",
    [
        (1.0, 1.0),
        (MIN_SLOPE, MAX_SLOPE),
        (0.7, 1.3),
        (1.3, 0.7),
        (MAX_SLOPE, MIN_SLOPE),
    ],
)
def test_scores_a_few_ulps_from_the_threshold_keep_their_side(kind, threshold, slopes):
    """Rounding in the logit or expit never moves a score across 0.5."""
    rng = np.random.default_rng(0)
    if kind == "probability":
        scores, y = rng.random(200), rng.random(200) < 0.5
    else:
        scores, y = rng.normal(threshold, 1, 200), rng.random(200) < 0.5
    calibrator = PiecewiseLogisticCalibrator(threshold, score_kind=kind)
    calibrator.fit(scores, y)
    # The slopes a fit can reach, set directly: extreme ones need contrived data.
    calibrator.slope_below_, calibrator.slope_above_ = slopes
    below, above = [threshold], [threshold]
    for _ in range(40):  # 40 consecutive floats on each side
        below.append(np.nextafter(below[-1], -np.inf))
        above.append(np.nextafter(above[-1], np.inf))
    near = np.unique(below + above)
    if kind == "probability":  # scores stay in [0, 1]
        near = np.unique(np.clip(near, 0.0, 1.0))
    q = calibrator.predict_proba(near)[:, 1]
    np.testing.assert_array_equal(q > 0.5, near >= threshold)
    np.testing.assert_array_equal(q < 0.5, near < threshold)
    assert np.all(np.diff(q) >= 0)
    # Away from the threshold, the closed form sigma(a*min(d, 0) + b*max(d, 0)),
    # with the threshold's logit clipped as documented (scores are not clipped).
    if kind == "probability":
        d = logit(scores) - logit(np.clip(threshold, 1e-15, 1 - 1e-15))
    else:
        d = scores - threshold
    expected = expit(slopes[0] * np.minimum(d, 0) + slopes[1] * np.maximum(d, 0))
    np.testing.assert_allclose(
        calibrator.predict_proba(scores)[:, 1], expected, rtol=1e-9, atol=1e-300
    )


def reference_fit(features, y, weight):
    """Unpenalized LogisticRegression on Platt's smoothed targets.

    A soft target t is the same likelihood as the sample twice: once positive
    with weight w·t, once negative with weight w·(1 - t).
    """
    n_positive, n_negative = weight[y].sum(), weight[~y].sum()
    target = np.where(y, (n_positive + 1) / (n_positive + 2), 1 / (n_negative + 2))
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000)
    reference.fit(
        np.vstack([features, features]),
        np.r_[np.ones(y.size), np.zeros(y.size)],
        sample_weight=np.r_[weight * target, weight * (1 - target)],
    )
    return reference


def two_slope_data(seed, kind, slope_below, slope_above, n=3_000):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, n)
    threshold_z = rng.normal(0, 0.5)
    d = z - threshold_z
    eta = (
        rng.normal(0, 0.5)
        + slope_below * np.minimum(d, 0)
        + slope_above * (np.maximum(d, 0))
    )
    y = rng.uniform(size=n) < expit(eta)
    weight = rng.uniform(0.2, 2, n)
    scores = expit(z) if kind == "probability" else z
    threshold = expit(threshold_z) if kind == "probability" else threshold_z
    return scores, y, weight, threshold, d


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["probability", "decision"])
@pytest.mark.parametrize("slopes", ["two", "one"])
def test_parameters_match_an_independent_logistic_regression(seed, kind, slopes):
    rng = np.random.default_rng(seed + 100)
    scores, y, weight, threshold, d = two_slope_data(
        seed, kind, rng.uniform(0.3, 2), rng.uniform(0.3, 2)
    )
    calibrator = PiecewiseLogisticCalibrator(threshold, score_kind=kind, slopes=slopes)
    calibrator.fit(scores, y, sample_weight=weight)

    if slopes == "two":
        features = np.column_stack([np.minimum(d, 0), np.maximum(d, 0)])
    else:
        features = d[:, None]
    reference = reference_fit(features, y, weight)
    fitted = [calibrator.intercept_, calibrator.slope_below_, calibrator.slope_above_]
    coef = reference.coef_[0]
    expected = [reference.intercept_[0], coef[0], coef[-1]]
    np.testing.assert_allclose(fitted, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        calibrator.predict_posterior_proba(scores),
        reference.predict_proba(features),
        atol=1e-5,
    )


def test_auto_slopes_follow_the_evidence():
    different = two_slope_data(0, "decision", 0.4, 2.0)
    auto = PiecewiseLogisticCalibrator(different[3], slopes="auto").fit(
        different[0], different[1], sample_weight=different[2]
    )
    assert auto.n_slopes_ == 2
    assert auto.slope_below_ < 0.7 < 1.5 < auto.slope_above_
    same = two_slope_data(0, "decision", 1.0, 1.0)
    auto = PiecewiseLogisticCalibrator(same[3], slopes="auto").fit(
        same[0], same[1], sample_weight=same[2]
    )
    assert auto.n_slopes_ == 1
    assert auto.fallback_ is None
    assert auto.slope_below_ == auto.slope_above_


def test_integer_weights_act_as_repeated_rows():
    rng = np.random.default_rng(3)
    scores = rng.uniform(size=300)
    y = rng.uniform(size=300) < scores**2
    weight = rng.integers(0, 4, 300)
    weighted = PiecewiseLogisticCalibrator(0.4, slopes="two").fit(
        scores, y, sample_weight=weight
    )
    repeated = PiecewiseLogisticCalibrator(0.4, slopes="two").fit(
        np.repeat(scores, weight), np.repeat(y, weight)
    )
    np.testing.assert_allclose(
        [weighted.intercept_, weighted.slope_below_, weighted.slope_above_],
        [repeated.intercept_, repeated.slope_below_, repeated.slope_above_],
        rtol=1e-5,
    )
    auto = PiecewiseLogisticCalibrator(0.4).fit(scores, y, sample_weight=weight)
    auto_repeated = PiecewiseLogisticCalibrator(0.4).fit(
        np.repeat(scores, weight), np.repeat(y, weight)
    )
    assert auto.n_slopes_ == auto_repeated.n_slopes_


def test_weights_far_below_counts_warn():
    rng = np.random.default_rng(3)
    scores = rng.uniform(size=300)
    y = rng.uniform(size=300) < scores**2
    weight = rng.uniform(0.5, 2, 300)
    with pytest.warns(UserWarning, match=r"reads sample_weight as counts of rows"):
        PiecewiseLogisticCalibrator(0.4).fit(scores, y, sample_weight=weight / 300)
    # Class-balancing weights (some below 1, totals near the row counts) and
    # weights on the scale of counts do not warn.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for counts in (compute_sample_weight("balanced", y), weight, weight * 1e6):
            PiecewiseLogisticCalibrator(0.4).fit(scores, y, sample_weight=counts)


def test_effective_size_is_kish():
    weight = np.array([1.0, 2.0, 3.0, 0.0])
    assert effective_size(weight) == pytest.approx(36 / 14, rel=1e-15)
    assert effective_size(np.ones(7)) == 7
    assert effective_size(weight * 1e300) == pytest.approx(36 / 14, rel=1e-15)
    assert effective_size(np.zeros(3)) == 0


def test_weights_summing_to_infinity_are_refused():
    with pytest.raises(ValueError, match="sample_weight sums to infinity"):
        PiecewiseLogisticCalibrator(0.5).fit(
            [0.2, 0.7, 0.4], [0, 1, 1], sample_weight=[1e308, 1e308, 1.0]
        )


def test_unit_slopes_are_the_plain_logit_shift():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.001, 0.999, 50)
    calibrator = PiecewiseLogisticCalibrator(0.25).fit(p, p > 0.5)
    calibrator.slope_below_ = calibrator.slope_above_ = 1.0
    expected = expit(logit(p) - logit(0.25))
    np.testing.assert_allclose(calibrator.predict_proba(p)[:, 1], expected, rtol=1e-12)
    # The posterior is the operating curve shifted by the intercept (a prior shift).
    shifted = expit(logit(expected) + calibrator.intercept_)
    np.testing.assert_allclose(calibrator.predict_posterior_proba(p)[:, 1], shifted)


def test_one_sided_data_uses_one_slope():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0.3, 1, 500)
    y = rng.uniform(size=500) < scores
    calibrator = PiecewiseLogisticCalibrator(0.2).fit(scores, y)
    assert calibrator.fallback_ == "one-sided"
    assert calibrator.n_slopes_ == 1
    assert calibrator.slope_below_ == calibrator.slope_above_
    assert 0.5 < calibrator.slope_above_ < 2


def test_separable_side_keeps_a_finite_slope():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, 400)
    y = np.where(scores > 0.5, True, rng.uniform(size=400) < 0.3)
    calibrator = PiecewiseLogisticCalibrator(0.5, slopes="two").fit(scores, y)
    # Platt's targets keep the separable side's slope far from diverging.
    assert calibrator.slope_above_ < 50
    assert np.isfinite(calibrator.intercept_)
    q = calibrator.predict_proba(np.linspace(0, 1, 101))[:, 1]
    assert np.all(np.diff(q) >= 0)
    posterior = calibrator.predict_posterior_proba([0.6])[0, 1]
    assert 0.9 < posterior < 0.999


def test_decreasing_side_is_held_at_the_lower_bound():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, 2_000)
    # Above the threshold the positive rate *falls* with the score.
    eta = np.where(z < 0, 1.5 * z, -0.8 * z)
    y = rng.uniform(size=z.size) < expit(eta)
    calibrator = PiecewiseLogisticCalibrator(0.0, score_kind="decision").fit(z, y)
    assert calibrator.fallback_ == "bounded slope"
    assert calibrator.slope_above_ == pytest.approx(MIN_SLOPE)
    q = calibrator.predict_proba(np.linspace(-5, 5, 101))[:, 1]
    assert np.all(np.diff(q) >= 0)


def test_scores_of_exactly_zero_and_one_are_fitted():
    scores = np.r_[np.zeros(50), np.linspace(0, 1, 100), np.ones(50)]
    y = np.r_[np.zeros(50, bool), np.linspace(0, 1, 100) > 0.4, np.ones(50, bool)]
    calibrator = PiecewiseLogisticCalibrator(0.4).fit(scores, y)
    assert np.isfinite([calibrator.intercept_, calibrator.slope_below_]).all()
    np.testing.assert_array_equal(calibrator.predict_proba([0, 1])[:, 1], [0, 1])


def test_posterior_of_unreliable_extreme_outputs_is_what_the_data_show():
    # A model that says 1.0 but is right a third of the time there.
    scores = np.r_[np.linspace(0.01, 0.99, 300), np.ones(300)]
    y = np.r_[np.random.default_rng(0).uniform(size=300) < 0.3, np.arange(300) < 100]
    calibrator = PiecewiseLogisticCalibrator(0.5).fit(scores, y)
    posterior = calibrator.predict_posterior_proba([1.0])[0, 1]
    assert posterior == pytest.approx(1 / 3, abs=0.05)
    assert calibrator.predict_proba([1.0])[0, 1] == 1.0  # the operating end stays 1


@pytest.mark.parametrize(
    ("kwargs", "scores", "y", "message"),
    [
        ({}, np.ones((4, 2)), [0, 1, 0, 1], r"1-D scores .* shape \(4, 2\)"),
        ({"score_kind": "probability"}, [0.1, 2.0], [0, 1], r"scores in \[0, 1\]"),
        ({}, [0.1, 0.2], [1, 1], "needs binary labels; got 1 class"),
        ({}, [0.1, 0.2, 0.3], [0, 1, 2], "got 3 class"),
        ({"score_kind": "logit"}, [0.1, 0.2], [0, 1], "'score_kind' parameter"),
        (
            {"threshold": np.inf},
            [0.1, 0.2],
            [0, 1],
            "threshold must be finite; got inf",
        ),
        (
            {"threshold": np.nan},
            [0.1, 0.2],
            [0, 1],
            "threshold must be finite; got nan",
        ),
    ],
)
def test_bad_input(kwargs, scores, y, message):
    with pytest.raises(ValueError, match=message):
        PiecewiseLogisticCalibrator(**kwargs).fit(scores, y)


DATASETS = {
    "breast cancer": load_breast_cancer(return_X_y=True),
    "imbalanced": make_classification(
        n_samples=3_000, weights=[0.93], flip_y=0.02, random_state=0
    ),
}
MODELS = {
    "logistic": make_pipeline(StandardScaler(), LogisticRegression()),
    "naive bayes": GaussianNB(),
    "linear svm (decision function)": make_pipeline(StandardScaler(), LinearSVC()),
}
OBJECTIVES = [
    F1(),
    PrecisionTarget(0.9, on_infeasible="warn"),
    CostMatrix([[0, 1], [9, 0]]),
]


def check_agreement(tuned, X):
    """predict agrees with predict_proba and decision_function on every row."""
    proba = tuned.predict_proba(X)
    predictions = tuned.predict(X)
    classes = tuned.classes_
    np.testing.assert_array_equal(
        predictions, classes[(proba[:, 1] >= 0.5).astype(int)]
    )
    np.testing.assert_array_equal(predictions, classes[np.argmax(proba, axis=1)])
    # decision_function > 0 means classes_[1], as in scikit-learn.
    decision = tuned.decision_function(X)
    np.testing.assert_array_equal(predictions, classes[(decision > 0).astype(int)])
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(
        predictions == tuned.pos_label_,
        tuned.rule_.scores(tuned.estimator_, X)[0] >= tuned.threshold_,
    )


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("pos_label", [0, 1])
def test_predict_agrees_with_predict_proba_on_every_row(dataset, model, pos_label):
    X, y = DATASETS[dataset]
    for objective in OBJECTIVES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            tuned = ThresholdTunedClassifier(
                MODELS[model],
                objective=objective,
                recalibrate=True,
                pos_label=pos_label,
            ).fit(X, y)
        check_agreement(tuned, X)


@pytest.mark.parametrize("pos_label", [0, 1])
def test_agreement_on_rows_tied_with_the_threshold(pos_label):
    """A shallow tree on noisy labels: recall 1 puts the cut at its lowest leaf."""
    X, y = make_classification(n_samples=2_000, flip_y=0.3, random_state=0)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    tuned = ThresholdTunedClassifier(
        FrozenEstimator(tree),
        objective=RecallTarget(1.0),
        recalibrate=True,
        pos_label=pos_label,
    ).fit(X, y)
    at_threshold = tuned.rule_.scores(tuned.estimator_, X)[0] == tuned.threshold_
    assert at_threshold.sum() > 100
    check_agreement(tuned, X)


def test_recalibrated_methods_and_attributes():
    X, y = DATASETS["imbalanced"]
    plain = ThresholdTunedClassifier(LinearSVC())
    assert not hasattr(plain, "predict_proba")
    assert not hasattr(plain, "predict_posterior_proba")
    assert plain.fit(X, y).calibrator_ is None
    tuned = ThresholdTunedClassifier(LinearSVC(), recalibrate=True).fit(X, y)
    assert tuned.calibrator_.score_kind_ == "decision"
    assert tuned.calibrator_.threshold == tuned.threshold_
    posterior = tuned.predict_posterior_proba(X)
    assert posterior.shape == (y.size, 2)
    # The posterior is calibrated at the training balance: its mean is the
    # prevalence (a logistic MLE with an intercept matches it on its data).
    assert posterior[:, 1].mean() == pytest.approx(y.mean(), abs=0.02)
    np.testing.assert_allclose(
        tuned.predict_log_proba(X), np.log(tuned.predict_proba(X))
    )
