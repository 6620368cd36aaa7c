"""Top-N: the first N rows of each group by an order (e.g. the 3 latest orders of each customer).

Spec::

    {
      "n": 3,
      "order_by": [{"column": "amount", "direction": "desc"}],
      "group_by": ["customer"],       # optional: without it, N rows overall
      "rank_column": "rank",          # null: no rank column in the output
      "ties": "row_number"            # row_number: exactly N | rank / dense_rank: keep ties
    }

The output keeps every input column, adds the rank column, and is ordered by group and rank.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from modelworks.engine.recipes.types import (
    CompiledOutput,
    CompiledRecipe,
    LineageEdge,
    RecipeSpecError,
    Relation,
)
from modelworks.engine.recipes.visual.common import (
    OrderKey,
    col,
    ordered,
    read_order_keys,
    source_as,
    unique_name,
)
from modelworks.engine.recipes.visual.spec import SpecReader, to_json

__all__ = ["compile_top_n", "normalize_top_n"]

_TIES = ("row_number", "rank", "dense_rank")


@dataclass(frozen=True)
class TopNSpec:
    n: int
    order_by: tuple[OrderKey, ...]
    group_by: tuple[str, ...] = ()
    rank_column: str | None = "rank"
    ties: str = "row_number"


def read_top_n_spec(spec: Mapping[str, Any] | None, *, recipe: str) -> TopNSpec:
    reader = SpecReader(spec, recipe=recipe)
    reader.allow("n", "order_by", "group_by", "rank_column", "ties")
    rank_column = reader.data.get("rank_column", "rank")
    if rank_column is not None and (not isinstance(rank_column, str) or not rank_column.strip()):
        raise reader.error("rank_column", f"must be a column name or null, not {rank_column!r}")
    return TopNSpec(
        n=reader.integer("n", minimum=1),
        order_by=read_order_keys(reader, "order_by", required=True),
        group_by=reader.strings("group_by", ()),
        rank_column=rank_column,
        ties=reader.string("ties", "row_number", choices=_TIES),
    )


def normalize_top_n(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    result: dict[str, Any] = to_json(read_top_n_spec(spec, recipe=recipe))
    return result


def compile_top_n(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], outputs: Sequence[str], *, recipe: str
) -> CompiledRecipe:
    """Compile a top-N recipe (see the module docstring for the spec)."""
    parsed = read_top_n_spec(spec, recipe=recipe)
    relation, output = inputs[0], outputs[0]
    names = relation.column_names
    for name in parsed.group_by:
        relation.column(name, recipe=recipe, where="group_by")
    if parsed.rank_column is not None and parsed.rank_column.lower() in {n.lower() for n in names}:
        raise RecipeSpecError(
            f"recipe {recipe!r}: setting 'rank_column' {parsed.rank_column!r} is already a column; choose another "
            "name or set it to null",
            setting="rank_column",
            recipe=recipe,
        )
    rank_name = parsed.rank_column or unique_name("__mw_rank", names)
    order = ordered(parsed.order_by, relation, recipe=recipe, where="order_by")
    function: exp.Expr = {
        "row_number": exp.RowNumber(),
        "rank": exp.Rank(),
        "dense_rank": exp.DenseRank(),
    }[parsed.ties]
    window = exp.Window(
        this=function,
        partition_by=[col(g) for g in parsed.group_by] or None,
        order=exp.Order(expressions=order),
    )
    inner = exp.select(*[col(n) for n in names], exp.alias_(window, rank_name, quoted=True)).from_(
        source_as(relation, "src")
    )
    selects = [exp.alias_(col(n), n, quoted=True) for n in names]
    if parsed.rank_column is not None:
        selects.append(col(rank_name))
    query = (
        exp.select(*selects)
        .from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("ranked", quoted=True))))
        .where(exp.LTE(this=col(rank_name), expression=exp.Literal.number(parsed.n)))
        .order_by(
            *[exp.Ordered(this=col(g), nulls_first=False) for g in parsed.group_by],
            exp.Ordered(this=col(rank_name), nulls_first=False),
        )
    )
    lineage = [LineageEdge(output, n, relation.name, n) for n in names]
    if parsed.rank_column is not None:
        lineage += [
            LineageEdge(output, parsed.rank_column, relation.name, k.column, "transformation")
            for k in parsed.order_by
        ]
    return CompiledRecipe((CompiledOutput(output, query),), tuple(lineage))
