"""The flow as pages draw it: every dataset's state, every recipe's last build, and a layout."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset
from modelworks.flows.models import StepStatus
from modelworks.flows.services.graph import (
    FlowProblem,
    check_flow,
    dataset_key,
    flow_graph,
    recipe_shapes,
)

if TYPE_CHECKING:
    from modelworks.engine.flow.layout import FlowLayout

__all__ = ["DatasetState", "FlowState", "datasets_of", "flow_state"]


class DatasetState:
    """What a dataset node shows: ``built``, ``never_built``, ``out_of_date``, ``failed``, ``blocked``,
    or ``virtual`` (not stored: computed by the recipes that read it)."""

    BUILT = "built"
    NEVER_BUILT = "never_built"
    OUT_OF_DATE = "out_of_date"
    FAILED = "failed"
    BLOCKED = "blocked"
    VIRTUAL = "virtual"


@dataclass
class FlowState:
    """The flow, ready to draw: nodes, edges, states and a layered layout.

    ``datasets`` and ``recipes`` are lists of JSON-ready dicts (see ``flow_state``); ``edges`` are
    ``{"from": node_id, "to": node_id}`` with node ids ``dataset:<id>`` and ``recipe:<id>``;
    ``layout`` is the engine's layered drawing: ``nodes`` (id, kind, label, layer, order, x, y, width,
    height), ``edges`` (source, target, points), ``width``, ``height``.
    """

    datasets: list[dict[str, Any]]
    recipes: list[dict[str, Any]]
    edges: list[dict[str, str]]
    layout: dict[str, Any]
    problems: list[FlowProblem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "datasets": self.datasets,
            "recipes": self.recipes,
            "edges": self.edges,
            "layout": self.layout,
            "problems": [p.to_dict() for p in self.problems],
        }


def flow_state(project: Project, *, with_problems: bool = False) -> FlowState:
    """The project's flow with the state of every dataset and the last build status of every recipe.

    A recipe's output is ``never_built`` without a version, ``blocked`` when its current version
    failed a blocking quality rule, ``failed`` when the recipe's last build step failed,
    ``out_of_date`` when the recipe or an input changed since that version was built (or anything
    upstream is not up to date), else ``built``. A source dataset is ``never_built``, ``blocked`` or
    ``built``. ``with_problems`` also compiles every recipe (``check_flow``), which costs a little more.
    """
    from modelworks.flows.services import pipeline

    graph = flow_graph(project)
    shapes = {s.key: s for s in recipe_shapes(project)}
    datasets = {
        str(d.pk): d
        for d in Dataset.objects.filter(project=project).select_related("pinned_version").order_by("name")
    }
    current = pipeline.pipelined_fingerprints(project, graph=graph, shapes=shapes.values())
    built = pipeline.last_built_fingerprints(project, shapes.values())
    virtual = pipeline.virtual_keys(project)
    stale_virtual: set[str] = set()  # virtual datasets computed from something not up to date
    last_steps = _last_steps(project)
    state: dict[str, str] = {}
    for key in graph.datasets:
        dataset = datasets.get(key)
        version = dataset.current_version if dataset else None
        if graph.producer(key) is None:
            state[key] = (
                DatasetState.NEVER_BUILT
                if version is None
                else DatasetState.BLOCKED
                if not version.usable
                else DatasetState.BUILT
            )
    for rid in graph.topological_order():
        shape = shapes[rid]
        step_status = last_steps.get(shape.id or 0, {}).get("status")
        upstream_stale = any(
            state.get(dataset_key(d))
            in (DatasetState.NEVER_BUILT, DatasetState.OUT_OF_DATE, DatasetState.FAILED)
            or dataset_key(d) in stale_virtual
            for d in shape.inputs
        )
        for out in shape.outputs:
            key = dataset_key(out)
            if key in virtual:
                state[key] = DatasetState.VIRTUAL
                if upstream_stale or step_status == StepStatus.FAILED:
                    stale_virtual.add(key)
                continue
            version = datasets[key].current_version if key in datasets else None
            if version is None:
                value = DatasetState.NEVER_BUILT
            elif not version.usable:
                value = DatasetState.BLOCKED
            elif step_status == StepStatus.FAILED:
                value = DatasetState.FAILED
            elif upstream_stale or current.get(rid) != built.get(rid):
                value = DatasetState.OUT_OF_DATE
            else:
                value = DatasetState.BUILT
            state[key] = value
    layout = graph.layout()
    dataset_rows = []
    for key in graph.datasets:
        dataset = datasets.get(key)
        if dataset is None:
            continue
        version = dataset.current_version
        dataset_rows.append(
            {
                "id": dataset.pk,
                "node": f"dataset:{dataset.pk}",
                "name": dataset.name,
                "state": state.get(key, DatasetState.NEVER_BUILT),
                "source_kind": dataset.source_kind,
                "is_source": graph.producer(key) is None,
                "virtual": key in virtual,
                "version": version.number if version else None,
                "rows": version.row_count if version else None,
            }
        )
    recipe_rows = []
    edges: list[dict[str, str]] = []
    for rid in graph.topological_order():
        shape = shapes[rid]
        step = last_steps.get(shape.id or 0, {})
        recipe_rows.append(
            {
                "id": shape.id,
                "node": f"recipe:{shape.id}",
                "name": shape.name,
                "kind": shape.kind,
                "inputs": [d.pk for d in shape.inputs],
                "outputs": [o.pk for o in shape.outputs if isinstance(o, Dataset)],
                "last_build_status": step.get("status"),
                "last_build_id": step.get("build_id"),
                "up_to_date": current.get(rid) == built.get(rid) and current.get(rid) is not None,
            }
        )
        edges += [{"from": f"dataset:{d.pk}", "to": f"recipe:{shape.id}"} for d in shape.inputs]
        edges += [
            {"from": f"recipe:{shape.id}", "to": f"dataset:{o.pk}"}
            for o in shape.outputs
            if isinstance(o, Dataset)
        ]
    return FlowState(
        datasets=dataset_rows,
        recipes=recipe_rows,
        edges=edges,
        layout=_layout_dict(layout),
        problems=check_flow(project) if with_problems else [],
    )


def _last_steps(project: Project) -> dict[int, dict[str, Any]]:
    """Recipe id → status and build id of its most recent build step that started or ended."""
    from modelworks.flows.models import BuildStep

    found: dict[int, dict[str, Any]] = {}
    steps = (
        BuildStep.objects.filter(build__project=project, recipe__isnull=False)
        .exclude(status__in=[StepStatus.PENDING, StepStatus.UP_TO_DATE])
        .order_by("-build__created_at", "-build_id")
        .values("recipe_id", "status", "build_id")
    )
    for row in steps:
        found.setdefault(row["recipe_id"], {"status": row["status"], "build_id": row["build_id"]})
    return found


def _layout_dict(layout: FlowLayout) -> dict[str, Any]:
    """The engine's layout as JSON (node ids ``dataset:<id>`` / ``recipe:<id>``, edges with points)."""
    return layout.to_dict()


def datasets_of(keys: Iterable[str]) -> list[int]:
    """Dataset ids of graph keys (new outputs, which have no id, are left out)."""
    return [int(k) for k in keys if k.isdigit()]
