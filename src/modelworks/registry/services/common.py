"""Helpers shared by the registry services: times, the artifact store, reading MLmodel files."""

from __future__ import annotations

import time
from typing import Any

import yaml

from modelworks.registry.errors import InvalidRegistryValueError, RegistryNotFoundError
from modelworks.tracking.models import Experiment, LifecycleStage

__all__ = ["artifact_store", "experiment_of", "now_ms", "read_mlmodel"]

MLMODEL_MAX_BYTES = 4 << 20


def now_ms() -> int:
    return int(time.time() * 1000)


def artifact_store() -> Any:
    """The tracking artifact store (``MODELWORKS_ARTIFACTS_DIR/tracking``), the artifact proxy's own."""
    from modelworks.tracking.artifacts.services import artifact_store as proxy_store

    return proxy_store()


def experiment_of(project: Any, experiment_id: Any, *, active: bool = False) -> Experiment:
    """The project's experiment ``experiment_id`` (MLflow sends IDs as strings).

    Raises:
        RegistryNotFoundError: no such experiment in this project (or deleted, with ``active``).
    """
    try:
        pk = int(str(experiment_id))
    except (TypeError, ValueError):
        raise RegistryNotFoundError(
            f"No experiment with ID {str(experiment_id)[:40]!r} in this project."
        ) from None
    experiment = Experiment.objects.filter(project=project, pk=pk).first()
    if experiment is None:
        raise RegistryNotFoundError(f"No experiment with ID {pk} in project '{project.slug}'.")
    if active and experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidRegistryValueError(
            f"Experiment '{experiment.name}' (ID {pk}) is deleted; restore it before logging models to it."
        )
    return experiment


def read_mlmodel(key: tuple[str, ...]) -> dict[str, Any] | None:
    """The parsed ``MLmodel`` file of the model folder ``key`` in the artifact store, or None."""
    from modelworks.tracking.artifacts.storage import ArtifactStoreError

    try:
        handle, size = artifact_store().open((*key, "MLmodel"))
    except (ArtifactStoreError, ValueError, OSError):
        return None
    with handle:
        if size > MLMODEL_MAX_BYTES:
            return None
        try:
            data = yaml.safe_load(handle.read())
        except yaml.YAMLError:
            return None
    return data if isinstance(data, dict) else None


def read_json_artifact(key: tuple[str, ...], *, max_bytes: int = 1 << 20) -> Any:
    """A small JSON file of the artifact store (e.g. an input example), or None."""
    import json

    from modelworks.tracking.artifacts.storage import ArtifactStoreError

    try:
        handle, size = artifact_store().open(key)
    except (ArtifactStoreError, ValueError, OSError):
        return None
    with handle:
        if size > max_bytes:
            return None
        try:
            return json.loads(handle.read())
        except ValueError:
            return None
