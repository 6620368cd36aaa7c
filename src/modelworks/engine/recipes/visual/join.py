"""Join: combine two or more inputs on matching keys.

Spec (every key but ``joins`` optional)::

    {
      "joins": [                       # one per input after the first: join k attaches input k+1
        {"type": "left",               # inner | left | right | full | cross | semi | anti
         "on": [{"left": "carrier",    # a column of an earlier input ...
                 "left_input": null,   # ... which one (default: the first earlier input that has it)
                 "right": "code",      # a column of the input being attached
                 "case_insensitive": false, "null_safe": false}],
         "condition": null}            # extra condition: a formula or {"filters": [...]}
      ],
      "inputs": [                      # per input, in input order
        {"columns": null,              # the columns to keep (null: all)
         "rename": {"name": "carrier_name"},
         "prefix": null}               # used when a name clashes (default "<input name>_")
      ],
      "filter": null                   # post-join filter: a formula or {"filters": [...]}
    }

Output names: each kept column keeps its (renamed) name; a name already taken by an earlier input
gets the input's prefix; if that is still taken a number is added (``code_2``) and a note says so.
Conditions and the post-join filter name columns by these output names; columns that are not kept
can be used too, named the same way. ``semi`` keeps the rows of the inputs so far that have a match
(``anti``: that have none) and adds no columns. ``join_report.unmatched_report`` counts, per join,
the rows of each side without a match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from modelworks.engine.errors import did_you_mean
from modelworks.engine.recipes.types import (
    Column,
    CompiledOutput,
    CompiledRecipe,
    LineageEdge,
    MissingColumnError,
    RecipeSpecError,
    Relation,
)
from modelworks.engine.recipes.visual.common import NUMERIC_TYPES, col, source_as, unique_name
from modelworks.engine.recipes.visual.conditions import (
    Condition,
    condition_expression,
    read_condition_setting,
)
from modelworks.engine.recipes.visual.spec import SpecReader, to_json

__all__ = ["JOIN_TYPES", "JoinPlan", "compile_join", "normalize_join", "read_join_spec"]

JOIN_TYPES = ("inner", "left", "right", "full", "cross", "semi", "anti")
_FILTERING = ("semi", "anti")


@dataclass(frozen=True)
class KeyPair:
    left: str
    right: str
    left_input: str | None = None
    case_insensitive: bool = False
    null_safe: bool = False


@dataclass(frozen=True)
class JoinStep:
    type: str
    on: tuple[KeyPair, ...]
    condition: Condition | None = None


@dataclass(frozen=True)
class InputColumns:
    columns: tuple[str, ...] | None = None
    rename: Mapping[str, str] | None = None
    prefix: str | None = None


@dataclass(frozen=True)
class JoinSpec:
    joins: tuple[JoinStep, ...]
    inputs: tuple[InputColumns, ...] = ()
    filter: Condition | None = None


def read_join_spec(spec: Mapping[str, Any] | None, *, recipe: str) -> JoinSpec:
    reader = SpecReader(spec, recipe=recipe)
    reader.allow("joins", "inputs", "filter")
    steps = []
    for item in reader.objects("joins", "join"):
        item.allow("type", "on", "condition")
        kind = item.string("type", "inner", choices=JOIN_TYPES)
        pairs = []
        for pair in item.objects("on", "key", required=False):
            pair.allow("left", "right", "left_input", "case_insensitive", "null_safe")
            pairs.append(
                KeyPair(
                    left=pair.string("left"),
                    right=pair.string("right"),
                    left_input=pair.string("left_input", None),
                    case_insensitive=pair.boolean("case_insensitive", False),
                    null_safe=pair.boolean("null_safe", False),
                )
            )
        condition = read_condition_setting(item, "condition", f"{item.where} condition")
        if kind == "cross" and (pairs or condition):
            raise item.error("on", "must be empty for a cross join (it pairs every row with every row)")
        if kind != "cross" and not pairs and condition is None:
            raise item.error("on", f"needs at least one key pair (or a condition) for a {kind} join")
        steps.append(JoinStep(kind, tuple(pairs), condition))
    options = []
    for item in reader.objects("inputs", "input", required=False):
        item.allow("columns", "rename", "prefix")
        options.append(
            InputColumns(
                columns=item.strings("columns", None),
                rename=item.mapping("rename") or None,
                prefix=item.string("prefix", None),
            )
        )
    return JoinSpec(tuple(steps), tuple(options), read_condition_setting(reader, "filter", "filter"))


def normalize_join(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    result: dict[str, Any] = to_json(read_join_spec(spec, recipe=recipe))
    return result


@dataclass(frozen=True)
class _Slot:
    """One column of one input and the name it has in the join's output (or in formulas)."""

    input_index: int
    column: Column
    name: str
    kept: bool


