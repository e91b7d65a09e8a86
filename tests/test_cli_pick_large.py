"""``pick`` on large files: only the columns it needs, compact (issue 18).

The fast readers (pyarrow, else pandas) must give what the standard library's
``csv`` reader gives, or hand the file to it; Parquet the same as its CSV
export; and the peak memory stays a small multiple of the two columns.
"""

import csv
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from threshold_estimators import pick_threshold
from threshold_estimators._cli import columns, csv_columns, files
from threshold_estimators._cli import pick as pick_command
from threshold_estimators._cli.objective import parse
from threshold_estimators.cli import main

PICK = ["pick", "--label", "y", "--score", "s"]
FAST = ("pyarrow", "pyarrow in pieces", "pandas")


def run(capsys, *argv):
    """``main(argv)``: exit code, stdout, stderr; never a traceback."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def reader(monkeypatch):
    """Choose the reader of CSV files: ``use(name)``, a name of ``FAST`` or
    ``"csv"``.

    ``used`` lists the type of each table ``pick`` read: ``Columns`` from a
    fast reader, ``Table`` from the ``csv`` module's.
    """
    used = []
    read = columns.read_columns

    def traced(*args, **kwargs):
        table = read(*args, **kwargs)
        used.append(type(table).__name__)
        return table

    monkeypatch.setattr(pick_command, "read_columns", traced)

    def use(name):
        monkeypatch.setattr(columns, "_has_pyarrow", lambda: "pyarrow" in name)
        monkeypatch.setattr(columns, "_has_pandas", lambda: name != "csv")
        # Small files read as large ones are: in many pieces, on threads (the
        # pieces end after line ends, of lengths coprime to the rows').
        pieces = name == "pyarrow in pieces"
        monkeypatch.setattr(csv_columns, "_PIECE_BYTES", 97 if pieces else 1 << 21)
        monkeypatch.setattr(csv_columns, "_BYTES_PER_THREAD", 1 if pieces else 1 << 25)

    use.used = used
    return use


def outputs(capsys, reader, name, argv):
    """Exit code, stdout and stderr of ``pick`` with the reader ``name``."""
    reader(name)
    return run(capsys, *argv)


def write_rows(path, header, rows, *, delimiter=",", newline="\n", bom=False):
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


@pytest.fixture(scope="module")
def rows():
    """300 rows: labels, scores with ties, weights, per-row amounts."""
    rng = np.random.default_rng(0)
    score = rng.random(300).round(3)
    y = (rng.random(300) < 0.7 * score).astype(int)
    weight = rng.integers(1, 4, 300).astype(float)
    amount = rng.random(300).round(2) * 10 + 1
    return y, score, weight, amount


ARGUMENTS = [
    [],
    ["--objective", "precision>=0.6"],
    ["--objective", "recall>=0.8", "--weight", "w"],
    ["--objective", "cost:fp=1,fn=@amount", "--prevalence", "0.3"],
    ["--objective", "threshold:0.5"],
]


@pytest.mark.parametrize("fast", FAST)
def test_fast_readers_give_what_the_csv_module_gives(
    capsys, reader, tmp_path, rows, fast
):
    y, score, weight, amount = rows
    # Cells csv reads as they are and a fast reader could read otherwise:
    # labels written three ways, spaces around numbers, a separator, line
    # ends, blank lines and a byte-order mark, junk in a column not read.
    labels = np.array(["0", " 0", "0.0", "1", "1 ", "01"])[y * 3 + np.arange(300) % 3]
    junk = ["x", "", "nan", "1e999", "#N/A", "-"]
    table = [
        [junk[i % 6], label, f" {s} " if i % 4 == 0 else s, w, a]
        for i, (label, s, w, a) in enumerate(
            zip(labels, score, weight, amount, strict=True)
        )
    ]
    table.insert(5, [])  # a blank line
    files_ = [
        write_rows(tmp_path / "plain.csv", ["junk", "y", "s", "w", "amount"], table),
        write_rows(
            tmp_path / "semicolon.csv",
            ["junk", "y", "s", "w", "amount"],
            table,
            delimiter=";",
            newline="\r\n",
            bom=True,
        ),
    ]
    for path in files_:
        for argv in ARGUMENTS:
            for command in ([*PICK, path, *argv, "--json"], [*PICK, path, *argv]):
                expected = outputs(capsys, reader, "csv", command)
                assert expected[0] == 0, expected
                assert outputs(capsys, reader, fast, command) == expected
    # The fast reader read every file, none was handed to csv.
    fast_runs = reader.used[1::2]
    assert fast_runs == ["Columns"] * len(fast_runs)


def test_quoted_values_and_labels_beyond_floats(capsys, reader, tmp_path):
    # Quotes (a separator, a line end inside a value), labels that floats
    # would merge (2**53 and 2**53 + 1), text labels with spaces.
    rng = np.random.default_rng(1)
    score = rng.random(200).round(2)
    y = rng.random(200) < score
    cases = {
        "big": (np.where(y, 2**53 + 1, 2**53), []),
        "text": (np.where(y, " is spam", "ham "), ["--pos-label", "is spam"]),
    }
    for name, (labels, options) in cases.items():
        junk = [f'note, with "quotes"\nand a line end {i}' for i in range(200)]
        path = write_rows(
            tmp_path / f"{name}.csv",
            ["y", "junk", "s"],
            zip(labels, junk, score, strict=True),
        )
        argv = [*PICK, path, *options, "--json"]
        expected = outputs(capsys, reader, "csv", argv)
        assert expected[0] == 0, expected
        for fast in ("pyarrow", "pyarrow in pieces"):
            assert outputs(capsys, reader, fast, argv) == expected
            assert reader.used[-1] == "Columns"
        # pandas does not count fields with quotes around: csv reads it.
        assert outputs(capsys, reader, "pandas", argv) == expected
        assert reader.used[-1] == "Table"
    assert json.loads(expected[1])["pos_label"] == "is spam"


def test_unread_columns_may_hold_anything(capsys, reader, tmp_path, rows):
    y, score, _, _ = rows
    clean = write_rows(tmp_path / "clean.csv", ["y", "s"], zip(y, score, strict=True))
    junk = [["not a number", "", "1e999", "+-", "NULL", "∞ ünïcode"][i % 6] for i in y]
    # Two columns of the same name: allowed when neither is read.
    dirty = write_rows(
        tmp_path / "dirty.csv",
        ["junk", "y", "junk", "s"],
        zip(junk, y, junk[::-1], score, strict=True),
    )
    reader("pyarrow")
    code, expected, _ = run(capsys, *PICK, clean, "--json")
    assert code == 0
    for name in FAST:
        code, out, err = outputs(capsys, reader, name, [*PICK, dirty, "--json"])
        assert (code, out, err) == (0, expected, "")
        assert reader.used[-1] == "Columns"


def test_what_csv_refuses_in_unread_columns_is_still_refused(
    capsys, reader, tmp_path, monkeypatch
):
    good = "y,s,junk\n0,0.1,a\n1,0.9,b\n"
    cases = {
        "ragged.csv": ("y,s,junk\n0,0.1,a\n1,0.9,b,c\n", "line 3: 4 fields"),
        "short.csv": ("y,s,junk\n0,0.1,a\n1,0.9\n", "line 3: 2 fields"),
        "latin1.csv": (good.encode() + b"0,0.5,caf\xe9\n", "not UTF-8"),
        # Quotes send pyarrow to parse the file whole: the scan still refuses.
        "quoted_field.csv": (
            good + '1,0.2,"x, y"\n1,0.3,' + "x" * 140_000 + "\n",
            "field limit",
        ),
        "quote.csv": ('y,s,junk\n0,0.1,"a\n' + "1,0.2,b\n" * 30_000, "field limit"),
        "field.csv": (good + "1,0.3," + "x" * 140_000 + "\n", "field limit"),
        # With a small limit of a line, to keep the file small.
        "long.csv": (good + "1,0.3," + "x" * 200 + "\n", "line 4: longer than 150"),
    }
    for name, (content, message) in cases.items():
        if name == "long.csv":
            monkeypatch.setattr(files, "MAX_LINE", 150)
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
        expected = outputs(capsys, reader, "csv", [*PICK, path])
        assert expected[0] == 1 and message in expected[2], (name, expected)
        for fast in FAST:
            assert outputs(capsys, reader, fast, [*PICK, path]) == expected, name


def test_marks_and_open_quotes_read_as_csv_reads_them(capsys, reader, tmp_path):
    # pyarrow drops a byte-order mark that starts the data it parses, as the
    # first line of a piece; csv keeps it in the cell. A header whose last
    # field opens a quote (after a quote that is text) swallows the lines
    # after it in csv. Found by an adversarial review of the reader in pieces.
    cases = {
        "mark_in_score.csv": b"s,y\n\xef\xbb\xbf0.1,0\n0.9,1\n",
        "mark_alone.csv": b"y,s\n\xef\xbb\xbf\n0,0.1\n1,0.9\n",
        "mark_in_label.csv": b"y,s\n0,0.1\n\xef\xbb\xbf1,0.9\n1,0.8\n",
        "open_header.csv": b'y,s,x","\n0,0.1,a,b\n1,0.9,a,b\n',
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        argv = [*PICK, path, "--json"]
        expected = outputs(capsys, reader, "csv", argv)
        assert expected[0] == 1, (name, expected)
        for fast in FAST:
            assert outputs(capsys, reader, fast, argv) == expected, (name, fast)


def test_messages_naming_a_line_are_the_csv_modules(capsys, reader, tmp_path):
    base = [[0, 0.1, 1], [1, 0.8, 2], [0, 0.3, 1], [1, 0.7, 1]]
    cases = {
        "nan.csv": [*base, [1, "nan", 1]],
        "inf.csv": [*base, [1, "inf", 1]],
        "text.csv": [*base, [1, "high", 1]],
        "label.csv": [*base, [" ", 0.2, 1]],
        "weight.csv": [[], *base[:2], [], [0, 0.4, -2], *base[2:]],
    }
    for name, table in cases.items():
        path = write_rows(tmp_path / name, ["y", "s", "w"], table)
        argv = [*PICK, path, "--weight", "w"]
        expected = outputs(capsys, reader, "csv", argv)
        assert expected[0] == 1 and "line" in expected[2], (name, expected)
        for fast in FAST:
            assert outputs(capsys, reader, fast, argv) == expected, name
    # The negative weight's line, past two blank lines, counted by the fast
    # reader (which read the file: its lines are counted for the message).
    assert "on line 6" in expected[2] and reader.used[-1] == "Columns"


def test_distinct_scores_without_the_whole_curve(capsys, reader, tmp_path):
    # Enough rows for the bucketed search, which sorts no score: the count of
    # distinct scores (of positive weight) must still be the curve's.
    rng = np.random.default_rng(2)
    n = 70_000
    score = rng.random(n).round(4)
    y = (rng.random(n) < score).astype(int)
    weight = rng.integers(0, 3, n)  # zero weights drop rows, and candidates
    path = write_rows(
        tmp_path / "many.csv", ["y", "s", "w"], zip(y, score, weight, strict=True)
    )
    reader("pyarrow")
    for options, sample_weight in (([], None), (["--weight", "w"], weight)):
        for objective in ("f1", "precision>=0.7"):
            code, out, _ = run(
                capsys, *PICK, path, "--objective", objective, *options, "--json"
            )
            assert code == 0
            report = json.loads(out)
            expected = pick_threshold(
                y, score, parse(objective).objective, sample_weight=sample_weight
            )
            assert report["threshold"] == expected.threshold
            assert report["n_candidates"] == expected.n_candidates


# Parquet.


@pytest.fixture(scope="module")
def frame(rows):
    y, score, weight, amount = rows
    return pd.DataFrame(
        {
            "id": np.arange(300),
            "y": y,
            "s": score,
            "w": weight,
            "amount": amount,
            "word": np.where(y == 1, "spam", "ham"),
            "flag": y == 1,
            "junk": ["n/a", "x"] * 150,
        }
    )


def test_parquet_gives_the_output_of_its_csv_export(capsys, tmp_path, frame):
    csv_path = tmp_path / "data.csv"
    frame.to_csv(csv_path, index=False)
    parquet = tmp_path / "data.parquet"
    frame.to_parquet(parquet, index=False)
    # Parquet by its magic bytes, without a suffix; and a directory of files.
    bare = tmp_path / "data"
    bare.write_bytes(parquet.read_bytes())
    directory = tmp_path / "parts"
    directory.mkdir()
    frame.iloc[:120].to_parquet(directory / "part-0.parquet", index=False)
    frame.iloc[120:].to_parquet(directory / "part-1.pq", index=False)
    (directory / "_SUCCESS").write_text("")
    for label, options in [
        ("y", []),
        ("y", ["--objective", "recall>=0.8", "--weight", "w"]),
        ("y", ["--objective", "cost:fp=1,fn=@amount", "--prevalence", "0.3"]),
        ("word", ["--objective", "fbeta:2"]),
        ("flag", ["--objective", "precision>=0.6"]),
    ]:
        argv = ["pick", "--label", label, "--score", "s", *options]
        code, expected, err = run(capsys, *argv, csv_path, "--json")
        assert code == 0, err
        for path in (parquet, bare, directory):
            assert run(capsys, *argv, path, "--json") == (0, expected, "")
        # The human report too, but for the file's name.
        code, text, _ = run(capsys, *argv, csv_path)
        assert run(capsys, *argv, parquet)[1] == text.replace(
            str(csv_path), str(parquet)
        )
    assert json.loads(expected)["pos_label"] == "True"


def test_parquet_refusals(capsys, monkeypatch, tmp_path):
    def parquet(name, **columns_):
        path = tmp_path / name
        pq.write_table(pa.table(columns_), path)
        return path

    score = [0.1, 0.8, 0.3, 0.7]
    cases = [
        (parquet("a.parquet", y=[0, 1, 0, 1], p=score), "has no column 's'"),
        (
            parquet("b.parquet", y=[0, 1, None, 1], s=score),
            "1 empty labels (first on line 3)",
        ),
        (
            parquet("c.parquet", y=[0, 1, 0, 1], s=[0.1, None, 0.3, 0.7]),
            "has 1 missing values (first on line 2)",
        ),
        (
            parquet("d.parquet", y=[0, 1, 0, 1], s=[0.1, 0.8, float("inf"), 0.7]),
            "infinite value on line 3",
        ),
        (
            parquet("e.parquet", y=[0, 1, 0, 1], s=["0.1", "0.8", "high", "0.7"]),
            "must be numeric; line 3 holds 'high'",
        ),
        (parquet("f.parquet", y=[0, 1, 0, 1], s=[True] * 4), "must be numeric"),
        (parquet("g.parquet", y=[1, 1, 1, 1], s=score), "holds a single label"),
        (parquet("h.parquet", y=pa.array([], pa.int64()), s=[]), "no data rows"),
    ]
    for path, message in cases:
        code, _, err = run(capsys, *PICK, path)
        assert code == 1 and message in err, (path, err)
    # Numbers written as text are read as a CSV's cells are.
    path = parquet("text.parquet", y=[0, 1, 0, 1], s=["0.1", " 0.8", "0.3", "0.7"])
    assert run(capsys, *PICK, path, "--json")[0] == 0
    # Without pyarrow: what to install.
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code, _, err = run(capsys, *PICK, path)
    assert code == 1 and "needs pyarrow: pip install" in err


# Peak memory.

_MEASURE = textwrap.dedent(
    """
    import contextlib, io, json, resource, sys

    import numpy, pyarrow, pyarrow.csv, pyarrow.parquet  # imported by pick lazily
    from threshold_estimators.cli import main

    def pick(path):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["pick", path, "--label", "y", "--score", "s", "--json"]) == 0
        return json.loads(out.getvalue())

    def status(field):
        with open("/proc/self/status") as file:
            for line in file:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024

    big, small = sys.argv[1:3]
    pick(small)  # the libraries' first-use set-up: no part of the rows' cost
    try:  # reset the high-water mark to the current size
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
        method = "VmHWM"
    except OSError:
        method = "ru_maxrss"
    baseline = status("VmRSS")
    report = pick(big)
    if method == "VmHWM":
        peak = status("VmHWM")
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"n": report["n"], "above": peak - baseline, "method": method}))
    """
)


def _table(n, seed):
    """``n`` rows: label, score (15 significant digits), two columns of noise."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.2
    score = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.5 * y)))
    return pa.table(
        {
            "noise": rng.normal(size=n),
            "y": y.astype(np.int64),
            "s": pa.array([f"{s:.15g}" for s in score]).cast(pa.float64()),
            "word": pa.array(
                np.array(["alpha", "beta", "gamma"])[y.astype(int) + (score > 0.5)]
            ),
        }
    )


