"""pick_threshold on dask arrays with per-row costs: the least cost on the
cluster equals the in-memory search's (same threshold, same counts; weighted
counts and the cost to rounding), and a brute force over every cut agrees.

A ``LocalCluster`` of two worker processes on loopback (127.0.0.1), started
and closed by this module: every pass is pickled to the workers.
"""

import numpy as np
import pytest
from conftest import assert_same_pick, worker_addresses

from threshold_estimators import _dask_search, pick_threshold
from threshold_estimators.objectives import CostMatrix

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def client(dask_processes):
    return dask_processes


# A false alarm costs 5, a missed positive its amount; with a fee and a gain
# of 1 on each caught positive; amounts on both errors, a negative paying its
# fee when flagged.
MATRICES = {
    "amount": [[0, 5], ["amount", 0]],
    "fee and gain": [[0, "fee"], ["amount", -1]],
    "both named": [["fee", "amount"], ["amount", "fee"]],
}


def draw(seed, n=80_000, ties=False, weights=None):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rng.choice([0.05, 0.3])).astype(int)
    score = rng.normal(size=n) + 2 * y
    if ties:
        score = np.round(score, 3)
    amount = rng.exponential(40.0, n) + 1.0
    if ties:
        amount = np.round(amount)  # integer costs: exactly tied cuts
    fee = rng.random(n)
    weight = None
    if weights == "real":
        weight = rng.exponential(size=n)
        weight[rng.random(n) < 0.1] = 0.0  # left out, as in memory
    elif weights == "integer":
        weight = rng.integers(1, 4, n).astype(float)
    return y, score, weight, {"amount": amount, "fee": fee}


def chunked(array, chunks=13_000):
    return None if array is None else da.from_array(array, chunks=chunks)


def costs_of(matrix, metadata):
    names = {entry for row in matrix for entry in row if isinstance(entry, str)}
    return {name: metadata[name] for name in names}


def brute_force_least(y, score, matrix, metadata, weight):
    """The least weighted total cost over every cut (+inf and each distinct
    score), with numpy only: each row costs its own entry of its decision."""

    def entry(i, j):
        value = matrix[i][j]
        return metadata[value] if isinstance(value, str) else np.full(y.size, value)

    flagged = np.where(y == 1, entry(1, 1), entry(0, 1))
    unflagged = np.where(y == 1, entry(1, 0), entry(0, 0))
    weight = np.ones(y.size) if weight is None else weight
    order = np.argsort(-score, kind="stable")
    # Cut k flags the k highest-scored rows (cut between distinct scores).
    gained = np.r_[0.0, np.cumsum((weight * (flagged - unflagged))[order])]
    cuts = np.r_[True, np.diff(score[order]) != 0, True]
    total = np.sum(weight * unflagged) + gained[cuts]
    return total.min() / weight.sum()


@pytest.mark.parametrize("weights", [None, "integer", "real"])
@pytest.mark.parametrize("ties", [False, True])
def test_per_row_costs_on_dask_equal_the_in_memory_pick(client, weights, ties):
    seed = len(weights or "") + ties  # a data set of its own for each case
    y, score, weight, metadata = draw(seed, ties=ties, weights=weights)
    for name, matrix in MATRICES.items():
        costs = costs_of(matrix, metadata)
        memory = pick_threshold(
            y, score, CostMatrix(matrix), sample_weight=weight, **costs
        )
        with distributed.get_task_stream(client) as stream:
            dist = pick_threshold(
                chunked(y),
                chunked(score),
                CostMatrix(matrix),
                sample_weight=chunked(weight),
                **{key: chunked(value) for key, value in costs.items()},
            )
        assert_same_pick(dist, memory, weights)
        least = brute_force_least(y, score, matrix, metadata, weight)
        assert -dist.score == pytest.approx(least, rel=1e-9, abs=1e-12), name
        assert 0 < dist.search.n_gathered < y.size / 4
        workers = {task["worker"] for task in stream.data}
        assert workers and workers <= worker_addresses(client)


@pytest.mark.parametrize("limit", [1_500, 6_000])
def test_zooms_until_few_rows_are_gathered(client, monkeypatch, limit):
    """Below ``MAX_SORTED_ROWS`` gathered rows the search zooms into the
    refined range (more passes), with the same result."""
    monkeypatch.setattr(_dask_search, "MAX_SORTED_ROWS", limit)
    monkeypatch.setattr("threshold_estimators._dask_costs.MAX_SORTED_ROWS", limit)
    y, score, weight, metadata = draw(4, n=300_000, weights="integer")
    matrix = MATRICES["amount"]
    memory = pick_threshold(
        y, score, CostMatrix(matrix), sample_weight=weight, amount=metadata["amount"]
    )
    dist = pick_threshold(
        chunked(y, 40_000),
        chunked(score, 40_000),
        CostMatrix(matrix),
        sample_weight=chunked(weight, 40_000),
        amount=chunked(metadata["amount"], 40_000),
    )
    assert 0 < dist.search.n_gathered <= limit
    assert_same_pick(dist, memory, "integer")


