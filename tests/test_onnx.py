"""ONNX export: round trips through ONNX Runtime against the Python decision."""

import re
from pathlib import Path

import numpy as np
import pytest
from conftest import run_onnx
from sklearn.datasets import make_classification
from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import (
    CostMatrix,
    FixedThreshold,
    PrecisionTarget,
)

ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
te_onnx = pytest.importorskip("threshold_estimators.onnx")

# The decisions, not their support, are under test here.
pytestmark = pytest.mark.filterwarnings(
    "ignore::threshold_estimators.LowSupportWarning"
)

# Scores within this distance of a cut may change side in a float32 graph:
# ONNX Runtime's float32 sigmoid alone is off by up to 1.4e-7.
NEAR = 1e-5


def rows_near_a_cut(tuned, X):
    """Rows whose decision the float32 rounding of scores could change:
    scores within NEAR of a single cut, or top two margins within NEAR."""
    rule = tuned.rule_
    scores = tuned._response_method(tuned.estimator_)
    raw = getattr(tuned.estimator_, scores)(X)
    if np.ndim(tuned.threshold_) == 0:
        if raw.ndim == 1:
            raw = np.column_stack([-raw, raw])
        column = rule.column
        near = np.abs(raw[:, column] - tuned.threshold_) <= NEAR
        if raw.shape[1] > 2:  # ties among the other classes
            others = np.delete(raw, column, axis=1)
            top = np.sort(others, axis=1)
            near |= top[:, -1] - top[:, -2] <= NEAR
        return near
    # Every class tuned or the cost rule: the margin of the winner.
    values = (
        tuned.predict_proba(X)
        if tuned.calibrator_ is not None
        else raw - tuned.threshold_
    )
    top = np.sort(values, axis=1)
    return top[:, -1] - top[:, -2] <= 1e-4


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(
        n_samples=3000, n_features=8, weights=[0.8], random_state=0
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(
        n_samples=3000, n_features=8, n_informative=6, n_classes=4, random_state=0
    )
    return X.astype(np.float32), y


INNER = {
    "logistic": lambda: LogisticRegression(),
    "boosting": lambda: GradientBoostingClassifier(n_estimators=30, random_state=0),
    "scaled pipeline": lambda: make_pipeline(StandardScaler(), LogisticRegression()),
}

BINARY_CASES = {
    "f1": dict(),
    "precision target": dict(objective=PrecisionTarget(0.9)),
    "pos_label=0": dict(pos_label=0),
    "recalibrated": dict(recalibrate=True),
    "fixed cut recalibrated": dict(objective=FixedThreshold(0.3), recalibrate=True),
}


def check_round_trip(tuned, X, dtype, proba_tolerance=1e-5):
    labels, proba = run_onnx(tuned, X, dtype)
    expected = tuned.predict(X)
    differ = labels != expected
    near = rows_near_a_cut(tuned, X)
    # Every disagreement is on a row whose scores sit at a cut.
    assert not np.any(differ & ~near), np.flatnonzero(differ & ~near)[:10]
    assert differ.sum() <= near.sum()
    np.testing.assert_allclose(proba, tuned.predict_proba(X), atol=proba_tolerance)
    return differ.sum()


@pytest.mark.parametrize("inner", INNER)
@pytest.mark.parametrize("case", BINARY_CASES)
def test_binary_round_trip(binary, inner, case):
    X, y = binary
    tuned = ThresholdTunedClassifier(INNER[inner](), **BINARY_CASES[case]).fit(X, y)
    tolerance = 1e-5
    if case == "fixed cut recalibrated" and inner != "boosting":
        # A lower slope below 1 magnifies, near probability 0, the float32
        # sigmoid's absolute error (1e-7) in the logistic's own probabilities.
        tolerance = 1e-4
    check_round_trip(tuned, X, np.float32, tolerance)


@pytest.mark.parametrize("inner", ["logistic", "scaled pipeline"])
@pytest.mark.parametrize("case", BINARY_CASES)
def test_float64_graph_agrees_on_every_row(binary, inner, case):
    X, y = binary
    X = X.astype(np.float64)
    tuned = ThresholdTunedClassifier(INNER[inner](), **BINARY_CASES[case]).fit(X, y)
    labels, proba = run_onnx(tuned, X, np.float64)
    np.testing.assert_array_equal(labels, tuned.predict(X))
    np.testing.assert_allclose(proba, tuned.predict_proba(X), atol=1e-12)


@pytest.mark.parametrize("recalibrate", [False, True])
def test_decision_function_scores(binary, recalibrate):
    X, y = binary
    tuned = ThresholdTunedClassifier(
        LogisticRegression(),
        response_method="decision_function",
        recalibrate=recalibrate,
    ).fit(X, y)
    check_round_trip(tuned, X, np.float32)


def test_model_without_predict_proba_reports_its_scores(binary):
    X, y = binary
    tuned = ThresholdTunedClassifier(LinearSVC(), objective="f1").fit(X, y)
    labels, scores = run_onnx(tuned, X, np.float64)
    np.testing.assert_array_equal(labels, tuned.predict(X))
    np.testing.assert_allclose(scores[:, 1], tuned.decision_function(X), atol=1e-9)


MULTICLASS_CASES = {
    "one class": dict(pos_label=2),
    "one class recalibrated": dict(pos_label=2, recalibrate=True),
    "every class": dict(),
    "every class recalibrated": dict(recalibrate=True),
    "cost matrix": dict(
        objective=CostMatrix([[0, 1, 5, 1], [2, 0, 1, 1], [1, 3, 0, 1], [1, 1, 8, 0]])
    ),
}


@pytest.mark.parametrize("inner", ["logistic", "boosting"])
@pytest.mark.parametrize("case", MULTICLASS_CASES)
def test_multiclass_round_trip(multiclass, inner, case):
    X, y = multiclass
    kwargs = MULTICLASS_CASES[case]
    tuned = ThresholdTunedClassifier(INNER[inner](), **kwargs).fit(X, y)
    check_round_trip(tuned, X, np.float32)
    if tuned.calibrator_ is not None and tuned.pos_label is None:
        # Every class recalibrated: labels are the probabilities' argmax.
        labels, proba = run_onnx(tuned, X)
        np.testing.assert_array_equal(labels, tuned.classes_[proba.argmax(axis=1)])


def test_cost_rule_is_not_argmax(multiclass):
    """The cost rule's labels are its own, not the probabilities' argmax."""
    X, y = multiclass
    tuned = ThresholdTunedClassifier(LogisticRegression())
    matrix = np.ones((4, 4)) - np.eye(4)
    matrix[:, 2] = 0.2  # deciding class 2 is cheap
    np.fill_diagonal(matrix, 0)
    tuned.set_params(objective=CostMatrix(matrix)).fit(X, y)
    labels, proba = run_onnx(tuned, X)
    np.testing.assert_array_equal(labels, tuned.predict(X))
    assert np.mean(labels != proba.argmax(axis=1)) > 0.05


def test_string_labels_and_zipmap(binary):
    X, y = binary
    names = np.array(["ham", "spam"])[y]
    tuned = ThresholdTunedClassifier(
        LogisticRegression(), objective=PrecisionTarget(0.9), pos_label="spam"
    ).fit(X, names)
    model = skl2onnx.to_onnx(tuned, X[:1])
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    labels, proba = session.run(None, {"X": X})
    np.testing.assert_array_equal(labels, tuned.predict(X))
    # ZipMap by default, as skl2onnx's classifiers: one dict per row.
    assert set(proba[0]) == {"ham", "spam"}
    expected = tuned.predict_proba(X[:50])
    got = np.array([[row["ham"], row["spam"]] for row in proba[:50]])
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_float32_scores_are_decided_exactly():
    """A float32 model's scores, compared in float32, keep every decision,
    also for a user cut that float32 cannot hold (0.7 rounds below it)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 3)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=4000) > 0).astype(int)
    # A tree's leaf probabilities are fractions: 0.7 is a score that
    # float32 rounds to 0.69999999, below the cut of 0.7.
    tree = DecisionTreeClassifier(max_depth=6, min_samples_leaf=10, random_state=0)
    tuned = ThresholdTunedClassifier(tree, objective=FixedThreshold(0.7)).fit(X, y)
    labels, _ = run_onnx(tuned, X)
    np.testing.assert_array_equal(labels, tuned.predict(X))

    graph = te_onnx._graph.Graph(17, np.float32, score_dtype=np.float32)
    values = np.nextafter(np.float32(0.7), np.float32(0)) + np.arange(-3, 4) * (
        np.float32(2**-24)
    )
    cut = graph.cut(0.7)
    np.testing.assert_array_equal(values >= cut, values.astype(float) >= 0.7)
    # Scores the graph rounds: the nearest value keeps every call.
    assert te_onnx._graph.Graph(17, np.float32).cut(0.7) == np.float32(0.7)


def test_inside_a_pipeline_and_frozen(binary):
    X, y = binary
    outer = make_pipeline(
        StandardScaler(),
        ThresholdTunedClassifier(LogisticRegression(), objective=PrecisionTarget(0.8)),
    ).fit(X, y)
    labels, _ = run_onnx(outer, X)
    np.testing.assert_array_equal(labels, outer.predict(X))

    inner = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    frozen = ThresholdTunedClassifier(FrozenEstimator(inner)).fit(X, y)
    check_round_trip(frozen, X, np.float32)


def test_threshold_moves_the_onnx_labels(binary):
    """Not the inner model's labels: a cut far from 0.5 changes them."""
    X, y = binary
    tuned = ThresholdTunedClassifier(
        LogisticRegression(), objective=FixedThreshold(0.1)
    ).fit(X, y)
    labels, proba = run_onnx(tuned, X)
    assert np.mean(labels != proba.argmax(axis=1)) > 0.05
    np.testing.assert_array_equal(labels, (proba[:, 1] >= np.float32(0.1)).astype(int))


class NotConvertible(LogisticRegression):
    """A classifier skl2onnx knows nothing about."""


def test_unconvertible_inner_model(binary):
    X, y = binary
    tuned = ThresholdTunedClassifier(NotConvertible()).fit(X, y)
    with pytest.raises(te_onnx.UnconvertibleError, match="NotConvertible"):
        skl2onnx.to_onnx(tuned, X[:1])


def build_logistic_network(n_features_in, n_classes):
    import keras

    model = keras.Sequential(
        [keras.Input((n_features_in,)), keras.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def test_keras_inner_model_is_refused(binary):
    pytest.importorskip("keras")
    from threshold_estimators.keras import KerasProbabilisticClassifier

    X, y = binary
    network = KerasProbabilisticClassifier(
        build_logistic_network, epochs=1, verbose=0, random_state=0
    )
    tuned = ThresholdTunedClassifier(network, cv=2).fit(X[:200], y[:200])
    with pytest.raises(te_onnx.UnconvertibleError, match="Keras"):
        skl2onnx.to_onnx(tuned, X[:1])


def test_integer_valued_float_labels_convert_and_others_are_refused(binary):
    X, y = binary
    tuned = ThresholdTunedClassifier(LogisticRegression()).fit(X, y * 2.0)
    labels, _ = run_onnx(tuned, X)
    np.testing.assert_array_equal(labels, tuned.predict(X))
    with pytest.raises(te_onnx.UnconvertibleError, match="integers or strings"):
        te_onnx._register.onnx_labels(np.array([0.5, 1.5]))


def test_decision_values_need_raw_scores(binary):
    """A converter without skl2onnx's raw_scores option cannot give the
    decision values a decision_function cut reads; its probabilities can."""
    X, y = binary
    qda = QuadraticDiscriminantAnalysis(reg_param=0.1)
    tuned = ThresholdTunedClassifier(qda, response_method="predict_proba").fit(X, y)
    check_round_trip(tuned, X, np.float32)
    tuned.set_params(response_method="decision_function").fit(X, y)
    with pytest.raises(te_onnx.UnconvertibleError, match="raw_scores"):
        skl2onnx.to_onnx(tuned, X[:1])


def test_the_guide_example_runs_and_agrees(capsys):
    """docs/guide/persistence.md's ONNX example, run as written."""
    text = (Path(__file__).parents[1] / "docs/guide/persistence.md").read_text()
    section = text[text.index("## Serving with ONNX Runtime") :]
    block = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    exec(compile(block, "persistence.md", "exec"), {})
    differ, error = capsys.readouterr().out.split()
    assert int(differ) == 0
    assert float(error) < 1e-5


def test_skl2onnx_private_helpers_keep_their_shape():
    """The converter uses skl2onnx's parser internals; pin what it relies on."""
    import inspect

    from skl2onnx._parse import _apply_zipmap, _parse_sklearn

    assert list(inspect.signature(_parse_sklearn).parameters)[:4] == [
        "scope",
        "model",
        "inputs",
        "custom_parsers",
    ]
    assert list(inspect.signature(_apply_zipmap).parameters) == [
        "zipmap_options",
        "scope",
        "model",
        "input_type",
        "probability_tensor",
    ]
