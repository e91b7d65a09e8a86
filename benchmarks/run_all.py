"""Every performance row of issues 7, 15 and 16 (P1-P8), measured in one run, one table.

Run from the repository root::

    python benchmarks/run_all.py              # full sizes, about 14 min on 2 idle cores
    python benchmarks/run_all.py --quick      # small sizes, a smoke run under a minute
    python benchmarks/run_all.py --only P3 P5 # some parts only

The table has the columns ``row | measured | reference | ratio | target | pass``
of ``bench_search.py`` (whose functions this script imports); ``ratio`` is
``measured / reference`` and every reference is measured in the same run. Times
are wall-clock medians of interleaved repeats (``a b a b ...``, so a load spike
from another process hits the compared calls alike). Every row runs inside
``threadpool_limits(--blas-threads)``, default 1: on 2 cores the BLAS and OpenMP
pools of a second thread oversubscribe the cores (see ``bench_search.py``).
Data: ``make_classification(n, n_features=20, n_informative=10,
weights=[0.8], random_state=0)``; folds: ``StratifiedKFold(5)``.

P1 -- search only, on ``bench_search.synthetic_scores`` (rows of
``bench_search.part_search``): ours / one ``np.argsort`` <= 1.5, scikit-learn's
``TunedThresholdClassifierCV`` on the same prefit scores / ours >= 50.

P2 -- end to end, ``objective="f1"``, ``cv=StratifiedKFold(5)``, ``n_jobs=None``:
``LogisticRegression()`` at n = 10^6 and ``HistGradientBoostingClassifier(
random_state=0)`` (seeded early-stopping split) at n = 2·10^5. Ours / the bare
five fold fits + refit on the same folds (row indexing included) <= 1.15;
``TunedThresholdClassifierCV`` / ours >= 3. The ``sklearn / bare`` row shows
the most any tuner could gain over scikit-learn: when the fits dominate, the
ratio ">= 3" is out of reach for every tuner.

P3 -- prediction on n = 10^6 rows with ``LogisticRegression`` (the cheapest
prediction, so the largest relative overhead), tuners fitted on the first
10^5 rows, ``recalibrate`` off and on: ours / the same call of ``estimator_``
<= 1.05. With ``recalibrate=True``, ``predict_proba`` also applies the
calibrator: rows ``P3e``/``P3f`` compare it with what it needs, the estimator's
``predict_proba`` plus ``calibrator_.predict_proba`` of the scores. ``P3g``
compares ``predict`` with the score it thresholds, ``estimator_.predict_proba``.
Rows ``P3h``-``P3j`` tune on ``response_method="decision_function"``, the score
``LogisticRegression.predict`` itself computes (the same ordering of the rows,
so the same decisions on the out-of-fold data), against the same references.
Rows ``P3k``/``P3l`` repeat ``P3c``/``P3d`` with the P2 gradient boosting model,
as information: one prediction of 10^6 rows takes about 5 s, of which the tuner
adds about 10 ms (an ``expit`` and a stack), far below the ±5 % that such long
memory-bound calls vary from run to run on this machine (3 repeats).

P4 -- peak memory during ``fit``: ours / ``cross_val_predict(method=
"predict_proba")`` + refit of the bare estimator <= 1.3, for both P2 models.
Measured as the peak resident set size (RSS) of a fresh subprocess per
measurement, above its RSS just before the call: the data is loaded from
``.npy`` files and the code warmed up on 500 rows first, then the kernel's
high-water mark is reset (``/proc/self/clear_refs``) so that only the call
counts. RSS rather than ``tracemalloc``: tracemalloc sees only allocations made
through Python's and NumPy's allocators, not those of BLAS, OpenMP or compiled
extensions (the gradient boosting's C++/Cython buffers, the L-BFGS workspace),
and a fresh process keeps memory freed by earlier rows from hiding new peaks.

P5 -- 10^7 synthetic scores searched (information): time against one
``np.argsort``, and the peak RSS above the process's RSS before the search
against the size of the scores and labels, in a fresh subprocess as in P4.

P6 -- per-row costs (rows of ``bench_row_costs``): scikit-learn's credit-card
gains as ``CostMatrix([["legit_accept", 5], ["amount", -50]])``, on prefit
synthetic scores at n = 10^6 (quick: 10^5). ``TunedThresholdClassifierCV(cv=
"prefit", refit=False)`` with the example's routed numpy scorer and its 100
thresholds / ``ThresholdTunedClassifier(cv="prefit")`` >= 10 (issue 15's target,
at 10^6), the gain per row each reaches on the tuning rows, ours / sklearn's >= 1
(the exact optimum costs no more); then the held-out gain and fit time of both
tuners end to end on the example's data over 5 splits (quick: 2; information).

P7 -- alert budgets (rows of ``bench_budget``, information): the population
flagged rate of ``AlertBudget(0.02)`` and ``AlertBudget(0.02,
confidence=0.95)`` against the budget, over 20 splits (quick: 5), and the recall
the confidence margin costs. The full table is ``bench_budget.py``'s.

P8 -- base-rate shift (rows of ``bench_prevalence``): models tuned at a positive
rate of 0.15, retargeted to 0.01, 0.03, 0.3 and 0.6, on the ``gauss`` problem
(closed-form truth, 60 seeds; quick: 8), on the bundled digits (100 seeds;
quick: 8), on statsmodels' fair survey (60 seeds; quick: 8) and on plotnine's
diamonds (40 seeds; quick: 4; both in the ``bench`` extra). Per problem, the
worst of the four rates: the coverage of
``PrecisionTarget(0.8, confidence=0.95)`` after ``retarget(prevalence=pi')``
over 0.95 (>= 1), the mean precision of ``PrecisionTarget(0.8)`` over 0.8
(>= 0.975), F1 and cost over the oracle's (>= 0.98, <= 1.02); and the mean
absolute error of the rate estimated from 2,000 unlabelled rows over 0.01, EM
(the default, <= 1) and BBSE (information). The tables are
``bench_prevalence.py``'s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import (  # benchmarks/ is on sys.path when run as a script
    N_FOLDS,
    bare_fits,
    environment,
    load_average,
    median_times,
)
from bench_budget import part_budget
from bench_prevalence import EXTRA_DATA, PROBLEM_CLASSES, part_prevalence
from bench_row_costs import part_held_out, part_prefit
from bench_search import (
    Row,
    format_row,
    our_search,
    part_search,
    search_table,
    synthetic_scores,
)
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV
from threadpoolctl import threadpool_limits

from threshold_estimators import ThresholdTunedClassifier

FULL = {"search": 10**6, "logistic": 10**6, "hgb": 2 * 10**5, "predict": 10**6}
FULL |= {"big": 10**7, "row_costs": 10**6, "splits": 5, "budget_splits": 20}
FULL |= {
    "prevalence_gauss": 60,
    "prevalence_digits": 100,
    "prevalence_fair": 60,
    "prevalence_diamonds": 40,
}
QUICK = {"search": 10**5, "logistic": 10**5, "hgb": 2 * 10**4, "predict": 10**5}
QUICK |= {"big": 10**6, "row_costs": 10**5, "splits": 2, "budget_splits": 5}
QUICK |= {
    "prevalence_gauss": 8,
    "prevalence_digits": 8,
    "prevalence_fair": 8,
    "prevalence_diamonds": 4,
}
P3_TRAIN = 10**5
# Interleaved repeats (full, quick): the median damps a one-off slow run.
REPEATS_FIT = (3, 1)
REPEATS_PREDICT = (21, 3)
# A gradient boosting prediction of 10^6 rows takes seconds: fewer repeats.
REPEATS_PREDICT_HGB = (3, 1)
MODELS = {
    "logistic": LogisticRegression,
    "hgb": lambda: HistGradientBoostingClassifier(random_state=0),
}


def size(n: int) -> str:
    """``1e6``, ``2e5``: short sizes for row names."""
    mantissa, exponent = f"{n:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def dataset(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The classification data of P2-P4 (that of ``bench_search`` part 2)."""
    return make_classification(
        n_samples=n, n_features=20, n_informative=10, weights=[0.8], random_state=0
    )


