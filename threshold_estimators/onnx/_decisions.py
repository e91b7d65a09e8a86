"""Each fitted decision rule as ONNX nodes: the label of each row and the
probabilities the tuner reports.

Every builder takes the inner estimator's outputs already in the graph's
float type, with columns in sorted class order: ``scores`` (what the rule
reads, the estimator's ``response_method``) and ``proba`` (its
``predict_proba``, or None when it has none), and mirrors the rule's
``predict`` and ``predict_proba`` in ``threshold_estimators._rules``.
"""

from __future__ import annotations

import numpy as np
from skl2onnx.algebra.onnx_ops import (
    OnnxAbs,
    OnnxAdd,
    OnnxArgMax,
    OnnxArgMin,
    OnnxDiv,
    OnnxExp,
    OnnxGreater,
    OnnxLog,
    OnnxMatMul,
    OnnxMax,
    OnnxMin,
    OnnxMul,
    OnnxNeg,
    OnnxSoftmax,
    OnnxSub,
    OnnxWhere,
)

from .._multiclass import _EPS, logits
from .._rules.cost_rule import CostRule
from .._rules.per_class import PerClassCuts
from .._rules.single_cut import SingleCut
from ..objectives._base import _power_of_two
from ._graph import Graph


def single_cut(graph: Graph, rule: SingleCut, scores, proba):
    """The tuned class where its score passes ``threshold_``; otherwise the
    other class, or on a multiclass target the most likely other class."""
    opset, column, n_classes = graph.opset, rule.column, len(rule.classes)
    score = graph.column(scores, column)
    called = graph.called(score, rule.threshold_)
    tuned_column = np.zeros((1, n_classes), dtype=bool)
    tuned_column[0, column] = True
    # The labels chosen directly: no class index to look up on each row.
    if n_classes == 2:
        other = np.asarray(graph.labels[1 - column])
    else:
        # The first highest other column, as np.argmax picks it.
        others = OnnxWhere(tuned_column, graph.const(-np.inf), scores, op_version=opset)
        other = graph.label_of(OnnxArgMax(others, axis=1, keepdims=0, op_version=opset))
    tuned = np.asarray(graph.labels[column])
    labels = OnnxWhere(called, tuned, other, op_version=opset)
    calibrator = rule.calibrator_
    if calibrator is None:
        return labels, proba
    q = graph.operating_probability(calibrator, score)
    if n_classes == 2:
        pair = (graph.complement(q), q)
        return labels, graph.columns(*(pair if column == 1 else pair[::-1]))
    # The other classes share 1 - q in proportion to the estimator's
    # probabilities (the softmax of its decision function), evenly where it
    # gives them nothing.
    base = scores
    if rule.response_method == "decision_function":
        base = OnnxSoftmax(scores, axis=1, op_version=opset)
    others = OnnxWhere(tuned_column, graph.const(0.0), base, op_version=opset)
    total = OnnxMatMul(others, graph.const(np.ones((n_classes, 1))), op_version=opset)
    share = OnnxWhere(
        OnnxGreater(total, graph.const(0.0), op_version=opset),
        OnnxDiv(others, total, op_version=opset),
        graph.const(1 / (n_classes - 1)),
        op_version=opset,
    )
    share = OnnxWhere(tuned_column, graph.const(0.0), share, op_version=opset)
    shared = OnnxMul(share, graph.as_column(graph.complement(q)), op_version=opset)
    probabilities = OnnxWhere(
        tuned_column, graph.as_column(q), shared, op_version=opset
    )
    return labels, probabilities


def per_class_cuts(graph: Graph, rule: PerClassCuts, scores, proba):
    """Every class tuned: the largest margin over its threshold in the logit
    domain, or recalibrated, the largest renormalized operating probability
    (and those probabilities)."""
    opset = graph.opset
    probability = rule.response_method == "predict_proba"
    if rule.calibrator_ is None:
        logit = graph.logit(scores, clip=True) if probability else scores
        cuts = graph.const(logits(rule.threshold_, probability)[None, :])
        margins = OnnxSub(logit, cuts, op_version=opset)
        index = OnnxArgMax(margins, axis=1, keepdims=0, op_version=opset)
        return graph.label_of(index), proba
    log_odds = graph.columns(
        *(
            graph.operating_log_odds(calibrator, graph.column(scores, column))
            for column, calibrator in enumerate(rule.calibrator_)
        )
    )
    # log(expit(x)) = min(x, 0) - log(1 + exp(-|x|)): finite for every
    # finite x (ONNX Runtime has no float64 Softplus).
    log_q = OnnxSub(
        OnnxMin(log_odds, graph.const(0.0), op_version=opset),
        OnnxLog(
            OnnxAdd(
                graph.const(1.0),
                OnnxExp(
                    OnnxNeg(OnnxAbs(log_odds, op_version=opset), op_version=opset),
                    op_version=opset,
                ),
                op_version=opset,
            ),
            op_version=opset,
        ),
        op_version=opset,
    )
    probabilities = OnnxSoftmax(log_q, axis=1, op_version=opset)
    index = OnnxArgMax(probabilities, axis=1, keepdims=0, op_version=opset)
    return graph.label_of(index), probabilities


def cost_rule(graph: Graph, rule: CostRule, scores, proba):
    """The least ``softmax(log(p) / T) @ C - offsets``; the probabilities are
    the estimator's own."""
    opset = graph.opset
    matrix = rule.objective.matrix if rule.matrix_ is None else rule.matrix_
    matrix = np.asarray(matrix, dtype=float)
    # Scaled by a power of two as in the rule: the same decisions.
    scale = _power_of_two(np.abs(matrix).max())
    clipped = OnnxMin(
        OnnxMax(scores, graph.const(_EPS), op_version=opset),
        graph.const(1.0),
        op_version=opset,
    )
    tempered = OnnxSoftmax(
        OnnxDiv(
            OnnxLog(clipped, op_version=opset),
            graph.const(rule.cost_temperature_),
            op_version=opset,
        ),
        axis=1,
        op_version=opset,
    )
    expected = OnnxMatMul(tempered, graph.const(matrix * scale), op_version=opset)
    offsets = graph.const(np.asarray(rule.threshold_, dtype=float)[None, :] * scale)
    index = OnnxArgMin(
        OnnxSub(expected, offsets, op_version=opset),
        axis=1,
        keepdims=0,
        op_version=opset,
    )
    return graph.label_of(index), proba


# Most derived first: a FixedCut is a SingleCut.
BUILDERS = (
    (CostRule, cost_rule),
    (PerClassCuts, per_class_cuts),
    (SingleCut, single_cut),
)
