"""``threshold-estimators pick --dask``: the exact search on a dask cluster.

The rows stay where dask reads them (a Parquet file or directory, in
partitions): only the two or three columns named are read, the search makes
its passes on the workers (``pick_threshold`` on dask columns) and the driver
holds per-bucket sums and at most a few tens of thousands of rows, whatever
the number of rows. The threshold and the counts are the in-memory pick's.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import warnings

import numpy as np

from .._pick import pick_threshold
from ..objectives import PrecisionTarget
from . import files
from .common import DataError, UsageError, positive_label
from .parquet_columns import is_parquet, parquet_text

LOCAL = "local"

# Workers of the local cluster: one single-thread process per core (the
# passes are numpy, which holds the interpreter lock only between calls).
_MAX_LOCAL_WORKERS = 8


def refuse_unsupported(args: argparse.Namespace, parsed) -> None:
    """Options the distributed search does not take, as usage errors, before
    any cluster starts."""
    if args.plot:
        raise UsageError(
            "--plot draws the whole curve, which --dask does not gather; pick "
            "without --dask to plot."
        )
    if args.prevalence is not None:
        raise UsageError(
            "--dask takes no --prevalence yet; pick without --dask to reweight "
            "the rows to a rate."
        )
    if (
        isinstance(parsed.objective, PrecisionTarget)
        and parsed.objective.confidence is not None
    ):
        raise UsageError(
            f"--dask does not take a confidence bound on precision yet "
            f"({args.objective!r}): its thresholds are tested in sequence, each "
            "judged by the ones above it; pick without --dask, or drop the '@C' "
            "part."
        )


def dask_pick(args: argparse.Namespace, parsed) -> dict:
    """The pick on the cluster ``args.dask`` names, and what the report
    states of the rows: ``pick``, ``n``, ``n_positive``, ``pos_label`` and
    ``observed`` (the weighted share of positive rows)."""
    if not is_parquet(args.file):
        raise UsageError(
            "--dask reads Parquet: a .parquet or .pq file, or a directory of "
            f"them; got {args.file!r}."
        )
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as exc:
        raise ImportError(
            "--dask needs dask and distributed: pip install "
            '"threshold-estimators[dask,parquet]".'
        ) from exc
    wanted = [args.label, args.score] + ([args.weight] if args.weight else [])
    wanted += [column for column in parsed.columns if column not in wanted]
    with _client(args.dask):
        frame = dd.read_parquet(args.file)
        missing = [name for name in wanted if name not in frame.columns]
        if missing:
            raise DataError(
                f"{args.file}: no column {missing[0]!r}; the columns are "
                f"{list(frame.columns)}."
            )
        frame = frame[wanted]
        # Each partition's distinct labels, joined on the driver: a few
        # values, where ``unique`` would shuffle the column.
        raw, n_missing = dask.compute(
            frame[args.label].dropna().map_partitions(_distinct, meta=(None, object)),
            frame[args.label].isna().sum(),
        )
        if n_missing:
            raise DataError(
                f"{args.file}: column {args.label!r} has {int(n_missing)} missing "
                "labels; every row needs one."
            )
        raw = list(dict.fromkeys(raw.tolist()))
        labels = _read_as_pick_reads(args, frame.columns, raw)
        pos_label = positive_label(labels, args.label, "pick", args.pos_label)
        pairs = zip(raw, labels, strict=True)
        called = [value for value, label in pairs if label == pos_label]
        positive = frame[args.label].isin(called).astype(bool)
        weight = None if args.weight is None else frame[args.weight].astype(float)
        costs = {name: frame[column] for name, column in parsed.names.items()}
        _check_numeric(args.file, parsed, frame)
        try:
            pick = pick_threshold(
                positive,
                frame[args.score].astype(float),
                parsed.objective,
                pos_label=True,
                sample_weight=weight,
                **costs,
            )
        except ValueError as exc:
            if not parsed.names:
                raise
            raise _in_column_terms(exc, parsed) from None
        n, n_positive = dask.compute(positive.size, positive.sum())
    total = pick.tp + pick.fp + pick.tn + pick.fn
    return {
        "pick": pick,
        "n": int(n),
        "n_positive": int(n_positive),
        "pos_label": pos_label,
        "observed": float((pick.tp + pick.fn) / total),
    }


def _check_numeric(path, parsed, frame) -> None:
    """Each per-row cost column numeric: a DataError naming it otherwise."""
    for column in parsed.columns:
        if frame[column].dtype.kind not in "biuf":
            raise DataError(
                f"objective {parsed.spec!r}: {path}: column {column!r} must hold "
                f"numbers; its Parquet type is {frame[column].dtype}."
            )


def _in_column_terms(error: ValueError, parsed) -> DataError:
    """The search's refusal of a per-row cost, naming its column (a row is
    its position in the Parquet rows, counted from 0)."""
    text = str(error)
    for name, column in parsed.names.items():
        text = text.replace(repr(name), f"column {column!r}")
    return DataError(f"objective {parsed.spec!r}: {text}")


def _distinct(labels):
    import pandas as pd

    return pd.Series(np.asarray(labels.unique()).tolist(), dtype=object)


def _read_as_pick_reads(args, header, raw: list) -> np.ndarray:
    """The label each distinct cell ``raw`` stands for, by the rules ``pick``
    reads a file's labels with (text stripped, numbers as numbers, ``1`` and
    ``1.0`` one label): the same classes with or without ``--dask``."""
    texts = [parquet_text(value) for value in raw]
    empty = [text for text in texts if not text.strip()]
    if empty:
        raise DataError(f"{args.file}: column {args.label!r} has empty labels.")
    cells = [(text,) for text in texts]
    table = files.Table(args.file, list(header), [args.label], cells, [])
    return table.labels(args.label)


@contextlib.contextmanager
def _client(address: str):
    """A client of the scheduler at ``address``, or of a cluster started on
    loopback for the command (``local``) and closed after it."""
    from distributed import Client, LocalCluster

    if address != LOCAL:
        with Client(address) as client:
            yield client
        return
    workers = max(1, min(os.cpu_count() or 1, _MAX_LOCAL_WORKERS))
    with warnings.catch_warnings():
        # The cluster's sockets and ports are its own business, not the
        # command's: only errors of the search reach the user.
        warnings.simplefilter("ignore", ResourceWarning)
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                host="127.0.0.1",
                # Loopback, on any free port: never another cluster's.
                dashboard_address="127.0.0.1:0",
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
