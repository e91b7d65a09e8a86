"""Benchmark ONNX Runtime batch prediction of a tuned classifier against ``predict``.

Run from the repository root (needs the ``onnx`` extra)::

    python benchmarks/bench_onnx.py            # 10^6 rows, 5 repeats
    python benchmarks/bench_onnx.py --quick    # 10^5 rows, 3 repeats

Each case fits a ``ThresholdTunedClassifier`` on 20,000 rows of
``make_classification`` (20 features, 80 % negatives; four classes for the
multiclass cases), converts it with ``skl2onnx.to_onnx(tuned, X[:1])`` after
``import threshold_estimators.onnx`` (float32 inputs), and predicts ``--rows``
new float32 rows both ways:

``python``
    ``tuned.predict(X)``: scikit-learn's own scores (float64) and the cut.
``onnx``
    ``session.run(None, {"X": X})`` of an ONNX Runtime ``InferenceSession``
    (CPU provider, default threads): labels and probabilities in one call.
``inner onnx``
    The same for the inner model alone (``skl2onnx.to_onnx(tuned.estimator_,
    X[:1])``, for information): the tuned graph's time less this one is what
    the decision costs.

Times are medians of interleaved repeats (``_common.median_times``); the
ratio is python / onnx (> 1: ONNX Runtime faster). The columns ``differ`` and
``near`` count the rows whose ONNX label differs from ``predict`` and the rows
whose float64 score lies within 1e-5 of the cut (every differing row must be
one of them), and ``proba err`` the largest absolute difference from
``predict_proba``.

The last row converts scikit-learn's own ``TunedThresholdClassifierCV`` with
skl2onnx's converter, for reference: ``differ`` counts its ONNX labels that
differ from its ``predict``.
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np
from _common import environment, load_average, median_times, render_table
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import TunedThresholdClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import PrecisionTarget


def data(n_rows: int, n_classes: int, seed: int):
    X, y = make_classification(
        n_samples=n_rows,
        n_features=20,
        n_informative=8,
        n_classes=n_classes,
        weights=[0.8] if n_classes == 2 else None,
        random_state=seed,
    )
    return X.astype(np.float32), y


def cases():
    binary, multiclass = data(20_000, 2, 0), data(20_000, 4, 0)
    return {
        "logistic, precision >= 0.9": (
            ThresholdTunedClassifier(
                LogisticRegression(), objective=PrecisionTarget(0.9)
            ),
            binary,
        ),
        "scaler + logistic, F1, recalibrated": (
            ThresholdTunedClassifier(
                make_pipeline(StandardScaler(), LogisticRegression()),
                recalibrate=True,
            ),
            binary,
        ),
        "gradient boosting (100 trees), F1": (
            ThresholdTunedClassifier(GradientBoostingClassifier(random_state=0), cv=3),
            binary,
        ),
        "logistic, 4 classes, every class recalibrated": (
            ThresholdTunedClassifier(LogisticRegression(), recalibrate=True),
            multiclass,
        ),
    }


def session_of(model, X):
    import onnxruntime as ort
    from skl2onnx import to_onnx

    onnx_model = to_onnx(model, X[:1], options={"zipmap": False})
    return ort.InferenceSession(
        onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def near_cut(tuned, X) -> int:
    """Rows whose float64 score of the tuned class lies within 1e-5 of the cut
    (single cuts), or whose two largest probabilities lie within 1e-5."""
    if np.ndim(tuned.threshold_) == 0:
        column = tuned.rule_.column
        score = tuned.estimator_.predict_proba(X)[:, column]
        return int(np.sum(np.abs(score - tuned.threshold_) <= 1e-5))
    top = np.sort(tuned.predict_proba(X), axis=1)
    return int(np.sum(top[:, -1] - top[:, -2] <= 1e-5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    repeats = args.repeats or (3 if args.quick else 5)
    import onnxruntime

    import threshold_estimators.onnx  # noqa: F401  (registers the converter)

    for line in environment(
        f"rows {rows}, repeats {repeats}, onnxruntime {onnxruntime.__version__}"
    ):
        print(line)
    print()
    table = []
    for name, (tuned, (X_fit, y_fit)) in cases().items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tuned.fit(X_fit, y_fit)
        X, _ = data(rows, len(tuned.classes_), seed=1)
        session = session_of(tuned, X)
        inner = session_of(tuned.estimator_, X)
        timed = median_times(
            {
                "python": lambda tuned=tuned, X=X: tuned.predict(X),
                "onnx": lambda session=session, X=X: session.run(None, {"X": X}),
                "inner": lambda inner=inner, X=X: inner.run(None, {"X": X}),
            },
            repeats,
        )
        labels, proba = timed["onnx"][1]
        expected = timed["python"][1]
        table.append(
            [
                name,
                f"{timed['python'][0]:.3f}",
                f"{timed['onnx'][0]:.3f}",
                f"{timed['python'][0] / timed['onnx'][0]:.2f}",
                f"{timed['inner'][0]:.3f}",
                str(int(np.sum(labels != expected))),
                str(near_cut(tuned, X)),
                f"{np.abs(proba - tuned.predict_proba(X)).max():.1e}",
            ]
        )
    X_fit, y_fit = data(20_000, 2, 0)
    reference = TunedThresholdClassifierCV(LogisticRegression(), scoring="f1").fit(
        X_fit, y_fit
    )
    X, _ = data(rows, 2, seed=1)
    labels = session_of(reference, X).run(None, {"X": X})[0]
    table.append(
        [
            "sklearn TunedThresholdClassifierCV (skl2onnx's converter)",
            "",
            "",
            "",
            "",
            str(int(np.sum(labels != reference.predict(X)))),
            "",
            "",
        ]
    )
    header = ["case", "python s", "onnx s", "python/onnx", "inner onnx s", "differ"]
    print(render_table([*header, "near", "proba err"], table, left={0}))
    print(load_average("at end"))
    print(f"cpus {os.cpu_count()}")


if __name__ == "__main__":
    main()
