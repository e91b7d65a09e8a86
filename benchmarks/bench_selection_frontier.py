"""What a provably valid precision promise costs in recall (issue 17).

Run from the repository root::

    python benchmarks/bench_selection_frontier.py            # 400 repetitions, ~3 min
    python benchmarks/bench_selection_frontier.py --quick    # 50 repetitions

Protocol
--------
Scores with closed-form truth: negatives ``N(0, 1)``, positives ``N(2, 1)``,
prevalence ``pi``; ``n`` rows per repetition, searched directly (the scores are
"out-of-fold"); the oracle is the lowest cut whose true precision reaches the
target ``p``. Each rule calls the rows above its cut; ``cover`` is the share of
repetitions whose true precision reaches ``p`` (no cut counts as covered, with
recall 0), ``recall/oracle`` the mean recall over the oracle's.

Rules (all Clopper-Pearson bounds on the precision of the top ``N`` rows):

``pointwise a``
    the lowest cut whose one-sided bound at level ``a`` reaches ``p`` (the
    library's ``selection="pointwise"`` with ``confidence = 1 - a``);
``fixed sequence r``
    the bounds tested at ``N = m0, m0 r, m0 r^2, ...`` calls (a grid fixed by
    ``n`` alone; ``m0`` twice the fewest calls a perfect record needs), at
    level 0.1 (confidence 0.9, as ``pointwise 0.1``), stopping at the first
    failure: valid by construction (closed testing on hypotheses nested under
    monotone precision).

Part 2 computes, by simulation of a driftless walk (every call a positive
with probability exactly ``p``: the least favourable case of a flat stretch
of precision ``p``), the pointwise level at which the chance that the bound
crosses ``p`` anywhere in ``[L, n]`` calls is 0.1: the level a
pointwise-looking rule valid for every distribution must use.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import environment, load_average, render_table
from scipy.optimize import brentq
from scipy.special import betainc
from scipy.stats import beta, norm

SHIFT = 2.0


def true_rates(cut):
    return norm.sf(cut - SHIFT), norm.sf(cut)


def precision(cut, pi):
    tpr, fpr = true_rates(cut)
    return pi * tpr / (pi * tpr + (1 - pi) * fpr)


def pointwise(level):
    def bound(tp, fp):
        return beta.ppf(level, np.maximum(tp, 1e-300), fp + 1)

    return bound


def fixed_sequence(ratio, level=0.1):
    def passes(tp, fp, target):
        n = tp.size
        m0 = int(2 * np.ceil(np.log(level) / np.log(target)))
        steps = int(np.log(n / m0) / np.log(ratio)) + 1
        grid = np.unique(np.round(m0 * ratio ** np.arange(steps)).astype(int))
        grid = grid[grid <= n] - 1
        ok = beta.ppf(level, np.maximum(tp[grid], 1e-300), fp[grid] + 1) >= target
        stop = np.flatnonzero(~ok)
        chosen = np.zeros(n, dtype=bool)
        chosen[grid[: stop[0] if stop.size else grid.size]] = True
        return chosen

    return passes


def run_cell(n, pi, target, reps, seed):
    rng = np.random.default_rng(seed)
    oracle = brentq(lambda t: precision(t, pi) - target, -5, 12)
    oracle_recall = true_rates(oracle)[0]
    rules = {
        **{f"pointwise {a:g}": pointwise(a) for a in (0.1, 0.05, 0.01, 0.001)},
        **{f"fixed sequence {r:g}": fixed_sequence(r) for r in (1.03, 1.1, 1.3)},
    }
    out = {name: [] for name in rules}
    for _ in range(reps):
        y = rng.random(n) < pi
        x = rng.normal(size=n) + SHIFT * y
        order = np.argsort(-x)
        ys, xs = y[order], x[order]
        tp, fp = np.cumsum(ys), np.cumsum(~ys)
        for name, rule in rules.items():
            ok = (
                rule(tp, fp, target)
                if name.startswith("fixed")
                else rule(tp, fp) >= target
            )
            passing = np.flatnonzero(ok)
            if passing.size == 0:
                out[name].append((True, 0.0))
                continue
            cut = xs[passing[-1]]
            out[name].append(
                (precision(cut, pi) >= target, true_rates(cut)[0] / oracle_recall)
            )
    return {name: np.mean(values, axis=0) for name, values in out.items()}


def driftless_level(target, low, n, alpha, reps, rng):
    """The pointwise level whose bound crosses ``target`` somewhere in
    ``[low, n]`` calls with probability ``alpha`` on a driftless walk."""
    calls = np.arange(1, n + 1)
    smallest = np.empty(reps)
    for r in range(reps):
        tp = np.cumsum(rng.random(n) < target)
        # One-sided p-value of "precision <= target" at each N.
        p_value = np.where(
            tp > 0, betainc(np.maximum(tp, 1), calls - tp + 1, target), 1
        )
        smallest[r] = p_value[low - 1 :].min()
    return float(np.quantile(smallest, alpha))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 repetitions")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    reps = args.repeats or (50 if args.quick else 400)
    print("\n".join(environment(f"{reps} repetitions per cell")), end="\n\n")
    start = time.perf_counter()
    rows = []
    cells = [
        (5000, 0.15, 0.9),
        (1000, 0.15, 0.8),
        (20000, 0.15, 0.95),
        (5000, 0.5, 0.9),
    ]
    for seed, (n, pi, target) in enumerate(cells):
        result = run_cell(n, pi, target, reps, seed)
        for name, (cover, ratio) in result.items():
            rows.append(
                [f"{n}", f"{pi:g}", f"{target:g}", name, f"{cover:.3f}", f"{ratio:.3f}"]
            )
    print(
        render_table(["n", "pi", "target", "rule", "cover", "recall/oracle"], rows),
        end="\n\n",
    )
    rng = np.random.default_rng(99)
    levels = [
        [f"{low}", f"{driftless_level(0.9, low, 5000, 0.1, reps * 5, rng):.4f}"]
        for low in (50, 150, 500, 2000)
    ]
    print("Pointwise level valid on a driftless walk (target 0.9, n = 5000, alpha 0.1)")
    print(render_table(["from N calls", "level"], levels))
    print(f"\n{load_average('at end')}; {(time.perf_counter() - start) / 60:.1f} min")


if __name__ == "__main__":
    main()
