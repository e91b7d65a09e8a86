"""``threshold-estimators pick``: a threshold for scores from any system."""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._pick import ThresholdPick, pick_threshold
from .._validation import plain
from .columns import is_label, label_values, read_columns
from .common import (
    UsageError,
    add_prevalence_argument,
    add_weight_argument,
    counts_of,
    emit,
    labelled_csv_parser,
    positive_label,
    print_json,
    progress,
    rate_text,
    rates,
    rates_text,
    report_errors,
    sample_weights,
    warn_if_few_calls,
)
from .files import check_output, writing
from .objective import GRAMMAR, parse
from .pick_dask import LOCAL, dask_pick, refuse_unsupported

DESCRIPTION = """\
Choose the decision threshold for labels and scores produced by any system (a
model's validation predictions, a SQL export): the exact optimum of the
objective over every distinct score, as ThresholdTunedClassifier computes it,
with its precision, recall, F1, flagged rate (the share of rows called
positive) and cost. A row is predicted positive when its score is >= the
threshold; the threshold is the midpoint of the best gap between two adjacent
distinct scores. With --objective threshold:T nothing is searched: the report
gives the precision, recall and F1 of the cut T.

FILE.csv has a header row; the score column must be numeric (probabilities or
any decision values, greater meaning more likely positive). A cost objective
may read per-row costs from columns of FILE.csv (cost:fp=5,fn=@amount), and
--weight COL weighs the rows. --prevalence P picks the threshold for a
positive rate P other than the file's: each class's rows are reweighted to
it (exact under label shift), and so are the counts reported.

A cut calling fewer than 30 rows positive gets a warning on stderr with the
count: its precision, recall, F1 or cost, read on so few rows, may not hold on
new data (except for a target with a confidence level, @C, which accounts for
it, and a budget rate<=R, whose calls R sets).

FILE may also be Parquet (a .parquet or .pq file, or a directory of them;
read with pyarrow). Only the columns named are converted: the others may
hold any text.

With --dask, a Parquet FILE is read and searched on a dask cluster (a local
one on loopback, or the scheduler at ADDRESS): the same threshold and counts
as in memory, with the driver's memory independent of the number of rows.
It takes no --plot, --prevalence or per-row costs yet, and reports no count
of distinct scores."""


def add_parser(commands) -> None:
    parser = labelled_csv_parser(
        commands,
        "pick",
        help="choose a threshold for a CSV of labels and scores",
        description=DESCRIPTION,
        epilog=GRAMMAR,
    )
    parser.add_argument("--score", required=True, metavar="COL", help="score column")
    parser.add_argument(
        "--pos-label",
        metavar="V",
        help="the positive label (default: the greater of two labels, e.g. 1 of "
        "0/1); with more than two labels, V is tuned against all the others",
    )
    parser.add_argument(
        "--objective",
        default="f1",
        metavar="OBJ",
        help="what the threshold is chosen for (default: f1; see below)",
    )
    add_weight_argument(parser)
    add_prevalence_argument(parser)
    parser.add_argument(
        "--plot",
        metavar="OUT.png",
        help="save the objective, precision and recall curves against the "
        "threshold (needs matplotlib: pip install "
        '"threshold-estimators[plot]")',
    )
    parser.add_argument(
        "--dask",
        nargs="?",
        const=LOCAL,
        metavar="ADDRESS",
        help="search a Parquet FILE on a dask cluster: a local one started on "
        "loopback for the command, or the scheduler at ADDRESS (e.g. "
        'tcp://10.0.0.5:8786); needs pip install "threshold-estimators[dask,parquet]"',
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: threshold, precision, recall, f1, "
        "flagged_rate (cost and mean_cost for cost objectives), n, n_positive, "
        "pos_label, prevalence, the counts",
    )
    parser.set_defaults(run=run)