class JoinPlan:
    """Names, aliases and checks shared by the compiled join and the unmatched-rows report."""

    def __init__(self, spec: JoinSpec, inputs: Sequence[Relation], *, recipe: str) -> None:
        self.spec, self.inputs, self.recipe = spec, inputs, recipe
        self.notes: list[str] = []
        if len(inputs) < 2:
            raise RecipeSpecError(
                f"recipe {recipe!r}: a join needs at least two inputs, it has {len(inputs)}"
            )
        if len(spec.joins) != len(inputs) - 1:
            raise RecipeSpecError(
                f"recipe {recipe!r}: setting 'joins' has {len(spec.joins)} join(s) but the recipe has "
                f"{len(inputs)} inputs; describe exactly one join per input after the first ({len(inputs) - 1})"
            )
        if len(spec.inputs) > len(inputs):
            raise RecipeSpecError(
                f"recipe {recipe!r}: setting 'inputs' describes {len(spec.inputs)} inputs but the recipe has "
                f"{len(inputs)}; remove the extra entries"
            )
        self.filtering = {k + 1 for k, step in enumerate(spec.joins) if step.type in _FILTERING}
        for k, step in enumerate(spec.joins):
            if step.type in ("right", "full") and any(j <= k for j in self.filtering):
                raise RecipeSpecError(
                    f"recipe {recipe!r} join {k + 1}: a {step.type} join cannot follow a semi or anti join; "
                    "put the semi/anti join last or use two recipes"
                )
        self.slots = self._name_columns()

    @staticmethod
    def alias(index: int) -> str:
        return f"t{index}"

    def options(self, index: int) -> InputColumns:
        return self.spec.inputs[index] if index < len(self.spec.inputs) else InputColumns()

    def _name_columns(self) -> list[_Slot]:
        kept: list[tuple[int, Column]] = []
        dropped: list[tuple[int, Column]] = []
        for i, relation in enumerate(self.inputs):
            opts = self.options(i)
            where = f"input {i + 1} ({relation.name})"
            for name in list(opts.columns or ()) + list(opts.rename or {}):
                relation.column(name, recipe=self.recipe, where=where)
            chosen = set(opts.columns) if opts.columns is not None else None
            for column in relation.columns:
                keep = i not in self.filtering and (chosen is None or column.name in chosen)
                (kept if keep else dropped).append((i, column))
        slots: list[_Slot] = []
        taken: list[str] = []
        for group, is_kept in ((kept, True), (dropped, False)):
            for i, column in group:
                name = self._output_name(i, column, taken, is_kept)
                taken.append(name)
                slots.append(_Slot(i, column, name, is_kept))
        return slots

    def _output_name(self, index: int, column: Column, taken: list[str], kept: bool) -> str:
        opts = self.options(index)
        name = (opts.rename or {}).get(column.name, column.name)
        lowered = {t.lower() for t in taken}
        if name.lower() not in lowered:
            return name
        prefix = opts.prefix if opts.prefix is not None else f"{self.inputs[index].name}_"
        prefixed = f"{prefix}{name}"
        final = unique_name(prefixed, taken)
        if kept and final != prefixed:
            self.notes.append(
                f"column {column.name!r} of input {self.inputs[index].name!r} is named {final!r}: "
                f"{prefixed!r} was already taken"
            )
        return final

    def scope(self, upto: int, *, only: set[int] | None = None) -> tuple[Relation, dict[str, exp.Expr]]:
        """The columns of inputs ``0..upto`` by output name, for conditions (a pseudo input)."""
        visible = [
            s
            for s in self.slots
            if s.input_index <= upto
            and (s.input_index not in self.filtering or s.input_index == upto)
            and (only is None or s.input_index in only)
        ]
        names = " + ".join(self.inputs[i].name for i in sorted({s.input_index for s in visible}))
        relation = Relation(
            names, tuple(Column(s.name, s.column.type) for s in visible), exp.to_table("scope")
        )
        refs: dict[str, exp.Expr] = {s.name: col(s.column.name, self.alias(s.input_index)) for s in visible}
        return relation, refs

    def key_condition(self, k: int, step: JoinStep) -> tuple[exp.Expr | None, set[int]]:
        """The ON condition of join ``k`` (0-based) and the earlier inputs its keys use."""
        right_index = k + 1
        right = self.inputs[right_index]
        where = f"join {k + 1}"
        parts: list[exp.Expr] = []
        used: set[int] = set()
        for p, pair in enumerate(step.on, 1):
            place = f"{where} key {p}"
            left_index = self._left_input(right_index, pair, place)
            used.add(left_index)
            left_col = self.inputs[left_index].column(pair.left, recipe=self.recipe, where=place)
            right_col = right.column(pair.right, recipe=self.recipe, where=place)
            left_expr: exp.Expr = col(left_col.name, self.alias(left_index))
            right_expr: exp.Expr = col(right_col.name, self.alias(right_index))
            if pair.case_insensitive:
                left_expr, right_expr = (
                    exp.Lower(this=exp.cast(e, exp.DataType.build("VARCHAR")))
                    for e in (left_expr, right_expr)
                )
            elif not _comparable(left_col.type, right_col.type):
                raise RecipeSpecError(
                    f"recipe {self.recipe!r} {place}: {left_col.name!r} ({left_col.type}) of input "
                    f"{self.inputs[left_index].name!r} cannot be matched with {right_col.name!r} ({right_col.type}) "
                    f"of input {right.name!r}; convert one of them first (Prepare recipe) or match them as text "
                    "with case_insensitive",
                    recipe=self.recipe,
                )
            cls = exp.NullSafeEQ if pair.null_safe else exp.EQ
            parts.append(cls(this=left_expr, expression=right_expr))
        if step.condition is not None:
            relation, refs = self.scope(right_index)
            parts.append(
                exp.paren(
                    condition_expression(
                        step.condition,
                        relation,
                        recipe=self.recipe,
                        where=f"{where} condition",
                        qualify=lambda name: refs[name].copy(),
                    )
                )
            )
        if not parts:
            return None, used
        combined = parts[0]
        for part in parts[1:]:
            combined = exp.and_(combined, part)
        return combined, used

    def _left_input(self, right_index: int, pair: KeyPair, place: str) -> int:
        earlier = [i for i in range(right_index) if i not in self.filtering]
        if pair.left_input is not None:
            for i in earlier:
                if self.inputs[i].name == pair.left_input:
                    return i
            names = [self.inputs[i].name for i in earlier]
            raise RecipeSpecError(
                f"recipe {self.recipe!r} {place}: left_input {pair.left_input!r} is not an earlier input of this "
                f"join{did_you_mean(pair.left_input, names)}; choose one of {', '.join(map(repr, names))}",
                recipe=self.recipe,
            )
        for i in earlier:
            if pair.left in self.inputs[i].column_names:
                return i
        first = self.inputs[earlier[0]]
        everything = [c for i in earlier for c in self.inputs[i].column_names]
        raise MissingColumnError(
            f"recipe {self.recipe!r} {place}: key column {pair.left!r} not in input {first.name!r}"
            + (" or the other earlier inputs" if len(earlier) > 1 else "")
            + did_you_mean(pair.left, everything),
            column=pair.left,
            input=first.name,
            recipe=self.recipe,
        )


