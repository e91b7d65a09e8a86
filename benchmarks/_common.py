"""Table, environment and timing helpers the benchmark scripts import as _common."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

import numpy as np
import scipy
import sklearn
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_info

import threshold_estimators

N_FOLDS = 5


def render_table(
    header: Sequence[str],
    rows: Iterable[Sequence[object] | None],
    *,
    left: Collection[int] = (),
    sep: str = "  ",
) -> str:
    """A plain-text table: header, rule of dashes, aligned rows; no trailing blanks.

    Parameters
    ----------
    header : sequence of str
    rows : iterable of sequences or None
        Cells, shown with ``str``; ``None`` is a blank line.
    left : collection of int, default=()
        The left-aligned columns; the others are right-aligned.
    sep : str, default="  "
        Between columns; in the rule, one with a bar (``" | "``) becomes ``"-+-"``.

    Returns
    -------
    str
    """
    body = [None if row is None else [str(cell) for cell in row] for row in rows]
    cells = [list(header), *(row for row in body if row is not None)]
    widths = [max(len(row[col]) for row in cells) for col in range(len(header))]

    def join(row: Sequence[str], between: str = sep) -> str:
        return between.join(
            cell.ljust(width) if col in left else cell.rjust(width)
            for col, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    rule = sep.replace(" ", "-").replace("|", "+") if "|" in sep else sep
    lines = [join(header), join(["-" * width for width in widths], rule)]
    return "\n".join([*lines, *("" if row is None else join(row) for row in body)])


def load_average(when: str) -> str:
    """The 1-minute load average: other processes on the machine skew timings."""
    load = f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "unknown"
    return f"load average {when}: {load}"


def environment(settings: str = "") -> list[str]:
    """The run's environment, as lines to print.

    Python and platform; numpy, scipy, scikit-learn and threshold_estimators
    versions; ``settings``, the CPU count; the load average; the sorted thread pools.

    Parameters
    ----------
    settings : str, default=""
        The run's own settings (sizes, seeds), put before the CPU count.
    """
    cpus = f"os.cpu_count() = {os.cpu_count()}"
    return [
        f"python {platform.python_version()} on {platform.platform()}",
        f"numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, "
        f"threshold_estimators {threshold_estimators.__version__}",
        f"{settings}, {cpus}" if settings else cpus,
        load_average("at start"),
        *sorted(
            f"{pool.get('user_api')}: {pool.get('internal_api')} "
            f"{pool.get('version')}, {pool.get('num_threads')} threads "
            f"({os.path.basename(pool.get('filepath', ''))})"
            for pool in threadpool_info()
        ),
    ]


def median_times(
    funcs: dict[str, Callable[[], object]], repeats: int
) -> dict[str, tuple[float, object]]:
    """Median wall time of ``repeats`` calls of each function, and its last result.

    The calls are interleaved (``a b a b ...``), so that a load spike from another
    process on the machine hits the compared functions alike.

    Parameters
    ----------
    funcs : dict of str to callable
        The functions to time, called without arguments.
    repeats : int
        Calls of each function.

    Returns
    -------
    timed : dict of str to (seconds, last result)
    """
    times: dict[str, list[float]] = {name: [] for name in funcs}
    results = {}
    for _ in range(repeats):
        for name, func in funcs.items():
            start = time.perf_counter()
            results[name] = func()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]), results[name]) for name in funcs}


def bare_fits(
    make_model: Callable[[], Any],
    X: np.ndarray,
    y: np.ndarray,
    method: str | None = None,
) -> None:
    """A tuner's fits without the tuning, to time with :func:`median_times`.

    One fit per fold of an unshuffled ``StratifiedKFold(5)``, one refit on all.

    Parameters
    ----------
    make_model : callable
        Returns a new unfitted model.
    X, y : ndarray
    method : str or None, default=None
        ``None``: fit the training folds (row indexing included), nothing else;
        else also predict out of fold, by ``cross_val_predict(method=method)``.
    """
    folds = StratifiedKFold(N_FOLDS)
    if method is None:
        for train, _ in folds.split(X, y):
            make_model().fit(X[train], y[train])
    else:
        cross_val_predict(make_model(), X, y, cv=folds, method=method)
    make_model().fit(X, y)
