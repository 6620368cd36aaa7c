"""Virtual (pipelined) datasets in a project's flow: the app side of ``engine.flow.pipeline``.

A recipe output marked ``virtual`` (``RecipeOutput.virtual``) is never stored. The recipes that read
it compute it on the fly: a build runs each recipe that has a stored output, with the virtual
recipes it reads compiled into its own query, so a chain of recipes becomes one DuckDB query over
the stored datasets at its start, and nothing is written in between.

* Saving: :func:`check_virtual_outputs` (a Python recipe can neither read nor write a virtual
  dataset: it runs over files) and :func:`set_virtual_outputs`.
* Planning: :func:`pipelined_build_plan` (what ``flows.build`` runs), :func:`pipelined_fingerprints`
  (a step reading a virtual dataset depends on the recipes that compute it) and
  :func:`last_built_fingerprints` (read from stored outputs only).
* Running: :func:`prepare_step` (job thread) and :func:`execute_step` (runner thread) stand in for
  those of ``services.execution`` when a step computes virtual datasets or has a virtual output; the
  other steps go to ``services.execution`` unchanged.
* Lineage: :func:`record_fused_lineage` records each virtual recipe a step computed as a run of its
  own, so the catalog's column lineage goes from the stored inputs through the virtual datasets.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset
from modelworks.datasets.services import version_path
from modelworks.datasets.storage import data_store
from modelworks.flows.models import Recipe, RecipeKind, RecipeOutput, StepEngine
from modelworks.flows.services import builds, execution
from modelworks.flows.services.graph import (
    RecipeShape,
    dataset_key,
    flow_graph,
    recipe_shapes,
    version_columns,
)

if TYPE_CHECKING:
    from modelworks.engine.flow import BuildPlan, FlowGraph, PipelinedFlow, PipelineRecipe
    from modelworks.engine.io import StagedFile
    from modelworks.engine.recipes.types import CompiledRecipe

__all__ = [
    "FusedExecutedStep",
    "FusedPreparedStep",
    "check_virtual_outputs",
    "execute_step",
    "last_built_fingerprints",
    "pipelined_build_plan",
    "pipelined_fingerprints",
    "pipelined_flow",
    "prepare_step",
    "record_fused_lineage",
    "set_virtual_outputs",
    "virtual_keys",
]

#: What the editor's checkbox says; messages refer to it.
DONT_STORE = "Don't store"


# -- saving ------------------------------------------------------------------------------------------


def virtual_keys(project: Project) -> set[str]:
    """The graph keys of the project's virtual datasets."""
    return {
        str(pk)
        for pk in RecipeOutput.objects.filter(recipe__project=project, virtual=True).values_list(
            "dataset_id", flat=True
        )
    }


def check_virtual_outputs(
    project: Project,
    *,
    kind: str,
    inputs: Sequence[Dataset],
    outputs: Sequence[Dataset | str],
    virtual: Collection[str],
    recipe: Recipe | None = None,
    storage: Sequence[Any] = (),
) -> set[str]:
    """Check which outputs of a recipe being saved may be virtual; return their names.

    Args:
        storage: per output, the ``pushdown.OutputStorage`` given with it (or None), if any.

    Raises:
        ValidationError: keyed by ``outputs`` (a virtual name that is not an output, a Python recipe
            with a virtual output, an output a Python recipe reads, a virtual output stored in a
            connection) or ``inputs`` (a Python recipe reading a virtual dataset); the message says
            how to fix it.
    """
    names = [o if isinstance(o, str) else o.name for o in outputs]
    chosen = {str(n).strip() for n in virtual}
    unknown = sorted(chosen - set(names))
    if unknown:
        raise ValidationError(
            {"outputs": f"'{unknown[0]}' is marked as not stored but is not an output of this recipe."}
        )
    for name, where in zip(names, storage, strict=False):
        if name in chosen and getattr(where, "connection_id", None) is not None:
            raise ValidationError(
                {
                    "outputs": f"'{name}' cannot be both not stored and stored in a connection: untick "
                    f"“{DONT_STORE}” or choose Modelworks storage."
                }
            )
    if kind == RecipeKind.PYTHON:
        if chosen:
            raise ValidationError(
                {
                    "outputs": f"A Python recipe's outputs are always stored: untick “{DONT_STORE}” on "
                    f"'{sorted(chosen)[0]}'. Only visual and SQL recipes can be computed inside "
                    "the recipes that read them."
                }
            )
        others = RecipeOutput.objects.filter(dataset__in=[d.pk for d in inputs], virtual=True)
        if recipe is not None:
            others = others.exclude(recipe=recipe)
        found = others.select_related("dataset", "recipe").first()
        if found is not None:
            raise ValidationError(
                {
                    "inputs": f"'{found.dataset.name}' is not stored (it is computed on the fly by the "
                    "recipes that read it) and a Python recipe reads stored files: untick "
                    f"“{DONT_STORE}” on that output of recipe '{found.recipe.name}', or read another dataset."
                }
            )
    existing = [o for o in outputs if isinstance(o, Dataset) and o.name in chosen]
    readers = Recipe.objects.filter(
        project=project, kind=RecipeKind.PYTHON, input_links__dataset__in=existing
    ).prefetch_related("input_links__dataset")
    if recipe is not None:
        readers = readers.exclude(pk=recipe.pk)
    reader = readers.first() if existing else None
    if reader is not None:
        read = next(d.name for d in reader.input_datasets if d.name in chosen)
        raise ValidationError(
            {
                "outputs": f"'{read}' is read by the Python recipe '{reader.name}', which reads stored "
                f"files: it must be stored (untick “{DONT_STORE}”)."
            }
        )
    return chosen


