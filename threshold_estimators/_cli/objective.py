"""The ``--objective`` grammar of the command line."""

from __future__ import annotations

import math
import re

from .._scoring import resolve_objective
from ..objectives import F1, CostMatrix, FBeta, Objective, PrecisionTarget, RecallTarget
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
Quote the objective in a shell: --objective 'precision>=0.9'."""

_TARGETS = {"precision": PrecisionTarget, "recall": RecallTarget}


def _number(text: str, what: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError(
            f"malformed objective {spec!r}: {what} must be a number, got {text!r}."
        )
    return value


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
    """
    text = "".join(spec.split()).lower()
    if text == "f1":
        objective = F1()
    elif match := re.fullmatch(r"fbeta:(.*)", text):
        objective = FBeta(beta=_number(match[1], "B", spec))
    elif match := re.fullmatch(r"(precision|recall)>=([^@]*)(?:@(.*))?", text):
        target = _number(match[2], match[1][0].upper(), spec)
        kwargs = {}
        if match[3] is not None:
            kwargs["confidence"] = _number(match[3], "the confidence C", spec)
        try:
            objective = _TARGETS[match[1]](target, **kwargs)
        except TypeError:  # an install whose targets predate ``confidence``
            raise DataError(
                f"objective {spec!r}: this version of threshold_estimators has no "
                "confidence option; drop the '@C' part."
            ) from None
    elif match := re.fullmatch(r"cost:(.*)", text):
        costs = {}
        for part in match[1].split(","):
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
        objective = CostMatrix([[0.0, costs["fp"]], [costs["fn"], 0.0]])
    else:
        raise DataError(f"malformed objective {spec!r}; expected one of\n{GRAMMAR}")
    try:
        return resolve_objective(objective, None, 1)
    except ValueError as exc:
        raise DataError(f"objective {spec!r}: {exc}") from None