def _comparable(a: str, b: str) -> bool:
    if a == b:
        return True
    return {a, b} <= NUMERIC_TYPES or {a, b} <= {"date", "timestamp"}


def compile_join(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], outputs: Sequence[str], *, recipe: str
) -> CompiledRecipe:
    """Compile a join recipe (see the module docstring for the spec)."""
    plan = JoinPlan(read_join_spec(spec, recipe=recipe), inputs, recipe=recipe)
    output = outputs[0]
    kept = [s for s in plan.slots if s.kept]
    query = exp.select(
        *[exp.alias_(col(s.column.name, plan.alias(s.input_index)), s.name, quoted=True) for s in kept]
    )
    query = query.from_(source_as(inputs[0], plan.alias(0)))
    wheres: list[exp.Expr] = []
    for k, step in enumerate(plan.spec.joins):
        on, _ = plan.key_condition(k, step)
        right = source_as(inputs[k + 1], plan.alias(k + 1))
        if step.type in _FILTERING:
            probe = exp.Exists(this=exp.select(exp.Literal.number(1)).from_(right).where(on))
            wheres.append(probe if step.type == "semi" else exp.not_(probe))
        else:
            query = query.join(right, on=on, join_type=step.type)
    if plan.spec.filter is not None:
        relation, refs = plan.scope(len(inputs) - 1)
        wheres.append(
            exp.paren(
                condition_expression(
                    plan.spec.filter,
                    relation,
                    recipe=recipe,
                    where="filter",
                    qualify=lambda n: refs[n].copy(),
                )
            )
        )
    for condition in wheres:
        query = query.where(condition)
    lineage = [LineageEdge(output, s.name, inputs[s.input_index].name, s.column.name) for s in kept]
    return CompiledRecipe((CompiledOutput(output, query),), tuple(lineage), True, tuple(plan.notes))
