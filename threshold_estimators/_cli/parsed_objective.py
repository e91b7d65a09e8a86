"""An ``--objective`` once parsed: the objective, the columns it reads, and
how the library's refusals read in the grammar's and the file's terms."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..objectives import InfeasibleTargetError, Objective
from .common import DataError, UsageError

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
            if weight in roles:
                # Weights multiply the costs: the cost would count squared.
                raise UsageError(
                    f"--weight and {roles[weight]} name the same column, "
                    f"{weight!r}; weights multiply the per-row costs."
                )
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
        and line, an infeasible target or budget names the objective (whose
        letters P, R, C its remedy speaks of: ``common.in_command_terms``)."""
        text = str(error)
        if self.names and (
            "CostMatrix" in text or any(repr(name) in text for name in self.names)
        ):
            return self.explained(error, table)
        if isinstance(error, InfeasibleTargetError):
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