def test_positive_class_first_and_string_labels(client):
    """The matrix is in sorted class order: with pos_label the first class,
    the search orients it as in memory."""
    y, score, _, metadata = draw(5)
    labels = np.where(y == 1, "fraud", "ok")
    matrix = [[0, "amount"], [5, 0]]  # rows: "fraud", "ok"
    memory = pick_threshold(
        labels, score, CostMatrix(matrix), pos_label="fraud", amount=metadata["amount"]
    )
    dist = pick_threshold(
        chunked(labels),
        chunked(score),
        CostMatrix(matrix),
        pos_label="fraud",
        amount=chunked(metadata["amount"]),
    )
    assert_same_pick(dist, memory, None)


def test_a_score_holding_half_the_rows(client):
    """Half the rows share one score: its bucket cannot be split by a zoom
    and holds no cut but its edges, so its rows are not gathered."""
    rng = np.random.default_rng(6)
    n = 200_000
    score = rng.random(n)
    y = (rng.random(n) < score * 0.5).astype(int)
    score[rng.random(n) < 0.5] = 0.5
    amount = rng.exponential(10.0, n)
    matrix = MATRICES["amount"]
    memory = pick_threshold(y, score, CostMatrix(matrix), amount=amount)
    dist = pick_threshold(
        chunked(y, 50_000),
        chunked(score, 50_000),
        CostMatrix(matrix),
        amount=chunked(amount, 50_000),
    )
    assert_same_pick(dist, memory, None)
    assert dist.search.n_gathered < 65_536


