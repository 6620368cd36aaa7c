"""Lookups shared by the monitoring API operations, with the one permission model (404 / 403)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404

from modelworks.core.models import Project, Role
from modelworks.core.permissions import get_project
from modelworks.monitoring.models import Backtest, Monitor

__all__ = ["get_backtest", "get_monitor", "monitor_values", "monitors_of", "resolve_model_version_ref"]


def monitors_of(project: Project) -> Any:
    return (
        Monitor.objects.filter(project=project)
        .select_related("project", "deployment", "recipe", "reference_version__dataset")
        .annotate(open_alerts=Count("alerts", filter=Q(alerts__resolved_at__isnull=True)))
    )


def get_monitor(user: Any, slug: str, monitor_id: int, needed: Role = Role.READER) -> tuple[Project, Monitor]:
    project, _ = get_project(user, slug, needed)
    monitor = monitors_of(project).filter(pk=monitor_id).first()
    if monitor is None:
        raise Http404(f"No monitor {monitor_id} in project '{slug}'.")
    return project, monitor


def get_backtest(
    user: Any, slug: str, backtest_id: int, needed: Role = Role.READER
) -> tuple[Project, Backtest]:
    project, _ = get_project(user, slug, needed)
    backtest = (
        Backtest.objects.filter(project=project, pk=backtest_id)
        .select_related("project", "dataset_version__dataset", "created_by")
        .prefetch_related("model_versions__registered_model")
        .first()
    )
    if backtest is None:
        raise Http404(f"No back-test {backtest_id} in project '{slug}'.")
    return project, backtest


def _dataset(project: Project, dataset_id: int, field: str) -> Any:
    from modelworks.datasets.models import Dataset

    dataset = Dataset.objects.filter(project=project, pk=dataset_id).first()
    if dataset is None:
        raise ValidationError({field: f"No dataset {dataset_id} in project '{project.slug}'."})
    return dataset


def dataset_version(project: Project, dataset_id: int, number: int | None, field: str) -> Any:
    dataset = _dataset(project, dataset_id, field)
    version = dataset.versions.filter(number=number).first() if number else dataset.current_version
    if version is None:
        raise ValidationError(
            {field: f"Dataset '{dataset.name}' has no version {number or ''}".rstrip() + "."}
        )
    return version


def monitor_values(project: Project, payload: dict[str, Any]) -> dict[str, Any]:
    """Model values from an API body (names and ids resolved in the project; unset keys left out)."""
    from modelworks.flows.models import Recipe

    values = {k: v for k, v in payload.items() if v is not None}
    if "deployment" in values:
        from modelworks.deployments.models import Deployment

        deployment = Deployment.objects.filter(project=project, name=values["deployment"]).first()
        if deployment is None:
            raise ValidationError(
                {"deployment": f"No deployment '{values['deployment']}' in project '{project.slug}'."}
            )
        values["deployment"] = deployment
    if "recipe" in values:
        recipe = Recipe.objects.filter(project=project, name=values["recipe"]).first()
        if recipe is None:
            raise ValidationError({"recipe": f"No recipe '{values['recipe']}' in project '{project.slug}'."})
        values["recipe"] = recipe
    number = values.pop("reference_version", None)
    if "reference_dataset" in values:
        values["reference_version"] = dataset_version(
            project, values.pop("reference_dataset"), number, "reference_dataset"
        )
    elif number is not None:
        raise ValidationError({"reference_dataset": "Give the dataset of the reference version too."})
    if "labels_dataset" in values:
        values["labels_dataset"] = _dataset(project, values["labels_dataset"], "labels_dataset")
    return values


def resolve_model_version_ref(project: Project, ref: str) -> Any:
    """A model version from ``'model/n'`` or ``'model@alias'``."""
    from modelworks.registry.errors import RegistryError
    from modelworks.registry.models import ModelVersion, RegisteredModel
    from modelworks.registry.services import get_version_by_alias

    text = str(ref).strip()
    name, sep, rest = text.rpartition("@") if "@" in text else text.rpartition("/")
    model = RegisteredModel.objects.filter(project=project, name=name).first() if sep else None
    if model is None:
        raise ValidationError(
            {
                "model_versions": f"'{text[:100]}' names no registered model of this project; write 'model/3' or 'model@champion'."
            }
        )
    if sep == "@":
        try:
            return get_version_by_alias(model, rest)
        except RegistryError as exc:
            raise ValidationError({"model_versions": f"Model '{name}' has no alias '{rest}'."}) from exc
    version = ModelVersion.objects.filter(
        registered_model=model, version=int(rest) if rest.isdigit() else -1
    ).first()
    if version is None:
        raise ValidationError({"model_versions": f"Model '{name}' has no version '{rest}'."})
    return version
