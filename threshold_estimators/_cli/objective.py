"""The ``--objective`` grammar of the command line."""

from __future__ import annotations

import math
import re

from .._scoring import resolve_objective
from ..objectives import (
    F1,
    CostMatrix,
    FBeta,
    FixedThreshold,
    Objective,
    PrecisionTarget,
    RecallTarget,
)
from .common import DataError

GRAMMAR = """\
objectives (--objective OBJ):
  f1                  best F1 (the default)
  fbeta:B             best F-beta, e.g. fbeta:2 (recall weighs 2x precision)
  precision>=P        best recall with precision >= P, e.g. precision>=0.9
  recall>=R           best precision with recall >= R, e.g. recall>=0.95
  ...@C               with a confidence level C, e.g. precision>=0.9@0.95: a
                      lower confidence bound of precision must reach P
  cost:fp=A,fn=B      lowest cost, a false positive costing A and a false
                      negative B, e.g. cost:fp=1,fn=20
  threshold:T         no search: the cut T you give (any finite number), e.g.
                      threshold:0.25, with its precision, recall and F1
Quote the objective in a shell: --objective 'precision>=0.9'."""

_TARGETS = {"precision": PrecisionTarget, "recall": RecallTarget}


# The objectives in one line, for a malformed --objective (--help shows GRAMMAR).
_FORMS = (
    "f1, fbeta:B, precision>=P[@C], recall>=R[@C], cost:fp=A,fn=B or threshold:T "
    "(see --help)"
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


def _target(spec: str, name: str, target: str, confidence: str | None):
    letter = name[0].upper()
    value = _number(target, letter, spec)
    _check(spec, f"the target {letter}", value, 0 < value <= 1, f"a {name} in (0, 1]")
    kwargs = {}
    if confidence is not None:
        level = _number(confidence, "the confidence C", spec)
        kwargs["confidence"] = _check(
            spec,
            "the confidence C",
            level,
            0.5 <= level < 1,
            f"in [0.5, 1) (the probability that the {name} reaches {letter} on "
            "new data, e.g. 0.9 or 0.95)",
        )
    try:
        return _TARGETS[name](value, **kwargs)
    except TypeError:  # an install whose targets predate ``confidence``
        raise DataError(
            f"objective {spec!r}: this version of threshold_estimators has no "
            "confidence option; drop the '@C' part."
        ) from None


def _cost(spec: str, text: str) -> CostMatrix:
    costs = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name not in ("fp", "fn") or name in costs or not value:
            raise DataError(
                f"malformed objective {spec!r}: a cost objective is "
                "cost:fp=A,fn=B, each of fp and fn given once."
            )
        costs[name] = _number(value, name, spec)
    if set(costs) != {"fp", "fn"}:
        raise DataError(
            f"malformed objective {spec!r}: a cost objective needs both costs, "
            "cost:fp=A,fn=B."
        )
    # Which costs are valid is CostMatrix's rule alone, checked when
    # parse_objective resolves it; _refused puts its refusal in these terms.
    return CostMatrix([[0.0, costs["fp"]], [costs["fn"], 0.0]])


def _refused(spec: str, objective: Objective, error: ValueError) -> DataError:
    """The estimator's refusal of the objective ``spec``, in the grammar's terms."""
    matrix = getattr(objective, "matrix", None)
    if matrix is not None:
        (_, fp), (fn, _) = matrix
        return DataError(
            f"objective {spec!r}: the costs fp={fp:g} and fn={fn:g} are refused "
            "(cost:fp=A,fn=B is the cost matrix [[0, A], [B, 0]], rows the truth "
            f"and columns the prediction, a right call costing 0): {error}"
        )
    return DataError(f"objective {spec!r}: {error}")


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
    """
    text = "".join(spec.split()).lower()
    if text == "f1":
        objective = F1()
    elif match := re.fullmatch(r"fbeta:(.*)", text):
        beta = _number(match[1], "B", spec)
        objective = FBeta(beta=_check(spec, "B", beta, beta > 0, "> 0"))
    elif match := re.fullmatch(r"(precision|recall)>=([^@]*)(?:@(.*))?", text):
        objective = _target(spec, match[1], match[2], match[3])
    elif match := re.fullmatch(r"cost:(.*)", text):
        objective = _cost(spec, match[1])
    elif match := re.fullmatch(r"threshold:(.*)", text):
        objective = FixedThreshold(_number(match[1], "T", spec))
    else:
        raise DataError(f"malformed objective {spec!r}; expected {_FORMS}.")
    try:
        return resolve_objective(objective, None, 1)
    except ValueError as exc:
        raise _refused(spec, objective, exc) from None
