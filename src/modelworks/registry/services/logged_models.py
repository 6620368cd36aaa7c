"""MLflow 3 logged models: create, read, finalize, tag, parameterise, delete and search them."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from modelworks.registry.errors import InvalidRegistryValueError, RegistryNotFoundError
from modelworks.registry.filters import (
    decode_page_token,
    encode_page_token,
    lookup,
    parse_filter,
)
from modelworks.registry.models import LoggedModel, LoggedModelParam, LoggedModelStatus, LoggedModelTag
from modelworks.registry.services.common import experiment_of, now_ms
from modelworks.tracking.models import Experiment, LifecycleStage, Metric, Run

__all__ = [
    "LoggedModelPage",
    "create_logged_model",
    "delete_logged_model",
    "delete_logged_model_tag",
    "finalize_logged_model",
    "get_logged_model",
    "log_logged_model_params",
    "logged_model_exists",
    "search_logged_models",
    "set_logged_model_tags",
]

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
SEARCH_DEFAULT_MAX_RESULTS = 100
SEARCH_MAX_RESULTS = 1000
_ADJECTIVES = ("bright", "calm", "clever", "eager", "gentle", "keen", "lucid", "nimble", "steady", "swift")
_NOUNS = ("otter", "heron", "lynx", "falcon", "badger", "marten", "ibis", "puffin", "wren", "orca")
# Attributes a filter or order may name, and the model field each maps to.
ATTRIBUTES = {
    "name": "name",
    "model_id": "model_id",
    "model_type": "model_type",
    "status": "status",
    "source_run_id": "source_run_id",
    "experiment_id": "experiment_id",
    "creation_timestamp": "creation_timestamp_ms",
    "creation_time": "creation_timestamp_ms",
    "creation_timestamp_ms": "creation_timestamp_ms",
    "last_updated_timestamp": "last_updated_timestamp_ms",
    "last_updated_timestamp_ms": "last_updated_timestamp_ms",
}
_NUMERIC = {"creation_timestamp_ms", "last_updated_timestamp_ms"}


def logged_model_exists(experiment_id: int | str, model_id: str) -> bool:
    """Whether logged model ``model_id`` exists (not deleted) in experiment ``experiment_id``.

    The artifact proxy asks this before storing files under ``<experiment>/models/<model_id>``.
    """
    try:
        pk = int(str(experiment_id))
    except ValueError:
        return False
    return LoggedModel.objects.filter(
        experiment_id=pk, model_id=str(model_id), lifecycle_stage=LifecycleStage.ACTIVE
    ).exists()


def _check_key(key: Any, what: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidRegistryValueError(f"A {what} needs a non-empty key.", field="key")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRegistryValueError(
            f"The {what} key {key[:40]!r}… is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}.",
            field="key",
        )
    return key


def _pairs(items: Iterable[Any] | None, what: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items or ():
        if not isinstance(item, dict):
            raise InvalidRegistryValueError(f"Each {what} must be an object with 'key' and 'value'.")
        key = _check_key(item.get("key"), what)
        value = item.get("value")
        found[key] = "" if value is None else str(value)
    return found


def _random_name() -> str:
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000)}"


@transaction.atomic
def create_logged_model(
    project: Any,
    *,
    actor: Any,
    experiment_id: Any,
    name: str | None = None,
    model_type: str = "",
    source_run_id: str | None = None,
    params: Iterable[dict[str, Any]] | None = None,
    tags: Iterable[dict[str, Any]] | None = None,
) -> LoggedModel:
    """A new logged model (status PENDING until its files are uploaded and it is finalized).

    Raises:
        RegistryNotFoundError: the experiment or the source run is not in this project.
        InvalidRegistryValueError: the experiment is deleted, or a key is empty or too long.
    """
    experiment = experiment_of(project, experiment_id, active=True)
    run = None
    if source_run_id:
        run = Run.objects.filter(run_uuid=str(source_run_id), experiment__project=project).first()
        if run is None:
            raise RegistryNotFoundError(
                f"No run with ID {str(source_run_id)[:40]!r} in project '{project.slug}'."
            )
    name = (name or "").strip() or _random_name()
    if len(name) > 500:
        raise InvalidRegistryValueError("A logged model name is at most 500 characters.", field="name")
    param_values = _pairs(params, "parameter")
    tag_values = _pairs(tags, "tag")
    stamp = now_ms()
    model = LoggedModel.objects.create(
        experiment=experiment,
        name=name,
        source_run=run,
        model_type=(model_type or "")[:500],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        creation_timestamp_ms=stamp,
        last_updated_timestamp_ms=stamp,
    )
    LoggedModelParam.objects.bulk_create(
        LoggedModelParam(logged_model=model, key=k, value=v[:MAX_PARAM_VALUE_LENGTH])
        for k, v in param_values.items()
    )
    LoggedModelTag.objects.bulk_create(
        LoggedModelTag(logged_model=model, key=k, value=v) for k, v in tag_values.items()
    )
    return model


def get_logged_model(project: Any, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
    """The project's logged model ``model_id``.

    Raises:
        RegistryNotFoundError: none in this project (or deleted, unless ``allow_deleted``).
    """
    found = LoggedModel.objects.filter(model_id=str(model_id), experiment__project=project).select_related(
        "experiment", "source_run"
    )
    if not allow_deleted:
        found = found.filter(lifecycle_stage=LifecycleStage.ACTIVE)
    model = found.first()
    if model is None:
        raise RegistryNotFoundError(f"Logged model with ID '{str(model_id)[:60]}' not found.")
    return model


def _touch(model: LoggedModel) -> None:
    model.last_updated_timestamp_ms = now_ms()
    model.save(update_fields=["last_updated_timestamp_ms"])


STATUS_FROM_WIRE = {
    "LOGGED_MODEL_PENDING": LoggedModelStatus.PENDING,
    "LOGGED_MODEL_READY": LoggedModelStatus.READY,
    "LOGGED_MODEL_UPLOAD_FAILED": LoggedModelStatus.FAILED,
    1: LoggedModelStatus.PENDING,
    2: LoggedModelStatus.READY,
    3: LoggedModelStatus.FAILED,
}


def finalize_logged_model(model: LoggedModel, status: Any) -> LoggedModel:
    """Set the final upload status (READY or FAILED; the client sends the enum's name or number).

    Raises:
        InvalidRegistryValueError: an unknown status.
    """
    try:
        value = STATUS_FROM_WIRE[int(status) if str(status).isdigit() else status]
    except (KeyError, TypeError):
        raise InvalidRegistryValueError(
            f"Unknown logged model status {status!r}; use LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.",
            field="status",
        ) from None
    model.status = value
    model.last_updated_timestamp_ms = now_ms()
    model.save(update_fields=["status", "last_updated_timestamp_ms"])
    return model


@transaction.atomic
def set_logged_model_tags(model: LoggedModel, tags: Iterable[dict[str, Any]] | None) -> None:
    """Set (or overwrite) tags of a logged model."""
    for key, value in _pairs(tags, "tag").items():
        LoggedModelTag.objects.update_or_create(logged_model=model, key=key, defaults={"value": value})
    _touch(model)


def delete_logged_model_tag(model: LoggedModel, key: str) -> None:
    """Remove a tag.

    Raises:
        RegistryNotFoundError: the model has no such tag.
    """
    deleted, _ = LoggedModelTag.objects.filter(logged_model=model, key=key).delete()
    if not deleted:
        raise RegistryNotFoundError(
            f"No tag with key {key[:80]!r} found for model with ID '{model.model_id}'."
        )
    _touch(model)


@transaction.atomic
def log_logged_model_params(model: LoggedModel, params: Iterable[dict[str, Any]] | None) -> None:
    """Add parameters. As with runs, a logged parameter keeps its value: a different one is refused.

    Raises:
        InvalidRegistryValueError: a parameter already has another value.
    """
    for key, value in _pairs(params, "parameter").items():
        value = value[:MAX_PARAM_VALUE_LENGTH]
        existing = LoggedModelParam.objects.filter(logged_model=model, key=key).first()
        if existing is None:
            LoggedModelParam.objects.create(logged_model=model, key=key, value=value)
        elif existing.value != value:
            raise InvalidRegistryValueError(
                f"Parameter {key!r} of model '{model.model_id}' is already {existing.value[:60]!r}; "
                f"parameters cannot change (got {value[:60]!r}). Log a new model instead."
            )
    _touch(model)


def delete_logged_model(model: LoggedModel) -> None:
    """Mark a logged model deleted (MLflow keeps its row and files; searches no longer show it)."""
    model.lifecycle_stage = LifecycleStage.DELETED
    model.last_updated_timestamp_ms = now_ms()
    model.save(update_fields=["lifecycle_stage", "last_updated_timestamp_ms"])


@dataclass(frozen=True)
class LoggedModelPage:
    models: list[LoggedModel]
    next_page_token: str | None


def _metric_rows(dataset_filters: Sequence[dict[str, Any]]) -> QuerySet[Metric]:
    rows = Metric.objects.filter(model_id=OuterRef("model_id"))
    if dataset_filters:
        condition = Q()
        for d in dataset_filters:
            part = Q(dataset_name=d["dataset_name"])
            if d.get("dataset_digest"):
                part &= Q(dataset_digest=d["dataset_digest"])
            condition |= part
        rows = rows.filter(condition)
    return rows


def search_logged_models(
    project: Any,
    *,
    experiment_ids: Sequence[Any],
    filter_string: str | None = None,
    datasets: Sequence[dict[str, Any]] | None = None,
    max_results: int | None = None,
    order_by: Sequence[dict[str, Any]] | None = None,
    page_token: str | None = None,
) -> LoggedModelPage:
    """Logged models of the given experiments matching an MLflow filter, as MLflow's server does.

    ``datasets`` limits metric comparisons (and, without any, the models) to metrics computed on
    those datasets; ``order_by`` items are ``{"field_name", "ascending", "dataset_name", "dataset_digest"}``.

    Raises:
        InvalidRegistryValueError: a bad filter, order, dataset clause, limit or page token.
        RegistryNotFoundError: an experiment is not in this project.
    """
    if not experiment_ids:
        raise InvalidRegistryValueError("Missing value for required parameter 'experiment_ids'.")
    experiments = [experiment_of(project, e) for e in experiment_ids]
    datasets = list(datasets or [])
    if any(not d.get("dataset_name") for d in datasets):
        raise InvalidRegistryValueError("`dataset_name` in the `datasets` clause must be specified.")
    limit = int(max_results or SEARCH_DEFAULT_MAX_RESULTS)
    if not 0 < limit <= SEARCH_MAX_RESULTS:
        raise InvalidRegistryValueError(
            f"max_results must be between 1 and {SEARCH_MAX_RESULTS}; got {limit}."
        )
    context = json.dumps(
        [sorted(str(e.pk) for e in experiments), filter_string or "", list(order_by or [])], sort_keys=True
    )
    offset = decode_page_token(page_token, context)

    query = LoggedModel.objects.filter(
        experiment__in=[e.pk for e in experiments], lifecycle_stage=LifecycleStage.ACTIVE
    )
    has_metric_filter = False
    for comparison in parse_filter(filter_string):
        if comparison.kind == "attribute":
            field = ATTRIBUTES.get(comparison.key)
            if field is None:
                raise InvalidRegistryValueError(
                    f"Invalid attribute {comparison.key!r} in the filter; use one of {', '.join(sorted(ATTRIBUTES))}, "
                    "or metrics.<key>, params.<key>, tags.<key>."
                )
            value = comparison.value
            if field == "status" and isinstance(value, str):
                value = STATUS_FROM_WIRE.get(value, value)
            query = query.filter(lookup(field, comparison.op, value, numeric=field in _NUMERIC))
        elif comparison.kind == "metric":
            has_metric_filter = True
            rows = (
                _metric_rows(datasets)
                .filter(key=comparison.key)
                .filter(lookup("value", comparison.op, comparison.value, numeric=True))
            )
            query = query.filter(Exists(rows))
        elif comparison.kind == "param":
            rows = LoggedModelParam.objects.filter(logged_model=OuterRef("pk"), key=comparison.key).filter(
                lookup("value", comparison.op, comparison.value)
            )
            query = query.filter(Exists(rows))
        else:
            rows = LoggedModelTag.objects.filter(logged_model=OuterRef("pk"), key=comparison.key).filter(
                lookup("value", comparison.op, comparison.value)
            )
            query = query.filter(Exists(rows))
    if datasets and not has_metric_filter:
        query = query.filter(Exists(_metric_rows(datasets)))

    ordering: list[Any] = []
    has_created = has_id = False
    for index, item in enumerate(order_by or []):
        if not isinstance(item, dict) or not item.get("field_name"):
            raise InvalidRegistryValueError("Each order_by item needs a 'field_name'.")
        name = str(item["field_name"])
        ascending = item.get("ascending", True) not in (False, "false", "False")
        if name.startswith("metrics."):
            metric = name.split(".", 1)[1]
            rows = Metric.objects.filter(model_id=OuterRef("model_id"), key=metric)
            if item.get("dataset_name"):
                rows = rows.filter(dataset_name=item["dataset_name"])
            if item.get("dataset_digest"):
                rows = rows.filter(dataset_digest=item["dataset_digest"])
            alias = f"_order_{index}"
            query = query.annotate(
                **{alias: Subquery(rows.order_by("-timestamp", "-step").values("value")[:1])}
            )
            field = F(alias)
        elif "." in name:
            raise InvalidRegistryValueError(
                f"Invalid order by field name: {name}. Only metrics are supported."
            )
        else:
            column = ATTRIBUTES.get(name)
            if column is None:
                raise InvalidRegistryValueError(f"Invalid order by field name: {name}")
            has_created |= column == "creation_timestamp_ms"
            has_id |= column == "model_id"
            field = F(column)
        ordering.append(field.asc(nulls_last=True) if ascending else field.desc(nulls_last=True))
    if not has_created:
        ordering.append(F("creation_timestamp_ms").desc())
    if not has_id:
        ordering.append(F("model_id").asc())
    found = list(
        query.order_by(*ordering)
        .select_related("experiment")
        .prefetch_related("params", "tags")[offset : offset + limit + 1]
    )
    token = encode_page_token(offset + limit, context) if len(found) > limit else None
    return LoggedModelPage(found[:limit], token)


def experiments_of_project(project: Any) -> QuerySet[Experiment]:
    return Experiment.objects.filter(project=project)