def tuner(model: str, **params) -> ThresholdTunedClassifier:
    """Ours, as timed in P2-P4."""
    return ThresholdTunedClassifier(
        MODELS[model](), objective="f1", cv=StratifiedKFold(N_FOLDS), **params
    )


# ------------------------------------------------------------------- P1 and P2


def part_p1(n: int) -> list[Row]:
    """``bench_search``'s search rows, renamed."""
    return [
        row._replace(name=f"P1{row.name[1:]} ({size(n)} scores)")
        for row in part_search(n)
    ]


def part_p2(model: str, n: int, letters: str, repeats: int) -> list[Row]:
    """Ours, scikit-learn's tuner and the bare fits, end to end."""
    X, y = dataset(n)
    ours = tuner(model)
    theirs = TunedThresholdClassifierCV(
        MODELS[model](), scoring="f1", cv=StratifiedKFold(N_FOLDS)
    )
    timed = median_times(
        {
            "ours": lambda: ours.fit(X, y),
            "sklearn": lambda: theirs.fit(X, y),
            "bare": lambda: bare_fits(MODELS[model], X, y),
        },
        repeats,
    )
    ours_s, sk_s, bare_s = (timed[key][0] for key in ("ours", "sklearn", "bare"))
    tag = f"{model} n={size(n)}"
    a, b, c, d = letters
    return [
        Row(f"P2{a} {tag}: ours fit / bare", ours_s, bare_s, "s", ("<=", 1.15)),
        Row(f"P2{b} {tag}: sklearn fit / ours", sk_s, ours_s, "s", (">=", 3.0)),
        Row(f"P2{c} {tag}: bare 5 folds + refit", bare_s, None, "s", None),
        Row(f"P2{d} {tag}: sklearn / bare (ceiling)", sk_s, bare_s, "s", None),
    ]


