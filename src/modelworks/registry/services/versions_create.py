"""Registering a model version: :func:`create_model_version` reads what the model folder says
(signature, input example, package versions), links the run, the logged model, the training dataset
version and the code, records the lineage and audits the creation.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from modelworks.core.audit import record
from modelworks.registry.errors import InvalidRegistryValueError
from modelworks.registry.models import LoggedModelTag, ModelVersion, ModelVersionTag, RegisteredModel
from modelworks.registry.services.common import read_json_artifact, read_mlmodel
from modelworks.registry.services.sources import ResolvedSource, resolve_source, storage_key
from modelworks.tracking.models import RunInput

log = logging.getLogger(__name__)
INPUT_EXAMPLE_ROWS = 5


# -- what the files say ------------------------------------------------------------------------
def _metadata(storage_location: str) -> dict[str, Any]:
    """Signature, input example and package versions read from the version's MLmodel file."""
    key = storage_key(storage_location)
    mlmodel = read_mlmodel(key)
    if mlmodel is None:
        return {}
    result: dict[str, Any] = {}
    signature = mlmodel.get("signature")
    if isinstance(signature, dict):
        parsed: dict[str, Any] = {}
        for part in ("inputs", "outputs", "params"):
            raw = signature.get(part)
            if isinstance(raw, str):
                try:
                    parsed[part] = json.loads(raw)
                except ValueError:
                    parsed[part] = raw
        result["signature"] = parsed or None
    packages: dict[str, Any] = {}
    if mlmodel.get("mlflow_version"):
        packages["mlflow"] = str(mlmodel["mlflow_version"])
    for flavor, info in (mlmodel.get("flavors") or {}).items():
        if not isinstance(info, dict):
            continue
        for field, value in info.items():
            if field == "python_version":
                packages["python"] = str(value)
            elif (
                field.endswith("_version")
                and isinstance(value, str | int | float)
                and field != "pickled_model_version"
            ):
                packages[field[: -len("_version")]] = str(value)
        packages.setdefault("flavors", []).append(str(flavor))
    result["package_versions"] = packages
    example = mlmodel.get("saved_input_example_info")
    if isinstance(example, dict) and isinstance(example.get("artifact_path"), str):
        from modelworks.tracking.artifacts.paths import UnsafeArtifactPathError, split_artifact_path

        try:
            example_key = (*key, *split_artifact_path(example["artifact_path"]))
        except UnsafeArtifactPathError:
            example_key = None
        data = read_json_artifact(example_key) if example_key else None
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            data = {**data, "data": data["data"][:INPUT_EXAMPLE_ROWS]}
        elif isinstance(data, dict) and isinstance(data.get("dataframe_split"), dict):
            split = data["dataframe_split"]
            data = {**split, "data": list(split.get("data") or [])[:INPUT_EXAMPLE_ROWS]}
        elif isinstance(data, list):
            data = data[:INPUT_EXAMPLE_ROWS]
        if data is not None:
            # MLflow writes NaN into input examples, which is not JSON: the database refuses it.
            from modelworks.engine.automl.evaluation import json_safe

            result["input_example"] = json_safe(data)
    return result


def _training_dataset_version(resolved: ResolvedSource) -> Any:
    """The Modelworks dataset version the source run trained on, when its inputs say so."""
    if resolved.run is None:
        return None
    inputs = [
        i
        for i in RunInput.objects.filter(run=resolved.run).select_related("dataset")
        if i.dataset.dataset_version_id
    ]
    training = [i for i in inputs if (i.tags or {}).get("mlflow.data.context") == "training"]
    chosen = training or (inputs if len(inputs) == 1 else [])
    return chosen[0].dataset.dataset_version if chosen else None


def _code_reference(resolved: ResolvedSource) -> str:
    if resolved.run is None:
        return ""
    tags = dict(
        resolved.run.tags.filter(key__in=["mlflow.source.name", "mlflow.source.git.commit"]).values_list(
            "key", "value"
        )
    )
    name = tags.get("mlflow.source.name", "")
    commit = tags.get("mlflow.source.git.commit", "")
    text = (
        f"{name} @ git {commit[:12]}" if name and commit else name or (f"git {commit[:12]}" if commit else "")
    )
    return text[:500]


