"""Registry objects in MLflow's JSON shapes (``model_registry.proto`` and ``service.proto``).

Field names are the proto's; 64-bit times are numbers of milliseconds; version numbers are strings;
enums are their names. Empty optional fields are left out, as protobuf's JSON printer does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from modelworks.registry.models import LoggedModel, ModelVersion, RegisteredModel
from modelworks.registry.services import get_latest_versions

__all__ = ["logged_model_json", "metric_json", "model_version_json", "registered_model_json"]

_LOGGED_STATUS = {
    "PENDING": "LOGGED_MODEL_PENDING",
    "READY": "LOGGED_MODEL_READY",
    "FAILED": "LOGGED_MODEL_UPLOAD_FAILED",
}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _tags(rows: Iterable[Any]) -> list[dict[str, str]]:
    return [{"key": t.key, "value": t.value} for t in rows]


def _user(user: Any) -> str:
    return user.get_username() if user is not None else ""


def _float(value: float | None, is_nan: bool = False) -> float | str:
    if value is None or is_nan:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def metric_json(metric: Any) -> dict[str, Any]:
    """A tracking ``Metric`` row as MLflow's ``Metric`` message (with its model and dataset)."""
    data: dict[str, Any] = {
        "key": metric.key,
        "value": _float(metric.value, metric.is_nan),
        "timestamp": metric.timestamp,
        "step": metric.step,
        "run_id": metric.run_id,
    }
    for name in ("dataset_name", "dataset_digest", "model_id"):
        if getattr(metric, name):
            data[name] = getattr(metric, name)
    return data


def logged_model_json(model: LoggedModel) -> dict[str, Any]:
    """MLflow's ``LoggedModel``: ``{"info": …, "data": {"params", "metrics"}}``."""
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": str(model.experiment_id),
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp_ms,
        "last_updated_timestamp_ms": model.last_updated_timestamp_ms,
        "artifact_uri": model.artifact_location,
        "status": _LOGGED_STATUS[model.status],
        "tags": _tags(model.tags.all()),
    }
    if model.created_by_id is not None:
        info["creator_id"] = model.created_by_id
    if model.model_type:
        info["model_type"] = model.model_type
    if model.source_run_id:
        info["source_run_id"] = model.source_run_id
    if model.status_message:
        info["status_message"] = model.status_message
    return {
        "info": info,
        "data": {
            "params": _tags(model.params.all()),
            "metrics": [metric_json(m) for m in model.metrics()],
        },
    }


def model_version_json(version: ModelVersion, *, name: str | None = None) -> dict[str, Any]:
    """MLflow's ``ModelVersion`` (``source`` as the client sent it; files at the download URI)."""
    data: dict[str, Any] = {
        "name": name or version.registered_model.name,
        "version": str(version.version),
        "creation_timestamp": _ms(version.created_at),
        "last_updated_timestamp": _ms(version.updated_at),
        "user_id": _user(version.created_by),
        "current_stage": version.current_stage,
        "description": version.description,
        "source": version.source,
        "status": version.status,
        "tags": _tags(version.tags.all()),
        "aliases": sorted(a.alias for a in version.aliases.all()),
    }
    if version.run_id:
        data["run_id"] = version.run_id
    if version.run_link:
        data["run_link"] = version.run_link
    if version.status_message:
        data["status_message"] = version.status_message
    if version.logged_model_id:
        data["model_id"] = version.logged_model_id
    return data


def registered_model_json(model: RegisteredModel, *, with_latest: bool = True) -> dict[str, Any]:
    """MLflow's ``RegisteredModel`` with its tags, aliases and latest version per stage."""
    data: dict[str, Any] = {
        "name": model.name,
        "creation_timestamp": _ms(model.created_at),
        "last_updated_timestamp": _ms(model.updated_at),
        "user_id": _user(model.created_by),
        "description": model.description,
        "tags": _tags(model.tags.all()),
        "aliases": [
            {"alias": a.alias, "version": str(a.model_version.version)}
            for a in model.aliases.select_related("model_version").order_by("alias")
        ],
    }
    if with_latest:
        data["latest_versions"] = [model_version_json(v, name=model.name) for v in get_latest_versions(model)]
    return data
