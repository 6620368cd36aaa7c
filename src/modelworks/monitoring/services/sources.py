"""What a monitor watches, resolved from its settings: the model version that scores, the reference
data, the features and their kinds. Empty settings take their documented defaults here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelworks.monitoring.errors import MonitorConfigError
from modelworks.monitoring.models import Monitor

__all__ = ["MonitorContext", "resolve_context", "resolve_model_version", "signature_inputs"]


@dataclass(frozen=True)
class MonitorContext:
    """Everything a computation needs, read from the database before touching any file."""

    model_version: Any | None
    reference_version: Any
    reference_path: Path
    reference_columns: tuple[str, ...]
    features: tuple[str, ...]
    target_column: str


def signature_inputs(version: Any) -> list[str]:
    """Column names of the ``inputs`` of an MLflow signature stored on a model version (may be empty)."""
    signature = getattr(version, "signature", None) or {}
    inputs = signature.get("inputs") if isinstance(signature, dict) else None
    if isinstance(inputs, str):
        try:
            inputs = json.loads(inputs)
        except ValueError:
            return []
    if not isinstance(inputs, list):
        return []
    return [str(c["name"]) for c in inputs if isinstance(c, dict) and c.get("name")]


def resolve_model_version(monitor: Monitor) -> Any | None:
    """The model version answering for the monitor's source now (primary target / recipe model)."""
    from modelworks.registry.errors import RegistryError
    from modelworks.registry.models import ModelVersion, RegisteredModel
    from modelworks.registry.services import get_version_by_alias

    if monitor.deployment_id:
        target = (
            monitor.deployment.targets.select_related("registered_model", "model_version")  # type: ignore[union-attr]
            .filter(role="primary")
            .order_by("id")
            .first()
        )
        if target is None:
            return None
        if target.model_version_id:
            return target.model_version
        try:
            return get_version_by_alias(target.registered_model, target.alias)
        except RegistryError:
            return None
    recipe = monitor.recipe
    spec = (recipe.spec if recipe is not None else None) or {}
    model = RegisteredModel.objects.filter(project=monitor.project, name=str(spec.get("model") or "")).first()
    if model is None:
        return None
    if spec.get("version"):
        return ModelVersion.objects.filter(registered_model=model, version=spec["version"]).first()
    try:
        return get_version_by_alias(model, str(spec.get("alias") or "champion"))
    except RegistryError:
        return None


def resolve_context(monitor: Monitor) -> MonitorContext:
    """The monitor's model version, reference data and features, defaults applied.

    Raises:
        MonitorConfigError: no reference data can be found, or a chosen feature is not in it.
    """
    from modelworks.datasets.services import version_path

    version = resolve_model_version(monitor)
    reference = monitor.reference_version
    if reference is None and version is not None:
        reference = version.training_dataset_version
    if reference is None:
        raise MonitorConfigError(
            f"Monitor '{monitor.name}' has no reference data: "
            + (
                f"model version {version} has no recorded training dataset. "
                if version is not None
                else "no model version answers for its source. "
            )
            + "Choose a reference dataset version in the monitor's settings.",
            field="reference_version",
        )
    path = version_path(reference)
    columns = tuple(reference.column_names) if reference.schema else _parquet_columns(path)
    if monitor.features:
        missing = [f for f in monitor.features if f not in columns]
        if missing:
            raise MonitorConfigError(
                f"Monitor '{monitor.name}': the feature(s) {', '.join(repr(m) for m in missing[:5])} are not "
                f"columns of the reference data {reference}; remove them or choose another reference.",
                field="features",
            )
        features = list(monitor.features)
    else:
        wanted = signature_inputs(version) if version is not None else []
        features = [c for c in wanted if c in columns] or [
            c for c in columns if c not in (monitor.target_column, monitor.labels_label_column)
        ]
    target = monitor.target_column if monitor.target_column in columns else ""
    return MonitorContext(
        model_version=version,
        reference_version=reference,
        reference_path=path,
        reference_columns=columns,
        features=tuple(features),
        target_column=target,
    )


def _parquet_columns(path: Path) -> tuple[str, ...]:
    import pyarrow.parquet as pq

    return tuple(pq.read_schema(path).names)
