"""Reading and changing model versions: :func:`get_model_version`, :func:`update_model_version`,
:func:`delete_model_version` (refused while something uses it), tags, MLflow stages, the latest
version per stage, and the live metrics and params of a version's run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import RestrictedError

from modelworks.core.audit import record
from modelworks.registry.errors import (
    InvalidRegistryValueError,
    RegistryInUseError,
    RegistryNotFoundError,
    in_use_message,
)
from modelworks.registry.models import (
    AliasEvent,
    ModelAlias,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    Stage,
)
from modelworks.tracking.models import LatestMetric, Param


def _version_number(version: Any) -> int:
    try:
        number = int(str(version))
    except (TypeError, ValueError):
        raise InvalidRegistryValueError(
            f"Parameter 'version' must be an integer, got '{str(version)[:40]}'.", field="version"
        ) from None
    if number < 1:
        raise InvalidRegistryValueError(f"Versions are numbered from 1; got {number}.", field="version")
    return number


def get_model_version(model: RegisteredModel, version: Any) -> ModelVersion:
    """Version ``version`` of ``model``.

    Raises:
        InvalidRegistryValueError: ``version`` is not a whole number.
        RegistryNotFoundError: the model has no such version.
    """
    number = _version_number(version)
    found = (
        model.versions.filter(version=number)
        .select_related("registered_model", "run", "logged_model")
        .first()
    )
    if found is None:
        raise RegistryNotFoundError(f"Model Version (name={model.name}, version={number}) not found")
    return found


def update_model_version(version: ModelVersion, *, description: str | None) -> ModelVersion:
    """Change a version's description (the only mutable part besides tags and aliases)."""
    if description is not None:
        version.description = str(description)
        version.save(update_fields=["description", "updated_at"])
    return version


@transaction.atomic
def delete_model_version(version: ModelVersion, *, actor: Any, request: Any = None) -> None:
    """Delete a version; aliases pointing at it are removed (and that is kept in their history)."""
    model = version.registered_model
    for alias in ModelAlias.objects.filter(model_version=version):
        AliasEvent.objects.create(
            registered_model=model,
            alias=alias.alias,
            from_version=version.version,
            to_version=None,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            actor_name=actor.get_username() if getattr(actor, "is_authenticated", False) else "",
            reason=f"version {version.version} deleted",
        )
    record(
        "model.version_deleted",
        actor=actor,
        project=model.project,
        target=version,
        request=request,
        details={"name": model.name, "version": version.version, "source": version.source[:300]},
    )
    try:
        version.delete()
    except RestrictedError as exc:  # the whole transaction (alias history, audit entry) is undone
        raise RegistryInUseError(
            in_use_message(f"Version {version.version} of '{model.name}'", exc)
        ) from None
    model.save(update_fields=["updated_at"])


def set_model_version_tag(version: ModelVersion, key: Any, value: Any) -> None:
    if not isinstance(key, str) or not key.strip() or len(key) > 250:
        raise InvalidRegistryValueError("A tag needs a key of 1 to 250 characters.", field="key")
    ModelVersionTag.objects.update_or_create(
        model_version=version, key=key, defaults={"value": "" if value is None else str(value)}
    )
    version.save(update_fields=["updated_at"])


def delete_model_version_tag(version: ModelVersion, key: Any) -> None:
    if not isinstance(key, str) or not key:
        raise InvalidRegistryValueError("Missing value for required parameter 'key'.", field="key")
    ModelVersionTag.objects.filter(model_version=version, key=key).delete()


@transaction.atomic
def transition_stage(
    version: ModelVersion, stage: Any, *, archive_existing_versions: bool = False
) -> ModelVersion:
    """MLflow 2's stage transition (deprecated there; aliases replace it). Kept for older clients."""
    by_name = {s.value.lower(): s for s in Stage}
    chosen = by_name.get(str(stage).strip().lower())
    if chosen is None:
        raise InvalidRegistryValueError(
            f"Invalid Model Version stage: {stage}. Value must be one of None, Staging, Production, Archived.",
            field="stage",
        )
    if archive_existing_versions and chosen in (Stage.STAGING, Stage.PRODUCTION):
        version.registered_model.versions.filter(current_stage=chosen).exclude(pk=version.pk).update(
            current_stage=Stage.ARCHIVED
        )
    version.current_stage = chosen
    version.save(update_fields=["current_stage", "updated_at"])
    return version


def get_latest_versions(model: RegisteredModel, stages: Sequence[str] | None = None) -> list[ModelVersion]:
    """The newest version in each stage (every stage when none are named)."""
    wanted = {s.lower() for s in stages or []}
    latest: dict[str, ModelVersion] = {}
    for version in model.versions.order_by("-version"):
        stage = version.current_stage
        if (not wanted or stage.lower() in wanted) and stage not in latest:
            latest[stage] = version
    return sorted(latest.values(), key=lambda v: v.version)


# -- metrics and params (live) --------------------------------------------------------------------
def version_metrics(version: ModelVersion) -> dict[str, float | None]:
    """Metrics of a version: the run's latest values, then the logged model's, then those given at
    registration (each later source wins for the same key)."""
    values: dict[str, float | None] = {}
    if version.run_id:
        for key, value in LatestMetric.objects.filter(run_id=version.run_id).values_list("key", "value"):
            values[key] = value
    if version.logged_model is not None:
        for metric in version.logged_model.metrics():
            values[metric.key] = metric.value  # ordered by timestamp: the last point wins
    values.update(version.metrics or {})
    return dict(sorted(values.items()))


def version_params(version: ModelVersion) -> dict[str, str]:
    """Parameters of a version: the run's, then the logged model's."""
    values: dict[str, str] = {}
    if version.run_id:
        values.update(Param.objects.filter(run_id=version.run_id).values_list("key", "value"))
    if version.logged_model is not None:
        values.update(version.logged_model.params.values_list("key", "value"))
    return dict(sorted(values.items()))
