"""MLflow runs endpoints: create, update, get, delete/restore, tags and everything a run logs."""

from __future__ import annotations

import json
from typing import Any

from modelworks.core.models import Role
from modelworks.tracking.models import RunTag
from modelworks.tracking.protocol import MlflowCall, MlflowError, mlflow_endpoint, require_param
from modelworks.tracking.rest.common import as_list
from modelworks.tracking.rest.serialize import run_info_json, run_row, runs_json
from modelworks.tracking.services import logging as log_service
from modelworks.tracking.services import runs as service
from modelworks.tracking.services.experiments import find_experiment
from modelworks.tracking.validation import (
    MAX_BATCH_LOG_REQUEST_SIZE,
    MAX_TAG_VAL_LENGTH,
    check_batch_limits,
    check_key,
    invalid,
    param_value,
    parse_metric,
    tag_value,
)

WRITE = ("POST",)
LOGGED_MODELS_TAG = "mlflow.log-model.history"


def _run_id(call: MlflowCall) -> str:
    run_id = call.get("run_id") or call.get("run_uuid")
    if not run_id:
        raise invalid("Missing value for required parameter 'run_id'.")
    return str(run_id)


def _key_values(items: Any, name: str, check_value: Any) -> list[tuple[str, str]]:
    result = []
    for i, item in enumerate(as_list(items)):
        if not isinstance(item, dict):
            raise invalid(
                f"Invalid value for parameter '{name}[{i}]': expected an object with key and value."
            )
        key = check_key(item.get("key"), f"{name}[{i}].key")
        result.append((key, check_value(item.get("value"), f"{name}[{i}].value")))
    return result


def _full_run(run: Any) -> dict[str, Any]:
    return runs_json([run_row(run)])[0]


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def create(call: MlflowCall) -> dict[str, Any]:
    experiment = find_experiment(call.project, call.get("experiment_id") or "0", create_default=True)
    tags = [(t.get("key"), t.get("value")) for t in as_list(call.get("tags")) if isinstance(t, dict)]
    run, stored_tags = service.create_run(
        experiment,
        actor=call.user,
        start_time=call.get("start_time"),
        run_name=call.get("run_name"),
        tags=tags,
    )
    return {
        "run": {
            "info": run_info_json(run_row(run)),
            "data": {"tags": [{"key": k, "value": v} for k, v in stored_tags]},
            "inputs": {},
        }
    }


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def update(call: MlflowCall) -> dict[str, Any]:
    run = service.find_run(call.project, _run_id(call))
    service.update_run(
        run, status=call.get("status"), end_time=call.get("end_time"), run_name=call.get("run_name")
    )
    return {"run_info": run_info_json(run_row(run))}


@mlflow_endpoint(Role.READER, methods=("GET",))
def get(call: MlflowCall) -> dict[str, Any]:
    return {"run": _full_run(service.find_run(call.project, _run_id(call)))}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def delete(call: MlflowCall) -> dict[str, Any]:
    service.delete_run(service.find_run(call.project, _run_id(call)), actor=call.user, request=call.request)
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def restore(call: MlflowCall) -> dict[str, Any]:
    service.restore_run(service.find_run(call.project, _run_id(call)), actor=call.user, request=call.request)
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def set_tag(call: MlflowCall) -> dict[str, Any]:
    run = service.find_run(call.project, _run_id(call))
    key = check_key(require_param(call.payload, "key"), "key")
    log_service.log_batch(run, tags=[(key, tag_value(call.get("value"), "value"))])
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def delete_tag(call: MlflowCall) -> dict[str, Any]:
    run = service.find_run(call.project, _run_id(call))
    service.delete_tag(run, require_param(call.payload, "key"))
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def log_metric(call: MlflowCall) -> dict[str, Any]:
    point = parse_metric(call.payload)
    run = service.find_run(call.project, _run_id(call))
    log_service.log_batch(run, metrics=[point])
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def log_param(call: MlflowCall) -> dict[str, Any]:
    key = check_key(require_param(call.payload, "key"), "key")
    run = service.find_run(call.project, _run_id(call))
    log_service.log_batch(run, params=[(key, param_value(call.get("value"), "value"))])
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def log_batch(call: MlflowCall) -> dict[str, Any]:
    if len(call.request.body) > MAX_BATCH_LOG_REQUEST_SIZE:
        raise invalid(
            f"Batched logging API requests must be at most {MAX_BATCH_LOG_REQUEST_SIZE} bytes, got a "
            f"request of size {len(call.request.body)}."
        )
    raw_metrics, raw_params, raw_tags = (as_list(call.get(n)) for n in ("metrics", "params", "tags"))
    check_batch_limits(len(raw_metrics), len(raw_params), len(raw_tags))
    metrics = [parse_metric(m, f"metrics[{i}]") for i, m in enumerate(raw_metrics)]
    params = _key_values(raw_params, "params", param_value)
    tags = _key_values(raw_tags, "tags", tag_value)
    run = service.find_run(call.project, _run_id(call))
    log_service.log_batch(run, metrics=metrics, params=params, tags=tags)
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def log_inputs(call: MlflowCall) -> dict[str, Any]:
    run = service.find_run(call.project, _run_id(call))
    log_service.log_inputs(run, datasets=as_list(call.get("datasets")), models=as_list(call.get("models")))
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def log_outputs(call: MlflowCall) -> dict[str, Any]:
    run = service.find_run(call.project, _run_id(call))
    log_service.log_outputs(run, models=as_list(call.get("models")))
    return {}


@mlflow_endpoint(Role.CONTRIBUTOR, methods=WRITE)
def log_model(call: MlflowCall) -> dict[str, Any]:
    """MLflow 2's model record: appended to the run's ``mlflow.log-model.history`` tag (JSON list)."""
    run = service.find_run(call.project, _run_id(call))
    try:
        model = json.loads(require_param(call.payload, "model_json"))
    except (TypeError, ValueError):
        raise invalid("Malformed model info: 'model_json' is not valid JSON.") from None
    missing = {"artifact_path", "flavors", "utc_time_created", "run_id"} - set(
        model if isinstance(model, dict) else {}
    )
    if missing:
        raise invalid(f"Model json is missing mandatory fields: {sorted(missing)}.")
    previous = RunTag.objects.filter(run=run, key=LOGGED_MODELS_TAG).values_list("value", flat=True).first()
    try:
        history = json.loads(previous) if previous else []
    except ValueError:
        history = []
    history.append(model)
    value = json.dumps(history)
    while len(value) > MAX_TAG_VAL_LENGTH and len(history) > 1:  # keep the newest records that fit
        history.pop(0)
        value = json.dumps(history)
    if len(value) > MAX_TAG_VAL_LENGTH:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE", "The model record is too large for the run's model history tag."
        )
    log_service.log_batch(run, tags=[(LOGGED_MODELS_TAG, value)])
    return {}
