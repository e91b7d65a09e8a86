"""The ``--objective`` grammar of the command line."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from .._scoring import resolve_objective
from ..objectives import (
    F1,
    AlertBudget,
    CostMatrix,
    FBeta,
    FixedThreshold,
    InfeasibleTargetError,
    Objective,
    PrecisionTarget,
    RecallTarget,
)
from .common import DataError, UsageError

GRAMMAR = """\
objectives (--objective OBJ):
  f1                  best F1 (the default)
  fbeta:B             best F-beta, e.g. fbeta:2 (recall weighs 2x precision)
  precision>=P        best recall with precision >= P, e.g. precision>=0.9
  recall>=R           best precision with recall >= R, e.g. recall>=0.95
  ...@C               with a confidence level C, e.g. precision>=0.9@0.95: a
                      lower confidence bound of precision must reach P
  cost:fp=A,fn=B      lowest cost, a false positive costing A and a false
                      negative B, e.g. cost:fp=1,fn=20; tp=C and tn=D (0
                      unless given; negative: a gain) may be added
  cost:fp=A,fn=@COL   a cost read per row from column COL of FILE.csv, for
                      any of tp, fp, tn, fn, e.g. cost:fp=5,fn=@amount (a
                      missed positive costs its amount); @"COL" for a column
                      name holding a comma
  rate<=R             flag (call positive) at most a share R of the rows, in
                      (0, 1], with the best recall there, e.g. rate<=0.02
  rate<=R@C           ... the flagged rate's upper confidence bound at level C
                      within R (a margin for new data), e.g. rate<=0.02@0.95
  rate<=R,precision>=P, rate<=R,recall>=Q
                      the budget with a precision (recall) floor as well, e.g.
                      rate<=0.02,precision>=0.3 (both floors may be given)
  threshold:T         no search: the cut T you give (any finite number), e.g.
                      threshold:0.25, with its precision, recall and F1
