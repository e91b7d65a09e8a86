"""Benchmark the recalibrated probabilities against scikit-learn's calibration.

Run from the repository root (the figure needs matplotlib)::

    python benchmarks/bench_calibration.py            # full run (about 40 s)
    python benchmarks/bench_calibration.py --quick    # small datasets, smoke run
    python benchmarks/bench_calibration.py --seed 1 --no-figure

Everything is measured in one run and printed as one plain-text table. Fits run
with ``--n-jobs 1`` by default: ``HistGradientBoostingClassifier`` already uses
every core through OpenMP, and joblib workers on top of it oversubscribe the
CPU (about 20x slower on 2 cores).

Datasets (each split once, stratified and seeded by ``--seed``, default 0, with
40 % held out for test):
``breast_cancer`` (scikit-learn's embedded copy), ``digits_5`` (the embedded
digits, "5" against the rest, prevalence 0.10) and two synthetic imbalanced
problems from ``make_classification`` with label noise (``flip_y``):
``synth_p10`` (prevalence about 0.11) and ``synth_p03`` (about 0.035).

Models, of different calibration quality: ``logreg``
(``StandardScaler`` + ``LogisticRegression``), ``gaussian_nb`` (``GaussianNB``,
poorly calibrated: over-confident on correlated features), ``hist_gb``
(``HistGradientBoostingClassifier``) and ``linear_svc`` (``StandardScaler`` +
``LinearSVC``: no ``predict_proba``, its ``decision_function`` is calibrated).

Methods, one table row each for every dataset x model; every metric is computed
on the held-out test set from the probability of the positive class:

``raw``
    The model's own ``predict_proba[:, 1]``, taken from our ``estimator_`` (the
    model refitted on all the training data). ``n/a`` for ``linear_svc``.
``sigmoid`` / ``isotonic``
    ``CalibratedClassifierCV(model, method=..., cv=StratifiedKFold(5),
    ensemble=False)``.
``ours_post``
    ``ThresholdTunedClassifier(model, objective="f1", cv=StratifiedKFold(5),
    recalibrate=True).predict_posterior_proba(X_test)[:, 1]``: the calibrated
    posterior ``expit(c + a u + b v)`` of the ``PiecewiseLogisticCalibrator``.
``ours_op``
    The same model's ``predict_proba(X_test)[:, 1]``: the operating probability
    ``expit(a u + b v)``, 0.5 at the tuned threshold. It is calibrated for the
    class balance at which the threshold is the Bayes cut, not for the test
    balance, so its scores are information only.

The comparison is like for like: with ``ensemble=False``, scikit-learn fits its
calibrator on the out-of-fold predictions of the same ``StratifiedKFold(5)``
(not shuffled, so the very same folds) and refits one model on all the training
data, exactly as ``ThresholdTunedClassifier`` does; only the calibration map
differs. One difference of input remains: scikit-learn calibrates
``decision_function`` when the model has one (``logreg``, ``hist_gb``,
``linear_svc``: log-odds or margins, equivalent to our logit of the
probability) and otherwise ``predict_proba`` itself (``gaussian_nb``: Platt's
sigmoid on the raw probability, not on its logit), whereas ours uses the logit
of ``predict_proba`` when it exists and else ``decision_function``.

Columns:

``log-loss``, ``Brier``
    ``sklearn.metrics.log_loss`` and ``brier_score_loss`` (lower is better).
    ``log_loss`` clips probabilities to machine epsilon, so a confidently wrong
    probability of exactly 0 or 1 costs about 36 nats.
``ECE``
    Expected calibration error, see :func:`expected_calibration_error` (15
    equal-width bins, weighted by bin counts; lower is better).
``agree``
    Fraction of test rows where ``proba >= 0.5`` coincides with our tuned
    decision ``ours.predict(X_test) == 1``. For ``ours_op`` it must be 1.000
    (the operating probability keeps the decision); for the other rows it shows
    how far a 0.5 cut of those probabilities is from the tuned decision.
``LL/sig``, ``LL/raw``
    On ``ours_post`` rows: its log-loss divided by the ``sigmoid`` and ``raw``
    log-losses (below 1: ours is better).
``target``
    ``ours_post``: ``LL/sig <= 1.01`` (never worse than sigmoid by more than 1 %)
    and, for ``gaussian_nb``, ``LL/raw < 1`` (for the other models ``LL/raw`` is
    information only). ``ours_op``: ``agree == 1``. ``PASS`` or ``FAIL``
    (with the failing check); the summary below the table counts them.

A reliability diagram (``sklearn.calibration.CalibrationDisplay``) of
``gaussian_nb`` on ``synth_p03`` -- before (raw probabilities) and after (our
posterior), with our operating probability for contrast, over a histogram of
each -- is saved to ``docs/images/reliability_gaussian_nb.png`` (``--figure
PATH`` to change, ``--no-figure`` to skip).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
from _common import environment, render_table
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from threshold_estimators import ThresholdTunedClassifier

SEED = 0
TEST_SIZE = 0.4
N_BINS = 15
LOG_LOSS_TOLERANCE = 1.01
POORLY_CALIBRATED = ("gaussian_nb",)
FIGURE_CELL = ("synth_p03", "gaussian_nb")
DEFAULT_FIGURE = Path(__file__).resolve().parents[1] / (
    "docs/images/reliability_gaussian_nb.png"
)
METHODS = ("raw", "sigmoid", "isotonic", "ours_post", "ours_op")
HEADER = (
    "dataset",
    "model",
    "method",
    "log-loss",
    "Brier",
    "ECE",
    "agree",
    "LL/sig",
    "LL/raw",
    "target",
)


class Dataset(NamedTuple):
    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


class Row(NamedTuple):
    dataset: str
    model: str
    method: str
    log_loss: float | None
    brier: float | None
    ece: float | None
    agree: float | None
    ratio_sigmoid: float | None = None
    ratio_raw: float | None = None
    target: str = ""


# --------------------------------------------------------------------- metrics


def expected_calibration_error(
    y_true: np.ndarray, proba: np.ndarray, n_bins: int = N_BINS
) -> float:
    """Expected calibration error of positive-class probabilities.

    ``[0, 1]`` is cut into ``n_bins`` equal-width bins (the last one closed, so
    a probability of exactly 1 falls in it). In each non-empty bin the gap
    ``|mean(y_true) - mean(proba)|`` is taken; the ECE is the mean of those gaps
    weighted by the bins' sample counts, i.e. ``sum_b n_b / n * gap_b``.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        Binary labels, 1 for the positive class.
    proba : ndarray of shape (n_samples,)
        Predicted probabilities of the positive class.
    n_bins : int, default=15
        Number of equal-width bins.

    Returns
    -------
    ece : float
        In ``[0, 1]``; 0 for a perfectly calibrated predictor (per bin).
    """
    bins = np.minimum((proba * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    positives = np.bincount(bins, weights=y_true, minlength=n_bins)
    proba_sums = np.bincount(bins, weights=proba, minlength=n_bins)
    return float(np.abs(positives - proba_sums).sum() / counts.sum())


def score_row(
    dataset: str,
    model: str,
    method: str,
    y_test: np.ndarray,
    proba: np.ndarray | None,
    decision: np.ndarray,
) -> Row:
    """Log-loss, Brier, ECE and agreement of ``proba`` with ``decision``."""
    if proba is None:
        return Row(dataset, model, method, None, None, None, None)
    return Row(
        dataset,
        model,
        method,
        log_loss(y_test, proba, labels=[0, 1]),
        brier_score_loss(y_test, proba),
        expected_calibration_error(y_test, proba),
        float(np.mean((proba >= 0.5) == decision)),
    )


# ------------------------------------------------------------ data and models


def _split(name: str, X: np.ndarray, y: np.ndarray, seed: int) -> Dataset:
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, stratify=y, random_state=seed
    )
    return Dataset(name, X_train, X_test, y_train, y_test)


def load_datasets(quick: bool, seed: int = SEED) -> list[Dataset]:
    """The four benchmark datasets, split into train and test with ``seed``."""
    scale = 5 if quick else 1
    breast = load_breast_cancer()
    digits = load_digits()
    synthetic = {
        "synth_p10": dict(n_samples=30_000, weights=[0.9], flip_y=0.02),
        "synth_p03": dict(n_samples=50_000, weights=[0.97], flip_y=0.01),
    }
    datasets = [
        _split("breast_cancer", breast.data, breast.target, seed),
        _split("digits_5", digits.data, (digits.target == 5).astype(int), seed),
    ]
    for offset, (name, params) in enumerate(synthetic.items(), start=1):
        X, y = make_classification(
            n_samples=params["n_samples"] // scale,
            n_features=20,
            n_informative=6,
            n_redundant=6,
            weights=params["weights"],
            flip_y=params["flip_y"],
            class_sep=1.0,
            random_state=seed + offset,
        )
        datasets.append(_split(name, X, y, seed))
    return datasets


def models(seed: int = SEED) -> dict[str, Callable[[], object]]:
    """Unfitted models by name."""
    return {
        "logreg": lambda: make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=1000)
        ),
        "gaussian_nb": GaussianNB,
        "hist_gb": lambda: HistGradientBoostingClassifier(random_state=seed),
        "linear_svc": lambda: make_pipeline(StandardScaler(), LinearSVC()),
    }


# ---------------------------------------------------------------- one cell


def folds() -> StratifiedKFold:
    return StratifiedKFold(5)


def fit_ours(estimator, data: Dataset, n_jobs: int) -> ThresholdTunedClassifier:
    return ThresholdTunedClassifier(
        clone(estimator),
        objective="f1",
        cv=folds(),
        recalibrate=True,
        n_jobs=n_jobs,
    ).fit(data.X_train, data.y_train)


def fit_sklearn(estimator, data: Dataset, method: str, n_jobs: int):
    return CalibratedClassifierCV(
        clone(estimator), method=method, cv=folds(), ensemble=False, n_jobs=n_jobs
    ).fit(data.X_train, data.y_train)


def cell_probabilities(
    estimator, data: Dataset, n_jobs: int
) -> tuple[dict[str, np.ndarray | None], np.ndarray]:
    """Positive-class test probabilities of every method, and our decision."""
    ours = fit_ours(estimator, data, n_jobs)
    X_test = data.X_test
    proba = {
        "raw": (
            ours.estimator_.predict_proba(X_test)[:, 1]
            if hasattr(ours.estimator_, "predict_proba")
            else None
        ),
    }
    for method in ("sigmoid", "isotonic"):
        fitted = fit_sklearn(estimator, data, method, n_jobs)
        proba[method] = fitted.predict_proba(X_test)[:, 1]
    proba["ours_post"] = ours.predict_posterior_proba(X_test)[:, 1]
    proba["ours_op"] = ours.predict_proba(X_test)[:, 1]
    return proba, ours.predict(X_test) == 1


def judge(model: str, row: Row, sigmoid: Row, raw: Row) -> Row:
    """Add the ratios and the PASS/FAIL verdict to an ``ours_post`` row."""
    ratio_sigmoid = row.log_loss / sigmoid.log_loss
    ratio_raw = None if raw.log_loss is None else row.log_loss / raw.log_loss
    failed = []
    if not ratio_sigmoid <= LOG_LOSS_TOLERANCE:
        failed.append("sig")
    if model in POORLY_CALIBRATED and not (ratio_raw is not None and ratio_raw < 1):
        failed.append("raw")
    target = "PASS" if not failed else "FAIL(" + ",".join(failed) + ")"
    return row._replace(ratio_sigmoid=ratio_sigmoid, ratio_raw=ratio_raw, target=target)


def evaluate_cell(
    data: Dataset, model: str, estimator, n_jobs: int
) -> tuple[list[Row], dict[str, np.ndarray | None]]:
    """The table rows of one dataset x model, and its test probabilities."""
    proba, decision = cell_probabilities(estimator, data, n_jobs)
    rows = {
        method: score_row(
            data.name, model, method, data.y_test, proba[method], decision
        )
        for method in METHODS
    }
    rows["ours_post"] = judge(model, rows["ours_post"], rows["sigmoid"], rows["raw"])
    op = rows["ours_op"]
    rows["ours_op"] = op._replace(target="PASS" if op.agree == 1 else "FAIL(agree)")
    return list(rows.values()), proba


# ------------------------------------------------------------------ output


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def format_row(row: Row) -> list[str]:
    return [
        row.dataset,
        row.model,
        row.method,
        _number(row.log_loss),
        _number(row.brier),
        _number(row.ece),
        _number(row.agree, 3),
        "" if row.ratio_sigmoid is None else _number(row.ratio_sigmoid, 3),
        "" if row.ratio_raw is None else _number(row.ratio_raw, 3),
        row.target,
    ]


def table_cells(rows: list[Row]) -> Iterator[list[str] | None]:
    """The cells of every row; ``None`` (a blank line) between dataset x model."""
    for index, row in enumerate(rows):
        if index and row.method == METHODS[0]:
            yield None
        yield format_row(row)


def summary(rows: list[Row]) -> str:
    judged = [row for row in rows if row.target]
    failed = [row for row in judged if row.target != "PASS"]
    lines = [f"targets: {len(judged) - len(failed)}/{len(judged)} PASS"]
    lines += [
        f"  FAIL {row.dataset} / {row.model} / {row.method}: {row.target}"
        for row in failed
    ]
    post = [row for row in rows if row.method == "ours_post"]
    worst = max(post, key=lambda row: row.ratio_sigmoid)
    lines.append(
        f"ours_post log-loss / sigmoid: worst {worst.ratio_sigmoid:.3f} "
        f"({worst.dataset} / {worst.model}), "
        f"median {np.median([row.ratio_sigmoid for row in post]):.3f}"
    )
    return "\n".join(lines)


def describe(datasets: list[Dataset], n_jobs: int, seed: int) -> list[str]:
    """The environment, the settings, and the size of every dataset."""
    lines = environment(f"n_jobs={n_jobs}, seed={seed}, test_size={TEST_SIZE}")
    for data in datasets:
        n_train, n_test = len(data.y_train), len(data.y_test)
        lines.append(
            f"  {data.name}: {n_train} train / {n_test} test, "
            f"{data.X_train.shape[1]} features, "
            f"prevalence {np.mean(data.y_train):.3f}"
        )
    return lines


def plot_reliability(
    y_test: np.ndarray, proba: dict[str, np.ndarray | None], path: Path
) -> None:
    """Reliability diagram of the figure cell, with a histogram of each curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import CalibrationDisplay

    curves = {
        "before: raw GaussianNB": ("raw", "tab:red", "o"),
        "after: ours, posterior": ("ours_post", "tab:blue", "s"),
        "ours, operating (0.5 = tuned F1 cut)": ("ours_op", "tab:green", "D"),
    }
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(7, 8.5), height_ratios=(3, 1.3), sharex=True
    )
    for label, (method, color, marker) in curves.items():
        CalibrationDisplay.from_predictions(
            y_test,
            proba[method],
            n_bins=N_BINS,
            name=label,
            ax=top,
            color=color,
            marker=marker,
            ref_line=method == "raw",
        )
        bottom.hist(
            proba[method],
            bins=np.linspace(0, 1, N_BINS + 1),
            histtype="step",
            color=color,
            linewidth=1.5,
        )
    dataset, model = FIGURE_CELL
    top.set_title(f"Reliability of {model} on {dataset} (held-out test, {N_BINS} bins)")
    top.set_xlabel("")
    top.legend(loc="upper left", fontsize=9)
    bottom.set_yscale("log")
    bottom.set_xlabel("Predicted probability of the positive class")
    bottom.set_ylabel("Test rows")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


