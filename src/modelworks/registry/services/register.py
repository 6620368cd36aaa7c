"""Registering a model from inside Modelworks (the Lab): from a saved MLflow model folder or a
logged model, in one call that creates the registered model when needed."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from django.db import transaction

from modelworks.registry.errors import InvalidRegistryValueError
from modelworks.registry.models import LoggedModel, LoggedModelStatus, ModelVersion, RegisteredModel
from modelworks.registry.services.common import artifact_store, now_ms
from modelworks.registry.services.logged_models import create_logged_model
from modelworks.registry.services.registered_models import check_model_name, create_registered_model
from modelworks.registry.services.versions import create_model_version
from modelworks.tracking.models import Experiment, Run

__all__ = ["REGISTRY_EXPERIMENT_NAME", "register_version"]

#: The experiment that holds models registered without a run.
REGISTRY_EXPERIMENT_NAME = "Registered models"


def _experiment_for(project: Any, actor: Any, run: Run | None) -> Experiment:
    if run is not None:
        return run.experiment
    stamp = now_ms()
    experiment, _ = Experiment.objects.get_or_create(
        project=project,
        name=REGISTRY_EXPERIMENT_NAME,
        defaults={
            "created_by": actor if getattr(actor, "is_authenticated", False) else None,
            "creation_time": stamp,
            "last_update_time": stamp,
        },
    )
    return experiment


def _files(folder: Path) -> list[tuple[Path, tuple[str, ...]]]:
    from modelworks.tracking.artifacts.paths import UnsafeArtifactPathError, check_segment

    found = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                continue
            relative = path.relative_to(folder).parts
            try:
                found.append((path, tuple(check_segment(p) for p in relative)))
            except UnsafeArtifactPathError as exc:
                raise InvalidRegistryValueError(
                    f"The model folder holds a file that cannot be stored: {exc}"
                ) from exc
    return found


def _upload_folder(folder: Path, model: LoggedModel) -> None:
    from modelworks.tracking.artifacts.services import max_artifact_bytes

    if not (folder / "MLmodel").is_file():
        raise InvalidRegistryValueError(
            f"'{folder}' is not an MLflow model folder (no MLmodel file); save the model with "
            "modelworks.engine.automl.save_model or mlflow.<flavor>.save_model first.",
            field="source",
        )
    store = artifact_store()
    root = (str(model.experiment_id), "models", model.model_id, "artifacts")
    limit = max_artifact_bytes()
    for path, parts in _files(folder):
        with path.open("rb") as stream:
            store.save_stream((*root, *parts), stream, max_bytes=limit)


def register_version(
    project: Any,
    *,
    actor: Any,
    model_name: str,
    source_dir_or_logged_model: Path | str | LoggedModel,
    run: Run | None = None,
    training_dataset_version: Any = None,
    recipe: Any = None,
    metrics: dict[str, float] | None = None,
    signature: dict[str, Any] | None = None,
    description: str = "",
    request: Any = None,
) -> ModelVersion:
    """Register a new version of ``model_name`` (created if the project has none by that name).

    Args:
        project: the project the model belongs to.
        actor: who registers it (audited).
        model_name: the registered model's name.
        source_dir_or_logged_model: an MLflow model folder on this server (copied into the tracking
            store as a new logged model of ``run``'s experiment, or of the "Registered models"
            experiment) or an existing ``LoggedModel`` of the project.
        run: the tracked run that trained it, if any (its metrics, params and code are the lineage).
        training_dataset_version: the exact ``DatasetVersion`` it was trained on.
        recipe: the ``flows.Recipe`` that produced the training data, when known.
        metrics: evaluation metrics to keep with the version (shown on the card and in comparisons).
        signature: the MLflow signature, when the folder's MLmodel lacks one.
        description: what the version is for.

    Returns:
        The new ``ModelVersion`` (files in the tracking store, loadable as ``models:/<name>/<version>``).

    Raises:
        InvalidRegistryValueError: a bad name, a folder that is not an MLflow model, a logged model
            or run of another project.
    """
    check_model_name(model_name)
    if run is not None and run.experiment.project_id != project.pk:
        raise InvalidRegistryValueError(f"Run '{run.run_uuid}' belongs to another project.", field="run")
    if training_dataset_version is not None and training_dataset_version.dataset.project_id != project.pk:
        raise InvalidRegistryValueError(
            "The training dataset version belongs to another project.", field="training"
        )
    uploaded: LoggedModel | None = None
    if isinstance(source_dir_or_logged_model, LoggedModel):
        logged = source_dir_or_logged_model
        if logged.experiment.project_id != project.pk:
            raise InvalidRegistryValueError(f"Logged model '{logged.model_id}' belongs to another project.")
    else:
        folder = Path(source_dir_or_logged_model)
        experiment = _experiment_for(project, actor, run)
        logged = create_logged_model(
            project,
            actor=actor,
            experiment_id=experiment.pk,
            name=model_name,
            source_run_id=run.run_uuid if run is not None else None,
        )
        uploaded = logged
        try:
            _upload_folder(folder, logged)
        except BaseException:
            with contextlib.suppress(Exception):
                artifact_store().delete((str(logged.experiment_id), "models", logged.model_id))
            logged.delete()
            raise
        logged.status = LoggedModelStatus.READY
        logged.save(update_fields=["status"])
    try:
        with transaction.atomic():
            registered = RegisteredModel.objects.filter(project=project, name=model_name).first()
            if registered is None:
                registered = create_registered_model(project, actor=actor, name=model_name, request=request)
            return create_model_version(
                registered,
                actor=actor,
                source=f"models:/{logged.model_id}",
                run_id=run.run_uuid if run is not None else None,
                training_dataset_version=training_dataset_version,
                recipe=recipe,
                metrics=metrics,
                signature=signature,
                description=description,
                request=request,
            )
    except BaseException:
        if uploaded is not None:
            with contextlib.suppress(Exception):
                artifact_store().delete((str(uploaded.experiment_id), "models", uploaded.model_id))
            uploaded.delete()
        raise
