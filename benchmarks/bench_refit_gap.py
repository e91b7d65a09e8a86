"""Benchmark the gap between the fold models a confidence bound is about and the
refitted model that is deployed.

Run from the repository root (needs the ``bench`` extra, for plotnine's data)::

    python benchmarks/bench_refit_gap.py             # 60 seeds, about 2 min
    python benchmarks/bench_refit_gap.py --seeds 10

``PrecisionTarget(p, confidence=0.95)``'s promise is proved for the pooled
out-of-fold scores of the fold models; ``fit`` then refits the estimator on
all the rows and applies the cut to its scores. This script measures what that
does on a real problem: the ``diamonds`` problem of ``bench_prevalence.py``
(positive = an "Ideal" cut, ``HistGradientBoostingClassifier``, 2,250
positives and 12,750 negatives train, the other 38,940 stones are the
held-out pool on which each decision's precision is exact). Per seed and
target:

``cv``
    ``ThresholdTunedClassifier(HGB, objective=PrecisionTarget(p, 0.95))``
    (5 folds, refit on all 15,000 rows);
``held out``
    ``ThresholdTunedClassifier(HGB, objective=..., cv=0.2, refit=False)``: the
    estimator fitted on 80 % of the rows (one stratified split), the cut tuned
    on the other 20 %, and that model deployed: the bound is then about the
    deployed model itself.

Columns: mean held-out precision, ``cover`` (the share of seeds whose
held-out precision reaches p: the promise is 0.95), for ``cv`` the mean
out-of-fold precision at its cut, the standard deviation over seeds of
(held-out - out-of-fold) precision, and the mean binomial standard error of
the out-of-fold precision (what the bound accounts for); the recall of each.
A target of 0.32 puts the cut deep in the ranking (some 6,600 out-of-fold
positive calls; it is the cut ``PrecisionTarget(0.8)`` gets at a deployment
rate of 0.6: see ``bench_prevalence.py``), where the bound's margin is
smallest; 0.8 is a cut near the top.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import environment, load_average, render_table
from bench_prevalence import Diamonds
from threadpoolctl import threadpool_limits

from threshold_estimators import ThresholdTunedClassifier
from threshold_estimators.objectives import InfeasibleTargetError, PrecisionTarget

CONFIDENCE = 0.95
HELD_OUT = 0.2  # the share of the rows the cut of the "held out" model is tuned on
TARGETS = (0.8, 0.32)
TRAIN_RATE = 0.15


def held_out_precision(rates) -> float:
    positive = TRAIN_RATE * rates.tpr
    return positive / (positive + (1 - TRAIN_RATE) * rates.fpr)


def one_seed(seed: int, target: float) -> dict:
    problem = Diamonds(seed)
    X, y = problem.train
    objective = PrecisionTarget(target, confidence=CONFIDENCE)
    out = {}
    try:
        model = ThresholdTunedClassifier(problem.estimator(), objective=objective)
        model.fit(X, y)
        record = model.out_of_fold_
        positive = model.classes_[record["labels"]] == model.pos_label_
        called = record["score"] >= model.threshold_
        oof = positive[called].mean()
        rates = problem.rates(model)
        out["cv"] = (held_out_precision(rates), rates.tpr, oof, called.sum())
    except InfeasibleTargetError:
        out["cv"] = None
    try:
        model = ThresholdTunedClassifier(
            problem.estimator(),
            objective=objective,
            cv=HELD_OUT,
            refit=False,
            random_state=seed,
        ).fit(X, y)
        rates = problem.rates(model)
        out["held out"] = (held_out_precision(rates), rates.tpr)
    except InfeasibleTargetError:
        out["held out"] = None
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=60)
    args = parser.parse_args(argv)
    if Diamonds.data is None:
        print("skipped: the diamonds data need plotnine (pip install -e .[bench])")
        return
    print("\n".join(environment(f"seeds {args.seeds}, confidence {CONFIDENCE}")))
    start = time.perf_counter()
    rows = []
    with threadpool_limits(limits=1):
        for target in TARGETS:
            found = [one_seed(seed, target) for seed in range(args.seeds)]
            for kind in ("cv", "held out"):
                done = np.array([f[kind] for f in found if f[kind] is not None])
                if not done.size:
                    rows.append([f"{target:g}", kind, "infeasible"] + [""] * 6)
                    continue
                precision = done[:, 0]
                row = [
                    f"{target:g}",
                    kind,
                    f"{len(done)}",
                    f"{precision.mean():.4f}",
                    f"{np.mean(precision >= target):.2f}",
                    f"{done[:, 1].mean():.3f}",
                ]
                if kind == "cv":
                    oof, calls = done[:, 2], done[:, 3]
                    row += [
                        f"{oof.mean():.4f}",
                        f"{np.std(precision - oof, ddof=1):.4f}",
                        f"{np.mean(np.sqrt(oof * (1 - oof) / calls)):.4f}",
                    ]
                else:
                    row += ["", "", ""]
                rows.append(row)
    header = ("target", "tuned", "feasible", "held-out precision", "cover",
              "recall", "oof precision", "sd(held-out-oof)", "binom. se")  # fmt: skip
    print(render_table(header, rows, left=(0, 1)))
    minutes = (time.perf_counter() - start) / 60
    print(f"{load_average('at end')}; {minutes:.1f} min")


if __name__ == "__main__":
    main()
