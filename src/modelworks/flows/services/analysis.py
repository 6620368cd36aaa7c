"""What the recipe editor and the recipe page show about a recipe before it runs: the columns of its
inputs, the columns available before each Prepare step (with each step's problem), and the SQL a
visual or SQL recipe compiles to.

Everything here only reads. An input's columns come from its current version or, for an output of
a recipe not built yet, from the flow's schema propagation; the engine compiles the recipe over
empty tables of those types (``output_schemas``), as a build checks it before reading any data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset
from modelworks.flows.models import Recipe, RecipeKind
from modelworks.flows.services.graph import dataset_key, propagate_schemas, version_columns
from modelworks.flows.services.preview import RecipeDraft

if TYPE_CHECKING:
    from modelworks.engine.errors import EngineError
    from modelworks.engine.recipes.types import Column, Relation

__all__ = ["StepProblem", "input_columns", "recipe_sql", "step_columns"]


@dataclass(frozen=True)
class StepProblem:
    """Why a Prepare step cannot run as it is.

    Attributes:
        message: the engine's message, naming the recipe and the step
            (``recipe 'r' step 2 (Formula): unknown column 'x' at position 1``).
        code: the engine error's stable code (``recipe_missing_column``…); empty when the problem
            is not the engine's (e.g. no input chosen yet).
        details: the engine error's facts that fit in JSON (``step``, ``column``, ``position``…).
    """

    message: str
    code: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, exc: EngineError, *, step: int | None = None) -> StepProblem:
        """The problem an engine error describes (``step``: the 1-based step, when it lacks one)."""
        details = {k: v for k, v in exc.details.items() if isinstance(v, str | int | float | bool)}
        if step is not None:
            details.setdefault("step", step)
        return cls(exc.message, exc.code, details)

    @property
    def step(self) -> int | None:
        """The 1-based step the problem is in, when known."""
        value = self.details.get("step")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def reason(self) -> str:
        """The message without the leading ``recipe 'r' step N (Label): ``, for display next to the
        step itself (where the recipe and the step go without saying)."""
        recipe = self.details.get("recipe")
        step = self.step
        if recipe is None or step is None:
            return self.message
        head = f"recipe {recipe!r} step {step}"
        if not self.message.startswith(head):
            return self.message
        rest = self.message[len(head) :]
        if rest.startswith(": "):
            return rest[2:]
        if rest.startswith(" (") and "): " in rest:
            return rest.split("): ", 1)[1]
        return self.message


def input_columns(project: Project, inputs: Sequence[Dataset]) -> list[tuple[Column, ...] | None]:
    """The engine columns of each input (None: unknown, e.g. an upstream recipe has an error)."""
    from modelworks.engine.flow import GraphError

    found: list[tuple[Column, ...] | None] = [version_columns(d.current_version) for d in inputs]
    if any(c is None for c in found):
        try:
            schemas = propagate_schemas(project).schemas
        except GraphError:  # a broken flow only means the columns stay unknown here
            schemas = {}
        found = [
            c if c is not None else schemas.get(dataset_key(d)) for c, d in zip(found, inputs, strict=True)
        ]
    return found


def _draft(target: Recipe | RecipeDraft) -> RecipeDraft:
    return RecipeDraft.of(target) if isinstance(target, Recipe) else target


def _unknown_message(names: Sequence[str]) -> str:
    listed = ", ".join(repr(n) for n in names)
    return f"The columns of {listed} are not known yet: import it or build the flow first."


def recipe_sql(target: Recipe | RecipeDraft) -> list[tuple[str, str]]:
    """The SQL (DuckDB dialect) of each output of a visual or SQL recipe.

    The SQL reads tables named like the input datasets, so it reads as the flow does.

    Args:
        target: a saved recipe, or a ``RecipeDraft`` of the editor's settings.

    Returns:
        ``[(output name, SQL text)…]`` in the recipe's output order.

    Raises:
        ValidationError: keyed by ``kind`` (a Python recipe is run, not compiled), ``inputs`` (an
            input's columns are not known yet) or ``spec`` (the engine cannot compile the settings;
            the error's ``code`` is the engine's).
    """
    from sqlglot import exp

    from modelworks.engine.errors import EngineError
    from modelworks.engine.recipes import compile_recipe, normalize_spec
    from modelworks.engine.recipes.types import Relation

    draft = _draft(target)
    if draft.kind == RecipeKind.PYTHON:
        raise ValidationError(
            {"kind": ValidationError("Python recipes are run, not compiled to SQL.", code="python")}
        )
    if draft.kind == RecipeKind.SCORE:
        raise ValidationError(
            {
                "kind": ValidationError(
                    "Score recipes run a model, not SQL: build the recipe to see its predictions.",
                    code="score",
                )
            }
        )
    columns = input_columns(draft.project, draft.inputs)
    missing = [d.name for d, c in zip(draft.inputs, columns, strict=True) if c is None]
    if missing:
        raise ValidationError({"inputs": ValidationError(_unknown_message(missing), code="columns_unknown")})
    relations = [
        Relation(d.name, tuple(c or ()), exp.table_(d.name, quoted=True))
        for d, c in zip(draft.inputs, columns, strict=True)
    ]
    try:
        spec = normalize_spec(draft.kind, dict(draft.spec), recipe=draft.name)
        compiled = compile_recipe(draft.kind, spec, relations, list(draft.outputs), recipe=draft.name)
    except EngineError as exc:
        raise ValidationError({"spec": ValidationError(exc.message, code=exc.code)}) from exc
    return [(out.name, out.query.sql(dialect="duckdb", pretty=True)) for out in compiled.outputs]


def step_columns(
    draft: Recipe | RecipeDraft, *, columns: Sequence[Column] | None = None
) -> list[tuple[tuple[Column, ...], StepProblem | None]]:
    """For each step of a Prepare recipe, the columns available before it and its problem, if any.

    A step that fails is reported and left out of what the later steps see, so each later step is
    judged on its own; a disabled step passes the columns through. The steps are compiled in
    Python, then every step's result is described in one DuckDB session (over empty tables).

    Args:
        draft: a saved Prepare recipe, or a ``RecipeDraft`` of the editor's settings (its first
            input is the one the steps read).
        columns: that input's columns, when the caller already has them (else looked up as
            :func:`input_columns` does).

    Returns:
        One ``(columns, problem or None)`` per step of ``spec["steps"]``, in order. With no input,
        or an input whose columns are not known yet, every step has that problem and no column.

    Raises:
        ValidationError: keyed by ``kind`` when the recipe is not a Prepare recipe.
    """
    from modelworks.engine.flow import relations_for

    found = _draft(draft)
    if found.kind != RecipeKind.PREPARE:
        raise ValidationError(
            {"kind": ValidationError("Only Prepare recipes have steps.", code="not_prepare")}
        )
    steps = [dict(s) if isinstance(s, Mapping) else s for s in (found.spec.get("steps") or [])]
    if not steps:
        return []
    if not found.inputs:
        none = StepProblem("Choose the input dataset first.", "no_input")
        return [((), none) for _ in steps]
    source = found.inputs[0]
    known = tuple(columns) if columns is not None else input_columns(found.project, [source])[0]
    if known is None:
        unknown = StepProblem(_unknown_message([source.name]), "columns_unknown")
        return [((), unknown) for _ in steps]
    relations = relations_for({source.name: known})
    batched = _steps_in_one_session(found.name, steps, known, relations)
    if batched is not None:
        return batched
    return _steps_one_by_one(found.name, steps, known, relations)


def _skipped(step: Any) -> dict[str, Any]:
    """A step left out of what later steps see (it failed), kept in place as a disabled step so
    the later steps keep their numbers in messages."""
    from modelworks.engine.recipes.prepare import PROCESSORS

    name = step.get("processor") if isinstance(step, Mapping) else None
    if not isinstance(name, str) or name not in PROCESSORS:
        name = next(iter(PROCESSORS))
    return {"processor": name, "params": {}, "enabled": False}


def _compile_steps(recipe: str, steps: Sequence[Any], relations: Sequence[Relation]) -> Any:
    from modelworks.engine.recipes import compile_recipe, normalize_spec

    spec = normalize_spec("prepare", {"steps": list(steps)}, recipe=recipe)
    return compile_recipe("prepare", spec, list(relations), ["out"], recipe=recipe)


def _steps_in_one_session(
    recipe: str, steps: Sequence[Any], columns: tuple[Column, ...], relations: Sequence[Relation]
) -> list[tuple[tuple[Column, ...], StepProblem | None]] | None:
    """The fast path: compile each step in Python, describe all results at once.

    Returns None when DuckDB rejects one of the compiled queries (rare: compiling checks names and
    types first); the caller then describes the steps one by one to find which.
    """
    from modelworks.engine.errors import EngineError
    from modelworks.engine.recipes import output_schemas
    from modelworks.engine.recipes.types import CompiledOutput, CompiledRecipe

    good: list[Any] = []
    problems: dict[int, StepProblem] = {}
    queries: list[CompiledOutput] = []
    for index, step in enumerate(steps):
        if isinstance(step, Mapping) and step.get("enabled", True) is False:
            good.append(_skipped(step))
            continue
        trial = [*good, step]
        try:
            compiled = _compile_steps(recipe, trial, relations)
        except EngineError as exc:
            problems[index] = StepProblem.of(exc, step=index + 1)
            good.append(_skipped(step))
            continue
        good = trial
        queries.append(CompiledOutput(f"step-{index}", compiled.outputs[0].query))
    try:
        described = output_schemas(CompiledRecipe(outputs=tuple(queries)), relations, recipe=recipe)
    except EngineError:
        return None
    result: list[tuple[tuple[Column, ...], StepProblem | None]] = []
    current = columns
    for index in range(len(steps)):
        result.append((current, problems.get(index)))
        current = described.get(f"step-{index}", current)
    return result


def _steps_one_by_one(
    recipe: str, steps: Sequence[Any], columns: tuple[Column, ...], relations: Sequence[Relation]
) -> list[tuple[tuple[Column, ...], StepProblem | None]]:
    from modelworks.engine.errors import EngineError
    from modelworks.engine.recipes import output_schemas

    good: list[Any] = []
    current = columns
    result: list[tuple[tuple[Column, ...], StepProblem | None]] = []
    for index, step in enumerate(steps):
        if isinstance(step, Mapping) and step.get("enabled", True) is False:
            result.append((current, None))
            good.append(_skipped(step))
            continue
        trial = [*good, step]
        try:
            produced = output_schemas(_compile_steps(recipe, trial, relations), relations, recipe=recipe)
        except EngineError as exc:
            result.append((current, StepProblem.of(exc, step=index + 1)))
            good.append(_skipped(step))
            continue
        result.append((current, None))
        good = trial
        current = produced["out"]
    return result
