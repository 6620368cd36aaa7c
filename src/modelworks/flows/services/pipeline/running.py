"""Running a step that computes virtual datasets inline (job thread: prepare, lineage; runner
thread: execute), standing in for ``services.execution`` for those steps only."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset
from modelworks.datasets.services import version_path
from modelworks.datasets.storage import data_store
from modelworks.flows.models import Recipe, StepEngine
from modelworks.flows.services import execution
from modelworks.flows.services.graph import RecipeShape, dataset_key, flow_graph, version_columns
from modelworks.flows.services.join_report import (
    REPORT_KEY,
    JoinReport,
    is_join,
    join_report_in_session,
)
from modelworks.flows.services.pipeline.planning import (
    pipelined_fingerprints,
    pipelined_flow,
)
from modelworks.flows.services.pipeline.saving import virtual_keys

if TYPE_CHECKING:
    from modelworks.engine.flow import FlowGraph, PipelineRecipe
    from modelworks.engine.io import StagedFile
    from modelworks.engine.recipes.types import CompiledRecipe
    from modelworks.flows.services.lineage import LineageRecorder

__all__ = [
    "FusedExecutedStep",
    "FusedPreparedStep",
    "execute_step",
    "prepare_step",
    "record_fused_lineage",
]


@dataclass
class FusedPreparedStep(execution.PreparedStep):
    """A step that computes virtual datasets inline, or has virtual outputs it leaves out.

    ``input_paths`` / ``input_columns`` are the *stored* datasets the whole chain reads; ``outputs``
    only the stored outputs; ``chain`` the virtual recipes computed inline (dependency order) and
    ``step`` the recipe itself, both as the engine compiles them.
    """

    chain: tuple[PipelineRecipe, ...] = ()
    step: PipelineRecipe | None = None
    notes: list[str] = field(default_factory=list)
    # Read once by ``prepare_step`` for the lineage of the chain (``record_fused_lineage``).
    chain_recipes: dict[str, Recipe] = field(default_factory=dict)
    virtual: set[str] | None = None


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


def prepare_step(
    recipe: Recipe,
    *,
    blocked_reason: str | None = None,
    graph: FlowGraph | None = None,
    virtual: set[str] | None = None,
    shapes: Sequence[RecipeShape] | None = None,
    recipes: Mapping[str, Recipe] | None = None,
) -> execution.PreparedStep:
    """``execution.prepare_step``, or a :class:`FusedPreparedStep` when the recipe reads or writes a
    virtual dataset (job thread).

    The stored datasets the chain reads are checked like any input: no data, or a current version
    that failed a blocking quality rule, stops the step with a message naming them.

    Args:
        graph, virtual, shapes: the project's flow graph, virtual dataset keys and recipe shapes,
            when the caller has them (a build reads them once, when it plans); read here otherwise.
        recipes: the project's recipes by id (with their links and project), as the caller read
            them when it planned: the step then runs them as planned, without reading them again.
    """
    from modelworks.engine.flow.errors import BlockedInputError

    virtual = virtual_keys(recipe.project) if virtual is None else virtual
    if recipes is not None and str(recipe.pk) in recipes:
        recipe = recipes[str(recipe.pk)]
    else:
        recipe = Recipe.objects.with_links().select_related("project").get(pk=recipe.pk)
    touched = {dataset_key(d) for d in (*recipe.input_datasets, *recipe.output_datasets)}
    if not touched & virtual:
        return execution.prepare_step(recipe, blocked_reason=blocked_reason, reread=recipes is None)
    project = recipe.project
    graph = graph or flow_graph(project, shapes=shapes)
    folded = pipelined_flow(project, graph=graph, virtual=virtual, shapes=shapes)
    node = folded.graph.recipe(str(recipe.pk))
    wanted = list(folded.fused[node.id])
    if recipes is not None and all(i in recipes for i in wanted):
        chain = {i: recipes[i] for i in wanted}
    else:
        chain = {str(r.pk): r for r in Recipe.objects.filter(pk__in=[int(i) for i in wanted]).with_links()}
    datasets = {
        dataset_key(d): d
        for d in Dataset.objects.filter(pk__in=[int(k) for k in node.inputs]).select_related("pinned_version")
    }
    paths: dict[str, Any] = {}
    columns: dict[str, Any] = {}
    blocked: Exception | None = None
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
                f"recipe {recipe.name!r} cannot run: input {dataset.name!r} {why}; fix the data or "
                "unblock the rule",
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
    printed = pipelined_fingerprints(project, graph=graph, virtual=virtual, shapes=shapes).get(node.id)
    # Storing outputs in a database (push-down) is planned per recipe; a fused step writes Parquet.
    in_database = [
        link.dataset.name
        for link in recipe.output_links.all()
        if link.storage_connection_id and not link.virtual
    ]
    notes = (
        [
            (
                f"Not stored in the database for {', '.join(in_database)}: a recipe computing datasets "
                "that are not stored writes Modelworks storage only."
            )
        ]
        if in_database
        else []
    )
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
        notes=notes,
        chain_recipes=chain,
        virtual=virtual,
    )


def execute_step(
    prepared: execution.PreparedStep,
    *,
    cancelled: Callable[[], bool],
    progress: Callable[[float, str], None] | None = None,
) -> execution.ExecutedStep:
    """Run a prepared step (runner thread, no database): a fused one here, any other one with
    ``execution.execute_step``.

    Raises:
        As ``execution.execute_step``; an error in a virtual recipe of the chain names that recipe.
    """
    if not isinstance(prepared, FusedPreparedStep):
        return execution.execute_step(prepared, cancelled=cancelled, progress=progress)
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
    prepared: FusedPreparedStep,
    staged: dict[str, StagedFile],
    cancelled: Callable[[], bool],
) -> FusedExecutedStep:
    from modelworks.engine.flow import compile_pipeline, execute_in_duckdb
    from modelworks.engine.recipes import output_schemas

    assert prepared.step is not None
    fused = compile_pipeline(
        prepared.step,
        prepared.chain,
        prepared.input_columns,
        outputs=prepared.output_names,
    )
    # Checked over empty tables first: a column lost upstream is reported before any data is read.
    schemas = output_schemas(fused.compiled, fused.relations, recipe=prepared.name)
    for file in staged.values():
        file.path.unlink(missing_ok=True)  # DuckDB creates the staged file itself (locked connection)
    with data_store().scratch_dir() as spill:
        ran = execute_in_duckdb(
            fused.compiled,
            prepared.input_paths,
            {name: file.path for name, file in staged.items()},
            threads=getattr(settings, "MODELWORKS_FLOW_THREADS", None),
            memory_limit=getattr(settings, "MODELWORKS_FLOW_MEMORY_LIMIT", None),
            spill_dir=spill,
            timeout_s=float(getattr(settings, "MODELWORKS_FLOW_STEP_TIMEOUT", 3600)),
            cancelled=cancelled,
            recipe=prepared.name,
            then=lambda con: _fused_join_report(con, prepared),
        )
    rows, report = ran.rows, ran.extra
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
    lines += list(fused.compiled.notes) + prepared.notes
    details: dict[str, Any] = {}
    if report is not None:
        lines += [report.log_text()] if report.log_text() else []
        details[REPORT_KEY] = report.to_dict()
    return FusedExecutedStep(
        staged=staged,
        rows=dict(rows),
        log="\n".join(lines),
        compiled=fused.compiled,
        sql=sql,
        parts=fused.parts,
        details=details,
        columns=ran.columns,
    )


def _fused_join_report(con: Any, prepared: FusedPreparedStep) -> JoinReport | None:
    """The unmatched-rows report of a fused step (runner thread, in the connection that ran it):
    the step's own join when it reads stored datasets only.

    A join computed on the fly inside the step (or the step's join reading such a dataset) is not
    counted: its counts would read the stored files a second time and compute the virtual datasets
    again (measured on the 10M-row benchmark: 0.2 s with the cheapest grouped form, 2.7 s with the
    report's ``NOT EXISTS`` probes, for a 0.45 s step), which is what not storing is meant to avoid.
    A note says so, and how to see them (store the join's output).
    """
    from modelworks.engine.flow import relations_for
    from modelworks.engine.recipes import normalize_spec

    assert prepared.step is not None
    step = prepared.step
    notes = [
        f"Join recipe '{part.name}' is computed on the fly inside this step (its output is not stored), so "
        "its unmatched rows are not counted; store its output to see them."
        for part in prepared.chain
        if is_join(part.kind)
    ]
    if not is_join(step.kind):
        return JoinReport(notes=notes) if notes else None
    unstored = [name for name in step.inputs if name not in prepared.input_paths]
    if unstored:
        return JoinReport(
            notes=[
                *notes,
                "Not computed: this join reads "
                + ", ".join(f"'{n}'" for n in unstored)
                + ", computed on the fly (not stored); store it to count the unmatched rows.",
            ]
        )
    relations = relations_for({name: prepared.input_columns[name] for name in step.inputs})
    spec = normalize_spec(step.kind, step.spec, recipe=step.name)
    report = join_report_in_session(con, spec, relations, recipe=step.name)
    report.notes += notes
    return report


def record_fused_lineage(
    project: Project,
    prepared: execution.PreparedStep,
    executed: execution.ExecutedStep,
    *,
    started_at: datetime | None = None,
    recorder: LineageRecorder | None = None,
) -> None:
    """Record each virtual recipe a fused step computed as a completed run of that recipe, with its
    column lineage into its virtual outputs (job thread; does nothing for other steps).

    Args:
        recorder: the build's lineage recorder, which writes the runs later; without one they are
            written now.
    """
    from modelworks.flows.services.lineage import LineageRecorder, column_edges

    if not isinstance(executed, FusedExecutedStep) or not isinstance(prepared, FusedPreparedStep):
        return
    writer = recorder or LineageRecorder(project)
    virtual = prepared.virtual if prepared.virtual is not None else virtual_keys(project)
    recipes = prepared.chain_recipes or {
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
            compiled.lineage,
            {d.name: d for d in recipe.input_datasets},
            {d.name: d for d in outputs},
        )
        writer.add(
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
