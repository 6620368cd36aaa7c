"""Pieces every visual recipe shares: quoted names, sources as FROM items, ordering.

Column names only ever become quoted identifiers and user values only SQLGlot literals, so nothing
a user types is spliced into SQL text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from modelworks.engine.io.schema import LOGICAL_TYPES
from modelworks.engine.recipes.types import Relation
from modelworks.engine.recipes.visual.spec import SpecReader

__all__ = [
    "NUMERIC_TYPES",
    "OrderKey",
    "col",
    "ident",
    "ordered",
    "physical_type",
    "read_order_keys",
    "source_as",
    "unique_name",
]

NUMERIC_TYPES = frozenset({"integer", "float", "decimal"})

# --- names and sources ---------------------------------------------------------------------------


def ident(name: str) -> exp.Identifier:
    """A quoted identifier (any text is safe as a column or alias name)."""
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    """A quoted column reference, optionally qualified by a quoted table alias."""
    return exp.Column(this=ident(name), table=ident(table) if table else None)


def source_as(relation: Relation, alias: str) -> exp.Expr:
    """The relation's source as a FROM item called ``alias`` (a copy: trees are mutable)."""
    src = relation.source.copy()
    table_alias = exp.TableAlias(this=ident(alias))
    if isinstance(src, exp.Table | exp.Subquery):
        src.set("alias", table_alias)
        return src
    if isinstance(src, exp.Query):
        return exp.Subquery(this=src, alias=table_alias)
    return exp.Table(this=src, alias=table_alias)


def unique_name(name: str, taken: Iterable[str]) -> str:
    """``name`` or ``name_2``, ``name_3``… whichever is not taken (compared ignoring case, as SQL does)."""
    used = {t.lower() for t in taken}
    if name.lower() not in used:
        return name
    n = 2
    while f"{name}_{n}".lower() in used:
        n += 1
    return f"{name}_{n}"


def physical_type(logical: str) -> exp.DataType | None:
    """The type a cast to ``logical`` uses, or ``None`` when no portable cast exists."""
    physical = LOGICAL_TYPES.get(logical)
    return exp.DataType.build(physical) if physical else None


# --- ordering ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderKey:
    """Sort by ``column``: ``direction`` ``asc``/``desc``, ``nulls`` ``first``/``last``."""

    column: str
    direction: str = "asc"
    nulls: str = "last"


def read_order_keys(reader: SpecReader, key: str, *, required: bool) -> tuple[OrderKey, ...]:
    """A list of ``{"column", "direction", "nulls"}`` (a bare column name means ascending)."""
    raw = reader.data.get(key)
    if isinstance(raw, list):
        raw = [{"column": item} if isinstance(item, str) else item for item in raw]
        reader = SpecReader({**reader.data, key: raw}, recipe=reader.recipe, where=reader.where)
    keys = []
    for item in reader.objects(key, "sort column", required=required):
        item.allow("column", "direction", "nulls")
        keys.append(
            OrderKey(
                column=item.string("column"),
                direction=item.string("direction", "asc", choices=("asc", "desc")),
                nulls=item.string("nulls", "last", choices=("first", "last")),
            )
        )
    return tuple(keys)


def ordered(
    keys: Sequence[OrderKey], relation: Relation, *, recipe: str, where: str, table: str | None = None
) -> list[exp.Ordered]:
    """``ORDER BY`` items with the null placement always explicit (DuckDB and PostgreSQL differ)."""
    result = []
    for key in keys:
        relation.column(key.column, recipe=recipe, where=where)
        result.append(
            exp.Ordered(
                this=col(key.column, table), desc=key.direction == "desc", nulls_first=key.nulls == "first"
            )
        )
    return result
