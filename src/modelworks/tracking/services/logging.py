"""What runs log: metrics, params, tags (one batch = one transaction), dataset and model inputs, outputs.

The write path is the hot path of tracking (a training loop logs a metric per step), so a batch is a
fixed number of statements whatever its size: one read of the batch's existing params, one bulk
insert per table, and one ``INSERT … ON CONFLICT DO UPDATE … WHERE newer`` for the latest values
(``LatestMetric``, what searches read), which SQLite and PostgreSQL both run.
"""

from __future__ import annotations

import math
from typing import Any

from django.db import connection, transaction

from modelworks.tracking.models import (
    LatestMetric,
    Metric,
    Param,
    Run,
    RunInput,
    RunModelLink,
    TrackedDataset,
)
from modelworks.tracking.services.runs import require_active_run, set_tags
from modelworks.tracking.validation import (
    MAX_DATASET_DIGEST_LENGTH,
    MAX_DATASET_NAME_LENGTH,
    MAX_DATASET_SOURCE_LENGTH,
    MAX_INPUT_TAG_KEY_LENGTH,
    MAX_INPUT_TAG_VALUE_LENGTH,
    MetricPoint,
    invalid,
    optional_int,
)

__all__ = ["log_batch", "log_inputs", "log_outputs", "upsert_latest_metrics"]


_METRIC_COLUMNS = (
    "run_id",
    "key",
    "value",
    "is_nan",
    "timestamp",
    "step",
    "model_id",
    "dataset_name",
    "dataset_digest",
)


def _insert_metrics(run_id: str, points: list[MetricPoint]) -> None:
    """Append metric points with one ``executemany``: a training loop's batches are the hot path,
    and building a model instance per point costs more than the insert itself."""
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in _METRIC_COLUMNS)
    sql = f"INSERT INTO {q(Metric._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(_METRIC_COLUMNS))})"  # noqa: S608
    rows = []
    for p in points:
        nan = p.value != p.value  # NaN is the only value unequal to itself
        rows.append(
            (
                run_id,
                p.key,
                None if nan else p.value,
                nan,
                p.timestamp,
                p.step,
                p.model_id,
                p.dataset_name,
                p.dataset_digest,
            )
        )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _newer(a: MetricPoint, b: MetricPoint) -> bool:
    """MLflow's order of "latest": step, then timestamp, then value (NaN lowest)."""
    av = -math.inf if math.isnan(a.value) else a.value
    bv = -math.inf if math.isnan(b.value) else b.value
    return (a.step, a.timestamp, av) > (b.step, b.timestamp, bv)


def upsert_latest_metrics(run_id: str, points: list[MetricPoint]) -> None:
    """Keep ``LatestMetric`` at the newest point of each key, in one statement."""
    latest: dict[str, MetricPoint] = {}
    for point in points:
        current = latest.get(point.key)
        if current is None or _newer(point, current):
            latest[point.key] = point
    if not latest:
        return
    q = connection.ops.quote_name
    table = q(LatestMetric._meta.db_table)
    cols = [q(c) for c in ("run_id", "key", "value", "is_nan", "timestamp", "step")]
    run_col, key_col, value_col, nan_col, ts_col, step_col = cols
    rows: list[Any] = []
    for point in latest.values():
        nan = math.isnan(point.value)
        rows.extend([run_id, point.key, None if nan else point.value, nan, point.timestamp, point.step])
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(latest))
    # Identifiers come from the model (quoted); every value is a bound parameter.
    sql = (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES {placeholders} "  # noqa: S608
        f"ON CONFLICT ({run_col}, {key_col}) DO UPDATE SET "
        f"{value_col} = excluded.{value_col}, {nan_col} = excluded.{nan_col}, "
        f"{ts_col} = excluded.{ts_col}, {step_col} = excluded.{step_col} "
        f"WHERE excluded.{step_col} > {table}.{step_col} "
        f"OR (excluded.{step_col} = {table}.{step_col} AND (excluded.{ts_col} > {table}.{ts_col} "
        f"OR (excluded.{ts_col} = {table}.{ts_col} AND excluded.{nan_col} = %s AND "
        f"({table}.{nan_col} = %s OR excluded.{value_col} > {table}.{value_col}))))"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*rows, False, True])


