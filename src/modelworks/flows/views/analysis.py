"""What the editor and the recipe page show about a recipe before it runs: the columns of its
inputs, the columns available at each Prepare step (and the first problem of each step), and the
SQL a visual recipe compiles to.

These only read: inputs' columns come from their current versions (or, for an output of a recipe
not built yet, from the flow's schema propagation in ``modelworks.flows.services``), and the
engine compiles the recipe over empty tables of those types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset
from modelworks.flows.forms.params import ColumnChoice
from modelworks.flows.services import dataset_key, propagate_schemas
from modelworks.flows.services.graph import version_columns

__all__ = ["StepAnalysis", "column_choices", "compiled_sql", "input_columns", "prepare_steps"]


def input_columns(project: Project, inputs: Sequence[Dataset]) -> list[tuple[Any, ...] | None]:
    """The engine columns of each input (None: unknown, e.g. an upstream recipe has an error)."""
    from modelworks.engine.flow import GraphError

    found: list[tuple[Any, ...] | None] = [version_columns(d.current_version) for d in inputs]
    if any(c is None for c in found):
        try:
            schemas = propagate_schemas(project).schemas
        except GraphError:  # a broken flow only means the columns stay unknown here
            schemas = {}
        found = [
            c if c is not None else schemas.get(dataset_key(d)) for c, d in zip(found, inputs, strict=True)
        ]
    return found


def column_choices(
    inputs: Sequence[Dataset], columns: Sequence[tuple[Any, ...] | None]
) -> list[ColumnChoice]:
    """The column pickers' options: every known column of every input, labelled by input."""
    choices = []
    for dataset, cols in zip(inputs, columns, strict=True):
        for column in cols or ():
            choices.append(ColumnChoice(column.name, column.type, dataset.name))
    return choices


@dataclass
class StepAnalysis:
    """One Prepare step: the columns it can use, and the first problem found in it (empty: none)."""

    columns: list[ColumnChoice] = field(default_factory=list)
    error: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def prepare_steps(
    input_name: str, columns: Sequence[Any] | None, steps: Sequence[Mapping[str, Any]], *, recipe: str
) -> list[StepAnalysis]:
    """For each step, the columns available before it and its problem, if any.

    Steps are compiled one after the other over empty tables of the input's types; a step that
    fails is reported and left out of the columns the later steps see, so each later step is judged
    on its own. Disabled steps pass the columns through.
    """
    from modelworks.engine.errors import EngineError
    from modelworks.engine.flow import relations_for
    from modelworks.engine.recipes import compile_recipe, normalize_spec, output_schemas

    if columns is None:
        unknown = f"The columns of '{input_name}' are not known yet: import it or build it first."
        return [StepAnalysis([], unknown) for _ in steps]
    relations = relations_for({input_name: tuple(columns)})
    current = [ColumnChoice(c.name, c.type, input_name) for c in columns]
    good: list[dict[str, Any]] = []
    result: list[StepAnalysis] = []
    for step in steps:
        analysis = StepAnalysis(columns=current)
        result.append(analysis)
        if not step.get("enabled", True):
            continue
        trial = [*good, dict(step)]
        try:
            spec = normalize_spec("prepare", {"steps": trial})
            compiled = compile_recipe("prepare", spec, relations, ["out"], recipe=recipe)
            produced = output_schemas(compiled, relations)["out"]
        except EngineError as exc:
            analysis.error = exc.message
            analysis.details = {k: v for k, v in exc.details.items() if isinstance(v, str | int | float)}
            continue
        good = trial
        current = [ColumnChoice(c.name, c.type, input_name) for c in produced]
    return result


def compiled_sql(
    project: Project,
    kind: str,
    spec: Mapping[str, Any],
    inputs: Sequence[Dataset],
    outputs: Sequence[str],
    *,
    recipe: str,
) -> tuple[list[tuple[str, str]], str]:
    """The SQL (DuckDB dialect) of each output of a visual or SQL recipe, or the reason there is none.

    Returns:
        ``([(output name, sql)…], "")``, or ``([], message)`` when it cannot be compiled now.
    """
    from sqlglot import exp

    from modelworks.engine.errors import EngineError
    from modelworks.engine.recipes import compile_recipe, normalize_spec
    from modelworks.engine.recipes.types import Relation

    if kind == "python":
        return [], "Python recipes are run, not compiled to SQL."
    columns = input_columns(project, inputs)
    missing = [d.name for d, c in zip(inputs, columns, strict=True) if c is None]
    if missing:
        return (
            [],
            f"The columns of {', '.join(repr(m) for m in missing)} are not known yet; build the flow first.",
        )
    # Read from tables named like the datasets, so the SQL reads as the flow does.
    relations = [
        Relation(d.name, tuple(c or ()), exp.table_(d.name, quoted=True))
        for d, c in zip(inputs, columns, strict=True)
    ]
    try:
        compiled = compile_recipe(
            kind, normalize_spec(kind, dict(spec)), relations, list(outputs), recipe=recipe
        )
    except EngineError as exc:
        return [], exc.message
    return [(out.name, out.query.sql(dialect="duckdb", pretty=True)) for out in compiled.outputs], ""