def _record_lineage(version: ModelVersion) -> None:
    """The edge training dataset → model version in the catalog's lineage graph."""
    from modelworks.catalog.lineage import DatasetRef, LineageError, record_run

    dataset_version = version.training_dataset_version
    if dataset_version is None:
        return
    project = version.registered_model.project
    model = version.registered_model
    output = DatasetRef(
        namespace=f"modelworks-model://{project.slug}",
        name=f"{model.name}/v{version.version}",
        description=f"Model version {version.version} of '{model.name}', trained on "
        f"{dataset_version.dataset.name} v{dataset_version.number}.",
    )
    try:
        with transaction.atomic():
            record_run(
                project,
                f"train/{model.name}",
                inputs=[dataset_version.dataset],
                outputs=[output],
                run_id=uuid.uuid5(uuid.NAMESPACE_URL, f"modelworks:model-version:{version.pk}"),
                state="completed",
                description=f"Training of the registered model '{model.name}'.",
            )
    except LineageError as exc:  # the version stands without its lineage node; say so in the log
        log.warning("Could not record the lineage of %s: %s", version, exc)


def _link_logged_model(version: ModelVersion) -> None:
    """Add the version to the logged model's ``mlflow.modelVersions`` tag, as MLflow's server does."""
    if version.logged_model is None:
        return
    tag, _ = LoggedModelTag.objects.get_or_create(
        logged_model=version.logged_model, key="mlflow.modelVersions", defaults={"value": "[]"}
    )
    try:
        known = json.loads(tag.value or "[]")
    except ValueError:
        known = []
    entry = {"name": version.registered_model.name, "version": str(version.version)}
    if entry not in known:
        known.append(entry)
        tag.value = json.dumps(known)
        tag.save(update_fields=["value"])


@transaction.atomic
def create_model_version(
    model: RegisteredModel,
    *,
    actor: Any,
    source: str,
    run_id: str | None = None,
    model_id: str | None = None,
    tags: Iterable[Any] | None = None,
    run_link: str = "",
    description: str = "",
    training_dataset_version: Any = None,
    recipe: Any = None,
    metrics: dict[str, float] | None = None,
    signature: dict[str, Any] | None = None,
    request: Any = None,
) -> ModelVersion:
    """The next version of ``model``, from files already in the tracking store (see ``sources``).

    Signature, input example and package versions are read from the MLflow model's files; the
    training dataset version and the code are taken from the source run when not given.

    Raises:
        InvalidRegistryValueError: the source is not in this project's tracking store, or a tag is invalid.
    """
    resolved = resolve_source(model.project, source, run_id=run_id or None, model_id=model_id or None)
    pairs: dict[str, str] = {}
    for tag in tags or ():
        key = tag.get("key") if isinstance(tag, dict) else None
        if not isinstance(key, str) or not key.strip() or len(key) > 250:
            raise InvalidRegistryValueError("Each tag needs a key of 1 to 250 characters.", field="tags")
        pairs[key] = "" if tag.get("value") is None else str(tag.get("value"))
    locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    number = (locked.versions.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    metadata = _metadata(resolved.storage_location)
    version = ModelVersion.objects.create(
        registered_model=locked,
        version=number,
        source=source,
        storage_location=resolved.storage_location,
        run=resolved.run,
        run_link=run_link or "",
        logged_model=resolved.logged_model,
        description=description or "",
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        signature=signature if signature is not None else metadata.get("signature"),
        input_example=metadata.get("input_example"),
        package_versions=metadata.get("package_versions") or {},
        metrics={str(k): float(v) for k, v in (metrics or {}).items()},
        training_dataset_version=training_dataset_version or _training_dataset_version(resolved),
        recipe=recipe,
        code_reference=_code_reference(resolved),
    )
    ModelVersionTag.objects.bulk_create(
        ModelVersionTag(model_version=version, key=k, value=v) for k, v in pairs.items()
    )
    locked.save(update_fields=["updated_at"])
    _link_logged_model(version)
    _record_lineage(version)
    record(
        "model.version_created",
        actor=actor,
        project=locked.project,
        target=version,
        request=request,
        details={
            "source": source[:300],
            "run_id": resolved.run.run_uuid if resolved.run else None,
            "model_id": resolved.logged_model.model_id if resolved.logged_model else None,
            "training_dataset_version": version.training_dataset_version_id,
        },
    )
    return version
