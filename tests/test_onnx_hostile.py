"""Hostile round trips of the ONNX export: odd labels, other score sources,
wrappers, objectives and edge rows, against the Python decision.

The last section pins the fixes of what an adversarial review found: NaN
recalibrated probabilities from float32 votes above 1, meta-classifiers'
decision values, an inner GridSearchCV's outputs leaking into the graph's,
the nocl option, and one-vs-rest decision values on a binary target.
"""

import numpy as np
import pytest
from conftest import onnx_session, run_onnx
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.ensemble import BaggingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.svm import SVC, LinearSVC

from threshold_estimators import PiecewiseLogisticCalibrator, ThresholdTunedClassifier
from threshold_estimators._multiclass import margins, tempered
from threshold_estimators.objectives import AlertBudget, CostMatrix, FixedThreshold

ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
te_onnx = pytest.importorskip("threshold_estimators.onnx")

pytestmark = pytest.mark.filterwarnings(
    "ignore::threshold_estimators.LowSupportWarning"
)

# A float32 graph may decide differently only within this of a cut or a tie.
NEAR = 1e-5


def near_rows(tuned, X):
    """Rows whose float32 decision may differ from Python's: a score within
    NEAR of a single cut (or a near tie among the other classes), or top two
    decision values within 1e-4 when every class is decided."""
    rule = tuned.rule_
    raw = getattr(tuned.estimator_, rule.response_method)(X)
    if np.ndim(rule.threshold_) == 0:
        if raw.ndim == 1:
            raw = np.column_stack([-raw, raw])
        column = rule.column
        near = np.abs(raw[:, column] - rule.threshold_) <= NEAR
        if raw.shape[1] > 2:
            others = np.sort(np.delete(raw, column, axis=1), axis=1)
            near |= others[:, -1] - others[:, -2] <= NEAR
        return near
    if rule.cost_rule_ is not None:
        values = -(tempered(raw, rule.cost_temperature_) @ rule.matrix_)
        values = values + rule.threshold_
    elif rule.calibrator_ is not None:
        values = tuned.predict_proba(X)
    else:
        values = margins(raw, rule.threshold_, rule.response_method == "predict_proba")
    top = np.sort(values, axis=1)
    return top[:, -1] - top[:, -2] <= 1e-4


def check_float32(tuned, X, proba_tolerance=1e-5):
    labels, proba = run_onnx(tuned, X)
    differ = labels != tuned.predict(X)
    assert not np.any(differ & ~near_rows(tuned, X)), np.flatnonzero(differ)[:10]
    if hasattr(tuned, "predict_proba"):
        np.testing.assert_allclose(proba, tuned.predict_proba(X), atol=proba_tolerance)


