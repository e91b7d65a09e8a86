"""Benchmark the estimators of class proportions when every class is tuned.

Run from the repository root::

    python benchmarks/bench_proportions.py            # about 2 min on 2 cores
    python benchmarks/bench_proportions.py --quick    # 8 seeds per problem

``retarget(X=unlabelled, method=...)`` of a ``ThresholdTunedClassifier`` tuning
every class of a multiclass target estimates the class proportions of the
unlabelled rows: ``em`` (expectation-maximization on the out-of-fold scores
recalibrated by bias-corrected temperature scaling) or ``bbse`` (black-box
shift estimation with the out-of-fold confusion matrix of the most likely
class). Per seed the model is trained at fixed proportions and 2,000
unlabelled rows are drawn at proportions from a Dirichlet distribution
(every class's share moves, some to a few rows). Problems:

``gauss4``
    four classes in 2-D, unit-variance Gaussians around centres drawn per
    seed (scale 2), 3,000 training rows at equal proportions,
    ``LogisticRegression()``; deployment proportions ~ Dirichlet(2, 2, 2, 2).
``gauss4_tree``, ``gauss4_5nn``
    the same with ``DecisionTreeClassifier(random_state=0)`` and
    ``KNeighborsClassifier(5)``: coarse probabilities (one-hot for the tree),
    which one temperature cannot recalibrate (EM then uses matrix scaling).
``digits``
    scikit-learn's digits (10 classes), a random half trains
    ``StandardScaler() + LogisticRegression(max_iter=2000)``; deployment rows
    are drawn with replacement from the other half, class by class, at
    proportions ~ Dirichlet(1, ..., 1).
``digits_hgb``
    the same with ``HistGradientBoostingClassifier(random_state=0)``.

Columns: the mean over seeds of the mean absolute error over classes, the
share of classes whose reported 95 % interval holds the truth, and the seeds
on which the estimate fell at the boundary (a class under half a row:
``ValueError``; left out of the other columns). The default (``auto``) is
the method with the smaller error.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _common import environment, load_average, render_table
from sklearn.datasets import load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators._retarget import estimate

N_UNLABELLED = 2_000
METHODS = ("em", "bbse")
SEEDS = {"gauss4": 40, "gauss4_tree": 40, "gauss4_5nn": 40, "digits": 40,
         "digits_hgb": 12}  # fmt: skip


def gauss4(rng, estimator=None):
    centres = rng.normal(scale=2.0, size=(4, 2))

    def draw(n, proportions):
        y = rng.choice(4, size=n, p=proportions)
        return rng.normal(size=(n, 2)) + centres[y], y

    X, y = draw(3_000, np.full(4, 0.25))
    model = ThresholdTunedClassifier(estimator or LogisticRegression()).fit(X, y)
    truth = rng.dirichlet(np.full(4, 2.0))
    return model, draw(N_UNLABELLED, truth)[0], truth


def digits(rng, estimator):
    X, y = load_digits(return_X_y=True)
    order = rng.permutation(y.size)
    train, pool = order[: y.size // 2], order[y.size // 2 :]
    model = ThresholdTunedClassifier(estimator).fit(X[train], y[train])
    truth = rng.dirichlet(np.ones(10))
    labels = rng.choice(10, size=N_UNLABELLED, p=truth)
    by_class = [pool[y[pool] == k] for k in range(10)]
    rows = np.array([rng.choice(by_class[k]) for k in labels])
    return model, X[rows], truth


PROBLEMS = {
    "gauss4": gauss4,
    "gauss4_tree": lambda rng: gauss4(rng, DecisionTreeClassifier(random_state=0)),
    "gauss4_5nn": lambda rng: gauss4(rng, KNeighborsClassifier(5)),
    "digits": lambda rng: digits(
        rng, make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    ),
    "digits_hgb": lambda rng: digits(
        rng, HistGradientBoostingClassifier(random_state=0)
    ),
}


def run(problem: str, seeds: int) -> list[list[str]]:
    errors = {method: [] for method in METHODS}
    cover = {method: [] for method in METHODS}
    failed = dict.fromkeys(METHODS, 0)
    for seed in range(seeds):
        model, rows, truth = PROBLEMS[problem](np.random.default_rng(seed))
        for method in METHODS:
            try:
                found = estimate(model, rows, method)
            except ValueError:  # at the boundary
                failed[method] += 1
                continue
            errors[method].append(np.mean(np.abs(found.value - truth)))
            low, high = found.interval
            cover[method].append(np.mean((low <= truth) & (truth <= high)))
    return [
        [
            problem,
            method,
            f"{np.mean(errors[method]):.4f}",
            f"{np.mean(cover[method]):.2f}",
            f"{failed[method]} / {seeds}",
        ]
        for method in METHODS
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 seeds per problem")
    args = parser.parse_args(argv)
    seeds = {name: 8 if args.quick else n for name, n in SEEDS.items()}
    print("\n".join(environment(f"seeds {seeds}, {N_UNLABELLED:_} unlabelled rows")))
    start = time.perf_counter()
    rows = []
    with threadpool_limits(limits=1), warnings.catch_warnings():
        # Tuning every class on a few hundred rows warns of low support; the
        # decisions are not what this measures.
        warnings.simplefilter("ignore")
        for problem, n_seeds in seeds.items():
            rows += run(problem, n_seeds)
            rows.append(None)
    header = ("problem", "method", "mean |err| per class", "cover", "boundary")
    print(render_table(header, rows[:-1], left=(0, 1)))
    minutes = (time.perf_counter() - start) / 60
    print(f"{load_average('at end')}; {minutes:.1f} min")


if __name__ == "__main__":
    main()
