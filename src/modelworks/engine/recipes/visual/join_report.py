"""The unmatched-rows report of a join recipe: per join, how many rows of each side find no match.

The queries are cheap aggregates over the join's own inputs (``count(*)`` and a ``NOT EXISTS`` probe
with the join's keys and condition); ``engine.flow.reports`` runs them over the input files (a build,
or a preview's sample) or inside PostgreSQL (a push-down build).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from modelworks.engine.recipes.types import Relation
from modelworks.engine.recipes.visual.common import source_as
from modelworks.engine.recipes.visual.join import JoinPlan, read_join_spec

__all__ = ["JOIN_SYMBOLS", "UnmatchedQuery", "unmatched_report", "unmatched_report_queries"]

#: How reports write each join type between the two input names. Words, not the relational algebra
#: signs (⟕ ⟖ ⟗ ▷): common fonts (Debian's Chromium) draw those as empty boxes.
JOIN_SYMBOLS = {
    "inner": "INNER JOIN",
    "left": "LEFT JOIN",
    "right": "RIGHT JOIN",
    "full": "FULL JOIN",
    "cross": "CROSS JOIN",
    "semi": "SEMI JOIN",
    "anti": "ANTI JOIN",
}


@dataclass(frozen=True)
class UnmatchedQuery:
    """One count of the unmatched-rows report: the rows of input ``side`` that find no row of input
    ``other`` by the keys (and condition) of join number ``join``.

    Attributes:
        join: the join's number, 1-based (join 1 attaches the second input).
        join_type: ``inner``, ``left``… (see :data:`JOIN_TYPES`).
        left: the earlier input the join's keys come from; ``right``: the input it attaches.
        side, other: the input whose rows are counted, and the one they are looked up in.
        query: one row: ``total_rows`` (rows of ``side``) and ``unmatched_rows``.
    """

    join: int
    join_type: str
    left: str
    right: str
    side: str
    other: str
    query: exp.Query

    @property
    def key(self) -> str:
        """``"join 1: flights rows not in carriers"``."""
        return f"join {self.join}: {self.side} rows not in {self.other}"


def unmatched_report(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], *, recipe: str
) -> tuple[UnmatchedQuery, ...]:
    """The queries counting, for each join, the rows of each side that find no match on the other.

    The left side comes first for each join. A join whose keys come from several earlier inputs, a
    condition that uses a third input, and cross joins have no report.

    Raises:
        RecipeSpecError / MissingColumnError: as :func:`compile_join`.
    """
    plan = JoinPlan(read_join_spec(spec, recipe=recipe), inputs, recipe=recipe)
    reports: list[UnmatchedQuery] = []
    for k, step in enumerate(plan.spec.joins):
        if step.type == "cross":
            continue
        on, used = plan.key_condition(k, step)
        if on is None or len(used) != 1:
            continue
        (left_index,) = used
        # An extra condition must only use these two inputs to be part of the report.
        names_used = {c.table for c in on.find_all(exp.Column)}
        if not names_used <= {plan.alias(left_index), plan.alias(k + 1)}:
            continue
        for outer, inner in ((left_index, k + 1), (k + 1, left_index)):
            probe = exp.Exists(
                this=exp.select(exp.Literal.number(1))
                .from_(source_as(inputs[inner], plan.alias(inner)))
                .where(on)
            )
            unmatched = exp.Sum(
                this=exp.Case(
                    ifs=[exp.If(this=exp.not_(probe), true=exp.Literal.number(1))],
                    default=exp.Literal.number(0),
                )
            )
            query = exp.select(
                exp.alias_(exp.Count(this=exp.Star()), "total_rows", quoted=True),
                exp.alias_(
                    exp.Coalesce(this=unmatched, expressions=[exp.Literal.number(0)]),
                    "unmatched_rows",
                    quoted=True,
                ),
            ).from_(source_as(inputs[outer], plan.alias(outer)))
            reports.append(
                UnmatchedQuery(
                    join=k + 1,
                    join_type=step.type,
                    left=inputs[left_index].name,
                    right=inputs[k + 1].name,
                    side=inputs[outer].name,
                    other=inputs[inner].name,
                    query=query,
                )
            )
    return tuple(reports)


def unmatched_report_queries(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], *, recipe: str
) -> dict[str, exp.Query]:
    """Queries counting, for each join, the rows of each side that find no match on the other.

    Each query returns one row: ``total_rows`` and ``unmatched_rows``. A join whose keys come from
    several earlier inputs, and cross joins, have no report (see :func:`unmatched_report`, which
    also says which join and side each query counts).

    Returns:
        ``{"join 1: flights rows not in carriers": query, "join 1: carriers rows not in flights": …}``.
    """
    return {item.key: item.query for item in unmatched_report(spec, inputs, recipe=recipe)}
