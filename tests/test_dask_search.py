"""pick_threshold on dask arrays runs on the cluster and equals the in-memory
search: same threshold, same counts (weighted counts to rounding).

The cluster is a ``LocalCluster`` of two worker processes on loopback
(127.0.0.1), started and closed by this module, so every pass of the search
is pickled to the workers and run there.
"""

import numpy as np
import pytest
from conftest import assert_same_pick, worker_addresses

from threshold_estimators import _dask_search, pick_threshold
from threshold_estimators.objectives import (
    F1,
    AlertBudget,
    CostMatrix,
    FBeta,
    PrecisionTarget,
    RecallTarget,
)

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def client(dask_processes):
    return dask_processes


def draw(seed, n=120_000, ties=False, weights=None):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rng.choice([0.05, 0.2, 0.5])).astype(int)
    score = rng.normal(size=n) + 2 * y
    if ties:
        score = np.round(score, 4)
    weight = None
    if weights == "real":
        weight = rng.exponential(size=n)
        weight[rng.random(n) < 0.1] = 0.0  # left out, as in memory
    elif weights == "integer":
        weight = rng.integers(1, 5, n).astype(float)
    return y, score, weight


OBJECTIVES = [
    F1(),
    FBeta(0.5),
    PrecisionTarget(0.9),
    RecallTarget(0.8),
    PrecisionTarget(0.8, confidence=0.9, selection="pointwise"),
    RecallTarget(0.8, confidence=0.9),  # every sequence is pointwise on recall
]


def chunked(*arrays, chunks=17_000):
    return [None if a is None else da.from_array(a, chunks=chunks) for a in arrays]


@pytest.mark.parametrize(
    "seed",
    [
        0,
        pytest.param(1, marks=pytest.mark.slow),
        pytest.param(2, marks=pytest.mark.slow),
    ],
)
@pytest.mark.parametrize("weights", [None, "integer", "real"])
@pytest.mark.parametrize("ties", [False, True])
def test_dask_pick_equals_the_in_memory_pick(client, seed, weights, ties):
    assert_dask_pick_is_exact(client, seed, weights, ties, OBJECTIVES)


@pytest.mark.parametrize("weights", [None, "real"])
@pytest.mark.parametrize("ties", [False, True])
def test_dask_cost_matrix_pick_equals_the_in_memory_pick(client, weights, ties):
    costs = [CostMatrix([[0, 1], [5, 0]]), CostMatrix([[-1, 2], [4, 0.5]])]
    assert_dask_pick_is_exact(client, 3, weights, ties, costs)


def assert_dask_pick_is_exact(client, seed, weights, ties, objectives):
    y, score, weight = draw(seed, ties=ties, weights=weights)
    dy, ds, dw = chunked(y, score, weight)
    for objective in objectives:
        if weight is not None and objective.needs_sample_sizes:
            continue
        memory = pick_threshold(y, score, objective, sample_weight=weight)
        with distributed.get_task_stream(client) as stream:
            dist = pick_threshold(dy, ds, objective, sample_weight=dw)
        assert dist.threshold == memory.threshold, objective
        counts = [dist.tp, dist.fp, dist.tn, dist.fn]
        expected = [memory.tp, memory.fp, memory.tn, memory.fn]
        if weights == "real":
            np.testing.assert_allclose(counts, expected, rtol=1e-10)
        else:
            assert counts == expected
        assert dist.score == pytest.approx(memory.score, rel=1e-10)
        # The passes ran on the two workers.
        assert {task["worker"] for task in stream.data} <= worker_addresses(client)
        assert len(stream.data) > 0


