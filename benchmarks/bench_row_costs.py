"""Benchmark per-row costs (a CostMatrix naming per-row arrays) against scikit-learn.

Run from the repository root::

    python benchmarks/bench_row_costs.py            # n = 1e5 and 1e6 (about 15 s)
    python benchmarks/bench_row_costs.py --quick    # n = 1e5 only, 2 splits

The costs are those of scikit-learn's credit-card example (the second half of
``examples/model_selection/plot_cost_sensitive_learning.py``) with signs changed
(a cost is a negative gain): for a legitimate transaction, accepting it costs
``-0.02 * amount`` and refusing it 5; for a fraud, accepting it costs its
``amount`` and refusing it -50. Ours states them as
``CostMatrix([["legit_accept", 5], ["amount", -50]])`` with
``fit(X, y, amount=amount, legit_accept=-0.02 * amount)``; scikit-learn's
``TunedThresholdClassifierCV`` takes the gain as a scorer
``make_scorer(business_gain).set_score_request(amount=True)`` (the example's own
numpy function, four boolean masks: about 6 ms per call at 10^6 rows, called once
per threshold) under
``sklearn.config_context(enable_metadata_routing=True)``, with its default
``thresholds=100``.

Part 1 -- prefit scores (rows ``1a``-``1d`` per size ``n``): synthetic labels
``y ~ Bernoulli(0.005)``, scores ``sigmoid(3 y - 5 + N(0, 1))`` (float64, nearly
all distinct), amounts ``exp(3.8 + 0.4 y + N(0, 1))``; seeded. The model is
``bench_search.ScoreLookup``, whose ``X`` is the row indices and whose
``predict_proba`` returns the stored scores, so that both tuners threshold the
same scores; the whole data is the tuning set (``cv="prefit"``).

``1a ours pick_threshold``
    ``pick_threshold(y, scores, costs, amount=..., legit_accept=...)``;
    reference: one ``np.argsort`` of the scores (information).
``1b ours prefit tuner``
    ``ThresholdTunedClassifier(lookup, objective=costs, cv="prefit").fit``;
    reference: ``1a`` (information: the estimator's own overhead).
``1c sklearn prefit / ours``
    ``TunedThresholdClassifierCV(FrozenEstimator(lookup), scoring=scorer,
    cv="prefit", refit=False).fit``; reference: ``1b``. Target at n = 10^6:
    ratio >= 10 (information at smaller n).
``1d gain/row ours/sklearn``
    The business gain per row (minus the mean cost) of ``scores >= threshold`` on
    the tuning rows, at ours ``threshold_`` and sklearn's ``best_threshold_``. Ours
    is the exact optimum over every cut, so ours >= sklearn's: target ratio >= 1
    (the gains are positive here, so ratio >= 1 is ours costing no more).

Times are medians of interleaved repeats (``a b c a b c ...``, see
``_common.median_times``); the load average is printed before and after.

Part 2 -- end to end, held out (``2a``-``2b``): the data of
``docs/examples/plot_5_amount_fraud.py`` (30,000 rows, 0.5 % fraud, 11 features,
a log-normal amount), drawn again and split 50/50 (stratified) with seed ``s`` for
``s`` in ``0 .. --splits - 1``. Both tuners tune ``StandardScaler() +
LogisticRegression()`` with 5 stratified folds and refit it; the default cut 0.5
of the same model is shown too. Printed: the held-out gain per split, and rows
``2a`` (mean held-out gain per row, ours / sklearn: information, since out of
sample the exact optimum of the training folds need not win every split) and
``2b`` (fit time, sklearn / ours: information; both fit the same 6 models).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import sklearn
from _common import (  # benchmarks/ is on sys.path when run as a script
    environment,
    load_average,
    median_times,
    render_table,
)
from bench_search import Row, ScoreLookup, search_table
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer
from sklearn.model_selection import TunedThresholdClassifierCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from threshold_estimators import ThresholdTunedClassifier, pick_threshold
from threshold_estimators.objectives import CostMatrix

SIZES = (100_000, 1_000_000)
QUICK_SIZES = (100_000,)
TARGET_N = 1_000_000
SEED = 0
# Interleaved repeats per size: sklearn's prefit tuning takes seconds at 1e6.
REPEATS = {100_000: 5, 1_000_000: 3}
SPLITS = 5
QUICK_SPLITS = 2
COSTS = CostMatrix([["legit_accept", 5], ["amount", -50]])


def business_gain(y_true, y_pred, amount):
    """scikit-learn's example gain, as its example computes it: refusing a fraud
    +50, accepting one -amount, refusing a legitimate transaction -5, accepting
    one +2 % of its amount (boolean masks; about 6 ms at 10^6 rows)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    fraud_refused = (y_true == 1) & (y_pred == 1)
    fraud_accepted = (y_true == 1) & (y_pred == 0)
    legit_refused = (y_true == 0) & (y_pred == 1)
    legit_accepted = (y_true == 0) & (y_pred == 0)
    return float(
        fraud_refused.sum() * 50
        - amount[fraud_accepted].sum()
        - legit_refused.sum() * 5
        + (amount[legit_accepted] * 0.02).sum()
    )


