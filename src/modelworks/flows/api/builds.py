"""``/projects/{slug}/builds``: submit a build of the flow (or of some outputs), follow it, cancel it."""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.core.permissions import get_project
from modelworks.flows import services
from modelworks.flows.api.common import get_build, resolve_datasets
from modelworks.flows.models import Build, BuildTrigger
from modelworks.flows.schemas import BuildIn, BuildOut, BuildSummaryOut

router = Router(tags=["flows"])


@router.get(
    "/projects/{slug}/builds",
    response=responses({200: list[BuildSummaryOut]}, 404, 422),
    operation_id="builds_list",
    summary="List a project's builds",
)
@paginate
def builds_list(request: HttpRequest, slug: str) -> QuerySet:
    """The project's builds, newest first, with counts of their steps by status (readers and above)."""
    project, _ = get_project(request.user, slug, Role.READER)
    return (
        Build.objects.filter(project=project)
        .select_related("project", "created_by")
        .prefetch_related("steps")
        .order_by("-created_at", "-id")
    )


@router.post(
    "/projects/{slug}/builds",
    response=responses({202: BuildOut}, 403, 404, 409, 422),
    operation_id="builds_submit",
    summary="Build the flow",
)
def builds_submit(request: HttpRequest, slug: str, payload: BuildIn) -> Status:
    """Queue a build of the given output datasets and what they need, or of the whole flow when
    ``targets`` is empty (contributors). Up-to-date recipes are skipped unless ``force``. Answers 202
    with the build; 409 when a queued or running build may write the same datasets."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    targets = resolve_datasets(project, payload.targets, "targets")
    try:
        build = services.submit_build(
            project,
            actor=request.user,
            targets=targets,
            force=payload.force,
            trigger=BuildTrigger.API,
            request=request,
        )
    except services.BuildConflictError as exc:
        return Status(
            409, {"code": "conflict", "message": " ".join(exc.messages), "details": dict(exc.params or {})}
        )
    return Status(202, get_build(request.user, slug, build.pk)[1])


@router.get(
    "/projects/{slug}/builds/{build_id}",
    response=responses({200: BuildOut}, 404),
    operation_id="builds_get",
    summary="Get a build",
)
def builds_get(request: HttpRequest, slug: str, build_id: int) -> Build:
    """A build with its plan and steps: status, reason, timings, rows, log, error and the versions
    each step wrote (readers and above)."""
    _, build = get_build(request.user, slug, build_id)
    return services.sync_build_status(build)


@router.post(
    "/projects/{slug}/builds/{build_id}/cancel",
    response=responses({200: BuildOut}, 403, 404, 409),
    operation_id="builds_cancel",
    summary="Cancel a build",
)
def builds_cancel(request: HttpRequest, slug: str, build_id: int) -> Build:
    """Cancel a queued or running build (contributors): no further step starts and running steps
    stop; versions already written stay. 409 when the build has already ended."""
    _, build = get_build(request.user, slug, build_id, Role.CONTRIBUTOR)
    services.cancel_build(build, actor=request.user, request=request)
    return get_build(request.user, slug, build_id)[1]
