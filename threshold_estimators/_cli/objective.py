"""The ``--objective`` grammar of the command line."""

from __future__ import annotations

import math
import re

from .._scoring import resolve_objective
from ..objectives import (
    F1,
    AlertBudget,
    CostMatrix,
    FBeta,
    FixedThreshold,
    Objective,
    PrecisionTarget,
    RecallTarget,
)
from .common import DataError
from .parsed_objective import (
    _COST_FORM,
    _COST_KEYS,
    ParsedObjective,
    _Column,
    _shown,
)

GRAMMAR = """\
objectives (--objective OBJ):
  f1                  best F1 (the default)
  fbeta:B             best F-beta, e.g. fbeta:2 (recall weighs 2x precision)
  precision>=P        best recall with precision >= P, e.g. precision>=0.9
  recall>=R           best precision with recall >= R, e.g. recall>=0.95
  ...@C               with a confidence level C, e.g. precision>=0.9@0.95: a
                      lower confidence bound of precision must reach P, the
                      threshold chosen so that the promise holds with
                      probability C (the sharp sequence; on --dask, recall
                      only)
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