def _check_params(run: Run, params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The params to insert: new keys only; an existing key with another value is refused."""
    seen: dict[str, str] = {}
    duplicates = []
    for key, value in params:
        if key in seen:
            duplicates.append(key)
        seen[key] = value
    if duplicates:
        raise invalid(
            f"Duplicate parameter keys have been submitted: {duplicates}. Please ensure the request "
            "contains only one param value per param key."
        )
    # order_by(): the model's ordering ("run", …) would join the runs table just to sort by it.
    existing = dict(
        Param.objects.filter(run_id=run.pk, key__in=list(seen)).order_by().values_list("key", "value")
    )
    conflicts = [
        {"key": k, "old_value": existing[k], "new_value": v}
        for k, v in seen.items()
        if k in existing and existing[k] != v
    ]
    if conflicts:
        raise invalid(
            f"Changing param values is not allowed. Params were already logged='{conflicts}' for run "
            f"ID='{run.run_uuid}'. Log the new value in a new run (e.g. a nested run per setting)."
        )
    return [(k, v) for k, v in seen.items() if k not in existing]


def _insert_params(run_id: str, params: list[tuple[str, str]]) -> None:
    """Insert new params with one ``executemany`` (as metrics: no model instance per row)."""
    if not params:
        return
    q = connection.ops.quote_name
    sql = (
        f"INSERT INTO {q(Param._meta.db_table)} ({q('run_id')}, {q('key')}, {q('value')}) "  # noqa: S608
        "VALUES (%s, %s, %s)"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(run_id, key, value) for key, value in params])


def log_batch(
    run: Run,
    *,
    metrics: list[MetricPoint] = (),  # type: ignore[assignment]
    params: list[tuple[str, str]] = (),  # type: ignore[assignment]
    tags: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> None:
    """Log checked metrics, params and tags to ``run`` atomically (all or nothing)."""
    require_active_run(run)
    with transaction.atomic():
        if params:
            _insert_params(run.run_uuid, _check_params(run, list(params)))
        if metrics:
            _insert_metrics(run.run_uuid, list(metrics))
            upsert_latest_metrics(run.run_uuid, list(metrics))
        if tags:
            set_tags(run, list(tags))


def _text(raw: dict[str, Any], name: str, path: str, limit: int, *, required: bool = True) -> str:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise invalid(f"Missing value for required parameter '{path}.{name}'.")
        return ""
    if not isinstance(value, str):
        raise invalid(f"Invalid value for parameter '{path}.{name}': expected a string.")
    if len(value) > limit:
        raise invalid(f"'{path}.{name}' is longer than {limit} characters.")
    return value


def _dataset_version_id(source: str) -> int | None:
    """The Modelworks dataset version a dataset source names, if any (a lineage edge to the data).

    Recognised forms: ``modelworks:dataset-version:<id>`` and a JSON source with
    ``"modelworks_dataset_version": <id>``.
    """
    import json

    from modelworks.datasets.models import DatasetVersion

    candidate: Any = None
    if source.startswith("modelworks:dataset-version:"):
        candidate = source.rsplit(":", 1)[-1]
    elif source.startswith("{"):
        try:
            candidate = json.loads(source).get("modelworks_dataset_version")
        except (ValueError, AttributeError):
            candidate = None
    try:
        pk = int(candidate) if candidate is not None else None
    except (TypeError, ValueError):
        return None
    return pk if pk is not None and DatasetVersion.objects.filter(pk=pk).exists() else None


def log_inputs(run: Run, *, datasets: list[Any], models: list[Any]) -> None:
    """Record the datasets (name, digest, source…) and logged models a run used."""
    require_active_run(run)
    parsed = []
    for i, entry in enumerate(datasets):
        path = f"datasets[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("dataset"), dict):
            raise invalid(f"Missing value for required parameter '{path}.dataset'.")
        raw = entry["dataset"]
        fields = {
            "name": _text(raw, "name", f"{path}.dataset", MAX_DATASET_NAME_LENGTH),
            "digest": _text(raw, "digest", f"{path}.dataset", MAX_DATASET_DIGEST_LENGTH),
            "source_type": _text(raw, "source_type", f"{path}.dataset", 64),
            "source": _text(raw, "source", f"{path}.dataset", MAX_DATASET_SOURCE_LENGTH),
            "schema": _text(raw, "schema", f"{path}.dataset", 1_048_575, required=False),
            "profile": _text(raw, "profile", f"{path}.dataset", 16_777_215, required=False),
        }
        tags = {}
        for j, tag in enumerate(entry.get("tags") or []):
            tag_path = f"{path}.tags[{j}]"
            if not isinstance(tag, dict):
                raise invalid(f"Invalid value for parameter '{tag_path}': expected an object.")
            tags[_text(tag, "key", tag_path, MAX_INPUT_TAG_KEY_LENGTH)] = _text(
                tag, "value", tag_path, MAX_INPUT_TAG_VALUE_LENGTH
            )
        parsed.append((fields, tags))
    model_ids = []
    for i, entry in enumerate(models):
        if not isinstance(entry, dict) or not entry.get("model_id"):
            raise invalid(f"Missing value for required parameter 'models[{i}].model_id'.")
        model_ids.append(str(entry["model_id"])[:64])
    with transaction.atomic():
        for fields, tags in parsed:
            dataset, _created = TrackedDataset.objects.get_or_create(
                experiment_id=run.experiment_id,
                name=fields["name"],
                digest=fields["digest"],
                defaults={**fields, "dataset_version_id": _dataset_version_id(fields["source"])},
            )
            # As MLflow's stores: the first time a run logs a dataset wins; logging it again (autolog
            # scoring on the training rows, a loop re-logging its input) keeps the original context.
            RunInput.objects.get_or_create(run=run, dataset=dataset, defaults={"tags": tags})
        RunModelLink.objects.bulk_create(
            [RunModelLink(run=run, model_id=m, direction=RunModelLink.Direction.INPUT) for m in model_ids],
            ignore_conflicts=True,
        )


def log_outputs(run: Run, *, models: list[Any]) -> None:
    """Record the logged models a run produced (MLflow 3 ``log_outputs``), with their step."""
    require_active_run(run)
    if not models:
        raise invalid("Missing value for required parameter 'models'.")
    links = []
    for i, entry in enumerate(models):
        if not isinstance(entry, dict) or not entry.get("model_id"):
            raise invalid(f"Missing value for required parameter 'models[{i}].model_id'.")
        links.append(
            RunModelLink(
                run=run,
                model_id=str(entry["model_id"])[:64],
                direction=RunModelLink.Direction.OUTPUT,
                step=optional_int(entry.get("step"), f"models[{i}].step") or 0,
            )
        )
    with transaction.atomic():
        RunModelLink.objects.bulk_create(
            links,
            update_conflicts=True,
            unique_fields=["run", "model_id", "direction"],
            update_fields=["step"],
        )