def set_virtual_outputs(recipe: Recipe, names: Collection[str]) -> None:
    """Mark the recipe's outputs called ``names`` virtual and the others stored (call it inside the
    transaction that saves the recipe)."""
    links = RecipeOutput.objects.filter(recipe=recipe).select_related("dataset")
    for link in links:
        wanted = link.dataset.name in names
        if link.virtual != wanted:
            link.virtual = wanted
            link.save(update_fields=["virtual"])


# -- planning ----------------------------------------------------------------------------------------


def pipelined_flow(project: Project, *, graph: FlowGraph | None = None) -> PipelinedFlow:
    """The project's flow with its virtual datasets folded into the recipes that read them.

    Raises:
        modelworks.engine.flow.GraphError / VirtualDatasetError: see ``pipeline_flow``.
    """
    from modelworks.engine.flow import pipeline_flow

    graph = graph or flow_graph(project)
    python = Recipe.objects.filter(project=project, kind=RecipeKind.PYTHON).values_list("pk", flat=True)
    return pipeline_flow(graph, virtual_keys(project), run_only=[str(pk) for pk in python])


def _current_versions(project: Project) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for dataset in Dataset.objects.filter(project=project).select_related("pinned_version"):
        version = dataset.current_version
        found[dataset_key(dataset)] = str(version.pk) if version is not None else None
    return found


def pipelined_fingerprints(
    project: Project, *, graph: FlowGraph | None = None, shapes: Iterable[RecipeShape] | None = None
) -> dict[str, str | None]:
    """Recipe key → fingerprint now; for recipes without virtual inputs, the same as
    ``builds.current_fingerprints``."""
    from modelworks.engine.flow import pipelined_fingerprints as fingerprints

    graph = graph or flow_graph(project)
    specs = {s.key: (s.kind, dict(s.spec)) for s in (shapes or recipe_shapes(project))}
    return fingerprints(graph, virtual_keys(project), specs, _current_versions(project))


def last_built_fingerprints(project: Project, shapes: Iterable[RecipeShape]) -> dict[str, str | None]:
    """``builds.last_built_fingerprints`` looking at stored outputs only (a virtual output has no
    version; a recipe whose outputs are all virtual is never built)."""
    virtual = virtual_keys(project)
    stored = [
        replace(s, outputs=tuple(o for o in s.outputs if dataset_key(o) not in virtual)) for s in shapes
    ]
    return builds.last_built_fingerprints([s for s in stored if s.outputs])


def pipelined_build_plan(
    project: Project,
    *,
    targets: Sequence[Dataset] | None = None,
    force: bool = False,
    graph: FlowGraph | None = None,
) -> BuildPlan:
    """What a build runs now (``builds.build_plan`` with virtual datasets computed inline).

    Raises:
        modelworks.engine.flow.VirtualDatasetError: a target is virtual (the message says to build a
            dataset computed from it, or to store it).
        modelworks.engine.flow.BlockedInputError, GraphError: as ``builds.build_plan``.
    """
    from modelworks.engine.flow import plan_pipelined_build

    graph = graph or flow_graph(project)
    shapes = recipe_shapes(project)
    python = [s.key for s in shapes if s.kind == RecipeKind.PYTHON]
    return plan_pipelined_build(
        graph,
        virtual=virtual_keys(project),
        targets=None if not targets else [dataset_key(d) for d in targets],
        current=pipelined_fingerprints(project, graph=graph, shapes=shapes),
        last_built=last_built_fingerprints(project, shapes),
        force=force,
        blocked_inputs=builds.blocked_inputs(project),
        run_only=python,
    )


