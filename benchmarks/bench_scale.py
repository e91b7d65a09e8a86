"""Benchmark the threshold search at scale: prefit scores, other tools, CLI, dask.

Run from the repository root::

    python benchmarks/bench_scale.py             # full sizes, about 15 min on 2 cores
    python benchmarks/bench_scale.py --quick     # 10^5 / 10^6 / 10^7 only, few repeats
    python benchmarks/bench_scale.py --only 1 4  # some parts only

Part 2 needs ``optimal-classification-cutoffs`` (Python >= 3.12; its optional
numba makes its multiclass search usable): under an older interpreter its rows
are printed as skipped. Every measurement is made in the same run and printed in
one table with the columns ``row | measured | reference | ratio | target |
pass`` of ``bench_search.py``; ``ratio`` is ``measured / reference``. Times are
wall-clock medians of interleaved repeats (``a b a b ...``: a load spike from
another process hits the compared calls alike), inside ``threadpool_limits(1)``;
the load average is printed before every part and at the end.

Cases (part 1-3), on ``n`` synthetic rows (``bench_search.synthetic_scores``:
``y ~ Bernoulli(0.2)``, ``score = sigmoid(2 y - 1 + N(0, 1))``, float64, nearly
all distinct; seeded):

``f1``             F1.
``f1 ties``        F1 on the scores rounded to 3 decimals (at most 1001 values).
``f1 weighted``    F1 with weights ``Exponential(1)``.
``ties+weights``   both.
``cost 2x2``       ``CostMatrix([[0, 1], [5, 0]])`` (a false negative costs 5,
                   a false positive 1).
``multiclass k=10`` ``y`` uniform over 10 classes, ``scores = softmax(N(0, 1) +
                   1.5 onehot(y))``; every class tuned against the rest for F1.

Part 1 -- our overhead over a sort, at n = 10^5 and 10^6: ``pick_threshold``,
and ``ThresholdTunedClassifier(objective=..., cv="prefit").fit`` of a
``FrozenEstimator`` and of a fitted estimator, where the estimator's
``predict_proba`` returns a stored matrix (no model cost: nothing is
subtracted); reference: one ``np.argsort`` of the same scores (multiclass: one
per column, ``pos_label=None`` for the classifier and one ``pick_threshold(...,
pos_label=j)`` per class). Median of 7 interleaved calls (quick: 3). Targets:
<= 1.5 x argsort unweighted, <= 2.5 x weighted, at 10^6 (the issue's size);
the 10^5 rows are information (fixed per-call costs of a few milliseconds
against a sort of 3-8 ms).

Part 2 -- ``optimal_cutoffs.optimize_thresholds`` (PyPI
``optimal-classification-cutoffs``) on the same cases, interleaved with part 1:
``metric="f1"`` (with ``sample_weight``), a metric registered by
``make_cost_metric(fp_cost=1, fn_cost=5)`` for the cost (its ``utility=``
argument returns the closed-form Bayes cut 1/6, no search), and
``method="independent"`` for the multiclass case (each class's own one-vs-rest
cut, our objective; its default there, ``coord_ascent``, a margin rule, is timed
once at 10^5 as information). Time theirs / ours (ours faster: > 1), and the
objective of each one's decisions by ``sklearn.metrics`` on the same rows
(their decisions ``score > t``, their default; ours ``score >= t``): F1 ours /
theirs, mean cost theirs / ours, multiclass the mean one-vs-rest F1; target >= 1.

Part 3 -- scikit-learn's ``TunedThresholdClassifierCV(FrozenEstimator(est),
cv="prefit", refit=False)`` on the binary cases (scoring ``"f1"``, a weighted F1
scorer or a cost scorer through metadata routing), timed once per case (it
evaluates 100 thresholds, each a full metric call); reference: our frozen
classifier of part 1 (target: >= 100 x slower), and its objective (ours /
scikit-learn's F1, scikit-learn's / our mean cost; target >= 1).

Part 4 -- ``threshold-estimators pick FILE --label label --score score --json``
on a generated CSV of 2*10^6 rows (quick: 10^6; columns label, score and two
noise columns), against ``pandas.read_csv(usecols=["label", "score"])`` +
``pick_threshold``. Each run is a fresh subprocess (11 interleaved runs each,
medians; quick: 3): it imports the command line, pandas and pyarrow, runs both
paths once on the file's first 1,000 rows, then records its RSS (the baseline),
resets the kernel's peak mark (``/proc/self/clear_refs``) and times the call;
peak = ``VmHWM`` - baseline. Targets: CLI time / pandas <= 1, CLI peak / (rows x
16 B, the two columns as float64) <= 3. Information: both as whole processes
(``python -c``, the CLI through its console script's entry point
``threshold_estimators.cli:main``; interpreter start and imports included), their
time and peak RSS (``VmHWM`` read at exit).

Part 5 -- ``pick_threshold`` on dask arrays (F1 and ``PrecisionTarget(0.9)``)
on a ``LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1")``, the
rows generated on the workers by ``map_blocks`` (seed per block, chunks of
10^6 at 10^7 rows, 5*10^6 at 10^8) and persisted there before the clock starts;
10^7 and 10^8 rows (quick: 10^7). Wall time, driver peak RSS above its RSS
before the call (kernel peak mark, and a thread sampling ``/proc/self/statm``
every 20 ms), ``pick.search.n_gathered``; at 10^7, the arrays computed to the
driver and searched in memory: same threshold and tp/fp/tn/fn (5 fields equal,
target), and the in-memory time as the time reference.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
from _common import (  # benchmarks/ is on sys.path when run as a script
    environment,
    load_average,
    median_times,
    render_table,
)
from bench_search import HEADER, Row, format_row, synthetic_scores
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator
from threadpoolctl import threadpool_limits

from threshold_estimators import ThresholdTunedClassifier, pick_threshold
from threshold_estimators.objectives import CostMatrix, PrecisionTarget

SEED = 0
FULL = {"prefit": (100_000, 1_000_000), "csv": 2_000_000, "dask": (10**7, 10**8)}
QUICK = {"prefit": (100_000,), "csv": 1_000_000, "dask": (10**7,)}
# (full, quick). One CSV run, a fresh process each, varies by 10-20 % on a
# quiet two-core machine: the median of 3 moved the ratio by as much.
REPEATS = {"prefit": (7, 3), "csv": (11, 3)}
N_CLASSES = 10
COSTS = [[0, 1], [5, 0]]  # matrix[true][predicted]: FP costs 1, FN costs 5
THEIR_COST = "bench_scale_cost_fp1_fn5"
CSV_HEAD_ROWS = 1_000
MIB = 2**20
PARTS = ("1", "2", "3", "4", "5")


class Case(NamedTuple):
    name: str
    ties: bool = False
    weighted: bool = False
    kind: str = "f1"  # "f1", "cost" or "multiclass"


CASES = (
    Case("f1"),
    Case("f1 ties", ties=True),
    Case("f1 weighted", weighted=True),
    Case("ties+weights", ties=True, weighted=True),
    Case("cost 2x2", kind="cost"),
    Case("multiclass k=10", kind="multiclass"),
)


class Skipped(NamedTuple):
    """A table line for rows that could not be measured, with the reason."""

    name: str
    reason: str


def size(n: int) -> str:
    """``1e6``, ``2e6``: short sizes for row names."""
    mantissa, exponent = f"{n:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


# ------------------------------------------------------------------------- data


class Data(NamedTuple):
    y: np.ndarray
    scores: np.ndarray  # (n,) or (n, k)
    proba: np.ndarray  # what the stored estimator's predict_proba returns
    weight: np.ndarray | None
    X: np.ndarray
    estimator: object  # a fitted StoredScores returning ``proba``


def make_data(case: Case, n: int) -> Data:
    """The rows of ``case``: labels, scores, the ``predict_proba`` matrix."""
    rng = np.random.default_rng([SEED, n])
    if case.kind == "multiclass":
        y = rng.integers(0, N_CLASSES, n)
        logits = rng.standard_normal((n, N_CLASSES))
        logits[np.arange(n), y] += 1.5
        logits -= logits.max(axis=1, keepdims=True)
        scores = np.exp(logits)
        scores /= scores.sum(axis=1, keepdims=True)
        proba = scores
    else:
        y, scores = synthetic_scores(n, SEED)
        if case.ties:
            scores = np.round(scores, 3)
        proba = np.column_stack((1.0 - scores, scores))
    weight = rng.exponential(size=n) if case.weighted else None
    # Made once, outside the timed calls (its fit is a np.unique of y).
    estimator = StoredScores(proba).fit(None, y)
    return Data(y, scores, proba, weight, np.zeros((n, 1)), estimator)


class StoredScores(ClassifierMixin, BaseEstimator):
    """A fitted "classifier" whose ``predict_proba`` returns a stored matrix.

    The rows measure the tuner's overhead, not a model: the call returns the
    same array whatever ``X`` (of the stored number of rows) is.
    """

    def __init__(self, proba=None):
        self.proba = proba

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return self.proba

    def predict(self, X):
        return self.classes_[np.argmax(self.proba, axis=1)]


def our_objective(case: Case):
    return CostMatrix(COSTS) if case.kind == "cost" else "f1"


# ----------------------------------------------------------------- ours, argsort


def argsort(data: Data):
    if data.scores.ndim == 1:
        return np.argsort(data.scores)
    return [np.argsort(data.scores[:, j]) for j in range(data.scores.shape[1])]


def our_pick(case: Case, data: Data) -> np.ndarray:
    """The threshold(s) of ``pick_threshold``: one per class when multiclass."""
    if case.kind == "multiclass":
        return np.array(
            [
                pick_threshold(data.y, data.scores[:, j], "f1", pos_label=j).threshold
                for j in range(data.scores.shape[1])
            ]
        )
    pick = pick_threshold(
        data.y, data.scores, our_objective(case), sample_weight=data.weight
    )
    return np.array([pick.threshold])


def our_classifier(case: Case, data: Data, frozen: bool) -> np.ndarray:
    estimator = data.estimator
    tuner = ThresholdTunedClassifier(
        FrozenEstimator(estimator) if frozen else estimator,
        objective=our_objective(case),
        cv="prefit",
    )
    tuner.fit(data.X, data.y, sample_weight=data.weight)
    return np.atleast_1d(tuner.threshold_)


# ---------------------------------------------------------------------- objective


def objective_value(case: Case, data: Data, decisions: np.ndarray) -> float:
    """Greater is better: F1 (multiclass: mean one-vs-rest F1), or the mean
    cost (a cost: smaller is better) of boolean ``decisions``."""
    from sklearn.metrics import confusion_matrix, f1_score

    if case.kind == "multiclass":
        return float(
            np.mean(
                [
                    f1_score(data.y == j, decisions[:, j])
                    for j in range(decisions.shape[1])
                ]
            )
        )
    if case.kind == "cost":
        _, fp, fn, _ = confusion_matrix(
            data.y == 1, decisions, labels=[False, True], sample_weight=data.weight
        ).ravel()
        total = data.y.size if data.weight is None else data.weight.sum()
        return float((COSTS[0][1] * fp + COSTS[1][0] * fn) / total)
    return float(f1_score(data.y == 1, decisions, sample_weight=data.weight))


def value_row(name: str, case: Case, ours: float, theirs: float) -> Row:
    """``ours / theirs`` of F1, ``theirs / ours`` of a cost: >= 1 when ours is
    at least as good."""
    if case.kind == "cost":
        return Row(f"{name} mean cost theirs/ours", theirs, ours, "", (">=", 1.0))
    return Row(f"{name} F1 ours/theirs", ours, theirs, "", (">=", 1.0))


# --------------------------------------------------------- optimal-cutoffs (part 2)


def occ_status() -> tuple[object | None, str]:
    """``(optimize_thresholds, description)``, or ``(None, why skipped)``."""
    if sys.version_info < (3, 12):
        return None, (
            "skipped: needs Python >= 3.12 (optimal-classification-cutoffs); "
            f"this is {sys.version.split()[0]}"
        )
    try:
        import optimal_cutoffs
        from optimal_cutoffs import optimize_thresholds
        from optimal_cutoffs.metrics_core import make_cost_metric
        from optimal_cutoffs.numba_utils import NUMBA_AVAILABLE
    except ImportError:
        return None, (
            "skipped: optimal-classification-cutoffs is not installed "
            "(pip install optimal-classification-cutoffs numba)"
        )
    make_cost_metric(
        fp_cost=float(COSTS[0][1]), fn_cost=float(COSTS[1][0]), name=THEIR_COST
    )
    numba = "with numba" if NUMBA_AVAILABLE else "WITHOUT numba (pure Python)"
    return optimize_thresholds, (
        f"optimal-classification-cutoffs {optimal_cutoffs.__version__}, {numba}"
    )


def their_pick(optimize, case: Case, data: Data, method: str = "independent"):
    """Their threshold(s), for decisions ``score > t`` (their default)."""
    if case.kind == "multiclass":
        result = optimize(data.y, data.scores, metric="f1", method=method)
        return np.asarray(result.thresholds, dtype=float)
    metric = THEIR_COST if case.kind == "cost" else "f1"
    result = optimize(data.y, data.scores, metric=metric, sample_weight=data.weight)
    return np.array([result.threshold])


# ---------------------------------------------------------- scikit-learn (part 3)


def _neg_mean_cost(y_true, y_pred, sample_weight=None):
    from sklearn.metrics import confusion_matrix

    _, fp, fn, _ = confusion_matrix(
        y_true, y_pred, labels=[0, 1], sample_weight=sample_weight
    ).ravel()
    total = len(y_true) if sample_weight is None else np.sum(sample_weight)
    return -(COSTS[0][1] * fp + COSTS[1][0] * fn) / total


def sklearn_pick(case: Case, data: Data) -> float:
    """``TunedThresholdClassifierCV(FrozenEstimator(...), cv="prefit")``'s cut.

    scikit-learn 1.9 accepts ``cv="prefit"`` with ``refit=False``; weights
    reach its scorer through metadata routing.
    """
    import sklearn
    from sklearn.metrics import f1_score, make_scorer
    from sklearn.model_selection import TunedThresholdClassifierCV

    with sklearn.config_context(enable_metadata_routing=True):
        if case.kind == "cost":
            scoring = make_scorer(_neg_mean_cost)
        else:
            scoring = make_scorer(f1_score)
        if data.weight is not None:
            scoring = scoring.set_score_request(sample_weight=True)
        tuner = TunedThresholdClassifierCV(
            FrozenEstimator(data.estimator), scoring=scoring, cv="prefit", refit=False
        )
        params = {} if data.weight is None else {"sample_weight": data.weight}
        tuner.fit(data.X, data.y, **params)
    return float(tuner.best_threshold_)


# ------------------------------------------------------------------ parts 1 to 3


def decisions_at(data: Data, thresholds: np.ndarray, strict: bool) -> np.ndarray:
    scores = data.scores if data.scores.ndim == 2 else data.scores[:, None]
    above = scores > thresholds if strict else scores >= thresholds
    return above if data.scores.ndim == 2 else above[:, 0]


def part_prefit(case: Case, n: int, parts: set, occ, repeats: int) -> list:
    """Rows of parts 1-3 for one case at ``n`` rows."""
    data = make_data(case, n)
    small = make_data(case, 2_000)
    funcs = {
        "pick": lambda d: our_pick(case, d),
        "frozen": lambda d: our_classifier(case, d, frozen=True),
    }
    if "1" in parts:
        funcs["argsort"] = argsort
        funcs["fitted"] = lambda d: our_classifier(case, d, frozen=False)
    if "2" in parts and occ is not None:
        funcs["theirs"] = lambda d: their_pick(occ, case, d)
    for func in funcs.values():  # warm up: lazy imports, numba's compilation
        func(small)
    timed = median_times(
        {key: (lambda f=f: f(data)) for key, f in funcs.items()}, repeats
    )
    t = {key: value[0] for key, value in timed.items()}
    result = {key: value[1] for key, value in timed.items()}
    tag = f"{case.name} n={size(n)}"
    rows = []
    if "1" in parts:
        for key in ("frozen", "fitted"):
            if not np.array_equal(result[key], result["pick"]):
                print(
                    f"note: {tag}: classifier ({key}) threshold {result[key]} != "
                    f"pick_threshold's {result['pick']}"
                )
        # The bound is on 10^6 scores; below, fixed per-call costs
        # (checks, a pass over 2^16 buckets) weigh against a sort of a few
        # milliseconds: printed as information.
        target = ("<=", 2.5 if case.weighted else 1.5) if n >= 1_000_000 else None
        rows += [
            Row(f"1 {tag}: pick_threshold / argsort", t["pick"], t["argsort"], "s",
                target),
            Row(f"1 {tag}: clf(Frozen, prefit) / argsort", t["frozen"],
                t["argsort"], "s", target),
            Row(f"1 {tag}: clf(fitted, prefit) / argsort", t["fitted"],
                t["argsort"], "s", target),
        ]  # fmt: skip
    ours = objective_value(case, data, decisions_at(data, result["pick"], False))
    if "2" in parts and occ is not None:
        theirs = objective_value(
            case, data, decisions_at(data, result["theirs"], strict=True)
        )
        rows += [
            Row(f"2 {tag}: optimize_thresholds / pick_threshold", t["theirs"],
                t["pick"], "s", (">=", 1.0)),
            value_row(f"2 {tag}:", case, ours, theirs),
        ]  # fmt: skip
        if case.kind == "multiclass" and n == min(FULL["prefit"]):
            start = time.perf_counter()
            their_pick(occ, case, data, method="coord_ascent")
            rows.append(
                Row(
                    f"2 {tag}: their default coord_ascent (once) / pick_threshold",
                    time.perf_counter() - start,
                    t["pick"],
                    "s",
                    None,
                )
            )
    if "3" in parts and case.kind != "multiclass":
        start = time.perf_counter()
        threshold = sklearn_pick(case, data)
        seconds = time.perf_counter() - start
        theirs = objective_value(
            case, data, decisions_at(data, np.array([threshold]), strict=False)
        )
        rows += [
            Row(f"3 {tag}: sklearn prefit (once) / clf(Frozen)", seconds,
                t["frozen"], "s", (">=", 100.0)),
            value_row(f"3 {tag}:", case, ours, theirs),
        ]  # fmt: skip
    return rows


# ------------------------------------------------------------------------ part 4


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0) to the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _cli_pick(path: str) -> float:
    from threshold_estimators import cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(
            ["pick", path, "--label", "label", "--score", "score", "--json"]
        )
    if code != 0:
        raise RuntimeError(f"threshold-estimators pick exited with {code}")
    return float(json.loads(out.getvalue())["threshold"])


def _pandas_pick(path: str) -> float:
    import pandas as pd

    frame = pd.read_csv(path, usecols=["label", "score"])
    return pick_threshold(
        frame["label"].to_numpy(), frame["score"].to_numpy()
    ).threshold


def child(spec: dict) -> dict:
    """One part-4 measurement, in this fresh process."""
    import pandas  # noqa: F401  (imported before the baseline, by both paths)

    import threshold_estimators.cli  # noqa: F401

    with contextlib.suppress(ImportError):
        import pyarrow.csv  # noqa: F401
    run = _cli_pick if spec["task"] == "cli" else _pandas_pick
    with threadpool_limits(limits=1):
        run(spec["head"])  # warm up
        baseline = _status_kib("VmRSS")
        reset_peak()
        start = time.perf_counter()
        threshold = run(spec["path"])
        seconds = time.perf_counter() - start
        peak = _status_kib("VmHWM")
    return {
        "seconds": seconds,
        "baseline": baseline * 1024,
        "peak": peak * 1024,
        "threshold": threshold,
    }


def in_subprocess(spec: dict) -> dict:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child {spec} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# Run first in a whole process: its kernel peak mark (VmHWM, per address space,
# so fresh after exec) written to stderr at exit. ``wait4``'s ru_maxrss would
# not do: it starts from the parent's RSS at fork.
_EXIT_HOOK = (
    "import atexit, sys\n"
    "def _hwm():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            sys.stderr.write(f'VmHWM={int(line.split()[1]) * 1024}\\n')\n"
    "atexit.register(_hwm)\n"
)


def whole_process(code: str, args: list[str]) -> tuple[float, int, str]:
    """Wall time, peak RSS (bytes) and stdout of ``python -c code *args``."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _EXIT_HOOK + code, *args],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{code} {args} failed:\n{done.stderr}")
    peak = next(
        int(line[len("VmHWM=") :])
        for line in done.stderr.splitlines()
        if line.startswith("VmHWM=")
    )
    return seconds, peak, done.stdout