# ------------------------------------------------------------------------- P3


def part_p3(n: int, repeats: int) -> list[Row]:
    """Prediction overhead over the fitted estimator, recalibration off and on,
    with the threshold on probabilities (rows a-g) and on the decision function
    (rows h-j)."""
    X, y = dataset(n)
    train = slice(0, min(n, P3_TRAIN))
    fitted = {
        (method, recal): tuner(
            "logistic", response_method=method, recalibrate=recal
        ).fit(X[train], y[train])
        for method in ("predict_proba", "decision_function")
        for recal in (False, True)
    }
    off, on = fitted["predict_proba", False], fitted["predict_proba", True]
    df_off = fitted["decision_function", False]
    df_on = fitted["decision_function", True]
    scores = on.estimator_.predict_proba(X)[:, 1]
    estimator = off.estimator_  # every tuner refits the same model on the same rows
    timed = median_times(
        {
            "est.predict": lambda: estimator.predict(X),
            "est.predict_proba": lambda: estimator.predict_proba(X),
            "off.predict": lambda: off.predict(X),
            "off.predict_proba": lambda: off.predict_proba(X),
            "on.predict": lambda: on.predict(X),
            "on.predict_proba": lambda: on.predict_proba(X),
            "calibrator": lambda: on.calibrator_.predict_proba(scores),
            "df_off.predict": lambda: df_off.predict(X),
            "df_on.predict": lambda: df_on.predict(X),
            "df_on.predict_proba": lambda: df_on.predict_proba(X),
        },
        repeats,
    )
    t = {name: value[0] for name, value in timed.items()}
    t["needed"] = t["est.predict_proba"] + t["calibrator"]
    at_most = ("<=", 1.05)
    specs = [  # letter, what, measured, reference, target
        ("a", "predict, recal off", "off.predict", "est.predict", at_most),
        ("b", "predict_proba, recal off", "off.predict_proba", "est.predict_proba",
         at_most),
        ("c", "predict, recal on", "on.predict", "est.predict", at_most),
        ("d", "predict_proba, recal on", "on.predict_proba", "est.predict_proba",
         at_most),
        ("e", "predict_proba, recal on / needed", "on.predict_proba", "needed",
         at_most),
        ("f", "calibrator transform", "calibrator", "est.predict_proba", None),
        ("g", "predict, recal off / est. proba", "off.predict", "est.predict_proba",
         None),
        ("h", "df: predict, recal off", "df_off.predict", "est.predict", at_most),
        ("i", "df: predict, recal on", "df_on.predict", "est.predict", at_most),
        ("j", "df: predict_proba, recal on", "df_on.predict_proba",
         "est.predict_proba", at_most),
    ]  # fmt: skip
    return [
        Row(f"P3{letter} {what} n={size(n)}", t[measured], t[reference], "s", target)
        for letter, what, measured, reference, target in specs
    ]