# -- running -----------------------------------------------------------------------------------------


@dataclass
class FusedPreparedStep(execution.PreparedStep):
    """A step that computes virtual datasets inline, or has virtual outputs it leaves out.

    ``input_paths`` / ``input_columns`` are the *stored* datasets the whole chain reads; ``outputs``
    only the stored outputs; ``chain`` the virtual recipes computed inline (dependency order) and
    ``step`` the recipe itself, both as the engine compiles them.
    """

    chain: tuple[PipelineRecipe, ...] = ()
    step: PipelineRecipe | None = None


@dataclass
class FusedExecutedStep(execution.ExecutedStep):
    """An executed fused step, with each recipe of its chain compiled on its own (for lineage)."""

    parts: tuple[tuple[PipelineRecipe, CompiledRecipe], ...] = field(default_factory=tuple)


def _pipeline_recipe(recipe: Recipe) -> PipelineRecipe:
    from modelworks.engine.flow import PipelineRecipe

    return PipelineRecipe(
        id=str(recipe.pk),
        name=recipe.name,
        kind=recipe.kind,
        spec=dict(recipe.spec),
        inputs=tuple(d.name for d in recipe.input_datasets),
        outputs=tuple(d.name for d in recipe.output_datasets),
    )


def prepare_step(recipe: Recipe, *, blocked_reason: str | None = None) -> execution.PreparedStep:
    """``execution.prepare_step``, or a :class:`FusedPreparedStep` when the recipe reads or writes a
    virtual dataset (job thread).

    The stored datasets the chain reads are checked like any input: no data, or a current version
    that failed a blocking quality rule, stops the step with a message naming them.
    """
    from modelworks.engine.flow.errors import BlockedInputError

    virtual = virtual_keys(recipe.project)
    recipe = Recipe.objects.with_links().select_related("project").get(pk=recipe.pk)
    touched = {dataset_key(d) for d in (*recipe.input_datasets, *recipe.output_datasets)}
    if not touched & virtual:
        return execution.prepare_step(recipe, blocked_reason=blocked_reason)
    project = recipe.project
    graph = flow_graph(project)
    folded = pipelined_flow(project, graph=graph)
    node = folded.graph.recipe(str(recipe.pk))
    chain = {
        str(r.pk): r
        for r in Recipe.objects.filter(pk__in=[int(i) for i in folded.fused[node.id]]).with_links()
    }
    datasets = {
        dataset_key(d): d
        for d in Dataset.objects.filter(pk__in=[int(k) for k in node.inputs]).select_related("pinned_version")
    }
    paths, columns, blocked = {}, {}, None
    for key in node.inputs:
        dataset = datasets[key]
        version = dataset.current_version
        if version is None or not version.usable:
            why = (
                "has no data yet; import or build it first"
                if version is None
                else f"is at version {version.number}, which failed a blocking quality rule"
            )
            blocked = blocked or BlockedInputError(
                f"recipe {recipe.name!r} cannot run: {dataset.name!r}, which it reads through "
                f"not-stored datasets, {why}; fix the data or unblock the rule",
                recipe=recipe.name,
                dataset=dataset.name,
            )
            continue
        paths[dataset.name] = version_path(version)
        known = version_columns(version)
        assert known is not None
        columns[dataset.name] = known
    if blocked_reason and blocked is None:
        blocked = BlockedInputError(
            f"recipe {recipe.name!r} cannot run: {blocked_reason}", recipe=recipe.name
        )
    printed = pipelined_fingerprints(project, graph=graph).get(node.id)
    return FusedPreparedStep(
        recipe_id=recipe.pk,
        name=recipe.name,
        kind=recipe.kind,
        spec=dict(recipe.spec),
        input_names=list(paths),
        input_paths=paths,
        input_columns=columns,
        input_versions={},
        outputs=[d for d in recipe.output_datasets if dataset_key(d) not in virtual],
        fingerprint=printed or "",
        engine=StepEngine.DUCKDB,
        blocked=blocked,
        chain=tuple(_pipeline_recipe(chain[rid]) for rid in folded.fused[node.id]),
        step=_pipeline_recipe(recipe),
    )


