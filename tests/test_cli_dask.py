"""``pick --dask``: a Parquet directory searched on a dask cluster (issue 18).

The same file picked in memory is the oracle: same threshold, same counts.
Most calls connect to one local cluster on loopback (``--dask ADDRESS``);
one lets the command start and close its own (``--dask``).
"""

import json

import numpy as np
import pandas as pd
import pytest

from threshold_estimators.cli import main

distributed = pytest.importorskip("distributed")
pytest.importorskip("dask.dataframe")
pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def address():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    """Three Parquet files of string labels, tied scores and weights."""
    path = tmp_path_factory.mktemp("scored")
    rng = np.random.default_rng(0)
    for part in range(3):
        n = 40_000
        fraud = rng.random(n) < 0.1
        pd.DataFrame(
            {
                "label": np.where(fraud, "fraud", "ok"),
                "score": np.round(rng.normal(size=n) + 2 * fraud, 3),
                "amount": rng.exponential(size=n),
                "w": rng.integers(1, 4, n).astype(float),
                "note": "free text",
            }
        ).to_parquet(path / f"part-{part}.parquet")
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def pick_json(capsys, *argv):
    code, out, err = run(capsys, "pick", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


FIELDS = ("threshold", "tp", "fp", "tn", "fn", "n", "n_positive", "pos_label")


@pytest.mark.parametrize(
    "options",
    [
        ["--objective", "f1"],
        ["--objective", "precision>=0.8", "--pos-label", "fraud"],
        ["--objective", "recall>=0.9@0.95", "--pos-label", "fraud"],
        ["--objective", "cost:fp=1,fn=20", "--pos-label", "fraud"],
        ["--objective", "cost:fp=0.5,fn=@amount", "--pos-label", "fraud"],
        ["--objective", "cost:fp=@amount,fn=20", "--weight", "w"],
        ["--objective", "f1", "--pos-label", "fraud", "--weight", "amount"],
    ],
)
def test_dask_pick_is_the_in_memory_pick(capsys, address, directory, options):
    common = [directory, "--label", "label", "--score", "score", *options]
    memory = pick_json(capsys, *common)
    dist = pick_json(capsys, *common, "--dask", address)
    assert dist["threshold"] == memory["threshold"]
    for field in FIELDS[1:]:
        if "--weight" in options and field in ("tp", "fp", "tn", "fn", "cost"):
            assert dist[field] == pytest.approx(memory[field], rel=1e-9, abs=1e-6)
        else:
            assert dist[field] == memory[field], field
    assert dist["n_candidates"] is None and dist["n_gathered"] > 0


def test_dask_starts_and_closes_a_local_cluster(capsys, directory):
    code, out, err = run(
        capsys, "pick", directory, "--label", "label", "--score", "score", "--dask"
    )
    assert code == 0, err
    assert "searched on dask" in out and "predict 'ok' when score >=" in out
    assert err == ""  # the cluster's own logs are not the command's output


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--plot", "curve.png"], "--plot draws the whole curve"),
        (["--prevalence", "0.3"], "takes no --prevalence"),
        (["--objective", "precision>=0.9@0.95"], "confidence bound on precision"),
    ],
)
def test_what_dask_refuses_before_starting(capsys, tmp_path, directory, extra, message):
    argv = ["pick", directory, "--label", "label", "--score", "score", "--dask"]
    code, _, err = run(capsys, *argv, *extra)
    assert code == 2 and message in err


def test_dask_reads_parquet_only(capsys, tmp_path):
    csv = tmp_path / "scores.csv"
    csv.write_text("label,score\n0,0.1\n1,0.9\n")
    code, _, err = run(
        capsys, "pick", csv, "--label", "label", "--score", "score", "--dask"
    )
    assert code == 2 and "--dask reads Parquet" in err


def test_dask_names_a_missing_column(capsys, address, directory):
    code, _, err = run(
        capsys, "pick", directory, "--label", "label", "--score", "s", "--dask", address
    )
    assert code == 1 and "no column 's'" in err and "'score'" in err


@pytest.mark.parametrize(
    "labels, options",
    [
        (["9", "10"], []),  # numbers written as text: 10 > 9
        ([" fraud", "ok"], ["--pos-label", "fraud"]),  # spaces stripped
        (["0", "1", "1.0"], []),  # one label written two ways
        ([False, True], []),
        ([0.0, 1.0], []),
    ],
)
def test_dask_reads_labels_as_pick_reads_them(
    capsys, tmp_path, address, labels, options
):
    rng = np.random.default_rng(1)
    for part in range(2):
        n = 5_000
        label = rng.choice(np.array(labels, dtype=object), n)
        positive = np.isin(label.astype(str), ["10", "ok", "1", "1.0", "True"])
        frame = pd.DataFrame(
            {"label": label.tolist(), "score": rng.normal(size=n) + 2 * positive}
        )
        frame.to_parquet(tmp_path / f"part-{part}.parquet")
    common = [tmp_path, "--label", "label", "--score", "score", *options]
    memory = pick_json(capsys, *common)
    dist = pick_json(capsys, *common, "--dask", address)
    for field in FIELDS:
        assert dist[field] == memory[field], field


@pytest.mark.parametrize(
    "column, message",
    [
        ("note", "column 'note' must hold numbers"),
        ("gap", "column 'gap' must be finite; it holds 2 NaN"),
    ],
)
def test_dask_refuses_a_bad_cost_column(capsys, address, tmp_path, column, message):
    rng = np.random.default_rng(1)
    n = 30_000
    gap = rng.exponential(size=n)
    gap[[10, 20]] = np.nan
    pd.DataFrame(
        {"label": rng.integers(0, 2, n), "score": rng.random(n), "gap": gap,
         "note": "text"}
    ).to_parquet(tmp_path / "bad.parquet")  # fmt: skip
    argv = ["pick", tmp_path / "bad.parquet", "--label", "label", "--score", "score"]
    objective = ["--objective", f"cost:fp=1,fn=@{column}", "--dask", address]
    code, _, err = run(capsys, *argv, *objective)
    assert code != 0 and message in err


def test_a_single_parquet_file(capsys, address, tmp_path):
    """One file, one partition: dask cannot fuse that partition's array with
    a reduction of it, so the search runs unfused, with the same pick."""
    rng = np.random.default_rng(2)
    n = 20_000
    path = tmp_path / "one.parquet"
    pd.DataFrame({"label": rng.integers(0, 2, n), "score": rng.random(n)}).to_parquet(
        path
    )
    common = [path, "--label", "label", "--score", "score"]
    memory = pick_json(capsys, *common)
    dist = pick_json(capsys, *common, "--dask", address)
    assert [dist[field] for field in FIELDS] == [memory[field] for field in FIELDS]