def row_costs(amount: np.ndarray) -> dict[str, np.ndarray]:
    """The per-row costs ``COSTS`` names."""
    return {"amount": amount, "legit_accept": -0.02 * amount}


def gain_per_row(y, scores, amount, threshold) -> float:
    """Mean business gain of the decisions ``scores >= threshold``."""
    return business_gain(y, (scores >= threshold).astype(int), amount) / y.size


def sklearn_scorer():
    """The routed scorer (inside ``config_context(enable_metadata_routing=True)``)."""
    return make_scorer(business_gain).set_score_request(amount=True)


# --------------------------------------------------------------------------- part 1


def prefit_data(n: int, seed: int = SEED):
    """Labels, scores and amounts of part 1."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.005).astype(np.int64)
    scores = 1.0 / (1.0 + np.exp(-(3.0 * y - 5.0 + rng.standard_normal(n))))
    amount = np.exp(3.8 + 0.4 * y + rng.standard_normal(n))
    return y, scores, amount


def size(n: int) -> str:
    mantissa, exponent = f"{n:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def part_prefit(n: int, repeats: int | None = None) -> list[Row]:
    """Rows 1a-1d at size ``n``."""
    y, scores, amount = prefit_data(n)
    X = np.arange(n).reshape(-1, 1)
    lookup = ScoreLookup(scores).fit(X, y)
    metadata = row_costs(amount)

    def ours_pick():
        return pick_threshold(y, scores, COSTS, **metadata).threshold

    def ours_tuner():
        tuner = ThresholdTunedClassifier(lookup, objective=COSTS, cv="prefit")
        return tuner.fit(X, y, **metadata).threshold_

    def theirs():
        with sklearn.config_context(enable_metadata_routing=True):
            tuner = TunedThresholdClassifierCV(
                FrozenEstimator(lookup),
                scoring=sklearn_scorer(),
                cv="prefit",
                refit=False,
            )
            return float(tuner.fit(X, y, amount=amount).best_threshold_)

    timed = median_times(
        {
            "sort": lambda: np.argsort(scores),
            "pick": ours_pick,
            "tuner": ours_tuner,
            "sklearn": theirs,
        },
        repeats or REPEATS.get(n, 3),
    )
    t = {name: value[0] for name, value in timed.items()}
    ours_threshold, sk_threshold = timed["tuner"][1], timed["sklearn"][1]
    assert timed["pick"][1] == ours_threshold, "pick_threshold and cv='prefit' differ"
    ours_gain = gain_per_row(y, scores, amount, ours_threshold)
    sk_gain = gain_per_row(y, scores, amount, sk_threshold)
    if sk_gain <= 0:
        raise RuntimeError("row 1d compares positive gains; sklearn's is not")
    tag = size(n)
    speed_target = (">=", 10.0) if n >= TARGET_N else None
    return [
        Row(f"1a ours pick_threshold n={tag}", t["pick"], t["sort"], "s", None),
        Row(f"1b ours prefit tuner n={tag}", t["tuner"], t["pick"], "s", None),
        Row(f"1c sklearn prefit / ours n={tag}", t["sklearn"], t["tuner"], "s",
            speed_target),
        Row(f"1d gain/row ours/sklearn n={tag}", ours_gain, sk_gain, "", (">=", 1.0)),
    ]  # fmt: skip


def prefit_costs(n: int) -> list[list[str]]:
    """The cost per row each tuner reaches on part 1's tuning rows (a detail
    table: costs are minus the gains, lower is better)."""
    y, scores, amount = prefit_data(n)
    X = np.arange(n).reshape(-1, 1)
    lookup = ScoreLookup(scores).fit(X, y)
    ours = ThresholdTunedClassifier(lookup, objective=COSTS, cv="prefit")
    ours.fit(X, y, **row_costs(amount))
    with sklearn.config_context(enable_metadata_routing=True):
        theirs = TunedThresholdClassifierCV(
            FrozenEstimator(lookup), scoring=sklearn_scorer(), cv="prefit", refit=False
        ).fit(X, y, amount=amount)
    ours_cost = -gain_per_row(y, scores, amount, ours.threshold_)
    sk_cost = -gain_per_row(y, scores, amount, theirs.best_threshold_)
    return [
        size(n),
        f"{ours.threshold_:.6f}",
        f"{theirs.best_threshold_:.6f}",
        f"{ours_cost:.6f}",
        f"{sk_cost:.6f}",
        f"{ours_cost - sk_cost:+.6f}",
        f"{-ours.best_score_:.6f}",
        "yes" if ours_cost <= sk_cost else "NO",
    ]


# --------------------------------------------------------------------------- part 2


def example_data(seed: int):
    """The data of ``docs/examples/plot_5_amount_fraud.py``, drawn with ``seed``."""
    X, y = make_classification(
        n_samples=30_000,
        n_features=10,
        n_informative=4,
        n_redundant=2,
        weights=[0.995],
        class_sep=1.0,
        flip_y=0.0,
        random_state=seed,
    )
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=y.size)
    amount = np.round(np.exp(3.8 + 0.5 * X[:, 0] + 0.4 * y + noise), 2)
    return np.column_stack([X, np.log1p(amount)]), y, amount


def part_held_out(splits: int) -> tuple[list[Row], str]:
    """Rows 2a-2b and the per-split table."""
    lines, fit_times = [], {"ours": [], "sklearn": []}
    totals = {"default": 0.0, "ours": 0.0, "sklearn": 0.0}
    for seed in range(splits):
        X, y, amount = example_data(seed)
        X_train, X_test, y_train, y_test, a_train, a_test = train_test_split(
            X, y, amount, test_size=0.5, stratify=y, random_state=seed
        )
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1_000))
        default = model.fit(X_train, y_train)
        start = time.perf_counter()
        ours = ThresholdTunedClassifier(model, objective=COSTS)
        ours.fit(X_train, y_train, **row_costs(a_train))
        fit_times["ours"].append(time.perf_counter() - start)
        start = time.perf_counter()
        with sklearn.config_context(enable_metadata_routing=True):
            theirs = TunedThresholdClassifierCV(model, scoring=sklearn_scorer())
            theirs.fit(X_train, y_train, amount=a_train)
        fit_times["sklearn"].append(time.perf_counter() - start)
        gains = {
            name: business_gain(y_test, fitted.predict(X_test), a_test) / y_test.size
            for name, fitted in (
                ("default", default),
                ("ours", ours),
                ("sklearn", theirs),
            )
        }
        for name, gain in gains.items():
            totals[name] += gain / splits
        lines.append(
            [
                str(seed),
                str(int(y_test.sum())),
                f"{ours.threshold_:.4f}",
                f"{theirs.best_threshold_:.4f}",
                f"{gains['default']:.4f}",
                f"{gains['ours']:.4f}",
                f"{gains['sklearn']:.4f}",
                f"{gains['ours'] - gains['sklearn']:+.4f}",
            ]
        )
    lines.append(None)
    lines.append(
        ["mean", "", "", "", *(f"{totals[k]:.4f}" for k in totals),
         f"{totals['ours'] - totals['sklearn']:+.4f}"]
    )  # fmt: skip
    table = render_table(
        (
            "split",
            "frauds",
            "ours cut",
            "sklearn cut",
            "default 0.5",
            "ours",
            "sklearn",
            "ours - sklearn",
        ),
        lines,
    )
    median = {name: float(np.median(times)) for name, times in fit_times.items()}
    rows = [
        Row(
            f"2a held-out gain/row ours/sklearn ({splits} splits)",
            totals["ours"],
            totals["sklearn"],
            "",
            None,
        ),
        Row(
            f"2b fit sklearn / ours (median of {splits})",
            median["sklearn"],
            median["ours"],
            "s",
            None,
        ),
    ]
    return rows, table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="n = 1e5 only, 2 held-out splits"
    )
    parser.add_argument(
        "--splits", type=int, default=None, help=f"held-out splits ({SPLITS})"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS/OpenMP threads per process (default 1)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    splits = args.splits or (QUICK_SPLITS if args.quick else SPLITS)

    settings = (
        f"n = {', '.join(f'{n:_}' for n in sizes)}; {splits} held-out splits; "
        f"threadpool_limits({args.blas_threads})"
    )
    print("\n".join(environment(settings)), end="\n\n", flush=True)
    start = time.perf_counter()
    # One BLAS/OpenMP thread by default, as in bench_search: on 2 cores two
    # pools oversubscribe them and the logistic fits of part 2 slow down.
    with threadpool_limits(limits=args.blas_threads):
        rows = []
        for n in sizes:
            rows += part_prefit(n)
        held_out_rows, held_out_table = part_held_out(splits)
        rows += held_out_rows
        costs = [prefit_costs(n) for n in sizes]
    print(search_table(rows))
    print(
        "\nCost per row on the tuning rows of part 1 (minus the gain; lower is "
        "better; ours OOF = -best_score_)"
    )
    print(
        render_table(
            ("n", "ours cut", "sklearn cut", "ours cost", "sklearn cost",
             "ours - sklearn", "ours OOF", "ours <= sklearn"),
            costs,
        )
    )  # fmt: skip
    print("\nHeld-out business gain per row (part 2; higher is better)")
    print(held_out_table)
    minutes = (time.perf_counter() - start) / 60
    print(f"\n{load_average('at end')}; {minutes:.1f} min")


if __name__ == "__main__":
    main()
