"""Benchmark the multiclass decision rules against the plain argmax.

Run from the repository root::

    python benchmarks/bench_multiclass.py                 # full run (about 3 min)
    python benchmarks/bench_multiclass.py --quick         # smoke run (under a minute)
    python benchmarks/bench_multiclass.py --repeats 20 --hgb-repeats 6

Everything is measured in one run and printed as plain-text tables. Every fit
runs on one process (``n_jobs=None``): ``HistGradientBoostingClassifier``
already uses every core through OpenMP. The run times (about 3 min in all on an
idle 2-core machine) assume nothing else is running: with another busy process
on the machine, OpenMP's threads fight for the cores and the ``hgb`` fits can
be several times slower, which also inflates Table D.

Protocol
--------
Each dataset is cut by ``train_test_split(test_size=0.5, stratify=y,
random_state=seed)`` for ``seed = 0 .. repeats - 1``. On each split the models
are fitted on the training half and scored on the held-out half; the tables show
``mean ± std`` over the splits (sample standard deviation, ``ddof=1``; ``n/a``
with one split) and the column ``n`` is the number of splits. Every
``ThresholdTunedClassifier`` uses its defaults (``cv=5``, i.e. an unshuffled
``StratifiedKFold(5)`` on the training half, then one refit on all of it).

Datasets and models (rows ``dataset``, ``model``):

``digits``
    scikit-learn's embedded ``load_digits``, features divided by 16 (10 classes,
    about 180 samples each, 1797 in all).
``synth5``
    ``make_classification(n_samples=6000, n_classes=5, n_informative=8,
    weights=[0.5, 0.2, 0.15, 0.1, 0.05], flip_y=0.03, random_state=0)``; class 4
    is the rarest (about 5 %).
``logreg``
    ``make_pipeline(StandardScaler(), LogisticRegression(C=0.05,
    max_iter=1000))``, on both datasets.
``hgb``
    ``HistGradientBoostingClassifier(max_iter=100)``, on ``synth5`` only. One
    tuned fit costs about 10 s on 2 cores (6 fits of 500 trees), so it runs on
    the first ``--hgb-repeats`` splits only (default 4, against ``--repeats``
    default 10); its ``n`` column says so.

Baselines: ``argmax`` is ``model.estimator_.predict(X_test)``, the plain
prediction of the very model ours refitted on the training half, so ours and
the baseline differ only in the decision rule. ``Bayes`` is the plug-in Bayes
rule ``argmin_k (P @ C)_k`` with ``P = model.estimator_.predict_proba(X_test)``.

Table A -- every class tuned for F1
    ``ThresholdTunedClassifier(model, objective="f1", pos_label=None)``: one
    exact one-vs-rest threshold per class. Columns: held-out macro-F1
    (``f1_score(average="macro")``) of ``ours`` and ``argmax``; ``ours-argmax``
    their difference (mean ± std of the per-split differences); ``ours>=argmax``
    the fraction of splits where ours is at least as good.
Table B -- one class under a precision target
    ``ThresholdTunedClassifier(model, objective=PrecisionTarget(target),
    pos_label=class)``: ``digits`` class 5 with target 0.98, ``synth5`` class 4
    with target 0.9. Columns: held-out precision and recall of that class
    (one-vs-rest) for ours and argmax, a split with no test sample called that
    class counting as precision 0 (``zero_division=0``); ``P>=tgt`` the fraction
    of splits where the held-out precision reaches the target (ours, then
    argmax). A split on which the target is infeasible out of fold
    (``InfeasibleTargetError``) is left out of the means and counted in
    ``infeas``.
Table C -- a K x K cost matrix
    ``ThresholdTunedClassifier(model, objective=CostMatrix(C), pos_label=None)``
    with ``C[i][j]`` the cost of predicting ``j`` when the truth is ``i``: 0 on
    the diagonal, 1 elsewhere, except the row of one class -- ``digits``: 8 for
    missing a 5 (row 5); ``synth5``: 20 for missing class 4 (row 4). Columns:
    held-out mean cost per sample ``mean(C[y_test, y_pred])`` (lower is better)
    of ours, argmax and plug-in Bayes; ``ours<=argmax`` and ``ours<=Bayes`` the
    fraction of splits where ours costs no more.
Table D -- fit time
    On the training half of split 0: ``ours`` is ``ThresholdTunedClassifier(
    model, objective="f1", pos_label=None).fit``; ``bare`` is the same work
    without the tuning: ``cross_val_predict(model, X, y, cv=StratifiedKFold(5),
    method="predict_proba")`` plus one ``clone(model).fit(X, y)``. Seconds of
    wall-clock time, the median of ``--timing-repeats`` runs (default 3; bare
    and ours alternate), and ``ours/bare`` their ratio: the overhead of the
    threshold search and bookkeeping (1.00 = none).

The summary lines check, for every dataset x model, the mean over splits:
``macro-F1 ours >= argmax``, ``cost ours <= argmax`` and ``cost ours <= plug-in
Bayes``; ``PASS`` when all cells hold, with each cell's mean difference shown.

``--quick`` is a smoke run: 2 splits, 1 for ``hgb``, ``hgb`` with
``max_iter=20``, and one timing run; its numbers are not the benchmark's.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from _common import (  # benchmarks/ is on sys.path when run as a script
    N_FOLDS,
    bare_fits,
    environment,
    median_times,
    render_table,
)
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import (
    CostMatrix,
    InfeasibleTargetError,
    PrecisionTarget,
)

TEST_SIZE = 0.5


class Problem(NamedTuple):
    """A dataset, its models, and the class and costs its tables use."""

    name: str
    X: np.ndarray
    y: np.ndarray
    models: dict[str, Callable[[], object]]
    target_class: int
    min_precision: float
    cost: np.ndarray


class Split(NamedTuple):
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


# ------------------------------------------------------------------- problems


def logreg() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000))


def cost_matrix(n_classes: int, missed_class: int, miss_cost: float) -> np.ndarray:
    """0 on the diagonal, 1 elsewhere, ``miss_cost`` for missing ``missed_class``."""
    matrix = 1.0 - np.eye(n_classes)
    matrix[missed_class] *= miss_cost
    return matrix


def problems(quick: bool) -> list[Problem]:
    X_digits, y_digits = load_digits(return_X_y=True)
    X_synth, y_synth = make_classification(
        n_samples=6000,
        n_classes=5,
        n_informative=8,
        weights=[0.5, 0.2, 0.15, 0.1, 0.05],
        flip_y=0.03,
        random_state=0,
    )
    hgb_iter = 20 if quick else 100
    return [
        Problem(
            "digits",
            X_digits / 16.0,
            y_digits,
            {"logreg": logreg},
            target_class=5,
            min_precision=0.98,
            cost=cost_matrix(10, missed_class=5, miss_cost=8.0),
        ),
        Problem(
            "synth5",
            X_synth,
            y_synth,
            {
                "logreg": logreg,
                "hgb": lambda: HistGradientBoostingClassifier(max_iter=hgb_iter),
            },
            target_class=4,
            min_precision=0.9,
            cost=cost_matrix(5, missed_class=4, miss_cost=20.0),
        ),
    ]


def split(problem: Problem, seed: int) -> Split:
    return Split(
        *train_test_split(
            problem.X,
            problem.y,
            test_size=TEST_SIZE,
            stratify=problem.y,
            random_state=seed,
        )
    )


# ----------------------------------------------------------------- evaluation


def mean_cost(matrix: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean of ``matrix[true, predicted]``; labels are ``0 .. K-1`` here."""
    return float(np.mean(matrix[y_true, y_pred]))


