"""Sort: order the rows.

Spec::

    {"columns": [{"column": "day", "direction": "desc", "nulls": "last"}, "carrier"]}

A bare name sorts ascending; empty values go last unless ``nulls`` is ``first``. The order is kept
in the stored Parquet file; a table written inside PostgreSQL has no guaranteed order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from modelworks.engine.recipes.types import CompiledOutput, CompiledRecipe, LineageEdge, Relation
from modelworks.engine.recipes.visual.common import OrderKey, col, ordered, read_order_keys, source_as
from modelworks.engine.recipes.visual.spec import SpecReader, to_json

__all__ = ["compile_sort", "normalize_sort"]


@dataclass(frozen=True)
class SortSpec:
    columns: tuple[OrderKey, ...]


def read_sort_spec(spec: Mapping[str, Any] | None, *, recipe: str) -> SortSpec:
    reader = SpecReader(spec, recipe=recipe)
    reader.allow("columns")
    return SortSpec(read_order_keys(reader, "columns", required=True))


def normalize_sort(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    result: dict[str, Any] = to_json(read_sort_spec(spec, recipe=recipe))
    return result


def compile_sort(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], outputs: Sequence[str], *, recipe: str
) -> CompiledRecipe:
    """Compile a sort recipe (see the module docstring for the spec)."""
    parsed = read_sort_spec(spec, recipe=recipe)
    relation, output = inputs[0], outputs[0]
    names = relation.column_names
    query = (
        exp.select(*[exp.alias_(col(n), n, quoted=True) for n in names])
        .from_(source_as(relation, "src"))
        .order_by(*ordered(parsed.columns, relation, recipe=recipe, where="columns"))
    )
    lineage = tuple(LineageEdge(output, n, relation.name, n) for n in names)
    return CompiledRecipe((CompiledOutput(output, query),), lineage)
