"""Planning builds with virtual datasets: the folded flow, fingerprints, what a build runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.flows.models import RUN_ONLY_KINDS, Recipe
from modelworks.flows.services import builds
from modelworks.flows.services.graph import (
    RecipeShape,
    dataset_key,
    flow_graph,
    recipe_shapes,
)
from modelworks.flows.services.pipeline.saving import virtual_keys

if TYPE_CHECKING:
    from modelworks.engine.flow import BuildPlan, FlowGraph, PipelinedFlow

__all__ = [
    "last_built_fingerprints",
    "pipelined_build_plan",
    "pipelined_fingerprints",
    "pipelined_flow",
]


def pipelined_flow(
    project: Project,
    *,
    graph: FlowGraph | None = None,
    virtual: set[str] | None = None,
    shapes: Sequence[RecipeShape] | None = None,
) -> PipelinedFlow:
    """The project's flow with its virtual datasets folded into the recipes that read them.

    Raises:
        modelworks.engine.flow.GraphError / VirtualDatasetError: see ``pipeline_flow``.
    """
    from modelworks.engine.flow import pipeline_flow

    graph = graph or flow_graph(project, shapes=shapes)
    if shapes is not None:
        python = [str(s.id) for s in shapes if s.kind in RUN_ONLY_KINDS]
    else:
        query = Recipe.objects.filter(project=project, kind__in=RUN_ONLY_KINDS).values_list("pk", flat=True)
        python = [str(pk) for pk in query]
    keys = virtual_keys(project) if virtual is None else virtual
    return pipeline_flow(graph, keys, run_only=python)


def _current_versions(project: Project) -> dict[str, str | None]:
    """Dataset key → id of its current version (the pinned one, else the latest), in two queries."""
    latest: dict[int, int] = {}
    versions = DatasetVersion.objects.filter(dataset__project=project).order_by("dataset_id", "-number")
    for dataset_id, pk in versions.values_list("dataset_id", "pk"):
        latest.setdefault(dataset_id, pk)
    found: dict[str, str | None] = {}
    for pk, pinned in Dataset.objects.filter(project=project).values_list("pk", "pinned_version_id"):
        current = pinned or latest.get(pk)
        found[str(pk)] = str(current) if current is not None else None
    return found


def pipelined_fingerprints(
    project: Project,
    *,
    graph: FlowGraph | None = None,
    shapes: Iterable[RecipeShape] | None = None,
    virtual: set[str] | None = None,
) -> dict[str, str | None]:
    """Recipe key → fingerprint now; for recipes without virtual inputs, the same as
    ``builds.current_fingerprints``."""
    from modelworks.engine.flow import pipelined_fingerprints as fingerprints

    graph = graph or flow_graph(project)
    specs = {s.key: (s.kind, s.fingerprint_spec) for s in (shapes or recipe_shapes(project))}
    keys = virtual_keys(project) if virtual is None else virtual
    return fingerprints(graph, keys, specs, _current_versions(project))


def last_built_fingerprints(
    project: Project, shapes: Iterable[RecipeShape], *, virtual: set[str] | None = None
) -> dict[str, str | None]:
    """``builds.last_built_fingerprints`` looking at stored outputs only (a virtual output has no
    version; a recipe whose outputs are all virtual is never built)."""
    virtual = virtual_keys(project) if virtual is None else virtual
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
    shapes: Sequence[RecipeShape] | None = None,
    virtual: set[str] | None = None,
) -> BuildPlan:
    """What a build runs now (``builds.build_plan`` with virtual datasets computed inline).

    ``graph``, ``shapes``, ``virtual``: the project's flow graph, recipe shapes and virtual dataset
    keys, when the caller read them already (a build reads them once).

    Raises:
        modelworks.engine.flow.VirtualDatasetError: a target is virtual (the message says to build a
            dataset computed from it, or to store it).
        modelworks.engine.flow.BlockedInputError, GraphError: as ``builds.build_plan``.
    """
    from modelworks.engine.flow import plan_pipelined_build

    shapes = recipe_shapes(project) if shapes is None else shapes
    graph = graph or flow_graph(project, shapes=shapes)
    virtual = virtual_keys(project) if virtual is None else virtual
    python = [s.key for s in shapes if s.kind in RUN_ONLY_KINDS]
    return plan_pipelined_build(
        graph,
        virtual=virtual,
        targets=None if not targets else [dataset_key(d) for d in targets],
        current=pipelined_fingerprints(project, graph=graph, shapes=shapes, virtual=virtual),
        last_built=last_built_fingerprints(project, shapes, virtual=virtual),
        force=force,
        blocked_inputs=builds.blocked_inputs(project),
        run_only=python,
    )