--weight COL weighs each row (the counts, rates and costs) by column COL.
Quote the objective in a shell: --objective 'precision>=0.9'."""

_TARGETS = {"precision": PrecisionTarget, "recall": RecallTarget}


# The objectives in one line, for a malformed --objective (--help shows GRAMMAR).
_FORMS = (
    "f1, fbeta:B, precision>=P[@C], recall>=R[@C], cost:fp=A,fn=B (each of "
    "tp, fp, tn, fn a number or @COLUMN), rate<=R[@C][,precision>=P][,recall>=Q] "
    "or threshold:T (see --help)"
)

# The keys of a cost objective, in the order of the cost matrix
# [[tn, fp], [fn, tp]]: rows the truth, columns the prediction, the classes
# (negative, positive).
_COST_KEYS = ("tn", "fp", "fn", "tp")
_COST_FORM = (
    "a cost objective is cost:fp=A,fn=B (tp=C and tn=D may be added), each key "
    "given once, each value a number or @COLUMN"
)


@dataclass(frozen=True)
class ParsedObjective:
    """An ``--objective``: the validated objective and the columns it reads.

    ``costs`` holds each cost key as written, a number or a column (``@COL``);
    ``names`` maps the name under which a per-row cost column reaches the
    library (``cost_0``, ``cost_1``, ...: a CostMatrix names a per-row cost
    with an identifier, and a column may be called anything) to the column.
    """

    spec: str
    objective: Objective
    costs: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """The CSV columns of per-row costs, in the order written."""
        return list(self.names.values())

    @property
    def is_cost(self) -> bool:
        return bool(self.costs)

    def roles(self) -> dict[str, str]:
        """Each column read, and where the objective names it (for messages)."""
        by_column: dict[str, list[str]] = {}
        for key in _COST_KEYS:
            value = self.costs.get(key)
            if isinstance(value, _Column):
                by_column.setdefault(value.name, []).append(f"{key}=@{value.name}")
        return {
            column: f"the per-row cost {', '.join(keys)} of --objective"
            for column, keys in by_column.items()
        }

    def columns_read(self, weight: str | None, taken: dict[str, str]) -> dict:
        """The columns the objective and ``--weight`` read, and what names
        each; a UsageError when one is a column ``taken`` (column: option) by
        another option, such as the label."""
        roles = self.roles()
        if weight is not None:
            roles[weight] = "--weight"
        for column, role in roles.items():
            if column in taken:
                raise UsageError(
                    f"{taken[column]} and {role} name the same column, {column!r}."
                )
        return roles

    def cost_report(self, objective: Objective, score: float) -> dict:
        """The cost arguments of ``common.rates`` for the fitted ``objective``
        and its ``score``: a constant cost matrix (whose cost is summed
        exactly from the counts), or with per-row costs the mean cost, minus
        the score (none when not a cost objective)."""
        if not self.is_cost:
            return {}
        if self.names:
            return {"mean_cost": -score}
        return {"matrix": objective.matrix}

    def row_costs(self, table, positive: np.ndarray) -> dict[str, np.ndarray]:
        """The per-row cost columns of ``table``, by the library's names.

        Each column must be numeric and complete; then the library's rules for
        per-row costs are checked now, before any search or fit, and a
        refusal is put in the file's terms (columns and lines).
        """
        metadata = {}
        for name, column in self.names.items():
            try:
                metadata[name] = table.numeric(column, allow_missing=False)
            except DataError as exc:
                raise DataError(f"objective {self.spec!r}: {exc}") from None
        if metadata:
            try:
                self.objective.row_costs(metadata, positive.astype(np.intp))
            except ValueError as exc:
                raise self.explained(exc, table) from None
        return metadata

    def refusal(self, error: ValueError, table) -> Exception:
        """The search's (or fit's) refusal ``error``, in the grammar's terms
        where it is the objective's: a refused per-row cost names its column
        and line, an infeasible budget speaks of R and C."""
        text = str(error)
        if self.names and (
            "CostMatrix" in text or any(repr(name) in text for name in self.names)
        ):
            return self.explained(error, table)
        if isinstance(error, InfeasibleTargetError) and isinstance(
            self.objective, AlertBudget
        ):
            text = text.replace("max_positive_rate", "R")
            text = text.replace("lower confidence", "lower C")
            text = text.replace(
                ", or pass on_infeasible='warn' to keep the budget alone.",
                ", or drop the floors.",
            )
            return DataError(f"objective {self.spec!r}: {text}")
        return error

    def explained(self, error: ValueError, table) -> DataError:
        """The library's refusal of the per-row costs, in the file's terms: the
        internal names become the columns, a row index its line in the file."""
        text = str(error)
        for name, column in self.names.items():
            text = text.replace(repr(name), f"column {column!r}")

        def line(match):
            row = int(match[1])
            if 0 <= row < len(table.lines):
                return f"line {table.lines[row]} of {table.path}"
            return match[0]

        text = re.sub(r"\brow (\d+)", line, text)
        text = text.replace("true class index 0", "a negative row")
        text = text.replace("true class index 1", "a positive row")
        text = re.sub(r"as class index 0\b", "predicted negative", text)
        text = re.sub(r"as class index 1\b", "predicted positive", text)
        return DataError(
            f"objective {self.spec!r} (the cost matrix [[tn, fp], [fn, tp]] = "
            f"{self._matrix_text()}, rows the truth, columns the prediction): {text}"
        )

    def _matrix_text(self) -> str:
        shown = [_shown(self.costs.get(key, 0.0)) for key in _COST_KEYS]
        return f"[[{shown[0]}, {shown[1]}], [{shown[2]}, {shown[3]}]]"


@dataclass(frozen=True)
class _Column:
    """A cost read per row from a column of the file (``@name``)."""

    name: str


def _shown(value) -> str:
    return f"@{value.name}" if isinstance(value, _Column) else f"{value:g}"


def _number(text: str, what: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError(
            f"malformed objective {spec!r}: {what} must be a finite number, got "
            f"{text!r}."
        )
    return value


def _check(spec: str, what: str, value: float, valid: bool, rule: str) -> float:
    """``value``, or a message in the grammar's terms (not the estimator's)."""
    if not valid:
        raise DataError(f"objective {spec!r}: {what} must be {rule}; got {value!r}.")
    return value


def _share(spec: str, letter: str, text: str, name: str, what: str) -> float:
    """A precision, recall or rate ``text``, in (0, 1]."""
    value = _number(text, letter, spec)
    return _check(spec, f"{what} {letter}", value, 0 < value <= 1, f"{name} in (0, 1]")


def _confidence(spec: str, text: str, promise: str) -> float:
    level = _number(text, "the confidence C", spec)
    return _check(
        spec,
        "the confidence C",
        level,
        0.5 <= level < 1,
        f"in [0.5, 1) (the probability that {promise} on new data, e.g. 0.9 or 0.95)",
    )


def _target(spec: str, name: str, target: str, confidence: str | None):
    letter = name[0].upper()
    value = _share(spec, letter, target, f"a {name}", "the target")
    kwargs = {}
    if confidence is not None:
        kwargs["confidence"] = _confidence(
            spec, confidence, f"the {name} reaches {letter}"
        )
    try:
        return _TARGETS[name](value, **kwargs)
    except TypeError:  # an install whose targets predate ``confidence``
        raise DataError(
            f"objective {spec!r}: this version of threshold_estimators has no "
            "confidence option; drop the '@C' part."
        ) from None


def _terms(spec: str, text: str) -> list[str]:
    """``text`` split at its commas, except inside double quotes."""
    terms, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise DataError(f"malformed objective {spec!r}: a double quote is not closed.")
    return [*terms, "".join(current)]


def _cost(spec: str) -> tuple[CostMatrix, dict, dict]:
    """The cost matrix of ``spec`` (cost:...), its keys as written, and the
    names of its per-row cost columns. Column names are read from ``spec`` as
    written (case and inner spaces kept); keys and numbers ignore case and
    spaces."""
    text = spec[spec.index(":") + 1 :]
    costs, names = {}, {}
    for term in _terms(spec, text):
        key, equals, value = term.partition("=")
        key, value = "".join(key.split()).lower(), value.strip()
        if key not in _COST_KEYS or key in costs or not equals or not value:
            raise DataError(f"malformed objective {spec!r}: {_COST_FORM}.")
        if not value.startswith("@"):
            costs[key] = _number("".join(value.split()), key, spec)
            continue
        column = value[1:].strip()
        if len(column) >= 2 and column[0] == column[-1] == '"':
            column = column[1:-1]
        if not column:
            raise DataError(
                f"malformed objective {spec!r}: {key}=@ needs a column name, e.g. "
                f"{key}=@amount."
            )
        costs[key] = _Column(column)
        if column not in names.values():
            names[f"cost_{len(names)}"] = column
    if not ({"fp", "tn"} & costs.keys() and {"fn", "tp"} & costs.keys()):
        raise DataError(
            f"malformed objective {spec!r}: a cost objective needs both costs, "
            "cost:fp=A,fn=B (a cost for each true class: fp or tn for the "
            "negatives, fn or tp for the positives)."
        )
    by_column = {column: name for name, column in names.items()}

    def entry(key):
        value = costs.get(key, 0.0)
        return by_column[value.name] if isinstance(value, _Column) else value

    tn, fp, fn, tp = (entry(key) for key in _COST_KEYS)
    # Which costs are valid is CostMatrix's rule alone, checked when
    # parse resolves it (numbers) or the rows come (per-row costs);
    # _refused and ParsedObjective.explained put its refusal in these terms.
    return CostMatrix([[tn, fp], [fn, tp]]), costs, names


def _budget(spec: str, text: str) -> AlertBudget:
    """``rate<=R[@C]``, with floors ``precision>=P`` and ``recall>=Q``, in any
    order, separated by commas."""
    malformed = (
        f"malformed objective {spec!r}: an alert budget is rate<=R[@C], "
        "optionally followed by ,precision>=P and/or ,recall>=Q, each once"
    )
    rate = confidence = None
    floors: dict[str, float] = {}
    for term in text.split(","):
        if match := re.fullmatch(r"rate<=([^@]*)(?:@(.*))?", term):
            if rate is not None:
                raise DataError(f"{malformed}; rate<= is given twice.")
            rate = _share(spec, "R", match[1], "a rate", "the budget")
            if match[2] is not None:
                confidence = _confidence(
                    spec, match[2], "the flagged rate stays within R"
                )
        elif match := re.fullmatch(r"(precision|recall)>=([^@]*)(@.*)?", term):
            name = match[1]
            if match[3] is not None:
                raise DataError(
                    f"{malformed}; with a budget, a confidence @C belongs to the "
                    f"rate (rate<=R@C), not to {name}>=."
                )
            if name in floors:
                raise DataError(f"{malformed}; {name}>= is given twice.")
            letter = "P" if name == "precision" else "Q"
            floors[name] = _share(spec, letter, match[2], f"a {name}", "the floor")
        else:
            raise DataError(f"{malformed}; got the term {term!r}.")
    if rate is None:
        raise DataError(
            f"{malformed}; terms separated by commas combine a budget rate<=R with "
            "floors, and the rate is missing."
        )
    return AlertBudget(
        rate,
        min_precision=floors.get("precision"),
        min_recall=floors.get("recall"),
        confidence=confidence,
    )


def _refused(
    spec: str, objective: Objective, costs: dict, names: dict, error
) -> DataError:
    """The estimator's refusal of the objective ``spec``, in the grammar's terms."""
    if costs:
        error = str(error)
        for name, column in names.items():
            error = error.replace(repr(name), repr(f"@{column}"))
        given = [
            f"{key}={_shown(costs[key])}"
            for key in ("fp", "fn", "tp", "tn")
            if key in costs
        ]
        listed = " and ".join(filter(None, [", ".join(given[:-1]), given[-1]]))
        if costs.keys() <= {"fp", "fn"}:
            form = (
                "cost:fp=A,fn=B is the cost matrix [[0, A], [B, 0]], rows the truth "
                "and columns the prediction, a right call costing 0"
            )
        else:
            form = (
                "cost:tn=D,fp=A,fn=B,tp=C is the cost matrix [[D, A], [B, C]], rows "
                "the truth and columns the prediction, a key not given costing 0"
            )
        return DataError(
            f"objective {spec!r}: the costs {listed} are refused ({form}): {error}"
        )
    return DataError(f"objective {spec!r}: {error}")


def parse(spec: str) -> ParsedObjective:
    """The validated objective written as ``spec``, and the columns it reads.

    A cost matrix is ``[[tn, fp], [fn, tp]]``: rows the truth, columns the
    prediction, classes in (negative, positive) order; a per-row cost
    ``@COL`` reaches the library under the name ``cost_0``, ``cost_1``, ...
    (see :attr:`ParsedObjective.names`).

    Examples
    --------
    >>> from threshold_estimators._cli.objective import parse
    >>> parsed = parse("cost:fp=5,fn=@amount usd")
    >>> parsed.objective.matrix, parsed.names
    ([[0.0, 5.0], ['cost_0', 0.0]], {'cost_0': 'amount usd'})
    >>> parse("rate<=0.02,precision>=0.3").objective
    AlertBudget(max_positive_rate=0.02, min_precision=0.3)
    """
    text = "".join(spec.split()).lower()
    costs: dict = {}
    names: dict = {}
    if text == "f1":
        objective = F1()
    elif re.fullmatch(r"cost:.*", text):
        objective, costs, names = _cost(spec)
    elif text.startswith("rate") or (
        "," in text and not text.startswith(("fbeta:", "threshold:"))
    ):
        objective = _budget(spec, text)
    elif match := re.fullmatch(r"fbeta:(.*)", text):
        beta = _number(match[1], "B", spec)
        objective = FBeta(beta=_check(spec, "B", beta, beta > 0, "> 0"))
    elif match := re.fullmatch(r"(precision|recall)>=([^@]*)(?:@(.*))?", text):
        objective = _target(spec, match[1], match[2], match[3])
    elif match := re.fullmatch(r"threshold:(.*)", text):
        objective = FixedThreshold(_number(match[1], "T", spec))
    else:
        raise DataError(f"malformed objective {spec!r}; expected {_FORMS}.")
    try:
        resolved = resolve_objective(objective, None, 1)
    except ValueError as exc:
        raise _refused(spec, objective, costs, names, exc) from None
    return ParsedObjective(spec, resolved, costs, names)


def parse_objective(spec: str) -> Objective:
    """The validated objective written as ``spec``, positive class second.

    A cost matrix is ``[[0, A], [B, 0]]``: rows the truth, columns the
    prediction, classes in (negative, positive) order.

    Examples
    --------
    >>> from threshold_estimators._cli.objective import parse_objective
    >>> parse_objective("recall >= 0.95")
    RecallTarget(min_recall=0.95)
    >>> parse_objective("cost:fn=20,fp=1").matrix
    [[0.0, 1.0], [20.0, 0.0]]
    >>> parse_objective("threshold:0.25")
    FixedThreshold(threshold=0.25)
    >>> parse_objective("rate <= 0.02 @ 0.95")
    AlertBudget(confidence=0.95, max_positive_rate=0.02)
    """
    return parse(spec).objective