# -------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="synthetic datasets 5x smaller"
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        help="joblib jobs per fit (HistGradientBoosting already uses every core)",
    )
    parser.add_argument(
        "--figure", type=Path, default=DEFAULT_FIGURE, help="reliability diagram"
    )
    parser.add_argument("--no-figure", action="store_true", help="skip the figure")
    parser.add_argument(
        "--seed", type=int, default=SEED, help="seed of the splits and the data"
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    datasets = load_datasets(args.quick, args.seed)
    print(
        "\n".join(describe(datasets, args.n_jobs, args.seed)),
        end="\n\n",
        flush=True,
    )
    rows: list[Row] = []
    figure_proba = None
    with warnings.catch_warnings():
        # LinearSVC may stop at max_iter on the raw digits; it does not matter here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for data in datasets:
            for model, make in models(args.seed).items():
                cell_rows, proba = evaluate_cell(data, model, make(), args.n_jobs)
                rows += cell_rows
                if (data.name, model) == FIGURE_CELL:
                    figure_proba = (data.y_test, proba)
    print(render_table(HEADER, table_cells(rows), left={0, 1, 2, len(HEADER) - 1}))
    print()
    print(summary(rows))
    if not args.no_figure and figure_proba is not None:
        plot_reliability(*figure_proba, args.figure)
        print(f"figure: {args.figure}")
    print(f"total time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
