"""Coverage of ``AlertBudget(confidence=0.9)`` decided for a prevalence.

Closed-form truth: scores ``N(0, 1)`` for negatives and ``N(2, 1)`` for
positives, 10,000 training rows at a positive rate of 0.15, the cut picked
with ``prevalence=pi'``; its true flagged rate at ``pi'`` is
``pi' * sf(t - 2) + (1 - pi') * sf(t)``. ``cover`` is the share of seeds
whose true rate is within the budget (target 0.9; a binomial standard error
of 0.008 at 1,500 seeds). ``--old`` reads the bound as before issue 16's
fix: Kish's effective size of the class-reweighted rows.

Run from the repository root::

    python benchmarks/bench_budget_shift.py [--seeds 1500] [--old]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from scipy.stats import norm

from threshold_estimators import pick_threshold
from threshold_estimators.objectives import AlertBudget

SHIFT = 2.0
N_TRAIN = 10_000
TRAIN_RATE = 0.15
CELLS = ((0.01, 0.02), (0.03, 0.02), (0.15, 0.05), (0.3, 0.2), (0.6, 0.3))


def coverage(rate: float, budget: float, seeds: int) -> tuple[float, float]:
    covered, flagged = 0, []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        y = rng.random(N_TRAIN) < TRAIN_RATE
        score = rng.normal(size=N_TRAIN) + SHIFT * y
        objective = AlertBudget(budget, confidence=0.9)
        try:
            cut = pick_threshold(y, score, objective, prevalence=rate).threshold
        except ValueError:  # infeasible: nothing flagged, nothing broken
            covered += 1
            continue
        true_rate = rate * norm.sf(cut - SHIFT) + (1 - rate) * norm.sf(cut)
        flagged.append(true_rate)
        covered += true_rate <= budget
    return covered / seeds, float(np.mean(flagged))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1500)
    parser.add_argument("--old", action="store_true")
    args = parser.parse_args()
    if args.old:
        AlertBudget.for_rows = lambda self, rows: self
    warnings.simplefilter("ignore")
    print("rate   budget  cover  mean flagged rate")
    for rate, budget in CELLS:
        cover, mean = coverage(rate, budget, args.seeds)
        print(f"{rate:<6g} {budget:<7g} {cover:.3f}  {mean:.4f}")


if __name__ == "__main__":
    main()
