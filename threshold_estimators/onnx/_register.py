"""skl2onnx's registration of ThresholdTunedClassifier: output types and the
converter, which chains the inner estimator's converter and the decision."""

from __future__ import annotations

import copy

import numpy as np
from onnx import TensorProto
from skl2onnx import update_registered_converter

# skl2onnx's own parsing of a model into the graph and its ZipMap output, as
# its classifiers' parser uses them (pinned by tests/test_onnx.py).
from skl2onnx._parse import _apply_zipmap, _parse_sklearn, sklearn_parsers_map
from skl2onnx._supported_operators import sklearn_operator_name_map
from skl2onnx.algebra.onnx_ops import OnnxCast, OnnxIdentity
from skl2onnx.common._registration import (
    get_converter,
    get_shape_calculator,
    register_converter,
    register_shape_calculator,
)
from skl2onnx.common.data_types import (
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
)
from skl2onnx.common.exceptions import MissingConverter, MissingShapeCalculator
from sklearn.frozen import FrozenEstimator
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._classifier import ThresholdTunedClassifier
from ._decisions import BUILDERS
from ._graph import Graph

ALIAS = "ThresholdEstimatorsThresholdTunedClassifier"
DECISION_VALUES_ALIAS = "ThresholdEstimatorsDecisionValues"


class UnconvertibleError(ValueError):
    """A fitted :class:`~threshold_estimators.ThresholdTunedClassifier` whose
    inner model or decision cannot be written as ONNX."""


def inner_model(tuner):
    """The model whose scores the decision reads (a frozen one unwrapped:
    skl2onnx converts the model, not its wrapper)."""
    model = tuner.estimator_
    while isinstance(model, FrozenEstimator):
        model = model.estimator
    return model


def onnx_labels(classes: np.ndarray) -> np.ndarray:
    """``classes`` as ONNX classifier labels: int64 (integer-valued floats
    too, as skl2onnx converts them) or strings."""
    if classes.dtype.kind in "biu":
        return classes.astype(np.int64)
    if classes.dtype.kind == "f" and np.array_equal(classes, np.round(classes)):
        return classes.astype(np.int64)
    if all(isinstance(label, str) for label in classes):
        return classes.astype(str)
    raise UnconvertibleError(
        "ONNX classifier labels are integers or strings; this "
        "ThresholdTunedClassifier's classes_ are "
        f"{classes.tolist()[:10]} (dtype {classes.dtype}). Fit it on integer or "
        "string labels to convert it."
    )


def _builder(rule):
    for kind, build in BUILDERS:
        if isinstance(rule, kind):
            return build
    raise UnconvertibleError(
        f"The decision rule {type(rule).__name__} has no ONNX converter."
    )


def _without_converter(model):
    """The first model (a pipeline's steps walked) skl2onnx can neither
    parse nor convert; None when there is none."""
    if isinstance(model, Pipeline):
        for _, step in model.steps:
            unknown = _without_converter(step)
            if unknown is not None:
                return unknown
        return None
    if model in (None, "passthrough"):
        return None
    known = type(model) in sklearn_operator_name_map
    if known or type(model) in sklearn_parsers_map:
        return None
    return model


def check_convertible(tuner) -> None:
    """Refuse, with the reason, what the converter cannot write."""
    check_is_fitted(tuner)
    model = inner_model(tuner)
    name = type(model).__name__
    if type(model).__module__.startswith("threshold_estimators.keras"):
        raise UnconvertibleError(
            f"The inner {name} wraps a Keras network, which skl2onnx cannot "
            "convert. Export the network itself (keras.Model.export(path, "
            "format='onnx') with Keras >= 3.6, or tf2onnx) and apply "
            "threshold_ to its scores: calls are scores >= threshold_."
        )
    unknown = _without_converter(model)
    if unknown is not None:
        raise UnconvertibleError(
            f"skl2onnx has no converter for {type(unknown).__name__}, inside the "
            f"inner {name}, so this ThresholdTunedClassifier cannot be converted "
            "either. Register one with skl2onnx.update_registered_converter."
        )
    classes = np.asarray(tuner.classes_)
    onnx_labels(classes)
    _builder(tuner.rule_)
    known = np.asarray(getattr(model, "classes_", classes))
    if not np.array_equal(known, np.sort(known)):
        raise UnconvertibleError(
            f"The inner {name} orders its classes as {known.tolist()[:10]}; "
            "skl2onnx's converters give probability columns in sorted class "
            "order, so its columns cannot be matched to classes."
        )