@pytest.mark.skipif(
    not os.path.exists("/proc/self/status"), reason="reads /proc/self/status"
)
@pytest.mark.parametrize("kind", ["csv", "parquet", "csv without pyarrow"])
def test_peak_memory_is_a_small_multiple_of_the_columns(tmp_path, kind):
    """The peak memory of ``pick`` on 500,000 rows, above the process's size
    after its imports, stays under 3 times the two columns as float64 arrays
    (16 bytes a row: 24 MB); it was 18 times the file before.

    Measured in a fresh interpreter, as the resident set size, which counts
    every allocation (numpy's, pyarrow's own allocator, which tracemalloc
    does not see, and malloc's kept free memory). The baseline is taken after
    the imports and a first pick on a small file (lazy imports, pyarrow's
    allocator reserving its first arena: a fixed few megabytes, none of them
    the rows'). Linux lets the high-water mark (VmHWM) be reset to the
    current size there; where it cannot be, the mark since the start
    (ru_maxrss) is taken instead, against the current size at the baseline:
    that overstates the peak, so the test can fail for nothing but never
    pass wrongly.
    """
    n = 500_000
    suffix = ".parquet" if kind == "parquet" else ".csv"
    paths = []
    for name, rows_ in (("big", n), ("small", 2_000)):
        path = str(tmp_path / f"{name}{suffix}")
        table = _table(rows_, seed=rows_)
        if kind == "parquet":
            pq.write_table(table, path)
        else:  # unquoted, as most exports are
            pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="none"))
        paths.append(path)
    script = _MEASURE
    if kind == "csv without pyarrow":
        script = script.replace(
            "big, small",
            "from threshold_estimators._cli import columns\n"
            "columns._has_pyarrow = lambda: False\n"
            "big, small",
        )
    result = subprocess.run(
        [sys.executable, "-c", script, *paths],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    assert measured["n"] == n
    columns_size = n * 16
    assert measured["above"] < 3 * columns_size, measured


def test_label_chunks_map_to_the_texts_they_use_in_any_order():
    """Each parsed piece has its own dictionary of label texts, in its own
    order, and may list a text no row of it uses: the codes follow the
    texts in order of first use, and an unused text is not a class."""
    pieces = [
        (["b", "a", "z"], [0, 0, 0]),  # "a" and "z" unused here
        (["a", "b"], [0, 1, 1]),  # another order than the whole's
        (["b", "a"], [1, 0]),  # the whole's order: indices are the codes
        (["c", "a"], [1, 1]),  # "c" unused, never seen used
    ]
    chunks = [
        pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(texts))
        for texts, indices in pieces
    ]
    texts, codes = csv_columns._arrow_labels(chunks, 10)
    expected = [t[i] for t, indices in pieces for i in indices]
    assert texts == ["b", "a"]
    assert [texts[c] for c in codes] == expected
    assert codes.dtype == np.uint8
