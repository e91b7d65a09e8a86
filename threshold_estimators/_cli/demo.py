"""``threshold-estimators demo``: the default cut against tuned ones."""

from __future__ import annotations

import argparse
import time

import numpy as np

SCREENING_FEATURES = ("mean radius", "mean texture")


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "demo",
        help="compare the default 0.5 cut with tuned cuts on the breast-cancer data",
        description="Fit a logistic regression on scikit-learn's breast-cancer data "
        "and compare, on a held-out split, the default 0.5 cut with the cuts tuned "
        "for F1, for precision >= 0.95 and for a cost matrix.",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the train/test split and the folds",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .. import ThresholdTunedClassifier
    from ..objectives import F1, CostMatrix, PrecisionTarget

    start = time.perf_counter()
    data = load_breast_cancer()
    # In this data set 0 is malignant: the class a screening must not miss.
    malignant = int(np.flatnonzero(data.target_names == "malignant")[0])
    # A quick screening model on two measurements leaves a real trade-off between
    # missed tumours and false alarms (all 30 features nearly separate the classes).
    features = [list(data.feature_names).index(f) for f in SCREENING_FEATURES]
    X_train, X_test, y_train, y_test = train_test_split(
        data.data[:, features],
        data.target,
        test_size=0.4,
        stratify=data.target,
        random_state=args.random_state,
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    costs = np.array([[0.0, 10.0], [1.0, 0.0]])  # rows: truth, columns: prediction
    costs_text = "missed malignant = 10, false alarm = 1"

    def row(name, threshold, y_pred):
        (_, fp), (fn, tp) = confusion_matrix(
            y_test == malignant, y_pred == malignant, labels=[False, True]
        )
        cost = np.sum(costs * confusion_matrix(y_test, y_pred, labels=[0, 1]))
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn)
        f1 = 2 * tp / (2 * tp + fp + fn)
        return (
            f"{name:<28}{threshold:>10.3f}{precision:>11.3f}{recall:>8.3f}"
            f"{f1:>7.3f}{fn:>8d}{fp:>8d}{cost:>7.0f}"
        )

    rows = [row("default cut (0.5)", 0.5, model.fit(X_train, y_train).predict(X_test))]
    objectives = {
        "tuned: best F1": F1(),
        "tuned: precision >= 0.95": PrecisionTarget(0.95),
        "tuned: cost matrix": CostMatrix(costs),
    }
    for name, objective in objectives.items():
        tuned = ThresholdTunedClassifier(
            model,
            objective=objective,
            pos_label=malignant,
            cv=5,
            random_state=args.random_state,
        ).fit(X_train, y_train)
        rows.append(row(name, tuned.threshold_, tuned.predict(X_test)))

    print("Breast cancer screening: which cut on P(malignant)?")
    print(
        f"Logistic regression on {' and '.join(SCREENING_FEATURES)}; "
        f"{len(y_train)} training samples (threshold tuned by 5-fold CV), "
        f"{len(y_test)} held out.\nCost: {costs_text}.\n"
    )
    print(
        f"{'decision':<28}{'threshold':>10}{'precision':>11}{'recall':>8}"
        f"{'F1':>7}{'missed':>8}{'alarms':>8}{'cost':>7}"
    )
    print("\n".join(rows))
    print(
        f"\nHeld-out metrics for class 'malignant'. Done in "
        f"{time.perf_counter() - start:.1f} s."
    )
    return 0