def check_float64(tuned, X):
    X = X.astype(np.float64)
    labels, proba = run_onnx(tuned, X, np.float64)
    np.testing.assert_array_equal(labels, tuned.predict(X))
    if hasattr(tuned, "predict_proba"):
        np.testing.assert_allclose(proba, tuned.predict_proba(X), atol=1e-12)


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(
        n_samples=600, n_features=6, weights=[0.7], random_state=0
    )
    return X, y


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(
        n_samples=600, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X, np.array([2, 5, 9])[y]


# -- Correct now --------------------------------------------------------------

DECISION_MODELS = {
    "LinearSVC": LinearSVC,
    "SGD": lambda: SGDClassifier(random_state=0),
    "Ridge": RidgeClassifier,
    "SVC": SVC,
}


# skl2onnx's SVC converter reads probA_ and probB_, deprecated in 1.9.
@pytest.mark.filterwarnings("ignore:Attribute `prob:FutureWarning")
@pytest.mark.parametrize("recalibrate", [False, True])
@pytest.mark.parametrize("pos_label", [0, 1])
@pytest.mark.parametrize("model", DECISION_MODELS)
def test_binary_decision_values_either_class(binary, model, pos_label, recalibrate):
    """Binary raw scores come as (-s, s): the smaller class's column is -s."""
    X, y = binary
    tuned = ThresholdTunedClassifier(
        DECISION_MODELS[model](), pos_label=pos_label, recalibrate=recalibrate, cv=3
    ).fit(X.astype(np.float32), y)
    check_float32(tuned, X.astype(np.float32))


MULTICLASS_CASES = {
    "one class": dict(pos_label=9),
    "one class recalibrated": dict(pos_label=9, recalibrate=True),
    "every class": dict(),
    "every class recalibrated": dict(recalibrate=True),
}


@pytest.mark.parametrize("case", MULTICLASS_CASES)
@pytest.mark.parametrize("model", ["LinearSVC", "Ridge"])
def test_multiclass_one_vs_rest_decision_values(multiclass, model, case):
    X, y = multiclass
    tuned = ThresholdTunedClassifier(
        DECISION_MODELS[model](), cv=3, **MULTICLASS_CASES[case]
    ).fit(X, y)
    check_float64(tuned, X)


@pytest.mark.parametrize(
    "case",
    [
        *MULTICLASS_CASES.values(),
        dict(objective=CostMatrix([[0, 1, 5], [2, 0, 1], [1, 3, 0]])),
    ],
    ids=[*MULTICLASS_CASES, "cost matrix"],
)
def test_string_labels_every_rule(multiclass, case):
    """Labels sorted differently from the classes' order of appearance."""
    X, y = multiclass
    names = np.select([y == 2, y == 5], ["zebra", "ant"], "mole")
    case = {**case, "pos_label": "mole"} if "pos_label" in case else case
    tuned = ThresholdTunedClassifier(LogisticRegression(), cv=3, **case)
    tuned.fit(X.astype(np.float32), names)
    check_float32(tuned, X.astype(np.float32))
    session = onnx_session(tuned, X.astype(np.float32), zipmap="columns")
    # One output per class, in classes_ order (skl2onnx prefixes "s").
    assert [output.name for output in session.get_outputs()] == [
        "output_label",
        "sant",
        "smole",
        "szebra",
    ]


def test_bool_labels_come_back_as_int64(binary):
    """As skl2onnx's own classifiers: False/True become 0/1."""
    X, y = binary
    tuned = ThresholdTunedClassifier(LogisticRegression(), pos_label=False, cv=3)
    tuned.fit(X, y.astype(bool))
    labels, _ = run_onnx(tuned, X, np.float64)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, tuned.predict(X).astype(np.int64))


@pytest.mark.parametrize("labels", [[-1, 1], [5, 2]])
@pytest.mark.parametrize("which", [0, 1])
def test_signed_and_reversed_labels(binary, labels, which):
    X, y = binary
    y = np.array(labels)[y]
    tuned = ThresholdTunedClassifier(
        LogisticRegression(), pos_label=labels[which], recalibrate=True, cv=3
    ).fit(X, y)
    check_float64(tuned, X)


def test_every_multiclass_objective_in_float64(multiclass):
    """Per-row costs by name, prevalences and retarget: exact in float64."""
    X, y = multiclass
    amount = np.random.default_rng(0).exponential(20.0, size=y.size)
    matrix = [[0, 1, "amount"], [2, 0, 1], [1, 3, 0]]
    cost = ThresholdTunedClassifier(
        LogisticRegression(), objective=CostMatrix(matrix), cv=3
    ).fit(X, y, amount=amount)
    check_float64(cost, X)
    shifted = ThresholdTunedClassifier(
        LogisticRegression(),
        objective=CostMatrix([[0, 1, 5], [2, 0, 1], [1, 3, 0]]),
        prevalence=[0.6, 0.3, 0.1],
        cv=3,
    ).fit(X, y)
    check_float64(shifted, X)
    every = ThresholdTunedClassifier(
        LogisticRegression(), recalibrate=True, prevalence=[0.6, 0.3, 0.1], cv=3
    ).fit(X, y)
    check_float64(every, X)
    check_float64(every.retarget([0.1, 0.1, 0.8]), X)
    one = ThresholdTunedClassifier(
        LogisticRegression(), pos_label=5, recalibrate=True, prevalence=0.1, cv=3
    ).fit(X, y)
    check_float64(one.retarget(X=X[:300]), X)


