"""Lookups shared by the flows API operations, with the one permission model (404 / 403)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja.responses import Status

from modelworks.core.models import Project, Role
from modelworks.core.permissions import get_project
from modelworks.datasets.models import Dataset
from modelworks.flows.models import Build, Recipe

__all__ = ["engine_error", "get_build", "get_recipe", "resolve_datasets", "resolve_outputs"]


def get_recipe(user: Any, slug: str, recipe_id: int, needed: Role = Role.READER) -> tuple[Project, Recipe]:
    """Recipe ``recipe_id`` of project ``slug`` if the caller holds ``needed`` there."""
    project, _ = get_project(user, slug, needed)
    recipe = (
        Recipe.objects.filter(project=project, pk=recipe_id)
        .select_related("project", "created_by", "updated_by")
        .with_links()
        .first()
    )
    if recipe is None:
        raise Http404(f"No recipe {recipe_id} in project '{slug}'.")
    return project, recipe


def get_build(user: Any, slug: str, build_id: int, needed: Role = Role.READER) -> tuple[Project, Build]:
    """Build ``build_id`` of project ``slug`` if the caller holds ``needed`` there."""
    project, _ = get_project(user, slug, needed)
    build = (
        Build.objects.filter(project=project, pk=build_id)
        .select_related("project", "created_by", "job")
        .prefetch_related("steps__output_versions__dataset")
        .first()
    )
    if build is None:
        raise Http404(f"No build {build_id} in project '{slug}'.")
    return project, build


def _lookup(project: Project, choice: int | str, field: str) -> Dataset | None:
    if isinstance(choice, int):
        dataset = Dataset.objects.filter(project=project, pk=choice).first()
        if dataset is None:
            raise ValidationError({field: f"No dataset {choice} in this project."})
        return dataset
    return Dataset.objects.filter(project=project, name=choice.strip()).first()


def resolve_datasets(project: Project, choices: Sequence[int | str], field: str) -> list[Dataset]:
    """Datasets named by id or name; an unknown one is a ValidationError keyed by ``field``."""
    found = []
    for choice in choices:
        dataset = _lookup(project, choice, field)
        if dataset is None:
            raise ValidationError({field: f"No dataset named '{str(choice)[:200]}' in this project."})
        found.append(dataset)
    return found


def resolve_outputs(project: Project, choices: Sequence[int | str]) -> list[Dataset | str]:
    """Outputs by id (must exist) or by name (an existing dataset, else the name of a new one)."""
    found: list[Dataset | str] = []
    for choice in choices:
        dataset = _lookup(project, choice, "outputs")
        found.append(dataset if dataset is not None else str(choice).strip())
    return found


def engine_error(exc: Any, status: int = 422) -> Status:
    """The API error body for an engine error: its own stable ``code``, message and details."""
    details = {
        k: v if isinstance(v, str | int | float | bool | None) else str(v) for k, v in exc.details.items()
    }
    return Status(status, {"code": exc.code, "message": exc.message, "details": details})