def evaluate_split(
    problem: Problem, make_model: Callable[[], object], data: Split
) -> dict[str, float]:
    """Every metric of tables A, B and C on one train/test split."""
    out: dict[str, float] = {}
    fit = (data.X_train, data.y_train)

    # Table A: one F1 threshold per class.
    tuned = ThresholdTunedClassifier(make_model(), objective="f1").fit(*fit)
    out["f1_ours"] = f1_score(data.y_test, tuned.predict(data.X_test), average="macro")
    out["f1_argmax"] = f1_score(
        data.y_test, tuned.estimator_.predict(data.X_test), average="macro"
    )

    # Table B: one class under a precision target.
    k = problem.target_class
    try:
        tuned = ThresholdTunedClassifier(
            make_model(),
            objective=PrecisionTarget(problem.min_precision),
            pos_label=k,
        ).fit(*fit)
    except InfeasibleTargetError:
        out["infeasible"] = 1.0
        for key in ("prec_ours", "rec_ours", "prec_argmax", "rec_argmax"):
            out[key] = np.nan
    else:
        out["infeasible"] = 0.0
        ours = tuned.predict(data.X_test) == k
        argmax = tuned.estimator_.predict(data.X_test) == k
        truth = data.y_test == k
        for name, called in (("ours", ours), ("argmax", argmax)):
            out[f"prec_{name}"] = precision_score(truth, called, zero_division=0.0)
            out[f"rec_{name}"] = recall_score(truth, called, zero_division=0.0)

    # Table C: a K x K cost matrix.
    tuned = ThresholdTunedClassifier(
        make_model(), objective=CostMatrix(problem.cost)
    ).fit(*fit)
    proba = tuned.estimator_.predict_proba(data.X_test)
    bayes = tuned.estimator_.classes_[np.argmin(proba @ problem.cost, axis=1)]
    out["cost_ours"] = mean_cost(problem.cost, data.y_test, tuned.predict(data.X_test))
    out["cost_argmax"] = mean_cost(
        problem.cost, data.y_test, tuned.estimator_.predict(data.X_test)
    )
    out["cost_bayes"] = mean_cost(problem.cost, data.y_test, bayes)
    return out