BINARY_OBJECTIVES = {
    "costs, pos_label=0": dict(objective=CostMatrix([[0, 1], [5, 0]]), pos_label=0),
    "per-row costs": dict(objective=CostMatrix([[0, 5], ["amount", 0]])),
    "budget of the majority class": dict(
        objective=AlertBudget(0.1), pos_label=0, recalibrate=True
    ),
    "prevalence": dict(prevalence=0.05, recalibrate=True),
    "cut at 0": dict(objective=FixedThreshold(0.0), recalibrate=True),
    "cut at 1": dict(objective=FixedThreshold(1.0), recalibrate=True),
}


@pytest.mark.parametrize("case", BINARY_OBJECTIVES)
def test_binary_objectives_in_float64(binary, case):
    X, y = binary
    amount = np.random.default_rng(0).exponential(20.0, size=y.size)
    fit_params = {"amount": amount} if case == "per-row costs" else {}
    tuned = ThresholdTunedClassifier(
        LogisticRegression(), cv=3, **BINARY_OBJECTIVES[case]
    ).fit(X, y, **fit_params)
    check_float64(tuned, X)
    check_float64(tuned.retarget(0.6), X)


def test_cost_rule_disagreements_are_exact_ties(multiclass):
    """A forest's probabilities are fractions: expected costs tie exactly,
    and float32 sums break those ties differently. Only they differ."""
    X, y = multiclass
    X = X.astype(np.float32)
    matrix = [[0, 1, 5], [2, 0, 1], [1, 3, 0]]
    tuned = ThresholdTunedClassifier(
        RandomForestClassifier(20, random_state=0), objective=CostMatrix(matrix), cv=3
    ).fit(X, y)
    labels, _ = run_onnx(tuned, X)
    rule = tuned.rule_
    expected = tempered(tuned.estimator_.predict_proba(X), rule.cost_temperature_)
    costs = np.sort(expected @ rule.matrix_ - rule.threshold_, axis=1)
    differ = labels != tuned.predict(X)
    assert np.all(costs[differ, 1] - costs[differ, 0] < 1e-9)


@pytest.mark.parametrize("cut", [0.35, 0.5, 0.7])
def test_fixed_cut_on_forest_leaf_values_in_float32(binary, cut):
    """Scores equal to the cut (fractions float32 cannot hold) keep their side."""
    X, y = binary
    X = X.astype(np.float32)
    tuned = ThresholdTunedClassifier(
        RandomForestClassifier(20, random_state=0), objective=FixedThreshold(cut), cv=3
    ).fit(X, y)
    labels, _ = run_onnx(tuned, X)
    np.testing.assert_array_equal(labels, tuned.predict(X))


def test_wrappers_around_and_inside(binary):
    X, y = binary
    searched = GridSearchCV(
        ThresholdTunedClassifier(LogisticRegression(), cv=3),
        {"estimator__C": [0.01, 1.0]},
        cv=2,
    ).fit(X, y)
    check_float64(searched, X)
    outer = make_pipeline(
        MinMaxScaler(),
        ThresholdTunedClassifier(
            LogisticRegression(), pos_label=0, recalibrate=True, cv=3
        ),
    ).fit(X, y)
    check_float64(outer, X)
    nested = ThresholdTunedClassifier(
        make_pipeline(StandardScaler(), make_pipeline(MinMaxScaler(), LinearSVC())),
        pos_label=0,
        recalibrate=True,
        cv=3,
    ).fit(X, y)
    check_float64(nested, X)
    fitted = LogisticRegression().fit(X[:300], y[:300])
    prefit = ThresholdTunedClassifier(fitted, cv="prefit", recalibrate=True)
    check_float64(prefit.fit(X[300:], y[300:]), X)
    frozen = ThresholdTunedClassifier(
        FrozenEstimator(FrozenEstimator(fitted)), objective=FixedThreshold(0.2)
    )
    check_float64(frozen.fit(X[300:], y[300:]), X)


