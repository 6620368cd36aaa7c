"""Stack: the rows of two or more inputs one after the other (SQL ``UNION``).

Spec::

    {
      "mode": "by_name",          # by_name: match columns by name | by_position: by place
      "origin_column": null,      # e.g. "source": a column holding each row's input name
      "distinct": false           # true: drop duplicate rows (UNION instead of UNION ALL)
    }

By name, the output has every column of every input, in order of first appearance; an input
without a column gets nulls in it. By position, every input must have the same number of columns
and the output takes the first input's names. When a column's types differ, they are widened:
integer and decimal stay numbers, any of them with float becomes float, date with timestamp becomes
timestamp, anything else becomes text. Each filled or widened column is reported in the notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from modelworks.engine.recipes.types import (
    Column,
    CompiledOutput,
    CompiledRecipe,
    LineageEdge,
    RecipeSpecError,
    Relation,
)
from modelworks.engine.recipes.visual.common import col, physical_type, source_as
from modelworks.engine.recipes.visual.spec import SpecReader, to_json

__all__ = ["compile_stack", "normalize_stack", "widen"]


@dataclass(frozen=True)
class StackSpec:
    mode: str = "by_name"
    origin_column: str | None = None
    distinct: bool = False


def read_stack_spec(spec: Mapping[str, Any] | None, *, recipe: str) -> StackSpec:
    reader = SpecReader(spec, recipe=recipe)
    reader.allow("mode", "origin_column", "distinct")
    return StackSpec(
        mode=reader.string("mode", "by_name", choices=("by_name", "by_position")),
        origin_column=reader.string("origin_column", None),
        distinct=reader.boolean("distinct", False),
    )


def normalize_stack(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    result: dict[str, Any] = to_json(read_stack_spec(spec, recipe=recipe))
    return result


def widen(types: Sequence[str]) -> str:
    """The logical type that holds values of all ``types``."""
    kinds = set(types)
    if len(kinds) == 1:
        return types[0]
    if kinds <= {"integer", "decimal"}:
        return "decimal"
    if kinds <= {"integer", "decimal", "float"}:
        return "float"
    if kinds <= {"date", "timestamp"}:
        return "timestamp"
    return "string"


def compile_stack(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], outputs: Sequence[str], *, recipe: str
) -> CompiledRecipe:
    """Compile a stack recipe (see the module docstring for the spec)."""
    parsed = read_stack_spec(spec, recipe=recipe)
    output = outputs[0]
    if len(inputs) < 2:
        raise RecipeSpecError(f"recipe {recipe!r}: stacking needs at least two inputs, it has {len(inputs)}")
    notes: list[str] = []
    # For each output column: its name and, per input, the input column that fills it (or None).
    layout: list[tuple[str, list[Column | None]]] = []
    if parsed.mode == "by_position":
        width = len(inputs[0].columns)
        for relation in inputs[1:]:
            if len(relation.columns) != width:
                raise RecipeSpecError(
                    f"recipe {recipe!r}: stacking by position needs the same number of columns, but input "
                    f"{inputs[0].name!r} has {width} and {relation.name!r} has {len(relation.columns)}; "
                    "stack by name instead, or select the same columns first",
                    recipe=recipe,
                )
        for i, first in enumerate(inputs[0].columns):
            layout.append((first.name, [r.columns[i] for r in inputs]))
    else:
        order: dict[str, str] = {}
        for relation in inputs:
            for column in relation.columns:
                order.setdefault(column.name.lower(), column.name)
        for lowered, name in order.items():
            sources = [next((c for c in r.columns if c.name.lower() == lowered), None) for r in inputs]
            layout.append((name, sources))
            missing = [r.name for r, c in zip(inputs, sources, strict=True) if c is None]
            if missing:
                notes.append(
                    f"column {name!r} is missing from {', '.join(map(repr, missing))}: filled with nulls"
                )
    if parsed.origin_column is not None and parsed.origin_column.lower() in {n.lower() for n, _ in layout}:
        raise RecipeSpecError(
            f"recipe {recipe!r}: setting 'origin_column' {parsed.origin_column!r} is already a column of the "
            "inputs; choose another name",
            setting="origin_column",
            recipe=recipe,
        )
    targets: list[str] = []
    for name, sources in layout:
        present = [c.type for c in sources if c is not None]
        target = widen(present)
        targets.append(target)
        if len(set(present)) > 1:
            described = ", ".join(
                f"{c.type} in {r.name!r}" for r, c in zip(inputs, sources, strict=True) if c is not None
            )
            notes.append(f"column {name!r} is {described}: stacked as {target}")
    branches: list[exp.Query] = []
    for index, relation in enumerate(inputs):
        selects: list[exp.Expr] = []
        for (name, sources), target in zip(layout, targets, strict=True):
            source = sources[index]
            cast_to = physical_type(target)
            value: exp.Expr
            if source is None:
                value = exp.cast(exp.Null(), cast_to) if cast_to is not None else exp.Null()
            elif source.type != target and cast_to is not None:
                value = exp.cast(col(source.name), cast_to)
            else:
                value = col(source.name)
            selects.append(exp.alias_(value, name, quoted=True))
        if parsed.origin_column is not None:
            selects.append(exp.alias_(exp.Literal.string(relation.name), parsed.origin_column, quoted=True))
        branches.append(exp.select(*selects).from_(source_as(relation, f"t{index}")))
    query: exp.Query = branches[0]
    for branch in branches[1:]:
        query = exp.union(query, branch, distinct=parsed.distinct)
    lineage = [
        LineageEdge(
            output,
            name,
            relation.name,
            source.name,
            "identity" if source.type == target else "transformation",
        )
        for (name, sources), target in zip(layout, targets, strict=True)
        for relation, source in zip(inputs, sources, strict=True)
        if source is not None
    ]
    return CompiledRecipe((CompiledOutput(output, query),), tuple(lineage), True, tuple(notes))