def write_csv(path: Path, n: int) -> None:
    import pandas as pd

    y, scores = synthetic_scores(n, SEED)
    rng = np.random.default_rng([SEED, 4])
    pd.DataFrame(
        {
            "label": y,
            "score": scores,
            "noise_a": rng.standard_normal(n),
            "noise_b": rng.standard_normal(n),
        }
    ).to_csv(path, index=False)


def part_cli(n: int, repeats: int) -> list:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return [Skipped("4 CLI pick vs pandas", "skipped: pandas is not installed")]
    with tempfile.TemporaryDirectory() as folder:
        path, head = Path(folder) / "scores.csv", Path(folder) / "head.csv"
        start = time.perf_counter()
        write_csv(path, n)
        with open(path) as full, open(head, "w") as part:
            for _ in range(CSV_HEAD_ROWS + 1):
                part.write(full.readline())
        print(
            f"part 4: wrote {n:_} rows, {path.stat().st_size / MIB:.0f} MiB of CSV, "
            f"in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
        results = {"cli": [], "pandas": []}
        for _ in range(repeats):
            for task in results:
                spec = {"task": task, "path": str(path), "head": str(head)}
                results[task].append(in_subprocess(spec))
        # The console script's entry point (threshold_estimators.cli:main).
        command = ["pick", str(path), "--label", "label", "--score", "score"]
        cli_process = whole_process(
            "from threshold_estimators.cli import main\nsys.exit(main(sys.argv[1:]))",
            [*command, "--json"],
        )
        code = (
            "import pandas as pd\nfrom threshold_estimators import pick_threshold\n"
            "f = pd.read_csv(sys.argv[1], usecols=['label', 'score'])\n"
            "print(pick_threshold(f['label'].to_numpy(), f['score'].to_numpy())"
            ".threshold)"
        )
        pandas_process = whole_process(code, [str(path)])

    def median(task, key):
        return statistics.median(result[key] for result in results[task])

    seconds = {task: median(task, "seconds") for task in results}
    peak = {
        task: statistics.median(r["peak"] - r["baseline"] for r in results[task])
        for task in results
    }
    thresholds = {task: results[task][-1]["threshold"] for task in results}
    process_threshold = json.loads(cli_process[2])["threshold"]
    same = thresholds["cli"] == thresholds["pandas"] == process_threshold
    print(
        f"part 4: thresholds cli {thresholds['cli']!r}, pandas "
        f"{thresholds['pandas']!r}, whole process {process_threshold!r} "
        f"({'equal' if same else 'DIFFERENT'}); baselines after imports: cli "
        f"{median('cli', 'baseline') / MIB:.0f} MiB, pandas "
        f"{median('pandas', 'baseline') / MIB:.0f} MiB; command: "
        f"threshold-estimators {' '.join(command)}",
        flush=True,
    )
    columns = n * 16 / MIB
    tag = f"{size(n)}-row CSV"
    return [
        Row(f"4 CLI pick {tag}: time / pandas+pick", seconds["cli"],
            seconds["pandas"], "s", ("<=", 1.0)),
        Row(f"4 CLI pick {tag}: peak RSS / 2 cols x 8 B", peak["cli"] / MIB,
            columns, "MiB", ("<=", 3.0)),
        Row(f"4 pandas+pick {tag}: peak RSS / 2 cols x 8 B", peak["pandas"] / MIB,
            columns, "MiB", None),
        Row(f"4 CLI / pandas+pick {tag}: peak RSS", peak["cli"] / MIB,
            peak["pandas"] / MIB, "MiB", None),
        Row(f"4 whole process {tag}: CLI / pandas+pick",
            cli_process[0], pandas_process[0], "s", None),
        Row(f"4 whole process {tag}: peak RSS, CLI / pandas+pick",
            cli_process[1] / MIB, pandas_process[1] / MIB, "MiB", None),
    ]  # fmt: skip


# ------------------------------------------------------------------------ part 5


def _statm_rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssSampler:
    """The process's peak RSS during a block: the kernel's mark (reset on
    entry) and the largest of samples taken every 20 ms by a thread."""

    def __enter__(self):
        self.baseline = _statm_rss()
        self.exact = reset_peak()
        self.sampled = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self.sampled = max(self.sampled, _statm_rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sampled = max(self.sampled, _statm_rss())
        marked = _status_kib("VmHWM") * 1024 if self.exact else 0
        self.peak = max(self.sampled, marked)


def _labels_block(block, block_id=None):
    rng = np.random.default_rng([SEED, 5, block_id[0]])
    return (rng.random(block.shape[0]) < 0.2).astype(np.int8)


def _scores_block(block, block_id=None):
    rng = np.random.default_rng([SEED, 5, block_id[0]])  # the labels' stream
    y = rng.random(block.shape[0]) < 0.2
    return 1.0 / (1.0 + np.exp(-(2.0 * y - 1.0 + rng.standard_normal(y.size))))


def _amounts_block(block, block_id=None):
    rng = np.random.default_rng([SEED, 6, block_id[0]])
    return rng.exponential(50.0, block.shape[0])


def dask_rows(n: int, chunk: int):
    """Labels, scores and amounts (a per-row cost) made on the workers,
    block by block."""
    import dask.array as da

    template = da.zeros(n, chunks=chunk, dtype=np.int8)
    y = template.map_blocks(_labels_block, dtype=np.int8)
    scores = template.map_blocks(_scores_block, dtype=np.float64)
    amounts = template.map_blocks(_amounts_block, dtype=np.float64)
    return y, scores, amounts


# A false alarm costs 5, a missed positive its amount.
BY_AMOUNT = CostMatrix([[0, 5], ["amount", 0]])


def part_dask(sizes: tuple[int, ...]) -> list:
    try:
        import dask
        import distributed
    except ImportError:
        return [Skipped("5 dask search", "skipped: dask[distributed] not installed")]
    rows = []
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",  # any free port
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        y, scores, amounts = dask.persist(*dask_rows(100_000, 20_000))
        pick_threshold(y, scores, "f1")  # warm up the workers and the driver
        pick_threshold(y, scores, BY_AMOUNT, amount=amounts)
        for n in sizes:
            chunk = 10**6 if n <= 10**7 else 5 * 10**6
            start = time.perf_counter()
            y, scores, amounts = dask.persist(*dask_rows(n, chunk))
            distributed.wait([y, scores, amounts])
            made = time.perf_counter() - start
            memory = None
            if n <= 10**7:
                memory = dask.compute(y, scores, amounts)
            print(
                f"part 5: n = {n:_}, {y.numblocks[0]} chunks of {chunk:_}, made and "
                f"persisted on {len(client.scheduler_info()['workers'])} workers "
                f"in {made:.1f} s; {load_average('now')}",
                flush=True,
            )
            objectives = (
                ("F1", "f1", {}),
                ("P>=0.9", PrecisionTarget(0.9), {}),
                ("cost by amount", BY_AMOUNT, {"amount": amounts}),
            )
            for name, objective, costs in objectives:
                with RssSampler() as rss:
                    start = time.perf_counter()
                    pick = pick_threshold(y, scores, objective, **costs)
                    seconds = time.perf_counter() - start
                tag = f"dask {name} n={size(n)}"
                in_memory = None
                if memory is not None:
                    start = time.perf_counter()
                    expected = pick_threshold(
                        *memory[:2],
                        objective,
                        **({"amount": memory[2]} if costs else {}),
                    )
                    in_memory = time.perf_counter() - start
                print(
                    f"part 5: {tag}: {seconds:.2f} s, threshold {pick.threshold!r}, "
                    f"tp {pick.tp} fp {pick.fp} tn {pick.tn} fn {pick.fn}; driver "
                    f"RSS {rss.baseline / MIB:.0f} MiB before, peak +"
                    f"{(rss.peak - rss.baseline) / MIB:.1f} MiB (sampled +"
                    f"{(rss.sampled - rss.baseline) / MIB:.1f} MiB)",
                    flush=True,
                )
                rows += [
                    Row(f"5 {tag}: wall / in-memory pick", seconds, in_memory, "s",
                        None),
                    Row(f"5 {tag}: driver peak RSS / input (9 B a row)",
                        (rss.peak - rss.baseline) / MIB, n * 9 / MIB, "MiB", None),
                    Row(f"5 {tag}: n_gathered / n", pick.search.n_gathered, n,
                        "rows", None),
                ]  # fmt: skip
                if memory is not None:
                    fields = ("threshold", "tp", "fp", "tn", "fn")
                    equal = sum(
                        getattr(pick, f) == getattr(expected, f) for f in fields
                    )
                    rows.append(
                        Row(f"5 {tag}: fields equal to in-memory (of 5)", equal,
                            len(fields), "", (">=", 1.0))
                    )  # fmt: skip
            del y, scores, amounts, memory
    return rows


# ---------------------------------------------------------------------- output


def cells(row) -> list[str]:
    """``bench_search.format_row``, with memory in MiB, row counts as integers
    and skipped parts."""
    if isinstance(row, Skipped):
        return [row.name, "-", "-", "-", "-", row.reason]
    line = format_row(row)
    for column, value in ((1, row.measured), (2, row.reference)):
        if value is None:
            continue
        if row.unit == "MiB":
            line[column] = f"{value:.1f} MiB"
        elif row.unit == "rows" or (row.unit == "" and float(value).is_integer()):
            line[column] = f"{int(value):_}"
    if row.unit == "rows" and row.reference:
        line[3] = f"{row.measured / row.reference:.2e}"
    return line


def render(rows: list) -> str:
    verdicts = [cells(row)[-1] for row in rows]
    skipped = sum(verdict.startswith("skipped") for verdict in verdicts)
    summary = f"{verdicts.count('PASS')} PASS, {verdicts.count('FAIL')} FAIL" + (
        f", {skipped} skipped" if skipped else ""
    )
    table = render_table(HEADER, map(cells, rows), left=range(len(HEADER)), sep=" | ")
    return f"{table}\n{summary}"


def versions() -> str:
    """The versions of the optional packages the parts use."""
    found = []
    for name in ("pandas", "pyarrow", "dask", "distributed", "numba"):
        try:
            module = __import__(name)
        except ImportError:
            found.append(f"{name} not installed")
        else:
            found.append(f"{name} {module.__version__}")
    return ", ".join(found)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke)")
    parser.add_argument(
        "--only", nargs="+", choices=PARTS, metavar="PART", help="parts 1 ... 5"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(json.loads(args.child))))
        return

    sizes = QUICK if args.quick else FULL
    parts = set(args.only or PARTS)
    occ, occ_text = occ_status() if "2" in parts else (None, "not run")
    print("\n".join(environment("sizes: " + json.dumps(sizes))), flush=True)
    print(f"{versions()}\npart 2: {occ_text}", flush=True)
    start = time.perf_counter()
    rows: list = []
    if parts & {"1", "2", "3"}:
        if "2" in parts and occ is None:
            rows.append(Skipped("2 optimize_thresholds (all cases)", occ_text))
        repeats = REPEATS["prefit"][args.quick]
        with threadpool_limits(limits=1):
            for n in sizes["prefit"]:
                for case in CASES:
                    print(f"{case.name} n={size(n)}: {load_average('now')}", flush=True)
                    rows += part_prefit(case, n, parts, occ, repeats)
    if "4" in parts:
        print(f"part 4: {load_average('now')}", flush=True)
        rows += part_cli(sizes["csv"], REPEATS["csv"][args.quick])
    if "5" in parts:
        print(f"part 5: {load_average('now')}", flush=True)
        rows += part_dask(sizes["dask"])
    print()
    print(render(rows))
    minutes = (time.perf_counter() - start) / 60
    print(f"\n{load_average('at end')}; {minutes:.1f} min")


if __name__ == "__main__":
    main()