def test_column_transformer_with_named_inputs(binary):
    pd = pytest.importorskip("pandas")
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    X, y = binary
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "kind": rng.choice(["x", "y", "z"], size=y.size),
            "a": X[:, 0].astype(np.float32),
            "b": X[:, 1].astype(np.float32),
        }
    )
    y = (frame.a + (frame.kind == "x") + rng.normal(size=y.size) > 0.5).to_numpy()
    columns = ColumnTransformer(
        [("num", StandardScaler(), ["a", "b"]), ("cat", OneHotEncoder(), ["kind"])]
    )
    tuned = ThresholdTunedClassifier(
        make_pipeline(columns, LogisticRegression()),
        response_method="decision_function",
        recalibrate=True,
        pos_label=False,
        cv=3,
    ).fit(frame, y)
    types = [
        ("kind", StringTensorType([None, 1])),
        ("a", FloatTensorType([None, 1])),
        ("b", FloatTensorType([None, 1])),
    ]
    onx = skl2onnx.to_onnx(tuned, initial_types=types, options={"zipmap": False})
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    feeds = {name: frame[[name]].to_numpy() for name in ("kind", "a", "b")}
    labels, proba = session.run(None, feeds)
    np.testing.assert_array_equal(labels.astype(bool), tuned.predict(frame))
    np.testing.assert_allclose(proba, tuned.predict_proba(frame), atol=1e-5)


@pytest.mark.parametrize("case", [dict(recalibrate=True), dict(), dict(pos_label=5)])
def test_one_row_and_empty_batches(multiclass, case):
    X, y = multiclass
    X = X.astype(np.float32)
    tuned = ThresholdTunedClassifier(LogisticRegression(), cv=3, **case).fit(X, y)
    session = onnx_session(tuned, X)
    labels, proba = session.run(None, {"X": X[:1]})
    np.testing.assert_array_equal(labels, tuned.predict(X[:1]))
    labels, proba = session.run(None, {"X": X[:0]})
    assert labels.shape == (0,) and proba.shape == (0, 3)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_rows_far_out_give_exact_zero_and_one(binary):
    X, y = binary
    X = X.astype(np.float32)
    tuned = ThresholdTunedClassifier(LogisticRegression(), recalibrate=True, cv=3)
    tuned.fit(X, y)
    far = np.array([[1e30] * 6, [-1e30] * 6, [3e38, -3e38, 0, 0, 0, 0]], np.float32)
    labels, proba = run_onnx(tuned, far)
    np.testing.assert_array_equal(labels, tuned.predict(far))
    np.testing.assert_array_equal(proba, tuned.predict_proba(far))


def test_opsets(binary, multiclass):
    """Opsets from 12 agree; below, the cut's GreaterOrEqual is refused by
    skl2onnx before any graph is written (the every-class rule needs none)."""
    X, y = binary
    X = X.astype(np.float32)
    tuned = ThresholdTunedClassifier(LogisticRegression(), recalibrate=True, cv=3)
    tuned.fit(X, y)
    for opset in (12, 13, 18):
        labels, _ = run_onnx(tuned, X, target_opset=opset)
        np.testing.assert_array_equal(labels, tuned.predict(X))
    with pytest.raises(RuntimeError, match="GreaterOrEqual"):
        skl2onnx.to_onnx(tuned, X[:1], target_opset=11)
    X, y = multiclass
    X = X.astype(np.float32)
    every = ThresholdTunedClassifier(LogisticRegression(), cv=3).fit(X, y)
    onx = skl2onnx.to_onnx(every, X[:1], target_opset=9, options={"zipmap": False})
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    np.testing.assert_array_equal(session.run(None, {"X": X})[0], every.predict(X))


class Reversed(LogisticRegression):
    """A logistic regression reporting its classes in reverse order."""

    def fit(self, X, y):
        super().fit(X, y)
        self.classes_ = self.classes_[::-1].copy()
        self.coef_, self.intercept_ = -self.coef_, -self.intercept_
        return self


def test_refusals_name_the_reason(binary):
    from skl2onnx import update_registered_converter
    from skl2onnx.operator_converters.linear_classifier import (
        convert_sklearn_linear_classifier,
    )
    from skl2onnx.shape_calculators.linear_classifier import (
        calculate_linear_classifier_output_shapes,
    )

    X, y = binary
    X = X.astype(np.float32)
    update_registered_converter(
        Reversed,
        "HostileReversedLogisticRegression",
        calculate_linear_classifier_output_shapes,
        convert_sklearn_linear_classifier,
        options={"zipmap": [True, False], "raw_scores": [True, False]},
    )
    tuned = ThresholdTunedClassifier(Reversed().fit(X, y), cv="prefit").fit(X, y)
    with pytest.raises(te_onnx.UnconvertibleError, match=r"orders its classes"):
        skl2onnx.to_onnx(tuned, X[:1])
    scaler = FrozenEstimator(StandardScaler().fit(X))
    tuned = ThresholdTunedClassifier(
        make_pipeline(scaler, LogisticRegression()), cv=3
    ).fit(X, y)
    with pytest.raises(te_onnx.UnconvertibleError, match="FrozenEstimator"):
        skl2onnx.to_onnx(tuned, X[:1])


