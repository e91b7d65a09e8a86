"""Benchmark the exact threshold search against a sort and scikit-learn's tuner.

Run from the repository root::

    python benchmarks/bench_search.py            # n = 1_000_000 (about 5 min)
    python benchmarks/bench_search.py --quick    # n = 100_000 smoke run
    python benchmarks/bench_search.py --n 300000

Everything is measured in one run and printed as one plain-text table with the
columns ``row | measured | reference | ratio | target | pass``; ``ratio`` is
``measured / reference``. Times are wall-clock seconds (``time.perf_counter``).

Part 1 -- search only, on ``n`` synthetic scores
(``y ~ Bernoulli(0.2)``, ``scores = sigmoid(2 y - 1 + N(0, 1))`` in float64, so
nearly all distinct; seeded):

``1a ours search``
    ``confusion_curve`` + ``best_candidate(F1())`` + ``cut_point``, median of 5
    runs; reference: one ``np.argsort`` of the same scores (row ``1b``), median of
    5. Target: ratio <= 1.5, i.e. the search costs little more than its sort.
``1b np.argsort``
    The reference of ``1a`` (information only).
``1c sklearn prefit``
    ``TunedThresholdClassifierCV(FrozenEstimator(lookup), scoring="f1",
    cv="prefit", refit=False)`` tuning the same scores (``lookup`` returns the
    precomputed scores of the row indices passed as ``X``), median of 3;
    reference: ``1a``. Target: ratio >= 50.
``1e ours weighted search``
    ``1a`` with random sample weights, which needs ``np.argsort`` (the
    unweighted search only sorts values); information only.
``1d F1 ours/sklearn``
    F1 of ``scores >= threshold`` (``sklearn.metrics.f1_score``) at the threshold
    each method returned. Target: ours >= sklearn's (ratio >= 1).

Part 2 -- end to end, on ``make_classification(n_samples=n, n_features=20,
n_informative=10, weights=[0.8], random_state=0)`` with ``LogisticRegression()``,
``cv=StratifiedKFold(5)`` and ``n_jobs=None`` for both tuners (median of 3
interleaved runs each),
inside ``threadpool_limits(--blas-threads)``, default 1: on this 2-core machine a
LogisticRegression fit at n = 10^6 takes about 1.1 s on one BLAS/OpenMP thread
and 3.1 s on two (the pools oversubscribe the cores); the limit applies to
every fit alike, ours, scikit-learn's and the bare ones:

``2a ours fit``
    ``ThresholdTunedClassifier(LogisticRegression(), objective="f1").fit``;
    reference: the bare cost ``2c`` (information only: the overhead of tuning).
``2b sklearn fit``
    ``TunedThresholdClassifierCV(LogisticRegression(), scoring="f1").fit``;
    reference: ``2a``. Target: ratio >= 3.
``2c bare fits``
    Five fold fits plus one refit of ``LogisticRegression`` on the same folds,
    row indexing included (information only).
``2e ours fit, n_jobs=2`` / ``2f sklearn fit, n_jobs=2``
    The same two fits with ``n_jobs=2`` (both tuners fit their folds in
    parallel; ours also runs the final refit beside the folds). Target for
    ``2f``: ratio >= 3.
``2d OOF F1 ours/sklearn``
    F1 of ``oof >= threshold`` at ours ``threshold_`` and sklearn's
    ``best_threshold_``, where ``oof`` are the pooled out-of-fold probabilities
    of ``cross_val_predict`` on the same folds (computed once). Target: ours >=
    sklearn's (ratio >= 1).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from _common import (  # benchmarks/ is on sys.path when run as a script
    N_FOLDS,
    bare_fits,
    environment,
    load_average,
    median_times,
    render_table,
)
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import (
    StratifiedKFold,
    TunedThresholdClassifierCV,
    cross_val_predict,
)
from threadpoolctl import threadpool_limits

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators._search import confusion_curve, cut_point
from threshold_estimators._selection import best_candidate
from threshold_estimators.objectives import F1

DEFAULT_N = 1_000_000
QUICK_N = 100_000
SEED = 0
REPEATS_OURS = 5
REPEATS_SKLEARN = 3
# End-to-end fits, interleaved; the median of 3 damps a one-off slow run.
REPEATS_FIT = 3
HEADER = ("row", "measured", "reference", "ratio", "target", "pass")


class Row(NamedTuple):
    """One line of the table; ``target`` is ``(operator, bound)`` or ``None``."""

    name: str
    measured: float
    reference: float | None
    unit: str
    target: tuple[str, float] | None


def f1_at(y: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    """F1 of the decisions ``scores >= threshold``."""
    return float(f1_score(y, (scores >= threshold).astype(y.dtype)))


# --------------------------------------------------------------------------- part 1


class ScoreLookup(ClassifierMixin, BaseEstimator):
    """A "classifier" whose ``X`` is row indices into precomputed scores.

    It lets scikit-learn's tuner threshold given scores: ``predict_proba`` of
    ``np.arange(n).reshape(-1, 1)`` returns ``scores`` (one fancy index, a few
    milliseconds at n = 10^6, included in sklearn's time).
    """

    def __init__(self, scores=None):
        self.scores = scores

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        positive = self.scores[np.asarray(X)[:, 0].astype(np.intp)]
        return np.column_stack((1 - positive, positive))

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


def synthetic_scores(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Labels ``y ~ Bernoulli(0.2)`` and scores ``sigmoid(2 y - 1 + N(0, 1))``."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(np.int64)
    scores = 1.0 / (1.0 + np.exp(-(2.0 * y - 1.0 + rng.standard_normal(n))))
    return y, scores


def our_search(y: np.ndarray, scores: np.ndarray, weights=None) -> float:
    """The threshold of our exact F1 search."""
    curve = confusion_curve(y == 1, scores, weights)
    index = best_candidate(F1(), curve)
    return cut_point(curve.thresholds, index)


def sklearn_prefit_search(y: np.ndarray, scores: np.ndarray) -> float:
    """The threshold scikit-learn's tuner picks on the same prefit scores.

    scikit-learn 1.9.1 still accepts ``cv="prefit"`` (with ``refit=False``,
    ``refit=True`` raises) without a deprecation warning, and a
    ``FrozenEstimator`` passes its ``check_is_fitted``; the whole data is then
    the single validation set, as in our search.
    """
    X = np.arange(y.size).reshape(-1, 1)
    frozen = FrozenEstimator(ScoreLookup(scores).fit(X, y))
    tuner = TunedThresholdClassifierCV(frozen, scoring="f1", cv="prefit", refit=False)
    return float(tuner.fit(X, y).best_threshold_)


def part_search(n: int) -> list[Row]:
    """Rows 1a-1e: the search alone on ``n`` synthetic scores."""
    y, scores = synthetic_scores(n)
    weights = np.random.default_rng(SEED).uniform(0.5, 2.0, n)
    timed = median_times(
        {
            "ours": lambda: our_search(y, scores),
            "sort": lambda: np.argsort(scores),
            "weighted": lambda: our_search(y, scores, weights),
        },
        REPEATS_OURS,
    )
    (ours_time, ours_threshold), (sort_time, _) = timed["ours"], timed["sort"]
    weighted_time = timed["weighted"][0]
    sk_time, sk_threshold = median_times(
        {"sklearn": lambda: sklearn_prefit_search(y, scores)}, REPEATS_SKLEARN
    )["sklearn"]
    return [
        Row("1a ours search", ours_time, sort_time, "s", ("<=", 1.5)),
        Row("1b np.argsort", sort_time, None, "s", None),
        Row("1c sklearn prefit", sk_time, ours_time, "s", (">=", 50.0)),
        Row(
            "1d F1 ours/sklearn",
            f1_at(y, scores, ours_threshold),
            f1_at(y, scores, sk_threshold),
            "",
            (">=", 1.0),
        ),
        Row("1e ours weighted search", weighted_time, sort_time, "s", None),
    ]


# --------------------------------------------------------------------------- part 2


def part_end_to_end(n: int) -> list[Row]:
    """Rows 2a-2f: both tuners fitted end to end on ``n`` samples."""
    X, y = make_classification(
        n_samples=n, n_features=20, n_informative=10, weights=[0.8], random_state=0
    )

    def tuners(n_jobs):
        ours = ThresholdTunedClassifier(
            LogisticRegression(),
            objective="f1",
            cv=StratifiedKFold(N_FOLDS),
            n_jobs=n_jobs,
        )
        theirs = TunedThresholdClassifierCV(
            LogisticRegression(),
            scoring="f1",
            cv=StratifiedKFold(N_FOLDS),
            n_jobs=n_jobs,
        )
        return ours, theirs

    ours, theirs = tuners(None)
    ours_2, theirs_2 = tuners(2)
    timed = median_times(
        {
            "ours": lambda: ours.fit(X, y),
            "sklearn": lambda: theirs.fit(X, y),
            "bare": lambda: bare_fits(LogisticRegression, X, y),
            "ours_2": lambda: ours_2.fit(X, y),
            "sklearn_2": lambda: theirs_2.fit(X, y),
        },
        REPEATS_FIT,
    )
    seconds = {name: value[0] for name, value in timed.items()}
    oof = cross_val_predict(
        LogisticRegression(), X, y, cv=StratifiedKFold(N_FOLDS), method="predict_proba"
    )[:, 1]
    return [
        Row("2a ours fit", seconds["ours"], seconds["bare"], "s", None),
        Row("2b sklearn fit", seconds["sklearn"], seconds["ours"], "s", (">=", 3.0)),
        Row("2c bare 5 folds + refit", seconds["bare"], None, "s", None),
        Row(
            "2d OOF F1 ours/sklearn",
            f1_at(y, oof, ours.threshold_),
            f1_at(y, oof, theirs.best_threshold_),
            "",
            (">=", 1.0),
        ),
        Row("2e ours fit, n_jobs=2", seconds["ours_2"], seconds["bare"], "s", None),
        Row(
            "2f sklearn fit, n_jobs=2",
            seconds["sklearn_2"],
            seconds["ours_2"],
            "s",
            (">=", 3.0),
        ),
    ]


# --------------------------------------------------------------------------- output


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.4f} s" if unit == "s" else f"{value:.6f}"


def format_row(row: Row) -> list[str]:
    """The table cells of ``row``: name, measured, reference, ratio, target, pass."""
    ratio = None if row.reference is None else row.measured / row.reference
    if row.target is None:
        target, verdict = "info", "-"
    else:
        operator, bound = row.target
        target = f"{operator} {bound:g}"
        passed = ratio <= bound if operator == "<=" else ratio >= bound
        verdict = "PASS" if passed else "FAIL"
    ratio_cell = "-" if ratio is None else f"{ratio:.4f}"
    return [
        row.name,
        _number(row.measured, row.unit),
        _number(row.reference, row.unit),
        ratio_cell,
        target,
        verdict,
    ]


def search_table(
    rows: list[Row], row_cells: Callable[[Row], list[str]] = format_row
) -> str:
    """The cells of ``rows`` in the table layout of this script and ``run_all``."""
    return render_table(
        HEADER, map(row_cells, rows), left=range(len(HEADER)), sep=" | "
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=DEFAULT_N, help=f"number of samples ({DEFAULT_N:_})"
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke run with n = {QUICK_N:_}"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS/OpenMP threads per process in part 2 (default 1)",
    )
    args = parser.parse_args(argv)
    n = QUICK_N if args.quick else args.n

    print("\n".join(environment(f"n = {n:_}")), end="\n\n", flush=True)
    rows = part_search(n)
    # LogisticRegression's lbfgs fits are about 3x faster on one BLAS/OpenMP
    # thread than on two here (the two pools oversubscribe the two cores), so
    # part 2 runs every fit, ours, scikit-learn's and the bare ones, alike.
    with threadpool_limits(limits=args.blas_threads):
        rows += part_end_to_end(n)
    print(f"part 2 ran with threadpool_limits({args.blas_threads})")
    print(search_table(rows))
    print(f"\n{load_average('at end')}")


if __name__ == "__main__":
    main()