def part_p3_hgb(n: int, repeats: int) -> list[Row]:
    """Prediction overhead with ``HistGradientBoostingClassifier``, thresholds on
    probabilities (the default), recalibration on: ``predict`` and
    ``predict_proba`` against the same calls of ``estimator_``."""
    X, y = dataset(n)
    train = slice(0, min(n, P3_TRAIN))
    on = tuner("hgb", recalibrate=True).fit(X[train], y[train])
    timed = median_times(
        {
            "on.predict": lambda: on.predict(X),
            "est.predict": lambda: on.estimator_.predict(X),
            "on.predict_proba": lambda: on.predict_proba(X),
            "est.predict_proba": lambda: on.estimator_.predict_proba(X),
        },
        repeats,
    )
    t = {name: value[0] for name, value in timed.items()}
    return [
        Row(f"P3k hgb: predict, recal on n={size(n)}", t["on.predict"],
            t["est.predict"], "s", None),
        Row(f"P3l hgb: predict_proba, recal on n={size(n)}", t["on.predict_proba"],
            t["est.predict_proba"], "s", None),
    ]  # fmt: skip


# ------------------------------------------------------------- P4, P5: memory

MIB = 2**20


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0) to the current RSS."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def child(spec: dict) -> dict:
    """One memory measurement, in this fresh process; returns bytes and seconds."""
    with threadpool_limits(limits=spec["blas_threads"]):
        if spec["task"] == "search":
            y, scores = synthetic_scores(spec["n"])
            our_search(y[:1000], scores[:1000])  # warm up: lazy imports, caches

            def run():
                return our_search(y, scores)
        else:
            X = np.load(Path(spec["data"]) / "X.npy")
            y = np.load(Path(spec["data"]) / "y.npy")
            model = spec["model"]

            def run(X=X, y=y):
                if spec["task"] == "ours":
                    return tuner(model).fit(X, y)
                bare_fits(MODELS[model], X, y, method="predict_proba")

            run(X[:500], y[:500])
        baseline = _status_kib("VmRSS")
        reset_peak()
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        peak = _status_kib("VmHWM")
        result = {"seconds": seconds, "baseline": baseline * 1024, "peak": peak * 1024}
        if spec["task"] == "search":
            timed = median_times(
                {"ours": run, "argsort": lambda: np.argsort(scores)}, 3
            )
            result["seconds"] = timed["ours"][0]
            result["argsort"] = timed["argsort"][0]
            result["input"] = scores.nbytes + y.nbytes
    return result


def in_subprocess(spec: dict) -> dict:
    """Run :func:`child` with ``spec`` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory child {spec} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def part_p4(sizes: dict, blas_threads: int) -> list[Row]:
    """Peak RSS above the pre-fit RSS: ours against cross_val_predict + refit."""
    rows = []
    for model, letter in (("logistic", "a"), ("hgb", "b")):
        n = sizes[model]
        with tempfile.TemporaryDirectory() as data:
            X, y = dataset(n)
            np.save(Path(data) / "X.npy", X)
            np.save(Path(data) / "y.npy", y)
            del X, y
            peak = {}
            for task in ("ours", "bare"):
                spec = {"task": task, "model": model, "data": data}
                result = in_subprocess(spec | {"blas_threads": blas_threads})
                peak[task] = (result["peak"] - result["baseline"]) / MIB
        rows.append(
            Row(
                f"P4{letter} {model} n={size(n)}: fit peak RSS / cvp+refit",
                peak["ours"],
                peak["bare"],
                "MiB",
                ("<=", 1.3),
            )
        )
    return rows


def part_p5(n: int, blas_threads: int) -> list[Row]:
    """The search on ``n`` scores: time and peak memory (information)."""
    spec = {"task": "search", "n": n, "blas_threads": blas_threads}
    result = in_subprocess(spec)
    tag = f"{size(n)} scores"
    return [
        Row(
            f"P5a search {tag} / argsort",
            result["seconds"],
            result["argsort"],
            "s",
            None,
        ),
        Row(
            f"P5b search {tag}: peak RSS / input",
            (result["peak"] - result["baseline"]) / MIB,
            result["input"] / MIB,
            "MiB",
            None,
        ),
        Row(
            f"P5c search {tag}: process peak RSS",
            result["peak"] / MIB,
            None,
            "MiB",
            None,
        ),
    ]


# ---------------------------------------------------------------- P6 and P7


def part_p6(n: int, splits: int) -> list[Row]:
    """``bench_row_costs``'s rows, lettered on: 1a-1d are P6a-P6d, 2a-2b P6e-P6f."""
    rows = part_prefit(n) + part_held_out(splits)[0]
    return [
        row._replace(name=f"P6{letter}{row.name[2:]}")
        for letter, row in zip("abcdef", rows, strict=True)
    ]


