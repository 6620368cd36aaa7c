"""Experiments: find one in a project, create, rename, delete/restore (with their runs), tags.

Errors are :class:`~modelworks.tracking.protocol.MlflowError` with MLflow's codes: the MLflow
protocol is the only writer, and its clients branch on the codes.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import Project, User
from modelworks.tracking.models import Experiment, ExperimentTag, LifecycleStage, Run
from modelworks.tracking.protocol import MlflowError
from modelworks.tracking.validation import (
    MAX_EXPERIMENT_TAG_VAL_LENGTH,
    check_experiment_name,
    check_key,
    tag_value,
)

__all__ = [
    "DEFAULT_EXPERIMENT_ID",
    "DEFAULT_EXPERIMENT_NAME",
    "create_experiment",
    "delete_experiment",
    "delete_experiment_tag",
    "find_experiment",
    "now_ms",
    "rename_experiment",
    "restore_experiment",
    "set_experiment_tag",
]

# MLflow clients log to experiment "0" when none is set; each project has its own "Default".
DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


def now_ms() -> int:
    return int(time.time() * 1000)


def _experiment_pk(experiment_id: Any) -> int:
    try:
        pk = int(str(experiment_id).strip())
    except (TypeError, ValueError):
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"Invalid experiment ID '{experiment_id}': experiment IDs are integers, as returned by "
            "create_experiment or shown on the experiment's page.",
        ) from None
    return pk


@functools.cache
def _experiment_sql(column: str) -> str:
    meta = Experiment._meta
    q = connection.ops.quote_name
    columns = ", ".join(q(f.column) for f in meta.concrete_fields)
    return (
        f"SELECT {columns} FROM {q(meta.db_table)} WHERE {q(meta.get_field(column).column)} = %s "  # noqa: S608
        f"AND {q(meta.get_field('project').column)} = %s"
    )


def _one_experiment(project: Project, column: str, value: Any) -> Experiment | None:
    """The experiment of ``project`` whose ``column`` (``id`` or ``name``, both unique in a project)
    is ``value``. A fixed statement (identifiers from the model, values bound): every create-run
    call looks its experiment up, and compiling the queryset cost five times the query."""
    found = list(Experiment.objects.raw(_experiment_sql(column), [value, project.pk]))
    return found[0] if found else None


def find_experiment(project: Project, experiment_id: Any, *, create_default: bool = False) -> Experiment:
    """The experiment ``experiment_id`` of ``project`` (``"0"``: the project's Default experiment).

    Args:
        create_default: create the Default experiment when ``"0"`` is asked and it does not exist
            yet (writes only: a read never creates anything).

    Raises:
        MlflowError: RESOURCE_DOES_NOT_EXIST when there is no such experiment in the project.
    """
    if experiment_id is None or experiment_id == "":
        raise MlflowError("INVALID_PARAMETER_VALUE", "Missing value for required parameter 'experiment_id'.")
    if str(experiment_id).strip() == DEFAULT_EXPERIMENT_ID:
        found = _one_experiment(project, "name", DEFAULT_EXPERIMENT_NAME)
        if found is None and create_default:
            found = _default_experiment(project)
    else:
        found = _one_experiment(project, "id", _experiment_pk(experiment_id))
    if found is None:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST",
            f"No experiment with ID {experiment_id} in project '{project.slug}'.",
        )
    return found


def _default_experiment(project: Project) -> Experiment:
    stamp = now_ms()
    try:
        with transaction.atomic():
            experiment, _ = Experiment.objects.get_or_create(
                project=project,
                name=DEFAULT_EXPERIMENT_NAME,
                defaults={"creation_time": stamp, "last_update_time": stamp},
            )
    except IntegrityError:  # created meanwhile by a concurrent first run
        experiment = Experiment.objects.get(project=project, name=DEFAULT_EXPERIMENT_NAME)
    return experiment


def create_experiment(
    project: Project,
    *,
    actor: User,
    name: Any,
    tags: list[tuple[str, str]] | None = None,
    request: HttpRequest | None = None,
) -> Experiment:
    """A new experiment named ``name`` in ``project`` (RESOURCE_ALREADY_EXISTS if the name is taken,
    also by a deleted experiment, as in MLflow)."""
    name = check_experiment_name(name)
    checked = [
        (
            check_key(k, f"tags[{i}].key"),
            tag_value(v, f"tags[{i}].value", limit=MAX_EXPERIMENT_TAG_VAL_LENGTH),
        )
        for i, (k, v) in enumerate(tags or [])
    ]
    stamp = now_ms()
    try:
        with transaction.atomic():
            experiment = Experiment.objects.create(
                project=project, name=name, created_by=actor, creation_time=stamp, last_update_time=stamp
            )
            ExperimentTag.objects.bulk_create(
                [ExperimentTag(experiment=experiment, key=k, value=v) for k, v in dict(checked).items()]
            )
            audit.record(
                "experiment.created", actor=actor, project=project, target=experiment, request=request
            )
    except IntegrityError:
        existing = Experiment.objects.filter(project=project, name=name).first()
        state = (
            " (deleted: restore it, or choose another name)"
            if existing and existing.lifecycle_stage == LifecycleStage.DELETED
            else ""
        )
        raise MlflowError(
            "RESOURCE_ALREADY_EXISTS",
            f"Experiment(name={name}) already exists in project '{project.slug}'{state}.",
        ) from None
    return experiment


def _require_active(experiment: Experiment) -> None:
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise MlflowError(
            "INVALID_STATE",
            f"The experiment {experiment.pk} ('{experiment.name}') is deleted; restore it first.",
        )


def rename_experiment(
    experiment: Experiment, new_name: Any, *, actor: User, request: HttpRequest | None = None
) -> Experiment:
    new_name = check_experiment_name(new_name)
    _require_active(experiment)
    old = experiment.name
    experiment.name = new_name
    experiment.last_update_time = now_ms()
    try:
        with transaction.atomic():
            experiment.save(update_fields=["name", "last_update_time", "updated_at"])
            audit.record(
                "experiment.renamed",
                actor=actor,
                project=experiment.project,
                target=experiment,
                details={"from": old, "to": new_name},
                request=request,
            )
    except IntegrityError:
        experiment.name = old
        raise MlflowError(
            "RESOURCE_ALREADY_EXISTS", f"Experiment(name={new_name}) already exists in this project."
        ) from None
    return experiment


def _set_stage(
    experiment: Experiment, stage: str, *, actor: User, request: HttpRequest | None, action: str
) -> Experiment:
    stamp = now_ms()
    with transaction.atomic():
        experiment.lifecycle_stage = stage
        experiment.last_update_time = stamp
        experiment.deleted_time = stamp if stage == LifecycleStage.DELETED else None
        experiment.save(update_fields=["lifecycle_stage", "last_update_time", "deleted_time", "updated_at"])
        # As MLflow: the experiment's runs follow it (deleted together, restored together).
        Run.objects.filter(experiment=experiment).update(
            lifecycle_stage=stage, deleted_time=stamp if stage == LifecycleStage.DELETED else None
        )
        audit.record(action, actor=actor, project=experiment.project, target=experiment, request=request)
    return experiment


def delete_experiment(
    experiment: Experiment, *, actor: User, request: HttpRequest | None = None
) -> Experiment:
    if experiment.lifecycle_stage == LifecycleStage.DELETED:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST", f"No active experiment with ID {experiment.pk}: it is already deleted."
        )
    return _set_stage(
        experiment, LifecycleStage.DELETED, actor=actor, request=request, action="experiment.deleted"
    )


def restore_experiment(
    experiment: Experiment, *, actor: User, request: HttpRequest | None = None
) -> Experiment:
    if experiment.lifecycle_stage != LifecycleStage.DELETED:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST", f"No deleted experiment with ID {experiment.pk}: it is active."
        )
    return _set_stage(
        experiment, LifecycleStage.ACTIVE, actor=actor, request=request, action="experiment.restored"
    )


def set_experiment_tag(experiment: Experiment, key: Any, value: Any) -> None:
    _require_active(experiment)
    key = check_key(key, "key")
    value = tag_value(value, "value", limit=MAX_EXPERIMENT_TAG_VAL_LENGTH)
    ExperimentTag.objects.bulk_create(
        [ExperimentTag(experiment=experiment, key=key, value=value)],
        update_conflicts=True,
        unique_fields=["experiment", "key"],
        update_fields=["value"],
    )


def delete_experiment_tag(experiment: Experiment, key: Any) -> None:
    _require_active(experiment)
    deleted, _ = ExperimentTag.objects.filter(experiment=experiment, key=key).delete()
    if not deleted:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST", f"No tag with name: {key} in experiment with id {experiment.pk}."
        )
