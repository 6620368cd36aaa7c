"""Real data for the monitoring tests: a reference dataset, a registered model version, a deployment
and a prediction log written by the real ``PredictionLogWriter``, with real ``Feedback`` rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings

from modelworks.core.models import Project, User
from modelworks.datasets.testing import make_dataset

__all__ = ["DAY1", "DAY2", "World", "make_world", "write_day"]

DAY1 = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
DAY2 = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)


def _reference_csv(rows: int = 400) -> bytes:
    rng = np.random.default_rng(7)
    x = rng.normal(50, 10, rows)
    city = rng.choice(["Lyon", "Paris", "Nantes"], rows)
    late = np.where(x > 50, "yes", "no")
    frame = pd.DataFrame({"x": x.round(3), "city": city, "late": late})
    return frame.to_csv(index=False).encode()


@dataclass
class World:
    project: Project
    version: Any
    deployment: Any
    reference: Any


def make_world(project: Project, actor: User) -> World:
    from modelworks.deployments.models import Deployment, DeploymentTarget
    from modelworks.registry.models import ModelVersion, RegisteredModel

    dataset = make_dataset(
        project, actor, name="training", content=_reference_csv(), file_name="training.csv"
    )
    reference = dataset.versions.get(number=1)
    model = RegisteredModel.objects.create(project=project, name="lateness", created_by=actor)
    signature = {"inputs": json.dumps([{"type": "double", "name": "x"}, {"type": "string", "name": "city"}])}
    version = ModelVersion.objects.create(
        registered_model=model,
        version=1,
        source="mlflow-artifacts:/1/none/artifacts/model",
        storage_location="mlflow-artifacts:/1/none/artifacts/model",
        training_dataset_version=reference,
        signature=signature,
        metrics={"accuracy": 0.95, "roc_auc": 0.97},
    )
    deployment = Deployment.objects.create(project=project, name="lateness-api", created_by=actor)
    DeploymentTarget.objects.create(
        deployment=deployment, registered_model=model, model_version=version, role="primary"
    )
    return World(project=project, version=version, deployment=deployment, reference=reference)


def write_day(
    world: World, when: datetime, *, shift: float, cities: list[str], rows: int = 300, seed: int = 1
) -> list[str]:
    """Log ``rows`` scored rows at ``when`` (inputs shifted by ``shift``); return their row ids."""
    from modelworks.engine.predictions import PredictionLogWriter

    rng = np.random.default_rng(seed)
    x = rng.normal(50 + shift, 10, rows)
    inputs = pd.DataFrame({"x": x, "city": rng.choice(cities, rows)})
    p_yes = 1 / (1 + np.exp(-(x - 50) / 3))
    predictions = SimpleNamespace(
        predictions=["yes" if p > 0.5 else "no" for p in p_yes],
        probabilities=[{"no": float(1 - p), "yes": float(p)} for p in p_yes],
    )
    ids = [f"{when:%d}-{i}" for i in range(rows)]
    root = Path(settings.MODELWORKS_PREDICTIONS_DIR)
    writer = PredictionLogWriter(root, f"deployment-{world.deployment.pk}")
    writer.append(
        request_id=f"req-{when:%d}",
        ts=when,
        model_version_id=world.version.pk,
        model_version="lateness/1",
        role="primary",
        answered=True,
        inputs=inputs,
        predictions=predictions,
        row_ids=ids,
        latency_ms=1.5,
    )
    writer.close()
    return ids