def part_p7(splits: int) -> list[Row]:
    """``bench_budget``'s information rows, lettered."""
    return [
        row._replace(name=f"P7{letter} {row.name}")
        for letter, row in zip("abcd", part_budget(splits)[0], strict=True)
    ]


def part_p8(sizes: dict) -> list[Row]:
    """``bench_prevalence``'s rows, lettered: gauss P8a-P8f, digits P8g-P8l,
    fair P8m-P8r, diamonds P8s-P8x (the last two left out, with a printed
    reason, without the ``bench`` extra)."""
    rows = []
    problems = (
        ("gauss", "abcdef"),
        ("digits", "ghijkl"),
        ("fair", "mnopqr"),
        ("diamonds", "stuvwx"),
    )
    for problem, letters in problems:
        if problem in EXTRA_DATA and PROBLEM_CLASSES[problem].data is None:
            print(
                f"P8{letters[0]}-P8{letters[-1]} ({problem}) left out: "
                f"{EXTRA_DATA[problem]} is not installed (pip install -e .[bench])"
            )
            continue
        part = part_prevalence(problem, sizes[f"prevalence_{problem}"])[0]
        rows += [
            row._replace(name=f"P8{letter} {row.name}")
            for letter, row in zip(letters, part, strict=True)
        ]
    return rows


# ---------------------------------------------------------------------- output


def cells(row: Row) -> list[str]:
    """``bench_search.format_row``, with memory shown in MiB."""
    line = format_row(row)
    if row.unit == "MiB":
        for column, value in ((1, row.measured), (2, row.reference)):
            line[column] = "-" if value is None else f"{value:.1f} MiB"
    return line


def render(rows: list[Row]) -> str:
    """``bench_search.search_table`` of ``cells``, and a PASS/FAIL count."""
    verdicts = [cells(row)[-1] for row in rows]
    summary = f"{verdicts.count('PASS')} PASS, {verdicts.count('FAIL')} FAIL"
    return f"{search_table(rows, cells)}\n{summary}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"],
        metavar="P",
        help="run only these parts (P1 ... P8)",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS/OpenMP threads per process for every row (default 1)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(json.loads(args.child))))
        return

    sizes = QUICK if args.quick else FULL
    parts = set(args.only or ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"])
    lines = [line for line in environment() if "cpu_count" not in line]
    print("\n".join(lines), flush=True)
    print(
        f"sizes: {', '.join(f'{key} {value:_}' for key, value in sizes.items())}; "
        f"os.cpu_count() = {os.cpu_count()}; every row inside "
        f"threadpool_limits({args.blas_threads}); memory: peak RSS of a fresh "
        "subprocess above its RSS before the call\n",
        flush=True,
    )
    start = time.perf_counter()
    rows = []
    with threadpool_limits(limits=args.blas_threads):
        if "P1" in parts:
            rows += part_p1(sizes["search"])
        if "P2" in parts:
            repeats = REPEATS_FIT[args.quick]
            rows += part_p2("logistic", sizes["logistic"], "abcd", repeats)
            rows += part_p2("hgb", sizes["hgb"], "efgh", repeats)
        if "P3" in parts:
            rows += part_p3(sizes["predict"], REPEATS_PREDICT[args.quick])
            rows += part_p3_hgb(sizes["predict"], REPEATS_PREDICT_HGB[args.quick])
    if "P4" in parts:
        rows += part_p4(sizes, args.blas_threads)
    if "P5" in parts:
        rows += part_p5(sizes["big"], args.blas_threads)
    with threadpool_limits(limits=args.blas_threads):
        if "P6" in parts:
            rows += part_p6(sizes["row_costs"], sizes["splits"])
        if "P7" in parts:
            rows += part_p7(sizes["budget_splits"])
        if "P8" in parts:
            rows += part_p8(sizes)
    print(render(rows))
    minutes = (time.perf_counter() - start) / 60
    print(f"\n{load_average('at end')}; {minutes:.1f} min")


if __name__ == "__main__":
    main()