def time_fits(
    make_model: Callable[[], object], data: Split, repeats: int
) -> tuple[float, float]:
    """Median seconds of (bare cross-fit + refit, ours), alternating."""
    X, y = data.X_train, data.y_train
    timed = median_times(
        {
            "bare": lambda: bare_fits(make_model, X, y, method="predict_proba"),
            "ours": lambda: ThresholdTunedClassifier(
                make_model(), objective="f1", cv=N_FOLDS
            ).fit(X, y),
        },
        repeats,
    )
    return timed["bare"][0], timed["ours"][0]


# ------------------------------------------------------------------ formatting


def mean_std(values, digits: int = 4, signed: bool = False) -> str:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return "n/a"
    sign = "+" if signed else ""
    std = f"{np.std(values, ddof=1):.{digits}f}" if values.size > 1 else "n/a"
    return f"{np.mean(values):{sign}.{digits}f} ± {std}"


def fraction(flags) -> str:
    flags = np.asarray(flags, dtype=bool)
    return f"{flags.mean():.2f} ({flags.sum()}/{flags.size})"


def print_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    """The title, the table (dataset and model left-aligned) and a blank line."""
    print(title, render_table(header, rows, left=(0, 1)), "", sep="\n")


# ------------------------------------------------------------------------ main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 2 splits, 1 for hgb (max_iter=20), 1 timing run",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=10,
        help="train/test splits, seeds 0..repeats-1 (default 10)",
    )
    parser.add_argument(
        "--hgb-repeats",
        type=int,
        default=4,
        help="splits for the hgb model, the first ones (default 4)",
    )
    parser.add_argument(
        "--timing-repeats",
        type=int,
        default=3,
        help="runs per fit-time measurement, median taken (default 3)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.hgb_repeats, args.timing_repeats = 2, 1, 1
    for name in ("repeats", "hgb_repeats", "timing_repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    args.hgb_repeats = min(args.hgb_repeats, args.repeats)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    print(
        f"bench_multiclass{' --quick' if args.quick else ''}: "
        f"{args.repeats} splits ({args.hgb_repeats} for hgb), "
        f"{args.timing_repeats} timing run(s)"
    )
    print("\n".join(environment()), end="\n\n")

    caught: Counter = Counter()
    results = []  # (problem, model name, list of per-split dicts)
    timings = []
    for problem in problems(args.quick):
        for model_name, make_model in problem.models.items():
            n_splits = args.hgb_repeats if model_name == "hgb" else args.repeats
            per_split = []
            with warnings.catch_warnings(record=True) as record:
                warnings.simplefilter("always")
                for seed in range(n_splits):
                    per_split.append(
                        evaluate_split(problem, make_model, split(problem, seed))
                    )
                timings.append(
                    (
                        problem.name,
                        model_name,
                        *time_fits(make_model, split(problem, 0), args.timing_repeats),
                    )
                )
            for warning in record:
                caught[(problem.name, model_name, warning.category.__name__)] += 1
            results.append((problem, model_name, per_split))

    def column(per_split, key):
        return np.array([split_result[key] for split_result in per_split])

    rows = []
    for problem, model_name, per_split in results:
        ours, argmax = column(per_split, "f1_ours"), column(per_split, "f1_argmax")
        rows.append(
            (
                problem.name,
                model_name,
                len(per_split),
                mean_std(ours),
                mean_std(argmax),
                mean_std(ours - argmax, signed=True),
                fraction(ours >= argmax),
            )
        )
    print_table(
        "Table A -- every class tuned for F1: held-out macro-F1 (higher is better)",
        (
            "dataset",
            "model",
            "n",
            "ours",
            "argmax",
            "ours-argmax",
            "ours>=argmax",
        ),
        rows,
    )

    rows = []
    for problem, model_name, per_split in results:
        feasible = column(per_split, "infeasible") == 0
        target = problem.min_precision
        prec_ours = column(per_split, "prec_ours")[feasible]
        prec_argmax = column(per_split, "prec_argmax")[feasible]
        rows.append(
            (
                problem.name,
                model_name,
                problem.target_class,
                f"{target:.2f}",
                len(per_split),
                int((~feasible).sum()),
                mean_std(prec_ours),
                mean_std(prec_argmax),
                mean_std(column(per_split, "rec_ours")[feasible]),
                mean_std(column(per_split, "rec_argmax")[feasible]),
                fraction(prec_ours >= target) if feasible.any() else "n/a",
                fraction(prec_argmax >= target) if feasible.any() else "n/a",
            )
        )
    print_table(
        "Table B -- one class under PrecisionTarget: held-out precision and recall "
        "of that class",
        (
            "dataset",
            "model",
            "class",
            "target",
            "n",
            "infeas",
            "prec ours",
            "prec argmax",
            "recall ours",
            "recall argmax",
            "P>=tgt ours",
            "P>=tgt argmax",
        ),
        rows,
    )

    rows = []
    for problem, model_name, per_split in results:
        ours = column(per_split, "cost_ours")
        argmax = column(per_split, "cost_argmax")
        bayes = column(per_split, "cost_bayes")
        rows.append(
            (
                problem.name,
                model_name,
                len(per_split),
                f"{problem.cost.max():g}",
                mean_std(ours),
                mean_std(argmax),
                mean_std(bayes),
                fraction(ours <= argmax),
                fraction(ours <= bayes),
            )
        )
    print_table(
        "Table C -- K x K cost matrix: held-out mean cost per sample (lower is better)",
        (
            "dataset",
            "model",
            "n",
            "miss cost",
            "ours",
            "argmax",
            "Bayes",
            "ours<=argmax",
            "ours<=Bayes",
        ),
        rows,
    )

    print_table(
        f"Table D -- fit time on the training half of split 0, seconds "
        f"(median of {args.timing_repeats})",
        ("dataset", "model", "bare", "ours", "ours/bare"),
        [
            (name, model, f"{bare:.3f}", f"{ours:.3f}", f"{ours / bare:.2f}")
            for name, model, bare, ours in timings
        ],
    )

    checks = (
        ("macro-F1 ours >= argmax on average", "f1_ours", "f1_argmax", 1),
        ("cost ours <= argmax on average", "cost_ours", "cost_argmax", -1),
        ("cost ours <= plug-in Bayes on average", "cost_ours", "cost_bayes", -1),
    )
    print("Summary (mean over splits; difference ours - baseline per cell)")
    width = max(len(label) for label, *_ in checks)
    for label, ours_key, base_key, direction in checks:
        cells, passed = [], True
        for problem, model_name, per_split in results:
            diff = np.mean(column(per_split, ours_key) - column(per_split, base_key))
            ok = direction * diff >= 0
            passed &= bool(ok)
            cells.append(f"{problem.name}/{model_name} {diff:+.4f}{'' if ok else '!'}")
        verdict = "PASS" if passed else "FAIL"
        print(f"  {label:<{width}}  {verdict}  [{', '.join(cells)}]")
    print()

    if caught:
        print("Warnings raised during the fits:")
        for (name, model, category), count in sorted(caught.items()):
            print(f"  {name}/{model}: {count} x {category}")
    else:
        print("Warnings raised during the fits: none")
    print(f"Total time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
