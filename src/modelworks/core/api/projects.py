"""``/projects``: the caller's projects; create, read, change and delete one."""

from __future__ import annotations

from django.db.models import Case, CharField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core import services
from modelworks.core.api.errors import responses
from modelworks.core.models import Project, ProjectMembership, Role
from modelworks.core.permissions import get_project
from modelworks.core.schemas import ProjectIn, ProjectOut, ProjectPatch

__all__ = ["router"]

router = Router(tags=["projects"])


def _with_caller_role(projects: QuerySet, user: object) -> QuerySet:
    """Annotate ``caller_role``, the strongest role of ``user``, in one query for the whole page."""
    if getattr(user, "is_superuser", False):
        return projects.annotate(caller_role=Value(Role.ADMIN.value, output_field=CharField()))
    rank = Case(
        *(When(role=role.value, then=Value(role.rank)) for role in Role),
        default=Value(0),
    )
    best = (
        ProjectMembership.objects.filter(project=OuterRef("pk"))
        .filter(Q(user=user) | Q(group__user=user))
        .annotate(rank=rank)
        .order_by("-rank")
        .values("role")[:1]
    )
    return projects.annotate(caller_role=Subquery(best))


@router.get(
    "/projects",
    response=responses({200: list[ProjectOut]}, 422),
    operation_id="projects_list",
    summary="List my projects",
)
@paginate
def projects_list(request: HttpRequest) -> QuerySet:
    """The projects the caller is a member of (directly or through a group), by name.

    Instance administrators see every project.
    """
    return _with_caller_role(Project.objects.visible_to(request.user), request.user).order_by("name", "id")


@router.post(
    "/projects",
    response=responses({201: ProjectOut}, 409, 422),
    operation_id="projects_create",
    summary="Create a project",
)
def projects_create(request: HttpRequest, payload: ProjectIn) -> Status:
    """Create a project. The caller becomes its first admin."""
    project = services.create_project(
        actor=request.user,
        slug=payload.slug,
        name=payload.name,
        description=payload.description,
        request=request,
    )
    return Status(201, project)


@router.get(
    "/projects/{slug}",
    response=responses({200: ProjectOut}, 404),
    operation_id="projects_get",
    summary="Get a project",
)
def projects_get(request: HttpRequest, slug: str) -> Project:
    """One project (readers and above)."""
    project, _ = get_project(request.user, slug, Role.READER)
    return project


@router.patch(
    "/projects/{slug}",
    response=responses({200: ProjectOut}, 403, 404, 422),
    operation_id="projects_update",
    summary="Change a project",
)
def projects_update(request: HttpRequest, slug: str, payload: ProjectPatch) -> Project:
    """Change a project's name or description (admins). Fields left out are unchanged."""
    project, _ = get_project(request.user, slug, Role.ADMIN)
    changes = payload.model_dump(exclude_unset=True)
    if not changes:
        return project
    return services.update_project(project, actor=request.user, request=request, **changes)


@router.delete(
    "/projects/{slug}",
    response=responses({204: None}, 403, 404),
    operation_id="projects_delete",
    summary="Delete a project",
)
def projects_delete(request: HttpRequest, slug: str) -> Status:
    """Delete a project and everything in it (admins). This cannot be undone."""
    project, _ = get_project(request.user, slug, Role.ADMIN)
    services.delete_project(project, actor=request.user, request=request)
    return Status(204, None)
