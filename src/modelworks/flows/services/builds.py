"""Submitting, planning and cancelling builds of a project's flow (atomic and audited).

Concurrency: two builds must never write the same dataset at once. A build records, when it is
submitted, the recipes it may run (``Build.scope``: the recipes upstream of its targets).
``submit_build`` serialises submissions per project (a row lock on the project) and refuses a build
whose scope overlaps the scope of a queued or running build of the project
(:class:`BuildConflictError`, shown as 409 by the API); builds of disjoint parts of the flow run
side by side. When a step registers its output versions, ``create_version`` locks each output
dataset row (``select_for_update``) so version numbers stay gapless even if a scenario and a person
race. A build whose job ended without the build noticing (a worker killed) is closed as failed the
next time the project's builds are looked at, so it never blocks later builds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core import audit
from modelworks.core.jobs import enqueue, request_cancel
from modelworks.core.jobs.exceptions import JobStateError
from modelworks.core.models import JobState, Project, User
from modelworks.datasets.models import Dataset, DatasetVersion, QualityResultStatus, SourceKind
from modelworks.flows.models import Build, BuildStatus, BuildTrigger, StepStatus
from modelworks.flows.services.graph import RecipeShape, dataset_key, flow_graph

if TYPE_CHECKING:
    from modelworks.engine.flow import BuildPlan, FlowGraph

__all__ = [
    "BuildConflictError",
    "blocked_inputs",
    "build_plan",
    "cancel_build",
    "current_fingerprints",
    "input_versions",
    "last_built_fingerprints",
    "submit_build",
    "sync_build_status",
]


class BuildConflictError(ValidationError):
    """Another queued or running build of the project may write the same datasets."""


def input_versions(shape: RecipeShape) -> dict[str, str] | None:
    """Input dataset key → id of the version a build would read now (None if an input has no data)."""
    versions: dict[str, str] = {}
    for dataset in shape.inputs:
        version = Dataset.objects.select_related("pinned_version").get(pk=dataset.pk).current_version
        if version is None:
            return None
        versions[dataset_key(dataset)] = str(version.pk)
    return versions


def current_fingerprints(project: Project, shapes: Iterable[RecipeShape]) -> dict[str, str | None]:
    """Recipe key → its fingerprint with the current input versions (None: an input has no data)."""
    from modelworks.engine.flow import fingerprint

    found: dict[str, str | None] = {}
    for shape in shapes:
        versions = input_versions(shape)
        found[shape.key] = (
            None if versions is None else fingerprint(shape.kind, shape.fingerprint_spec, versions)
        )
    return found


def last_built_fingerprints(shapes: Iterable[RecipeShape]) -> dict[str, str | None]:
    """Recipe key → the fingerprint its outputs' latest versions were built with (None: never built).

    The versions themselves carry it (``how_details.fingerprint``), so the answer stays right when
    builds are deleted, and a version imported by hand into an output makes the recipe out of date.
    """
    found: dict[str, str | None] = {}
    for shape in shapes:
        prints: set[str | None] = set()
        for output in shape.outputs:
            version = (
                DatasetVersion.objects.filter(dataset=output).order_by("-number").first()
                if isinstance(output, Dataset)
                else None
            )
            details = version.how_details if version is not None else {}
            if version is None or version.how != SourceKind.RECIPE or details.get("recipe_id") != shape.id:
                prints.add(None)
            else:
                prints.add(details.get("fingerprint"))
        found[shape.key] = prints.pop() if len(prints) == 1 else None
    return found


def blocked_inputs(project: Project) -> dict[str, str]:
    """Dataset key → why a build may not read it: its current version failed a blocking quality
    rule, or a source dataset has no data at all."""
    blocked: dict[str, str] = {}
    produced = set(
        Dataset.objects.filter(project=project, producing_recipe_link__isnull=False).values_list(
            "pk", flat=True
        )
    )
    datasets = list(Dataset.objects.filter(project=project).select_related("pinned_version"))
    latest = _latest_versions([d.pk for d in datasets if d.pinned_version_id is None])
    for dataset in datasets:
        version = dataset.pinned_version or latest.get(dataset.pk)  # ``current_version``, read at once
        if version is None:
            if dataset.pk not in produced:
                blocked[dataset_key(dataset)] = "has no data yet; import data into it first"
            continue
        if not version.usable:
            failing = _failing_blocking_rules(version)
            rules = f" ({', '.join(failing)})" if failing else ""
            blocked[dataset_key(dataset)] = (
                f"is at version {version.number}, which failed a blocking quality rule{rules}"
            )
    return blocked


def _latest_versions(dataset_ids: Sequence[int]) -> dict[int, DatasetVersion]:
    """Dataset id → its latest version, in one query (``Dataset.latest_version`` is one per dataset)."""
    if not dataset_ids:
        return {}
    newest = DatasetVersion.objects.filter(dataset=OuterRef("dataset")).order_by("-number").values("pk")[:1]
    return {
        v.dataset_id: v
        for v in DatasetVersion.objects.filter(dataset_id__in=dataset_ids, pk=Subquery(newest))
    }


def _failing_blocking_rules(version: DatasetVersion) -> list[str]:
    run = version.quality_runs.order_by("-created_at", "-id").first()
    if run is None:
        return []
    return [
        f"'{r.rule_description}'"
        for r in run.results.filter(blocking=True).exclude(status=QualityResultStatus.PASSED)[:3]
    ]


def build_plan(
    project: Project,
    *,
    targets: Sequence[Dataset] | None = None,
    force: bool = False,
    graph: FlowGraph | None = None,
) -> BuildPlan:
    """What a build would run now, and why (nothing runs). Pages can show it before submitting.

    Raises:
        modelworks.engine.flow.BlockedInputError: a step would read a blocked version (the message
            names the recipe, the dataset and the failing rule).
        modelworks.engine.flow.GraphError: the flow is invalid or a target is not in it.
    """
    # The build job plans the same way: virtual datasets are computed inside the steps that read them.
    from modelworks.flows.services.pipeline import pipelined_build_plan

    return pipelined_build_plan(project, targets=targets, force=force, graph=graph)


def _scope(project: Project, targets: Sequence[Dataset] | None) -> tuple[FlowGraph, list[int]]:
    from modelworks.engine.flow import GraphError

    try:
        graph = flow_graph(project)
    except GraphError as exc:
        raise ValidationError({"__all__": exc.message}, code=exc.code) from exc
    if not targets:
        keys = graph.topological_order()
    else:
        for dataset in targets:
            if dataset.project_id != project.pk:
                raise ValidationError({"targets": f"Dataset '{dataset.name}' belongs to another project."})
            if graph.producer(dataset_key(dataset)) is None:
                raise ValidationError(
                    {
                        "targets": f"'{dataset.name}' is not written by any recipe, so there is nothing to "
                        "build for it; choose an output of a recipe."
                    }
                )
        from modelworks.flows.services.pipeline import virtual_keys

        if any(dataset_key(d) in virtual_keys(project) for d in targets):
            # Refused now rather than by the job: the planner's message names what to build instead.
            from modelworks.engine.flow import VirtualDatasetError
            from modelworks.flows.services.pipeline import pipelined_build_plan

            try:
                pipelined_build_plan(project, targets=targets, graph=graph)
            except VirtualDatasetError as exc:
                raise ValidationError({"targets": exc.message}, code=exc.code) from exc
        keys = graph.upstream([dataset_key(d) for d in targets])
    if not keys:
        raise ValidationError({"targets": "This project has no recipe to build yet; add a recipe first."})
    return graph, [int(k) for k in keys]


def submit_build(
    project: Project,
    *,
    actor: User | None,
    targets: Sequence[Dataset] | None = None,
    force: bool = False,
    trigger: str = BuildTrigger.MANUAL,
    request: HttpRequest | None = None,
) -> Build:
    """Queue a build of ``targets`` (and what they need), or of the whole flow when ``targets`` is empty.

    Args:
        project: the project.
        actor: who asked (None for a schedule).
        targets: output datasets to bring up to date; None or empty: every recipe of the flow.
        force: rebuild the recipes that are up to date too.
        trigger: ``manual``, ``api``, ``scenario`` or ``schedule``.
        request: for the audit log.

    Returns:
        The queued build; its ``job`` runs ``flows.build``.

    Raises:
        ValidationError: keyed by ``targets`` or ``trigger`` (not part of the flow, no recipe…).
        BuildConflictError: a queued or running build may write some of the same datasets.
    """
    if trigger not in BuildTrigger.values:
        raise ValidationError(
            {"trigger": f"'{trigger}' is not a trigger; use one of {', '.join(BuildTrigger.values)}."}
        )
    _, scope = _scope(project, targets)
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        for other in Build.objects.unfinished().filter(project=project).select_related("job"):
            if sync_build_status(other).is_finished:
                continue
            shared = set(other.scope or []) & set(scope)
            if shared:
                raise BuildConflictError(
                    f"Build {other.pk} ({other.get_status_display().lower()}) may write some of the same "
                    "datasets; wait for it to end or cancel it, then build again.",
                    code="build_conflict",
                    params={"build_id": other.pk},
                )
        build = Build.objects.create(
            project=project,
            targets=[d.pk for d in targets or []],
            force=bool(force),
            trigger=trigger,
            status=BuildStatus.QUEUED,
            scope=scope,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        what = ", ".join(d.name for d in targets or [])[:120] or "the whole flow"
        job = enqueue(
            "flows.build",
            title=f"Build {what}",
            project=project,
            created_by=actor,
            params={"build_id": build.pk},
            request=request,
        )
        build.job = job
        build.save(update_fields=["job", "updated_at"])
        audit.record(
            "flows.build_submitted",
            actor=actor,
            project=project,
            target=build,
            request=request,
            details={
                "build_id": build.pk,
                "targets": [d.name for d in targets or []],
                "force": bool(force),
                "trigger": trigger,
            },
        )
    return build


def sync_build_status(build: Build) -> Build:
    """Close a build whose job has ended without it (worker killed, cancelled before it started)."""
    if build.is_finished:
        return build
    job = build.job
    if job is not None:
        job.refresh_from_db(fields=["state", "error", "finished_at"])
    if job is None or job.state in (JobState.FAILED, JobState.CANCELLED, JobState.SUCCEEDED):
        cancelled = job is not None and job.state == JobState.CANCELLED
        build.status = BuildStatus.CANCELLED if cancelled else BuildStatus.FAILED
        build.error = build.error or (
            (job.error if job is not None and job.error else "")
            or "The build's job ended before the build could record its outcome."
        )
        build.ended_at = build.ended_at or (job.finished_at if job else None) or timezone.now()
        build.save(update_fields=["status", "error", "ended_at", "updated_at"])
        build.steps.filter(status__in=[StepStatus.PENDING, StepStatus.RUNNING]).update(
            status=StepStatus.CANCELLED if cancelled else StepStatus.FAILED,
            error="The build ended before this step finished.",
        )
    return build


def cancel_build(build: Build, *, actor: User, request: HttpRequest | None = None) -> Build:
    """Cancel a build: a queued one at once; a running one stops launching steps and stops the
    running ones at their next check. Versions already written stay.

    Raises:
        JobStateError: the build has already ended.
    """
    if build.is_finished or build.job is None:
        raise JobStateError(
            f"Build {build.pk} has already ended ({build.status}); there is nothing to cancel."
        )
    with transaction.atomic():
        request_cancel(build.job, actor=actor, request=request)
        audit.record(
            "flows.build_cancel_requested",
            actor=actor,
            project=build.project,
            target=build,
            request=request,
            details={"build_id": build.pk},
        )
    build.refresh_from_db()
    return sync_build_status(build)


def plan_summary(plan: BuildPlan, labels: dict[str, str]) -> dict[str, Any]:
    """The plan as JSON for ``Build.plan``, with dataset names next to the keys."""
    data = plan.to_dict()
    for step in data["steps"]:
        step["input_names"] = [labels.get(k, k) for k in step["inputs"]]
        step["output_names"] = [labels.get(k, k) for k in step["outputs"]]
    return data
