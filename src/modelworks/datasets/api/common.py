"""Lookups shared by the dataset API operations, with the one permission model (404 / 403)."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from modelworks.core.models import Project, Role
from modelworks.core.permissions import get_project
from modelworks.datasets.models import Dataset, DatasetVersion

__all__ = ["get_dataset", "get_version"]


def get_dataset(user: Any, slug: str, dataset_id: int, needed: Role = Role.READER) -> tuple[Project, Dataset]:
    """Dataset ``dataset_id`` of project ``slug`` if the caller holds ``needed`` there."""
    project, _ = get_project(user, slug, needed)
    dataset = (
        Dataset.objects.filter(project=project, pk=dataset_id)
        .select_related("project", "owner", "pinned_version", "pinned_version__created_by")
        .first()
    )
    if dataset is None:
        raise Http404(f"No dataset {dataset_id} in project '{slug}'.")
    return project, dataset


def get_version(dataset: Dataset, number: int | None) -> DatasetVersion:
    """Version ``number`` of ``dataset`` (None: the current one)."""
    version = dataset.current_version if number is None else dataset.versions.filter(number=number).first()
    if version is None:
        raise Http404(
            f"'{dataset.name}' has no version {number}."
            if number
            else f"'{dataset.name}' has no version yet."
        )
    return version
