"""Benchmark how far the EM estimate of a rate is from the best these scores allow.

Run from the repository root (needs the ``bench`` extra, for plotnine's data)::

    python benchmarks/bench_em_floor.py             # 40 seeds, about 1 min
    python benchmarks/bench_em_floor.py --seeds 10

On the ``diamonds`` problem of ``bench_prevalence.py`` (train at a positive
rate of 0.15, estimate the rate of 2,000 unlabelled rows drawn at 0.01, 0.03,
0.3 and 0.6; 40 seeds), the mean absolute error against the population rate
of three estimates:

``retarget (em)``
    ``retarget(X=...)``'s estimate: EM on the refitted model's scores, with
    the piecewise-logistic calibration fitted on the 2,250 out-of-fold
    positives and 12,750 negatives of the fold models;
``em, pool-calibrated``
    EM on the same scores with the best calibration they allow: isotonic
    regression of the refitted model's scores on the labels of the 38,940
    held-out stones, reweighted to the training rate. What remains is the
    information the 2,000 rows' scores hold;
``rows' own share``
    the share of positives among the 2,000 rows: what any estimate that
    reads the rows rather than the population misses by sampling alone.

Issue 16 asks for an error within 0.01 on average over the four rates.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _common import environment, load_average, render_table
from bench_prevalence import DEPLOY_RATES, N_UNLABELLED, TRAIN_RATE, Diamonds
from sklearn.isotonic import IsotonicRegression
from threadpoolctl import threadpool_limits

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators._prevalence import em_rate
from threshold_estimators._retarget import estimate

ESTIMATES = ("retarget (em)", "em, pool-calibrated", "rows' own share")


def pool_calibration(model, problem) -> IsotonicRegression:
    """The refitted model's posterior at the training rate, from the
    labelled held-out pool."""
    X = problem.data[0]
    positive, negative = (
        model.estimator_.predict_proba(X[rows])[:, 1] for rows in problem.pool
    )
    scores = np.r_[positive, negative]
    labels = np.r_[np.ones(positive.size), np.zeros(negative.size)]
    weight = np.where(
        labels == 1, TRAIN_RATE / positive.size, (1 - TRAIN_RATE) / negative.size
    )
    return IsotonicRegression(out_of_bounds="clip", y_min=1e-9, y_max=1 - 1e-9).fit(
        scores, labels, sample_weight=weight
    )


def one_seed(seed: int) -> np.ndarray:
    """Errors (estimate - rate), shape (len(DEPLOY_RATES), len(ESTIMATES))."""
    problem = Diamonds(seed)
    model = ThresholdTunedClassifier(problem.estimator(), objective="f1")
    model.fit(*problem.train)
    calibration = pool_calibration(model, problem)
    errors = np.full((len(DEPLOY_RATES), len(ESTIMATES)), np.nan)
    for i, rate in enumerate(DEPLOY_RATES):
        X, y = problem._sample(problem.pool, N_UNLABELLED, rate)
        try:
            errors[i, 0] = estimate(model, X, "em").value - rate
        except ValueError:  # at the boundary: left out
            pass
        scores = model.estimator_.predict_proba(X)[:, 1]
        try:
            errors[i, 1] = em_rate(calibration.predict(scores), TRAIN_RATE).value - rate
        except ValueError:
            pass
        errors[i, 2] = y.mean() - rate
    return errors


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    args = parser.parse_args(argv)
    if Diamonds.data is None:
        print("skipped: the diamonds data need plotnine (pip install -e .[bench])")
        return
    print("\n".join(environment(f"seeds {args.seeds}, {N_UNLABELLED:_} rows")))
    start = time.perf_counter()
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # low-support warnings of the fits
        errors = np.array([one_seed(seed) for seed in range(args.seeds)])
    absolute = np.nanmean(np.abs(errors), axis=0)  # (rates, estimates)
    rows = [
        [
            name,
            *(f"{value:.4f}" for value in absolute[:, j]),
            f"{absolute[:, j].mean():.4f}",
        ]
        for j, name in enumerate(ESTIMATES)
    ]
    header = ("estimate", *(f"|err| at {rate:g}" for rate in DEPLOY_RATES), "mean")
    print(render_table(header, rows, left=(0,)))
    minutes = (time.perf_counter() - start) / 60
    print(f"{load_average('at end')}; {minutes:.1f} min")


if __name__ == "__main__":
    main()
