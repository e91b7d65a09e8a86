"""ONNX pieces shared by the decisions: constants in the graph's float type,
columns, the logit, and the piecewise-logistic calibrator."""

from __future__ import annotations

import numpy as np
from skl2onnx.algebra.onnx_ops import (
    OnnxConcat,
    OnnxDiv,
    OnnxGather,
    OnnxGreaterOrEqual,
    OnnxLog,
    OnnxMax,
    OnnxMin,
    OnnxMul,
    OnnxReshape,
    OnnxSigmoid,
    OnnxSub,
    OnnxWhere,
)

from .._calibration import _EPS


class Graph:
    """Builds nodes in one float type (``dtype``) at one opset (``opset``)."""

    def __init__(self, opset: int, dtype, score_dtype=np.float64, labels=None):
        self.opset = opset
        # The class labels as ONNX outputs them (int64 or strings), in order.
        self.labels = labels
        self.dtype = np.dtype(dtype)
        # The type of the scores the model gave at fit (float64 for integers).
        self.score_dtype = np.dtype(score_dtype)

    def const(self, value) -> np.ndarray:
        """``value`` as a constant of the graph's float type."""
        return np.asarray(value, dtype=self.dtype)

    def cut(self, threshold: float) -> np.ndarray:
        """``threshold`` in the graph's type, so that its comparisons keep
        the fitted decisions.

        Scores of a type the graph holds exactly (float32 scores in a float32
        graph) are compared with the least graph value ``>= threshold``, which
        they pass exactly when they pass ``threshold`` (rounding to nearest
        could fall below it). Scores the graph rounds (float64 scores in a
        float32 graph) are compared with the nearest value, as rounding keeps
        their order: every score ``>= threshold`` still passes, and only
        those rounding onto the cut itself may change side.
        """
        cut = self.dtype.type(threshold)
        held = self.score_dtype.kind == "f"
        held &= self.score_dtype.itemsize <= self.dtype.itemsize
        # float(): compared with a Python float, NumPy would round it too.
        if float(cut) < threshold and held:
            cut = np.nextafter(cut, self.dtype.type(np.inf))
        return np.asarray(cut, dtype=self.dtype)

    def label_of(self, index):
        """The class label of each row's class index."""
        return OnnxGather(self.labels, index, axis=0, op_version=self.opset)

    def column(self, scores, index: int):
        """Column ``index`` of an (n, k) tensor, as an (n,) tensor."""
        return OnnxGather(
            scores, np.array(index, dtype=np.int64), axis=1, op_version=self.opset
        )

    def as_column(self, values):
        """An (n,) tensor as an (n, 1) one."""
        return OnnxReshape(
            values, np.array([-1, 1], dtype=np.int64), op_version=self.opset
        )

    def columns(self, *values):
        """(n,) tensors side by side, as an (n, len(values)) tensor."""
        return OnnxConcat(
            *(self.as_column(value) for value in values), axis=1, op_version=self.opset
        )

    def called(self, score, threshold: float):
        """Where ``score >= threshold``: the tuned class's calls."""
        return OnnxGreaterOrEqual(score, self.cut(threshold), op_version=self.opset)

    def logit(self, probability, *, clip: bool):
        """``log(p / (1 - p))``, as ``_calibration._to_logit`` computes it:
        unclipped, 0 and 1 give -inf and +inf."""
        opset = self.opset
        # Unclipped, p is still held in [0, 1], where the model's Python
        # probabilities lie: a float32 graph's sum of tree votes can round to
        # 1.0000001, whose logit would be NaN.
        low, high = (_EPS, 1 - _EPS) if clip else (0.0, 1.0)
        probability = OnnxMax(
            OnnxMin(probability, self.const(high), op_version=opset),
            self.const(low),
            op_version=opset,
        )
        odds = OnnxDiv(
            probability,
            OnnxSub(self.const(1.0), probability, op_version=opset),
            op_version=opset,
        )
        return OnnxLog(odds, op_version=opset)

    def operating_logit(self, calibrator, score):
        """The calibrator's ``a·min(η, 0) + b·max(η, 0)`` with
        ``η = logit(score) - logit(threshold)``, unclipped (as for
        ``predict_proba`` and ``decision_function``)."""
        opset = self.opset
        if calibrator.score_kind_ == "probability":
            logit = self.logit(score, clip=False)
        else:
            logit = score
        eta = OnnxSub(logit, self.const(calibrator.threshold_logit_), op_version=opset)
        below, above = calibrator.slope_below_, calibrator.slope_above_
        scaled = OnnxMul(eta, self.const(below), op_version=opset)
        if below == above:
            return scaled
        # As in the calibrator: the larger product when the upper slope is
        # steeper, the smaller otherwise; ±inf scores stay ±inf.
        other = OnnxMul(eta, self.const(above), op_version=opset)
        pick = OnnxMax if below < above else OnnxMin
        return pick(scaled, other, op_version=opset)

    def operating_probability(self, calibrator, score):
        """The calibrator's operating probability ``q`` of the tuned class,
        on the tuned class's side of 0.5 exactly where the score is called
        (one ulp of the graph's type away at ties, as the calibrator is)."""
        opset = self.opset
        q = OnnxSigmoid(self.operating_logit(calibrator, score), op_version=opset)
        half = self.dtype.type(0.5)
        above = self.const(np.nextafter(half, self.dtype.type(1)))
        below = self.const(np.nextafter(half, self.dtype.type(0)))
        return OnnxWhere(
            self.called(score, calibrator.threshold),
            OnnxMax(q, above, op_version=opset),
            OnnxMin(q, below, op_version=opset),
            op_version=opset,
        )

    def operating_log_odds(self, calibrator, score):
        """The calibrator's ``decision_function``: its operating logit, kept
        strictly positive from the threshold up and negative below."""
        opset = self.opset
        eta = self.operating_logit(calibrator, score)
        # The smallest normal float: subnormals may be flushed to zero.
        tiny = np.finfo(self.dtype).tiny
        return OnnxWhere(
            self.called(score, calibrator.threshold),
            OnnxMax(eta, self.const(tiny), op_version=opset),
            OnnxMin(eta, self.const(-tiny), op_version=opset),
            op_version=opset,
        )

    def complement(self, q):
        """``1 - q``."""
        return OnnxSub(self.const(1.0), q, op_version=self.opset)