def _float_type(variable):
    """The graph's float type: float64 for a float64 input, else float32."""
    if isinstance(variable.type, DoubleTensorType):
        return np.float64, TensorProto.DOUBLE, DoubleTensorType
    return np.float32, TensorProto.FLOAT, FloatTensorType


def calculate_output_types(operator) -> None:
    """Labels of the classes' type, probabilities of the input's float type
    (the tuner was checked by :func:`parse`, which declared this operator)."""
    tuner = operator.raw_operator
    n_rows = operator.inputs[0].get_first_dimension()
    strings = onnx_labels(np.asarray(tuner.classes_)).dtype.kind == "U"
    label_type = StringTensorType if strings else Int64TensorType
    operator.outputs[0].set_type(label_type(shape=[n_rows]))
    tensor_type = _float_type(operator.inputs[0])[2]
    operator.outputs[1].set_type(tensor_type(shape=[n_rows, len(tuner.classes_)]))


def _parsed(scope, model, features, custom_parsers):
    """The output variables of ``model`` parsed into the graph, as inner
    variables: parsers that call skl2onnx's top-level parse (GridSearchCV's)
    mark their results as graph outputs, which would add the inner model's
    own labels to the graph's outputs."""
    try:
        outputs = _parse_sklearn(scope, model, features, custom_parsers=custom_parsers)
    except (MissingConverter, MissingShapeCalculator, NotImplementedError) as error:
        raise UnconvertibleError(
            f"skl2onnx cannot convert the inner {type(model).__name__}, so this "
            f"ThresholdTunedClassifier cannot be converted either: {error}"
        ) from error
    for variable in outputs:
        variable.init_status(is_leaf=False)
    return outputs


def _parse_probabilities(scope, model, features, custom_parsers):
    """The inner model parsed into the graph; the variable of its
    probabilities (without ZipMap)."""
    final = model
    while isinstance(final, Pipeline):
        final = final.steps[-1][1]
    scope.add_options(id(final), {"zipmap": False})
    return _parsed(scope, model, features, custom_parsers)[1]


def _parse_decision_values(scope, model, features, custom_parsers):
    """The variable of the inner model's decision values: its preprocessing
    parsed as usual, its classifier converted with skl2onnx's ``raw_scores``.

    skl2onnx's converters read that option from the conversion's container,
    which the parser cannot reach: the classifier gets an operator of its own
    (:func:`convert_decision_values`) that sets the option, then runs the
    classifier's converter. It is a copy, since options are keyed by ``id``
    and the same classifier may also be converted for its probabilities.
    """
    while isinstance(model, Pipeline):
        if len(model.steps) > 1:
            features = _parsed(
                scope, Pipeline(model.steps[:-1]), features, custom_parsers
            )
        model = model.steps[-1][1]
    if isinstance(model, OneVsRestClassifier):
        # skl2onnx's one-vs-rest raw scores of a binary target hold four
        # columns, (s, -s, -s, s), not the (-s, s) a cut reads.
        raise UnconvertibleError(
            "response_method='decision_function' of a OneVsRestClassifier "
            "cannot be converted: skl2onnx's converter does not give its "
            "decision values column by class. Tune on predict_proba to convert it."
        )
    allowed = get_converter(sklearn_operator_name_map[type(model)])
    if "raw_scores" not in (allowed.get_allowed_options() or {}):
        raise UnconvertibleError(
            f"response_method='decision_function' needs the decision values of "
            f"the inner {type(model).__name__}, which its skl2onnx converter "
            "cannot give (it has no raw_scores option). Tune on predict_proba "
            "to convert it."
        )
    # A deep copy: a meta-estimator's sub-estimators (bagging, one-vs-rest)
    # would otherwise share their ids, and their options, with the original.
    copied = copy.deepcopy(model)
    operator = scope.declare_local_operator(DECISION_VALUES_ALIAS, copied)
    operator.inputs = list(features)
    label = scope.declare_local_variable("inner_label", Int64TensorType())
    values = scope.declare_local_variable(
        "decision_values", _float_type(features[0])[2]()
    )
    operator.outputs.extend([label, values])
    return values


