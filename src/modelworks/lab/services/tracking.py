"""The Lab's tracked runs: one experiment per analysis, one parent run per training, one child run per
trial, written straight into the tracking tables (the same rows an MLflow client's calls create).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from modelworks.core.models import User
from modelworks.datasets.models import DatasetVersion
from modelworks.tracking.models import (
    Experiment,
    LatestMetric,
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunInput,
    RunStatus,
    RunTag,
    TrackedDataset,
)

__all__ = ["end_run", "experiment_for", "log_dataset", "log_metrics", "log_params", "now_ms", "start_run"]

MAX_PARAM_VALUE = 6000  # MLflow's limit


def now_ms() -> int:
    return int(time.time() * 1000)


def experiment_for(analysis: Any, actor: User | None) -> Experiment:
    """The experiment of an analysis's trainings, ``Lab: <analysis name>`` (made on first use)."""
    name = f"Lab: {analysis.name}"[:500]
    experiment = Experiment.objects.filter(project=analysis.project, name=name).first()
    if experiment is None:
        stamp = now_ms()
        experiment = Experiment.objects.create(
            project=analysis.project,
            name=name,
            created_by=actor,
            creation_time=stamp,
            last_update_time=stamp,
        )
    elif experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        experiment.lifecycle_stage, experiment.deleted_time = LifecycleStage.ACTIVE, None
        experiment.last_update_time = now_ms()
        experiment.save(update_fields=["lifecycle_stage", "deleted_time", "last_update_time"])
    return experiment


def start_run(
    experiment: Experiment,
    *,
    name: str,
    actor: User | None,
    parent: Run | None = None,
    tags: Mapping[str, str] | None = None,
) -> Run:
    run = Run.objects.create(
        run_uuid=uuid.uuid4().hex,
        experiment=experiment,
        name=name[:250],
        user_id=actor.get_username() if actor is not None else "modelworks",
        created_by=actor,
        status=RunStatus.RUNNING,
        start_time=now_ms(),
    )
    all_tags = {
        "mlflow.runName": run.name,
        "mlflow.user": run.user_id,
        "mlflow.source.type": "JOB",
        "mlflow.source.name": "Modelworks Lab",
        **(dict(tags or {})),
    }
    if parent is not None:
        all_tags["mlflow.parentRunId"] = parent.run_uuid
    RunTag.objects.bulk_create([RunTag(run=run, key=k[:250], value=str(v)) for k, v in all_tags.items()])
    return run


def _param_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:MAX_PARAM_VALUE]


def log_params(run: Run, params: Mapping[str, Any]) -> None:
    Param.objects.bulk_create(
        [Param(run=run, key=str(k)[:250], value=_param_value(v)) for k, v in params.items()],
        ignore_conflicts=True,
    )


def log_metrics(run: Run, metrics: Mapping[str, float | None], *, step: int = 0, model_id: str = "") -> None:
    """Log one point of each metric and make it the run's latest value (NaN/None kept as NaN)."""
    stamp = now_ms()
    points, latest = [], []
    for key, value in metrics.items():
        is_nan = value is None or value != value
        stored = None if is_nan else float(value)  # type: ignore[arg-type]
        points.append(
            Metric(
                run=run,
                key=key[:250],
                value=stored,
                is_nan=is_nan,
                timestamp=stamp,
                step=step,
                model_id=model_id,
            )
        )
        latest.append(
            LatestMetric(run=run, key=key[:250], value=stored, is_nan=is_nan, timestamp=stamp, step=step)
        )
    Metric.objects.bulk_create(points)
    LatestMetric.objects.filter(run=run, key__in=[m.key for m in latest]).delete()
    LatestMetric.objects.bulk_create(latest)


def log_dataset(
    run: Run, version: DatasetVersion, *, context: str = "training", rows_used: int | None = None
) -> TrackedDataset:
    """Record the dataset version ``run`` trained on (MLflow's ``log_input``), linked to the version."""
    dataset = version.dataset
    digest = hashlib.sha256(f"{version.content_hash}:{rows_used}".encode()).hexdigest()[:8]
    tracked, _ = TrackedDataset.objects.get_or_create(
        experiment=run.experiment,
        name=f"{dataset.name} v{version.number}"[:500],
        digest=digest,
        defaults={
            "source_type": "modelworks",
            "source": json.dumps(
                {"project": dataset.project.slug, "dataset": dataset.name, "version": version.number}
            ),
            "schema": json.dumps(
                {"mlflow_colspec": [{"name": c["name"], "type": c.get("type", "")} for c in version.schema]}
            ),
            "profile": json.dumps({"num_rows": rows_used if rows_used is not None else version.row_count}),
            "dataset_version": version,
        },
    )
    RunInput.objects.get_or_create(
        run=run, dataset=tracked, defaults={"tags": {"mlflow.data.context": context}}
    )
    return tracked


def end_run(run: Run, status: str = RunStatus.FINISHED) -> None:
    run.status, run.end_time = status, now_ms()
    Run.objects.filter(pk=run.pk).update(status=run.status, end_time=run.end_time)
