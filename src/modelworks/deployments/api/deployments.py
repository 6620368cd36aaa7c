"""``/projects/{slug}/deployments``: deploy registered models, change, pause, resume and delete.

Roles: readers see deployments; contributors deploy, change, pause and resume them (like training
and registering models, it is part of building); admins delete them, since deleting cuts off every
caller of the endpoint at once and cannot be undone.
"""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.core.permissions import get_project
from modelworks.deployments import services
from modelworks.deployments.api.common import get_deployment
from modelworks.deployments.models import Deployment
from modelworks.deployments.schemas import DeploymentIn, DeploymentOut, DeploymentPatch
from modelworks.deployments.services import TargetSpec

router = Router(tags=["deployments"])

_LIST = "/projects/{slug}/deployments"
_ONE = _LIST + "/{name}"


def _specs(targets: list) -> list[TargetSpec]:
    return [TargetSpec.from_dict(t.dict()) for t in targets]


@router.get(
    _LIST,
    response=responses({200: list[DeploymentOut]}, 404, 422),
    operation_id="deployments_list",
    summary="List a project's deployments",
)
@paginate
def deployments_list(request: HttpRequest, slug: str) -> QuerySet:
    """The project's deployments by name, with their targets and the version each serves now (readers)."""
    project, _ = get_project(request.user, slug, Role.READER)
    return Deployment.objects.filter(project=project).select_related("project", "created_by").order_by("name")


@router.post(
    _LIST,
    response=responses({201: DeploymentOut}, 403, 404, 422),
    operation_id="deployments_create",
    summary="Deploy registered models to an endpoint",
)
def deployments_create(request: HttpRequest, slug: str, payload: DeploymentIn) -> Status:
    """Serve registered models at ``/score/<name>`` on the scoring service, active within a second.

    ``single``: one primary target. ``ab``: a primary and challengers sharing the traffic by weight
    (adding up to 100). ``shadow``: the primary answers; shadow targets score the same rows, only
    logged. Each target follows an alias (promotions take effect at once) or pins a version
    (contributors). Callers need an endpoint token (see the tokens operations).
    """
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    options = payload.dict(exclude={"name", "mode", "targets"})
    if options.get("max_rows") is None:
        options.pop("max_rows", None)
    deployment = services.create_deployment(
        project,
        actor=request.user,
        name=payload.name,
        mode=payload.mode,
        targets=_specs(payload.targets),
        request=request,
        **options,
    )
    return Status(201, get_deployment(request.user, slug, deployment.name)[1])


@router.get(
    _ONE,
    response=responses({200: DeploymentOut}, 404),
    operation_id="deployments_get",
    summary="Get a deployment",
)
def deployments_get(request: HttpRequest, slug: str, name: str) -> Deployment:
    """A deployment with its targets and the version each serves now (readers)."""
    return get_deployment(request.user, slug, name)[1]


@router.patch(
    _ONE,
    response=responses({200: DeploymentOut}, 403, 404, 422),
    operation_id="deployments_update",
    summary="Change a deployment",
)
def deployments_update(request: HttpRequest, slug: str, name: str, payload: DeploymentPatch) -> Deployment:
    """Change the mode, the targets (``targets`` replaces them all) or the settings; the name, being the
    endpoint, never changes. The scoring service switches within a second (contributors)."""
    _, deployment = get_deployment(request.user, slug, name, Role.CONTRIBUTOR)
    changes = payload.dict(exclude_unset=True)
    targets = changes.pop("targets", None)
    mode = changes.pop("mode", None)
    services.update_deployment(
        deployment,
        actor=request.user,
        mode=mode,
        targets=_specs(payload.targets) if targets is not None and payload.targets is not None else None,
        request=request,
        **{k: v for k, v in changes.items() if v is not None},
    )
    return get_deployment(request.user, slug, name)[1]


@router.delete(
    _ONE,
    response=responses({204: None}, 403, 404),
    operation_id="deployments_delete",
    summary="Delete a deployment",
)
def deployments_delete(request: HttpRequest, slug: str, name: str) -> Status:
    """Delete a deployment with its tokens and feedback: every caller is cut off at once. The
    prediction log stays for monitoring; the registered models are untouched (project admins)."""
    _, deployment = get_deployment(request.user, slug, name, Role.ADMIN)
    services.delete_deployment(deployment, actor=request.user, request=request)
    return Status(204, None)


@router.post(
    _ONE + "/pause",
    response=responses({200: DeploymentOut}, 403, 404),
    operation_id="deployments_pause",
    summary="Pause a deployment",
)
def deployments_pause(request: HttpRequest, slug: str, name: str) -> Deployment:
    """Stop serving: callers get an error saying the endpoint is paused; targets and tokens stay
    (contributors)."""
    _, deployment = get_deployment(request.user, slug, name, Role.CONTRIBUTOR)
    services.pause_deployment(deployment, actor=request.user, request=request)
    return get_deployment(request.user, slug, name)[1]


@router.post(
    _ONE + "/resume",
    response=responses({200: DeploymentOut}, 403, 404),
    operation_id="deployments_resume",
    summary="Resume a paused deployment",
)
def deployments_resume(request: HttpRequest, slug: str, name: str) -> Deployment:
    """Serve again, with the versions the aliases point at now (contributors)."""
    _, deployment = get_deployment(request.user, slug, name, Role.CONTRIBUTOR)
    services.resume_deployment(deployment, actor=request.user, request=request)
    return get_deployment(request.user, slug, name)[1]