def _classifier_alias(operator) -> str:
    return sklearn_operator_name_map[type(operator.raw_operator)]


def calculate_decision_value_types(operator) -> None:
    """The classifier's own output types."""
    get_shape_calculator(_classifier_alias(operator))(operator)


def convert_decision_values(scope, operator, container) -> None:
    """The classifier's converter, with its ``raw_scores`` option set."""
    container.add_options(id(operator.raw_operator), {"raw_scores": True})
    get_converter(_classifier_alias(operator))(scope, operator, container)


def parse(scope, model, inputs, custom_parsers=None):
    """skl2onnx's parser: the inner model's outputs feed the decision, whose
    probabilities go through ZipMap unless the ``zipmap`` option is False."""
    check_convertible(model)
    options = scope.get_options(model, dict(zipmap=True, nocl=False))
    if options["nocl"]:
        raise UnconvertibleError(
            "The option nocl (ZipMap keys 0..k-1 instead of the class labels) "
            "is not supported for ThresholdTunedClassifier; leave it False."
        )
    inner = inner_model(model)
    rule = model.rule_
    operator = scope.declare_local_operator(ALIAS, model)
    if rule.response_method == "decision_function":
        scores = _parse_decision_values(scope, inner, inputs, custom_parsers)
        operator.inputs = [inputs[0], scores]
        # The estimator's own probabilities are reported unless the rule
        # recalibrates them; a model without predict_proba reports its scores.
        if hasattr(inner, "predict_proba"):
            operator.inputs.append(
                _parse_probabilities(scope, inner, inputs, custom_parsers)
            )
    else:
        scores = _parse_probabilities(scope, inner, inputs, custom_parsers)
        operator.inputs = [inputs[0], scores]
    label = scope.declare_local_variable("label", Int64TensorType())
    probabilities = scope.declare_local_variable(
        "probabilities", _float_type(inputs[0])[2]()
    )
    operator.outputs.extend([label, probabilities])
    if options["zipmap"] is False:
        return operator.outputs
    return _apply_zipmap(
        options["zipmap"], scope, model, inputs[0].type, operator.outputs
    )


def convert(scope, operator, container) -> None:
    """Write the rule's decision on the inner model's outputs."""
    tuner = operator.raw_operator
    rule = tuner.rule_
    opset = container.target_opset
    dtype, proto_type, tensor_type = _float_type(operator.inputs[0])
    labels = onnx_labels(np.asarray(tuner.classes_))
    graph = Graph(opset, dtype, rule.score_dtype_, labels)

    def cast(variable):
        if isinstance(variable.type, tensor_type):
            return variable
        return OnnxCast(variable, to=proto_type, op_version=opset)

    scores = cast(operator.inputs[1])
    proba = cast(operator.inputs[-1])
    labels, probabilities = _builder(rule)(graph, rule, scores, proba)
    # Everything is in the graph's type already: Identity names the outputs
    # without the copy a Cast would make.
    for output, variable in zip(operator.outputs, (labels, probabilities), strict=True):
        OnnxIdentity(variable, op_version=opset, output_names=[output]).add_to(
            scope, container
        )


def register() -> None:
    """Register the converter of ThresholdTunedClassifier with skl2onnx
    (done on import of :mod:`threshold_estimators.onnx`; idempotent)."""
    register_converter(DECISION_VALUES_ALIAS, convert_decision_values, overwrite=True)
    register_shape_calculator(
        DECISION_VALUES_ALIAS, calculate_decision_value_types, overwrite=True
    )
    update_registered_converter(
        ThresholdTunedClassifier,
        ALIAS,
        calculate_output_types,
        convert,
        parser=parse,
        # skl2onnx passes nocl (False) to classifiers; True is refused.
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
    )
