"""``/projects/{slug}/datasets``: list, read, document, pin and delete datasets; list versions."""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.models import Role, User
from modelworks.core.permissions import get_project
from modelworks.datasets import services
from modelworks.datasets.api.common import get_dataset, get_version
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.datasets.schemas import DatasetOut, DatasetPatch, PinIn, VersionOut

router = Router(tags=["datasets"])


@router.get(
    "/projects/{slug}/datasets",
    response=responses({200: list[DatasetOut]}, 404, 422),
    operation_id="datasets_list",
    summary="List a project's datasets",
)
@paginate
def datasets_list(request: HttpRequest, slug: str) -> QuerySet:
    """The project's datasets by name (readers and above)."""
    project, _ = get_project(request.user, slug, Role.READER)
    return (
        Dataset.objects.filter(project=project)
        .select_related("project", "owner", "pinned_version", "pinned_version__created_by")
        .order_by("name", "id")
    )


@router.get(
    "/projects/{slug}/datasets/{dataset_id}",
    response=responses({200: DatasetOut}, 404),
    operation_id="datasets_get",
    summary="Get a dataset",
)
def datasets_get(request: HttpRequest, slug: str, dataset_id: int) -> Dataset:
    """A dataset with its current version (readers and above)."""
    return get_dataset(request.user, slug, dataset_id)[1]


@router.patch(
    "/projects/{slug}/datasets/{dataset_id}",
    response=responses({200: DatasetOut}, 403, 404, 422),
    operation_id="datasets_update",
    summary="Document a dataset",
)
def datasets_update(request: HttpRequest, slug: str, dataset_id: int, payload: DatasetPatch) -> Dataset:
    """Change the name, description, tags, owner or column descriptions (contributors and above)."""
    project, dataset = get_dataset(request.user, slug, dataset_id, Role.CONTRIBUTOR)
    changes: dict[str, Any] = payload.dict(exclude_unset=True)
    if "owner" in changes:
        username = changes["owner"] or ""
        owner = User.objects.filter(username=username, is_active=True).first() if username else None
        if username and (owner is None or project.role_of(owner) is None):
            raise ValidationError({"owner": f"'{username}' is not a member of this project."})
        changes["owner"] = owner
    return services.update_dataset(dataset, actor=request.user, request=request, **changes)


@router.delete(
    "/projects/{slug}/datasets/{dataset_id}",
    response=responses({204: None}, 403, 404, 422),
    operation_id="datasets_delete",
    summary="Delete a dataset",
)
def datasets_delete(request: HttpRequest, slug: str, dataset_id: int) -> Status:
    """Delete a dataset, every version and their files (project admins)."""
    _, dataset = get_dataset(request.user, slug, dataset_id, Role.ADMIN)
    services.delete_dataset(dataset, actor=request.user, request=request)
    return Status(204, None)


@router.get(
    "/projects/{slug}/datasets/{dataset_id}/versions",
    response=responses({200: list[VersionOut]}, 404, 422),
    operation_id="datasets_versions",
    summary="List a dataset's versions",
)
@paginate
def datasets_versions(request: HttpRequest, slug: str, dataset_id: int) -> QuerySet:
    """Every version, newest first, with who created it, when and how (readers and above)."""
    _, dataset = get_dataset(request.user, slug, dataset_id)
    return DatasetVersion.objects.filter(dataset=dataset).select_related("created_by").order_by("-number")


@router.get(
    "/projects/{slug}/datasets/{dataset_id}/versions/{number}",
    response=responses({200: VersionOut}, 404),
    operation_id="datasets_version_get",
    summary="Get a version",
)
def datasets_version_get(request: HttpRequest, slug: str, dataset_id: int, number: int) -> DatasetVersion:
    """One version (readers and above)."""
    _, dataset = get_dataset(request.user, slug, dataset_id)
    return get_version(dataset, number)


@router.post(
    "/projects/{slug}/datasets/{dataset_id}/pin",
    response=responses({200: DatasetOut}, 403, 404, 422),
    operation_id="datasets_pin",
    summary="Pin a version",
)
def datasets_pin(request: HttpRequest, slug: str, dataset_id: int, payload: PinIn) -> Dataset:
    """Pin a version, so later steps use it instead of the latest; ``version: null`` unpins (contributors)."""
    _, dataset = get_dataset(request.user, slug, dataset_id, Role.CONTRIBUTOR)
    version = get_version(dataset, payload.version) if payload.version is not None else None
    return services.pin_version(dataset, version, actor=request.user, request=request)