@report_errors
def run(args: argparse.Namespace) -> int:
    if args.label == args.score:
        raise UsageError(f"--label and --score name the same column, {args.label!r}.")
    # Fail before reading the data.
    parsed = parse(args.objective)
    roles = parsed.columns_read(
        args.weight, {args.label: "--label", args.score: "--score"}
    )
    check_output(args.plot, args.file, option="--plot")
    if args.dask is not None:
        refuse_unsupported(args, parsed)
        found = dask_pick(args, parsed)
        pick = found.pop("pick")
        report = _report(args, parsed, pick, **found, n_candidates=None)
        report["n_gathered"] = pick.search.n_gathered
        return _emit(args, report, pick, args.file)
    # Only the columns needed, compact: the labels as codes into their
    # distinct values (``columns``).
    table = read_columns(
        args.file, label=args.label, numeric=[args.score, *roles], roles=roles
    )
    labels, codes = label_values(table, args.label)
    score = table.numeric(args.score, allow_missing=False)
    pos_label = positive_label(labels, args.label, "pick", args.pos_label)
    positive = is_label(labels, codes, pos_label)
    del labels, codes
    weight = (
        None if args.weight is None else sample_weights(table, args.weight, positive)
    )
    costs = parsed.row_costs(table, positive)
    # The objective is written for (negative, positive) classes: picked on
    # booleans, the positive class is True, the greater, whatever the labels
    # (a CostMatrix reads its classes in sorted order).
    # The distinct scores are counted while the search runs: numpy sorts
    # without the interpreter lock, on another core.
    with ThreadPoolExecutor(max_workers=1) as pool:
        distinct = None if args.plot else pool.submit(_distinct_scores, score, weight)
        try:
            pick = pick_threshold(
                positive,
                score,
                parsed.objective,
                pos_label=True,
                sample_weight=weight,
                prevalence=args.prevalence,
                **costs,
            )
        except ValueError as exc:
            raise parsed.refusal(exc, table) from None
        n_candidates = _n_candidates(pick, distinct)
    warn_if_few_calls(
        pick.objective,
        positive,
        score,
        pick.threshold,
        rows="scored",
        remedy="Label and score more rows, or ask for a bound on the precision: "
        "--objective 'precision>=P@C'.",
    )
    report = _report(
        args,
        parsed,
        pick,
        n=table.n_rows,
        n_positive=int(np.count_nonzero(positive)),
        pos_label=pos_label,
        observed=float(np.average(positive, weights=weight)),
        n_candidates=n_candidates,
    )
    if args.plot:
        _save_plot(args, table.path, pick, pos_label)
        report["plot"] = args.plot
    return _emit(args, report, pick, table.path)


def _report(args, parsed, pick, *, n, n_positive, pos_label, observed, n_candidates):
    """What ``pick`` prints (``--json``: as one object)."""
    # Reweighted to a --prevalence, the counts are weighted sums.
    weighted = args.weight is not None or args.prevalence is not None
    counts = counts_of((pick.tp, pick.fp, pick.tn, pick.fn), weighted)
    report = {
        "threshold": pick.threshold,
        **rates(*counts, **parsed.cost_report(pick.objective, pick.score)),
        "objective": args.objective,
        "objective_value": pick.score,
        "n": n,
        "n_positive": n_positive,
        "pos_label": plain(pos_label),
        "prevalence": observed if args.prevalence is None else args.prevalence,
        "observed_prevalence": observed,
        "n_candidates": n_candidates,
    }
    if args.weight is not None:
        report["weight"] = args.weight
    if parsed.names:
        report["cost_columns"] = parsed.columns
    return report


def _emit(args, report: dict, pick: ThresholdPick, source: str) -> int:
    if args.json:
        print_json(report)
        return 0
    distinct = report["n_candidates"]
    emit(
        f"{source}: {report['n']} rows, {report['n_positive']} with label "
        f"{report['pos_label']!r} (the positive class), "
        + (
            f"{distinct} distinct scores"
            if distinct is not None
            else f"searched on dask ({report['n_gathered']} rows gathered)"
        )
    )
    emit(
        f"objective {args.objective}: predict {report['pos_label']!r} when "
        f"{args.score} >= {pick.threshold!r}"
    )
    if args.prevalence is not None:
        emit(
            f"decided for a rate of {report['pos_label']!r} of "
            f"{rate_text(args.prevalence)} (the file's is "
            f"{rate_text(report['observed_prevalence'])}); the counts below are "
            "reweighted to it"
        )
    emit(rates_text(report))
    return 0


def _n_candidates(pick: ThresholdPick, distinct) -> int:
    """``pick.n_candidates``, the distinct scores of the rows of positive
    weight, without the whole curve when the search did without it (a
    bucketed search on many rows): ``distinct``, a count from a sort of the
    scores, 8 bytes a row, rather than the curve's arrays."""
    if distinct is None or not callable(getattr(pick.search, "_whole", None)):
        return pick.n_candidates  # built already, or needed for the plot
    return distinct.result()


def _distinct_scores(score, weight) -> int:
    ordered = np.sort(score if weight is None else score[weight > 0])
    return int(np.count_nonzero(ordered[1:] != ordered[:-1])) + int(ordered.size > 0)


def _save_plot(args, source, pick: ThresholdPick, pos_label) -> None:
    from .._plot_data import display_params
    from ..plotting import ThresholdCurveDisplay, _check_matplotlib

    _check_matplotlib("threshold-estimators pick --plot")
    # A Figure without pyplot: no GUI backend is involved in saving a file.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), layout="constrained")
    display = ThresholdCurveDisplay(
        **display_params(
            pick.curve.thresholds,
            pick.curve.counts,
            pick.objective_values,
            pick.objective,
            threshold=pick.threshold,
            pos_label=pos_label,
            name=f"{source}: {args.score}, objective {args.objective}",
        )
    )
    display.plot(ax=figure.subplots())
    with writing(args.plot) as name:
        figure.savefig(name)
    progress(args, f"saved the curves to {args.plot}")