# -- Found in review, now fixed -----------------------------------------------


def test_operating_probability_of_a_probability_rounded_above_one():
    rng = np.random.default_rng(0)
    scores = rng.uniform(size=2000)
    calibrator = PiecewiseLogisticCalibrator(threshold=0.4, slopes="two")
    calibrator.fit(scores, rng.uniform(size=2000) < scores)
    from skl2onnx.algebra.onnx_ops import OnnxIdentity

    graph = te_onnx._graph.Graph(17, np.float32, "float64")
    q = OnnxIdentity(
        graph.operating_probability(calibrator, "X"),
        op_version=17,
        output_names=["q"],
    )
    above_one = np.nextafter(np.float32(1), np.float32(2))
    x = np.array([0.0, 0.4, 1.0, above_one], dtype=np.float32)
    session = ort.InferenceSession(
        q.to_onnx({"X": x}, target_opset=17).SerializeToString(),
        providers=["CPUExecutionProvider"],
    )
    assert not np.any(np.isnan(session.run(None, {"X": x})[0]))


@pytest.mark.parametrize("target", ["binary", "multiclass"])
def test_recalibrated_forest_in_float32(request, target):
    X, y = request.getfixturevalue(target)
    X = X.astype(np.float32)
    tuned = ThresholdTunedClassifier(
        RandomForestClassifier(20, random_state=0), recalibrate=True, cv=3
    ).fit(X, y)
    labels, proba = run_onnx(tuned, X)
    assert not np.any(np.isnan(proba))
    differ = labels != tuned.predict(X)
    assert not np.any(differ & ~near_rows(tuned, X))


@pytest.mark.parametrize(
    "model",
    [
        lambda: BaggingClassifier(LogisticRegression(), n_estimators=3, random_state=0),
        lambda: OneVsRestClassifier(LogisticRegression()),
    ],
    ids=["bagging", "one-vs-rest"],
)
def test_decision_values_of_meta_classifiers(binary, model):
    """Bagging's decision values convert (a deep copy keeps its
    sub-estimators' options apart); one-vs-rest's are refused, since
    skl2onnx gives them four columns on a binary target."""
    X, y = binary
    tuned = ThresholdTunedClassifier(
        model(), response_method="decision_function", cv=3
    ).fit(X, y)
    if isinstance(tuned.estimator, OneVsRestClassifier):
        with pytest.raises(te_onnx.UnconvertibleError, match="OneVsRest"):
            skl2onnx.to_onnx(tuned, X[:1])
        return
    check_float64(tuned, X)


def test_inner_grid_search_has_only_the_tuned_outputs(binary):
    X, y = binary
    X = X.astype(np.float32)
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2)
    tuned = ThresholdTunedClassifier(search, cv=3).fit(X, y)
    session = onnx_session(tuned, X)
    assert [output.name for output in session.get_outputs()] == [
        "label",
        "probabilities",
    ]


def test_nocl_with_string_labels(multiclass):
    X, y = multiclass
    X = X.astype(np.float32)
    tuned = ThresholdTunedClassifier(LogisticRegression(), cv=3)
    tuned.fit(X, np.array(["a", "b", "c"])[np.searchsorted([2, 5, 9], y)])
    with pytest.raises(te_onnx.UnconvertibleError, match="nocl"):
        skl2onnx.to_onnx(tuned, X[:1], options={"nocl": True})


def test_one_vs_rest_linear_svc_binary_is_refused_or_right(binary):
    X, y = binary
    X = X.astype(np.float32)
    tuned = ThresholdTunedClassifier(OneVsRestClassifier(LinearSVC()), cv=3)
    tuned.fit(X, y)
    with pytest.raises(te_onnx.UnconvertibleError, match="OneVsRest"):
        run_onnx(tuned, X)
