"""Compile a prepare recipe's steps into one query, with column lineage and push-down support."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot.errors import ErrorLevel, SqlglotError

from modelworks.engine.errors import did_you_mean
from modelworks.engine.recipes.prepare.base import PrepareState, Step
from modelworks.engine.recipes.prepare.params import validate_params
from modelworks.engine.recipes.prepare.registry import PROCESSORS
from modelworks.engine.recipes.types import (
    CompiledOutput,
    CompiledRecipe,
    RecipeError,
    RecipeSpecError,
    Relation,
)

__all__ = ["MAX_STEPS", "compile_prepare"]

MAX_STEPS = 500


def compile_prepare(
    spec: Mapping[str, Any], relation: Relation, output: str, *, recipe: str
) -> CompiledRecipe:
    """Compile a prepare recipe.

    Args:
        spec: ``{"steps": [{"processor": name, "params": {...}, "enabled": true, "comment": ""}]}``;
            disabled steps are skipped.
        relation: the recipe's input.
        output: the name of its output dataset.
        recipe: the recipe's name, for messages.

    Returns:
        One output query; lineage edges from each output column to the input columns it derives
        from (``identity``, ``transformation``, or ``filter`` for columns that only choose rows);
        ``pushdown`` False when a step uses something PostgreSQL cannot run, with the reason in
        ``notes``.

    Raises:
        RecipeSpecError: the spec is malformed, or a step's settings are invalid.
        MissingColumnError: a step names a column its input does not have at that point.

        A step's error reads ``recipe 'r' step 2 (Formula): …`` and its ``details`` hold ``recipe``,
        ``step`` (1-based) and, once the processor is known, ``processor`` (plus ``column``,
        ``position``… when the step knows them), so a page can point at the step.
    """
    steps = spec.get("steps", []) if isinstance(spec, Mapping) else None
    if not isinstance(steps, list):
        raise RecipeSpecError(f"recipe {recipe!r}: 'steps' must be a list of steps", recipe=recipe)
    if len(steps) > MAX_STEPS:
        raise RecipeSpecError(
            f"recipe {recipe!r} has {len(steps)} steps; the limit is {MAX_STEPS}", recipe=recipe
        )
    state = PrepareState(relation, recipe)
    for number, raw in enumerate(steps, 1):
        if not isinstance(raw, Mapping):
            raise RecipeSpecError(
                f"recipe {recipe!r} step {number}: must be an object with a 'processor'",
                recipe=recipe,
                step=number,
            )
        if raw.get("enabled", True) is False:
            continue
        name = raw.get("processor")
        info = PROCESSORS.get(name) if isinstance(name, str) else None
        if info is None:
            hint = did_you_mean(str(name), PROCESSORS) if isinstance(name, str) else ""
            raise RecipeSpecError(
                f"recipe {recipe!r} step {number}: unknown processor {name!r}{hint}",
                recipe=recipe,
                step=number,
            )
        step = Step(number, info, {}, state)
        try:
            step.params = validate_params(step, raw.get("params"))
            info.apply(state, step)
            if not state.columns:
                raise step.fail("no column would be left; keep at least one")
        except RecipeError as exc:
            _locate(exc, step)
            raise
    query = state.build()
    notes = list(state.notes)
    portable = not state.non_portable
    notes += [f"{reason}; this recipe runs in DuckDB, not inside PostgreSQL" for reason in state.non_portable]
    if portable:
        try:
            query.sql(dialect="postgres", unsupported_level=ErrorLevel.RAISE)
        except SqlglotError as exc:
            portable = False
            notes.append(f"the query uses something PostgreSQL does not support ({exc}); it runs in DuckDB")
    return CompiledRecipe(
        outputs=(CompiledOutput(output, query),),
        lineage=state.lineage(output),
        pushdown=portable,
        notes=tuple(notes),
    )


def _locate(exc: RecipeError, step: Step) -> None:
    """Make a step's error name the recipe and the step, whatever raised it.

    Processors and the formula parser word their messages from the step (``step 2 (Formula): …``)
    and do not know the recipe; the recipe's name is put in front here, in one place, so every
    message reads ``recipe 'r' step 2 (Formula): …``. The exception is changed in place, so its
    class (``MissingColumnError``, ``FormulaError``…) and its details stay.
    """
    recipe = step.state.recipe
    message = exc.message
    if message.startswith(f"{step.where}: "):
        message = f"recipe {recipe!r} {message}"
    elif not message.startswith(f"recipe {recipe!r}"):
        message = f"recipe {recipe!r} {step.where}: {message}"
    exc.message = message
    exc.args = (message,)
    exc.details.setdefault("recipe", recipe)
    exc.details.setdefault("step", step.number)
    exc.details.setdefault("processor", step.info.name)