def test_dask_dataframe_columns(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    y, score, _ = draw(5)
    frame = dd.from_pandas(pd.DataFrame({"y": y, "score": score}), npartitions=5)
    dist = pick_threshold(frame["y"], frame["score"], "f1")
    memory = pick_threshold(y, score, "f1")
    assert (dist.threshold, dist.tp, dist.fp) == (
        memory.threshold,
        memory.tp,
        memory.fp,
    )


@pytest.mark.parametrize("limit", [None, 2_000])
def test_only_a_few_rows_are_gathered(client, monkeypatch, limit):
    """The driver gathers at most ``MAX_SORTED_ROWS``; below it, the search
    zooms into the refined range (more passes), with the same result."""
    if limit is not None:
        monkeypatch.setattr(_dask_search, "MAX_SORTED_ROWS", limit)
    y, score, weight = draw(6, n=300_000, weights="integer")
    dy, ds, dw = chunked(y, score, weight, chunks=50_000)
    for objective in (F1(), PrecisionTarget(0.9)):
        dist = pick_threshold(dy, ds, objective, sample_weight=dw)
        memory = pick_threshold(y, score, objective, sample_weight=weight)
        assert 0 < dist.search.n_gathered <= _dask_search.MAX_SORTED_ROWS
        assert (dist.threshold, dist.tp, dist.fp) == (
            memory.threshold,
            memory.tp,
            memory.fp,
        )


def test_the_whole_curve_is_not_gathered(client):
    y, score, _ = draw(7)
    dist = pick_threshold(*chunked(y, score), "f1")
    with pytest.raises(ValueError, match="not the whole curve"):
        _ = dist.curve


@pytest.mark.parametrize(
    "case, message",
    [
        ("budget", "count objectives that rise"),
        ("sequence", "Pass selection='pointwise'"),
        ("multiclass", "needs binary labels"),
        ("prevalence", "takes no prevalence"),
    ],
)
def test_what_the_distributed_search_refuses(client, case, message):
    y, score, _ = draw(8)
    kwargs = {}
    objective = "f1"
    if case == "budget":
        objective = AlertBudget(0.1)
    elif case == "sequence":  # the default rule of a bound on precision
        objective = PrecisionTarget(0.8, confidence=0.9)
    elif case == "multiclass":
        y = y + (score > 3)
    elif case == "prevalence":
        kwargs["prevalence"] = 0.3
    with pytest.raises(ValueError, match=message):
        pick_threshold(*chunked(y, score), objective, **kwargs)


@pytest.mark.parametrize("weights", [None, "real"])
def test_a_score_holding_half_the_rows_is_searched_on_dask(client, weights):
    """Half the rows share one score: its bucket cannot be split by a zoom,
    and it holds no cut but its edges, so it is not gathered."""
    rng = np.random.default_rng(5)
    n = 200_000
    score = rng.random(n)
    y = rng.random(n) < score * 0.5
    score[rng.random(n) < 0.5] = 0.5
    weight = rng.exponential(size=n) if weights else None
    memory = pick_threshold(y, score, "f1", sample_weight=weight)
    dy, ds, dw = chunked(y, score, weight, chunks=50_000)
    dist = pick_threshold(dy, ds, "f1", sample_weight=dw)
    assert dist.threshold == memory.threshold
    assert dist.search.n_gathered < 65_536


@pytest.mark.parametrize("weights", [None, "real"])
def test_few_distinct_scores(client, weights):
    """Scores of a few distinct values crowd into a few buckets, each of one
    score: nothing needs gathering, and the pick is the in-memory one."""
    y, score, weight = draw(9, weights=weights)
    score = np.round(score)
    memory = pick_threshold(y, score, "f1", sample_weight=weight)
    dist = pick_threshold(*chunked(y, score), "f1", sample_weight=chunked(weight)[0])
    assert_same_pick(dist, memory, weights)


def test_chunks_of_one_sign(client):
    """Rows sorted by a score of both signs: some chunks hold only negative
    scores, others only non-negative ones, and their keys still compare."""
    y, score, weight = draw(10, weights="integer")
    order = np.argsort(score)
    y, score, weight = y[order], score[order], weight[order]
    for objective in (F1(), PrecisionTarget(0.9), CostMatrix([[0, 1], [5, 0]])):
        memory = pick_threshold(y, score, objective, sample_weight=weight)
        dist = pick_threshold(
            *chunked(y, score), objective, sample_weight=chunked(weight)[0]
        )
        assert_same_pick(dist, memory, "integer")


def test_a_class_of_zero_weight(client):
    y, score, weight = draw(11, weights="real")
    weight[y == 1] = 0.0
    with pytest.raises(ValueError, match="Each class needs a positive total"):
        pick_threshold(*chunked(y, score), "f1", sample_weight=chunked(weight)[0])