def execute_step(
    prepared: execution.PreparedStep, *, cancelled: Callable[[], bool]
) -> execution.ExecutedStep:
    """Run a prepared step (runner thread, no database): a fused one here, any other one with
    ``execution.execute_step``.

    Raises:
        As ``execution.execute_step``; an error in a virtual recipe of the chain names that recipe.
    """
    if not isinstance(prepared, FusedPreparedStep):
        return execution.execute_step(prepared, cancelled=cancelled)
    if prepared.blocked is not None:
        raise prepared.blocked
    store = data_store()
    staged: dict[str, StagedFile] = {}
    started = time.monotonic()
    try:
        for name in prepared.output_names:
            staged[name] = store.stage()
        result = _run_fused(prepared, staged, cancelled)
    except BaseException:
        execution.discard(staged)
        raise
    result.seconds = time.monotonic() - started
    return result


def _run_fused(
    prepared: FusedPreparedStep, staged: dict[str, StagedFile], cancelled: Callable[[], bool]
) -> FusedExecutedStep:
    from modelworks.engine.flow import compile_pipeline, run_in_duckdb
    from modelworks.engine.recipes import output_schemas

    assert prepared.step is not None
    fused = compile_pipeline(
        prepared.step, prepared.chain, prepared.input_columns, outputs=prepared.output_names
    )
    # Checked over empty tables first: a column lost upstream is reported before any data is read.
    schemas = output_schemas(fused.compiled, fused.relations, recipe=prepared.name)
    for file in staged.values():
        file.path.unlink(missing_ok=True)  # DuckDB creates the staged file itself (locked connection)
    with data_store().scratch_dir() as spill:
        rows = run_in_duckdb(
            fused.compiled,
            prepared.input_paths,
            {name: file.path for name, file in staged.items()},
            threads=getattr(settings, "MODELWORKS_FLOW_THREADS", None),
            memory_limit=getattr(settings, "MODELWORKS_FLOW_MEMORY_LIMIT", None),
            spill_dir=spill,
            timeout_s=float(getattr(settings, "MODELWORKS_FLOW_STEP_TIMEOUT", 3600)),
            cancelled=cancelled,
            recipe=prepared.name,
        )
    sql = ";\n\n".join(f"-- {out.name}\n{out.sql('duckdb')}" for out in fused.compiled.outputs)
    lines = [
        f"{name}: {rows.get(name, 0):,} rows, {len(schemas.get(name, ()))} columns"
        for name in prepared.output_names
    ]
    computed = [
        f"{name} (recipe {part.name})"
        for part in prepared.chain
        for name in part.outputs
        if name in fused.columns
    ]
    if computed:
        lines.append("Computed on the fly, not stored: " + ", ".join(computed) + ".")
    lines += list(fused.compiled.notes)
    return FusedExecutedStep(
        staged=staged,
        rows=dict(rows),
        log="\n".join(lines),
        compiled=fused.compiled,
        sql=sql,
        parts=fused.parts,
    )


def record_fused_lineage(
    project: Project,
    prepared: execution.PreparedStep,
    executed: execution.ExecutedStep,
    *,
    started_at: datetime | None = None,
) -> None:
    """Record each virtual recipe a fused step computed as a completed run of that recipe, with its
    column lineage into its virtual outputs (job thread; does nothing for other steps)."""
    from modelworks.flows.services.lineage import column_edges, record_step

    if not isinstance(executed, FusedExecutedStep) or not isinstance(prepared, FusedPreparedStep):
        return
    virtual = virtual_keys(project)
    recipes = {
        str(r.pk): r
        for r in Recipe.objects.filter(pk__in=[int(p.id) for p, _ in executed.parts[:-1]]).with_links()
    }
    now = timezone.now()
    for part, compiled in executed.parts[:-1]:
        recipe = recipes.get(part.id)
        if recipe is None:
            continue
        outputs = [d for d in recipe.output_datasets if dataset_key(d) in virtual]
        edges = column_edges(
            compiled.lineage, {d.name: d for d in recipe.input_datasets}, {d.name: d for d in outputs}
        )
        record_step(
            project,
            recipe_name=recipe.name,
            run_id=uuid.uuid4(),
            state="completed",
            event_time=now,
            started_at=started_at or now,
            inputs=recipe.input_datasets,
            outputs=outputs,
            edges=edges,
            sql=";\n\n".join(
                f"-- {out.name}\n{out.sql('duckdb')}"
                for out in compiled.outputs
                if out.name in {d.name for d in outputs}
            ),
            description=recipe.description,
        )