def test_dask_dataframe_columns(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    y, score, _, metadata = draw(7, n=60_000)
    frame = pd.DataFrame({"y": y, "score": score, "amount": metadata["amount"]})
    parts = dd.from_pandas(frame, npartitions=4)
    matrix = MATRICES["amount"]
    memory = pick_threshold(y, score, CostMatrix(matrix), amount=metadata["amount"])
    dist = pick_threshold(
        parts["y"], parts["score"], CostMatrix(matrix), amount=parts["amount"]
    )
    assert_same_pick(dist, memory, None)


def hostile(case):
    y, score, _, metadata = draw(8, n=40_000)
    amount = metadata["amount"].copy()
    kwargs = {"amount": chunked(amount)}
    matrix = MATRICES["amount"]
    if case == "nan cost":
        amount[[5, 17, 900]] = np.nan
        amount[33] = np.inf
    elif case == "wrong preference":
        amount[np.flatnonzero(y == 1)[3]] = -2.0  # a missed positive pays
    elif case == "missing cost":
        kwargs = {}
    elif case == "short cost":
        kwargs = {"amount": chunked(amount[:-1])}
    elif case == "text cost":
        kwargs = {"amount": chunked(amount.astype(str))}
    elif case == "unread metadata":
        matrix = [[0, 1], [5, 0]]
    elif case == "no preference":
        matrix = [["amount", "amount"], ["amount", "amount"]]
    if case in ("nan cost", "wrong preference"):
        kwargs = {"amount": chunked(amount)}
    return (chunked(y), chunked(score), CostMatrix(matrix)), kwargs


@pytest.mark.parametrize(
    "case, error, message",
    [
        ("nan cost", ValueError, r"'amount' must be finite; it holds 3 NaN and 1 "
         r"infinite values \(first at row 5\)"),
        ("wrong preference", ValueError, "must prefer the right decision"),
        ("missing cost", ValueError, r"reads the per-row costs \['amount'\]"),
        ("short cost", ValueError, "one value per sample"),
        ("text cost", ValueError, "must hold numbers"),
        ("unread metadata", TypeError, "does not read"),
        ("no preference", ValueError, "expresses no preference"),
    ],
)  # fmt: skip
def test_what_the_distributed_cost_search_refuses(client, case, error, message):
    args, kwargs = hostile(case)
    with pytest.raises(error, match=message):
        pick_threshold(*args, **kwargs)


def test_empty_partitions_and_unknown_chunk_sizes(client):
    """A filtered frame keeps empty partitions and forgets its lengths."""
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    y, score, _, metadata = draw(12, n=40_000)
    frame = pd.DataFrame(
        {"y": y, "score": score, "amount": metadata["amount"], "i": np.arange(y.size)}
    )
    parts = dd.from_pandas(frame, npartitions=4)
    kept = parts[(parts["i"] < 10_000) | (parts["i"] >= 20_000)]  # one emptied
    rows = frame[(frame["i"] < 10_000) | (frame["i"] >= 20_000)]
    matrix = MATRICES["amount"]
    memory = pick_threshold(
        rows["y"], rows["score"], CostMatrix(matrix), amount=rows["amount"]
    )
    dist = pick_threshold(
        kept["y"], kept["score"], CostMatrix(matrix), amount=kept["amount"]
    )
    assert_same_pick(dist, memory, None)
    chunks = ((0, 10_000, 0, 20_000),)
    on_arrays = pick_threshold(
        da.from_array(rows["y"].to_numpy(), chunks=chunks),
        da.from_array(rows["score"].to_numpy(), chunks=chunks),
        CostMatrix(matrix),
        amount=da.from_array(rows["amount"].to_numpy(), chunks=chunks),
    )
    assert_same_pick(on_arrays, memory, None)
    unknown = da.from_array(metadata["amount"], chunks=10_000)
    unknown = unknown[unknown > -1]  # lengths unknown until computed
    dist = pick_threshold(
        chunked(y), chunked(score), CostMatrix(matrix), amount=unknown
    )
    assert_same_pick(
        dist,
        pick_threshold(y, score, CostMatrix(matrix), amount=metadata["amount"]),
        None,
    )


def test_cost_columns_of_other_dtypes(client):
    """Nullable pandas numbers and numbers held as objects are read as in
    memory; a missing value is named as one."""
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    y, score, _, metadata = draw(13, n=30_000)
    whole = np.round(metadata["amount"]).astype(np.int64)
    frame = pd.DataFrame({"y": y, "score": score, "amount": whole})
    frame["amount"] = frame["amount"].astype("Int64")
    parts = dd.from_pandas(frame, npartitions=3)
    matrix = MATRICES["amount"]
    memory = pick_threshold(y, score, CostMatrix(matrix), amount=whole)
    dist = pick_threshold(
        parts["y"], parts["score"], CostMatrix(matrix), amount=parts["amount"]
    )
    assert_same_pick(dist, memory, None)
    held = chunked(whole.astype(object))
    dist = pick_threshold(chunked(y), chunked(score), CostMatrix(matrix), amount=held)
    assert_same_pick(dist, memory, None)
    frame.loc[5, "amount"] = pd.NA
    parts = dd.from_pandas(frame, npartitions=3)
    with pytest.raises(ValueError, match="must be finite; it holds 1 NaN"):
        pick_threshold(
            parts["y"], parts["score"], CostMatrix(matrix), amount=parts["amount"]
        )
    text = whole.astype(object)
    text[7] = "12"
    with pytest.raises(ValueError, match="must hold numbers; got dtype object"):
        pick_threshold(
            chunked(y), chunked(score), CostMatrix(matrix), amount=chunked(text)
        )


def test_a_short_weight_column(client):
    y, score, _, metadata = draw(14, n=20_000)
    with pytest.raises(ValueError, match=r"one weight per sample \(20000\); got 19999"):
        pick_threshold(
            chunked(y),
            chunked(score),
            CostMatrix(MATRICES["amount"]),
            sample_weight=chunked(np.ones(y.size - 1)),
            amount=chunked(metadata["amount"]),
        )


@pytest.mark.parametrize("matrix", [MATRICES["amount"], [[0, 5], [30, 0]]])
def test_scores_a_few_ulps_apart_among_many_equal(client, matrix):
    """Most rows at one score, a few a few ulps above it, one at each end:
    the zooms narrow the range until each bucket holds one key."""
    rng = np.random.default_rng(0)
    n = 70_000
    score = np.r_[np.full(n, 0.5), 0.5 + np.arange(1, 11) * 1e-15, 0.0, 1.0]
    y = (rng.random(score.size) < 0.5).astype(int)
    amount = rng.exponential(40, score.size)
    costs = {"amount": amount} if "amount" in str(matrix) else {}
    memory = pick_threshold(y, score, CostMatrix(matrix), **costs)
    dist = pick_threshold(
        chunked(y, 20_000),
        chunked(score, 20_000),
        CostMatrix(matrix),
        **{key: chunked(value, 20_000) for key, value in costs.items()},
    )
    assert_same_pick(dist, memory, None)


def test_a_wrong_preference_names_the_row_given(client):
    """Zero-weight rows before it do not shift the row a refusal names, in
    memory or on dask."""
    y, score, _, metadata = draw(15, n=20_000)
    weight = np.ones(y.size)
    weight[:100] = 0.0
    amount = metadata["amount"].copy()
    row = int(np.flatnonzero(y == 1)[50])
    amount[row] = -3.0
    matrix = MATRICES["amount"]
    for args, costs, weights in (
        ((y, score), amount, weight),
        ((chunked(y), chunked(score)), chunked(amount), chunked(weight)),
    ):
        with pytest.raises(ValueError, match=rf"row {row} \(true class index 1\)"):
            pick_threshold(
                *args, CostMatrix(matrix), sample_weight=weights, amount=costs
            )
