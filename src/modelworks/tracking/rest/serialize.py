"""Experiments and runs in MLflow's JSON shape (protobuf JSON: empty lists and unset fields omitted).

Runs are read in bulk: one query for the runs, then one per related table for the whole page
(params, latest metrics, tags, dataset inputs, model links), never one per run.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from modelworks.tracking.models import (
    Experiment,
    LatestMetric,
    Metric,
    Param,
    Run,
    RunInput,
    RunModelLink,
    RunTag,
)

__all__ = ["RUN_INFO_FIELDS", "experiment_json", "float_json", "metric_json", "run_info_json", "runs_json"]

# What ``runs_json`` reads of each run, in this order (``Run.objects.values_list(*RUN_INFO_FIELDS)``).
RUN_INFO_FIELDS = (
    "run_uuid",
    "experiment_id",
    "name",
    "user_id",
    "status",
    "start_time",
    "end_time",
    "lifecycle_stage",
)
_CHUNK = 500  # IN lists stay far below every database's bound-parameter limit


def float_json(value: float | None, is_nan: bool = False) -> float | str:
    """A double as protobuf JSON writes it: NaN and infinities as strings."""
    if is_nan or value is None or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def experiment_json(experiment: Experiment, tags: Iterable[tuple[str, str]] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "experiment_id": str(experiment.pk),
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
        "last_update_time": experiment.last_update_time,
        "creation_time": experiment.creation_time,
    }
    if tags is None:
        tags = experiment.tags.values_list("key", "value")
    tag_list = [{"key": k, "value": v} for k, v in tags]
    if tag_list:
        data["tags"] = tag_list
    return data


def run_info_json(row: Sequence[Any]) -> dict[str, Any]:
    """``RunInfo`` from a ``RUN_INFO_FIELDS`` row (or a ``Run``, through :func:`_row`)."""
    run_id, experiment_id, name, user_id, status, start_time, end_time, stage = row
    info: dict[str, Any] = {
        "run_id": run_id,
        "run_uuid": run_id,
        "run_name": name,
        "experiment_id": str(experiment_id),
        "user_id": user_id,
        "status": status,
        "artifact_uri": f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts",
        "lifecycle_stage": stage,
    }
    if start_time is not None:
        info["start_time"] = start_time
    if end_time is not None:
        info["end_time"] = end_time
    return info


def run_row(run: Run) -> tuple[Any, ...]:
    return tuple(getattr(run, "run_uuid" if f == "run_uuid" else f) for f in RUN_INFO_FIELDS)


def metric_json(key: str, value: float | None, is_nan: bool, timestamp: int, step: int) -> dict[str, Any]:
    return {"key": key, "value": float_json(value, is_nan), "timestamp": timestamp, "step": step}


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def runs_json(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Full MLflow runs (info, data, inputs, outputs) for ``RUN_INFO_FIELDS`` rows, in their order."""
    ids = [row[0] for row in rows]
    params: dict[str, list[dict[str, str]]] = defaultdict(list)
    metrics: dict[str, list[dict[str, Any]]] = defaultdict(list)
    tags: dict[str, list[dict[str, str]]] = defaultdict(list)
    inputs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    model_inputs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    model_outputs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for chunk in _chunks(ids):
        for run_id, key, value in (
            Param.objects.filter(run_id__in=chunk).order_by().values_list("run_id", "key", "value")
        ):
            params[run_id].append({"key": key, "value": value})
        for run_id, key, value, is_nan, timestamp, step in (
            LatestMetric.objects.filter(run_id__in=chunk)
            .order_by()
            .values_list("run_id", "key", "value", "is_nan", "timestamp", "step")
        ):
            metrics[run_id].append(metric_json(key, value, is_nan, timestamp, step))
        for run_id, key, value in (
            RunTag.objects.filter(run_id__in=chunk).order_by().values_list("run_id", "key", "value")
        ):
            tags[run_id].append({"key": key, "value": value})
        for run_input in RunInput.objects.filter(run_id__in=chunk).select_related("dataset").order_by("id"):
            dataset = run_input.dataset
            entry: dict[str, Any] = {
                "dataset": {
                    k: v
                    for k, v in (
                        ("name", dataset.name),
                        ("digest", dataset.digest),
                        ("source_type", dataset.source_type),
                        ("source", dataset.source),
                        ("schema", dataset.schema),
                        ("profile", dataset.profile),
                    )
                    if v
                }
            }
            if run_input.tags:
                entry["tags"] = [{"key": k, "value": v} for k, v in run_input.tags.items()]
            inputs[run_input.run_id].append(entry)
        for run_id, model_id, direction, step in (
            # An explicit order: the model's ("run", …) would join the runs table to sort by it.
            RunModelLink.objects.filter(run_id__in=chunk)
            .order_by("direction", "model_id")
            .values_list("run_id", "model_id", "direction", "step")
        ):
            if direction == RunModelLink.Direction.INPUT:
                model_inputs[run_id].append({"model_id": model_id})
            else:
                model_outputs[run_id].append({"model_id": model_id, "step": step})
    result = []
    for row in rows:
        run_id = row[0]
        data: dict[str, Any] = {}
        for name, values in (("metrics", metrics), ("params", params), ("tags", tags)):
            if run_id in values:
                data[name] = values[run_id]
        run: dict[str, Any] = {"info": run_info_json(row), "data": data}
        run_inputs: dict[str, Any] = {}
        if run_id in inputs:
            run_inputs["dataset_inputs"] = inputs[run_id]
        if run_id in model_inputs:
            run_inputs["model_inputs"] = model_inputs[run_id]
        run["inputs"] = run_inputs
        if run_id in model_outputs:
            run["outputs"] = {"model_outputs": model_outputs[run_id]}
        result.append(run)
    return result


def metric_points_json(points: Iterable[Metric]) -> list[dict[str, Any]]:
    return [metric_json(m.key, m.value, m.is_nan, m.timestamp, m.step) for m in points]
