"""ONNX export of a fitted :class:`~threshold_estimators.ThresholdTunedClassifier`.

Importing this module registers converters with skl2onnx (the ``[onnx]``
extra), so that ``skl2onnx.to_onnx(tuned, X[:1])`` writes the tuned decision,
not only the inner model: a graph holding the inner estimator (converted by
skl2onnx's own converter, which must exist for it: linear models, gradient
boosting, pipelines with scalers, ...) and the decision of the fitted rule on
its scores:

- one cut (binary, ``pos_label=k`` of many, ``objectives.FixedThreshold``):
  the tuned class where its score is ``>= threshold_``, else the other (or
  most likely other) class;
- every class tuned: the largest margin over its threshold, or the largest
  recalibrated operating probability;
- the k x k cost rule: the least expected cost of the tempered probabilities,
  less the fitted offsets;
- ``recalibrate=True``: the piecewise-logistic operating probabilities, which
  agree with the labels on every row as :meth:`predict_proba` does.

The graph has skl2onnx's two classifier outputs, ``label`` and
``probabilities`` (the option ``zipmap`` works as for scikit-learn's
classifiers). A graph with float32 inputs (``X[:1].astype(np.float32)``, the
usual choice) computes in float32: its labels equal :meth:`predict` except on
rows whose score lies within float32 rounding of a cut, and the cut is
rounded up to float32 so that scores that are float32 already are decided
exactly. With float64 inputs, where the inner converter supports them, the
graph computes in float64.

Examples
--------
>>> import numpy as np
>>> import onnxruntime as ort
>>> from skl2onnx import to_onnx
>>> from sklearn.datasets import make_classification
>>> from sklearn.linear_model import LogisticRegression
>>> from threshold_estimators import ThresholdTunedClassifier
>>> from threshold_estimators.objectives import PrecisionTarget
>>> import threshold_estimators.onnx  # registers the converters
>>> X, y = make_classification(n_samples=1000, weights=[0.8], random_state=0)
>>> X = X.astype(np.float32)
>>> tuned = ThresholdTunedClassifier(
...     LogisticRegression(), objective=PrecisionTarget(0.9)
... ).fit(X, y)
>>> model = to_onnx(tuned, X[:1], options={"zipmap": False})
>>> session = ort.InferenceSession(
...     model.SerializeToString(), providers=["CPUExecutionProvider"]
... )
>>> labels, proba = session.run(None, {"X": X})
>>> bool(np.all(labels == tuned.predict(X)))
True
"""

from __future__ import annotations

try:
    import skl2onnx  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError(
        "threshold_estimators.onnx needs skl2onnx and onnxruntime; install the "
        "extra with: pip install 'threshold-estimators[onnx]'."
    ) from error

from ._register import UnconvertibleError, register

register()

__all__ = ["UnconvertibleError", "register"]
