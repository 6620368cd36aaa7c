"""Split: send each row of one input to one of two or more outputs.

Spec, by mode::

    {"mode": "random", "fractions": [0.8, 0.2], "seed": 42, "id_column": null}
    {"mode": "condition",
     "conditions": [{"output": "late", "formula": "delay > 15"},
                    {"output": "early", "filters": [{"column": "delay", "op": "lt", "value": 0}]}],
     "other": "on_time"}
    {"mode": "time", "column": "day", "cutoffs": ["2024-06-01"]}
    {"mode": "time", "column": "day", "percentiles": [0.8]}

*random*: output ``i`` receives a share ``fractions[i]`` of the rows (the fractions may sum to less
than 1: the remaining rows are dropped; with one fraction fewer than outputs, the last output takes
the rest). Rows are placed by an md5 hash of ``seed`` and the row's values (or of ``id_column``), so
the same rows land in the same output on every run, in DuckDB and in PostgreSQL alike.
*condition*: the conditions are tried in order; a row goes to the output of the first one it
meets; rows that meet none go to ``other`` (an output) or are dropped when ``other`` is null.
*time*: by ``cutoffs`` (dates, timestamps or numbers, ascending; one fewer than outputs), output 1
gets the rows before the first cutoff, and so on; by ``percentiles`` (ascending, between 0 and 1),
the cutoffs are that percentile of the column. Rows with an empty time are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from modelworks.engine.errors import did_you_mean
from modelworks.engine.recipes.types import (
    CompiledOutput,
    CompiledRecipe,
    LineageEdge,
    RecipeSpecError,
    Relation,
)
from modelworks.engine.recipes.visual.common import NUMERIC_TYPES, col, source_as, unique_name
from modelworks.engine.recipes.visual.conditions import (
    Condition,
    condition_expression,
    literal_for,
    read_condition,
)
from modelworks.engine.recipes.visual.sampling import hash_fraction, row_hash_note, row_text, seeded_digest
from modelworks.engine.recipes.visual.spec import SpecReader, to_json

__all__ = ["SPLIT_MODES", "compile_split", "normalize_split"]

SPLIT_MODES = ("random", "condition", "time")
_EPSILON = 1e-9


@dataclass(frozen=True)
class Branch:
    output: str
    condition: Condition


@dataclass(frozen=True)
class SplitSpec:
    mode: str
    fractions: tuple[float, ...] = ()
    seed: int = 0
    id_column: str | None = None
    conditions: tuple[Branch, ...] = ()
    other: str | None = None
    column: str | None = None
    cutoffs: tuple[Any, ...] = ()
    percentiles: tuple[float, ...] = ()


def read_split_spec(spec: Mapping[str, Any] | None, *, recipe: str) -> SplitSpec:
    reader = SpecReader(spec, recipe=recipe)
    mode = reader.string("mode", choices=SPLIT_MODES)
    if mode == "random":
        reader.allow("mode", "fractions", "seed", "id_column")
        raw = reader.data.get("fractions")
        if not isinstance(raw, list) or not raw:
            raise reader.error("fractions", "needs one share per output, e.g. [0.8, 0.2]")
        fractions = tuple(
            SpecReader({"fraction": f}, recipe=recipe, where=f"fraction {i}").number(
                "fraction", minimum=0.0, maximum=1.0
            )
            for i, f in enumerate(raw, 1)
        )
        if sum(fractions) > 1 + _EPSILON:
            raise reader.error("fractions", f"add up to {sum(fractions):g}; they must add up to 1 or less")
        return SplitSpec(
            mode,
            fractions=fractions,
            seed=reader.integer("seed", 0),
            id_column=reader.string("id_column", None),
        )
    if mode == "condition":
        reader.allow("mode", "conditions", "other")
        branches = []
        for item in reader.objects("conditions", "condition"):
            item.allow("output", "formula", "filters", "match")
            condition = read_condition(item)
            if condition is None:
                raise item.error("formula", "is required: write a formula or add filters")
            branches.append(Branch(item.string("output"), condition))
        return SplitSpec(mode, conditions=tuple(branches), other=reader.string("other", None))
    reader.allow("mode", "column", "cutoffs", "percentiles")
    cutoffs = reader.data.get("cutoffs") or []
    percentiles_raw = reader.data.get("percentiles") or []
    if bool(cutoffs) == bool(percentiles_raw):
        raise reader.error("cutoffs", "or 'percentiles' is required (exactly one of them)")
    if not isinstance(cutoffs, list) or not isinstance(percentiles_raw, list):
        raise reader.error("cutoffs", "and 'percentiles' must be lists")
    percentiles = tuple(
        SpecReader({"p": p}, recipe=recipe, where=f"percentile {i}").number("p", minimum=0.0, maximum=1.0)
        for i, p in enumerate(percentiles_raw, 1)
    )
    if list(percentiles) != sorted(percentiles):
        raise reader.error("percentiles", "must be in ascending order")
    return SplitSpec(mode, column=reader.string("column"), cutoffs=tuple(cutoffs), percentiles=percentiles)


_MODE_SETTINGS = {
    "random": ("mode", "fractions", "seed", "id_column"),
    "condition": ("mode", "conditions", "other"),
    "time": ("mode", "column", "cutoffs", "percentiles"),
}


def normalize_split(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    parsed = read_split_spec(spec, recipe=recipe)
    everything: dict[str, Any] = to_json(parsed)
    result = {key: everything[key] for key in _MODE_SETTINGS[parsed.mode]}
    for branch in result.get("conditions", []):
        branch.update(branch.pop("condition"))
    return result


def _subquery(query: exp.Query, alias: str) -> exp.Subquery:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))


def compile_split(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], outputs: Sequence[str], *, recipe: str
) -> CompiledRecipe:
    """Compile a split recipe (see the module docstring for the spec)."""
    parsed = read_split_spec(spec, recipe=recipe)
    relation = inputs[0]
    if len(outputs) < 2:
        raise RecipeSpecError(f"recipe {recipe!r}: a split needs at least two outputs, it has {len(outputs)}")
    names = relation.column_names
    helper = unique_name("__mw_split", names)
    notes: list[str] = []
    if parsed.mode == "random":
        wheres, inner, notes = _random(parsed, relation, outputs, helper, recipe=recipe)
    elif parsed.mode == "condition":
        wheres, inner = _by_condition(parsed, relation, outputs, helper, recipe=recipe)
    else:
        wheres, inner = _by_time(parsed, relation, outputs, recipe=recipe)
        notes.append(f"rows with an empty {parsed.column!r} go to no output")
    compiled = []
    for output, where in zip(outputs, wheres, strict=True):
        query = exp.select(*[exp.alias_(col(n), n, quoted=True) for n in names]).from_(inner.copy())
        compiled.append(CompiledOutput(output, query.where(where) if where is not None else query))
    lineage = [LineageEdge(o, n, relation.name, n) for o in outputs for n in names]
    return CompiledRecipe(tuple(compiled), tuple(lineage), True, tuple(notes))


def _random(
    spec: SplitSpec, relation: Relation, outputs: Sequence[str], helper: str, *, recipe: str
) -> tuple[list[exp.Expr | None], exp.Expr, list[str]]:
    fractions = list(spec.fractions)
    last_takes_rest = len(fractions) == len(outputs) - 1
    if len(fractions) != len(outputs) and not last_takes_rest:
        raise RecipeSpecError(
            f"recipe {recipe!r}: setting 'fractions' has {len(fractions)} shares for {len(outputs)} outputs; "
            f"give one share per output (or one fewer: the last output then takes the rest)",
            setting="fractions",
            recipe=recipe,
        )
    if spec.id_column is not None:
        relation.column(spec.id_column, recipe=recipe, where="id_column")
    text = row_text([spec.id_column] if spec.id_column else relation.column_names)
    inner = exp.select(
        *[col(n) for n in relation.column_names],
        exp.alias_(seeded_digest(spec.seed, text), helper, quoted=True),
    ).from_(source_as(relation, "src"))
    fraction = hash_fraction(col(helper))
    wheres: list[exp.Expr | None] = []
    low = 0.0
    for i in range(len(outputs)):
        is_last = i == len(outputs) - 1
        high = 1.0 if last_takes_rest and is_last else low + fractions[i]
        parts: list[exp.Expr] = []
        if low > 0:
            parts.append(exp.GTE(this=fraction.copy(), expression=exp.Literal.number(repr(low))))
        if high < 1 - _EPSILON:
            parts.append(exp.LT(this=fraction.copy(), expression=exp.Literal.number(repr(high))))
        if high - low <= 0:
            parts = [exp.false()]
        wheres.append(exp.and_(*parts) if parts else None)
        low = high
    return wheres, _subquery(inner, "hashed"), row_hash_note(relation, spec.id_column)


def _by_condition(
    spec: SplitSpec, relation: Relation, outputs: Sequence[str], helper: str, *, recipe: str
) -> tuple[list[exp.Expr | None], exp.Expr]:
    for i, branch in enumerate(spec.conditions, 1):
        if branch.output not in outputs:
            raise RecipeSpecError(
                f"recipe {recipe!r} condition {i}: output {branch.output!r} is not an output of this recipe"
                f"{did_you_mean(branch.output, outputs)}; choose one of {', '.join(map(repr, outputs))}",
                setting="conditions",
                recipe=recipe,
            )
    if spec.other is not None and spec.other not in outputs:
        raise RecipeSpecError(
            f"recipe {recipe!r}: setting 'other' names {spec.other!r}, which is not an output of this recipe"
            f"{did_you_mean(spec.other, outputs)}",
            setting="other",
            recipe=recipe,
        )
    ifs = [
        exp.If(
            this=condition_expression(b.condition, relation, recipe=recipe, where=f"condition {i + 1}"),
            true=exp.Literal.number(i),
        )
        for i, b in enumerate(spec.conditions)
    ]
    branch_of = exp.Case(ifs=ifs, default=exp.Literal.number(-1))
    inner = exp.select(
        *[col(n) for n in relation.column_names], exp.alias_(branch_of, helper, quoted=True)
    ).from_(source_as(relation, "src"))
    wheres: list[exp.Expr | None] = []
    for output in outputs:
        codes = [i for i, b in enumerate(spec.conditions) if b.output == output]
        if output == spec.other:
            codes.append(-1)
        if not codes:
            raise RecipeSpecError(
                f"recipe {recipe!r}: output {output!r} receives no rows; add a condition for it or set it as 'other'",
                setting="conditions",
                recipe=recipe,
            )
        wheres.append(exp.In(this=col(helper), expressions=[exp.Literal.number(c) for c in codes]))
    return wheres, _subquery(inner, "branched")


def _by_time(
    spec: SplitSpec, relation: Relation, outputs: Sequence[str], *, recipe: str
) -> tuple[list[exp.Expr | None], exp.Expr]:
    assert spec.column is not None
    column = relation.column(spec.column, recipe=recipe, where="column")
    if column.type not in NUMERIC_TYPES | {"date", "timestamp"}:
        raise RecipeSpecError(
            f"recipe {recipe!r}: column {column.name!r} is {column.type}; splitting by time needs a date, "
            "timestamp or number column (convert it first with a Prepare recipe)",
            column=column.name,
            recipe=recipe,
        )
    count = len(spec.cutoffs) or len(spec.percentiles)
    if count != len(outputs) - 1:
        setting = "cutoffs" if spec.cutoffs else "percentiles"
        raise RecipeSpecError(
            f"recipe {recipe!r}: setting {setting!r} has {count} values for {len(outputs)} outputs; "
            f"give exactly {len(outputs) - 1} (one fewer than outputs)",
            setting=setting,
            recipe=recipe,
        )
    bounds: list[exp.Expr]
    if spec.cutoffs:
        bounds = [
            literal_for(value, column, recipe=recipe, where=f"cutoff {i}")
            for i, value in enumerate(spec.cutoffs, 1)
        ]
        _check_ascending(spec.cutoffs, column.type, recipe=recipe)
    else:
        bounds = [
            exp.Subquery(
                this=exp.select(
                    exp.PercentileDisc(this=col(column.name), expression=exp.Literal.number(p))
                ).from_(source_as(relation, "all_rows"))
            )
            for p in spec.percentiles
        ]
    target = col(column.name)
    wheres: list[exp.Expr | None] = []
    for i in range(len(outputs)):
        parts: list[exp.Expr] = [exp.not_(exp.Is(this=target.copy(), expression=exp.Null()))]
        if i > 0:
            parts.append(exp.GTE(this=target.copy(), expression=bounds[i - 1].copy()))
        if i < len(bounds):
            parts.append(exp.LT(this=target.copy(), expression=bounds[i].copy()))
        wheres.append(exp.and_(*parts))
    return wheres, source_as(relation, "src")


def _check_ascending(values: Sequence[Any], kind: str, *, recipe: str) -> None:
    keyed = [float(v) if kind in NUMERIC_TYPES else str(v) for v in values]
    if keyed != sorted(keyed):
        raise RecipeSpecError(
            f"recipe {recipe!r}: setting 'cutoffs' must be in ascending order, not {list(values)!r}",
            setting="cutoffs",
            recipe=recipe,
        )
