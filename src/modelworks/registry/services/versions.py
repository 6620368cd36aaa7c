"""Model versions and aliases: register (from the MLflow protocol or the Lab), read, describe, tag,
delete, search; point aliases at versions, with their history. Every alias move, version creation
and deletion is audited; alias moves are also kept as ``AliasEvent`` rows."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet, RestrictedError

from modelworks.core.audit import record
from modelworks.registry.errors import (
    InvalidRegistryValueError,
    RegistryInUseError,
    RegistryNotFoundError,
    in_use_message,
)
from modelworks.registry.filters import (
    decode_page_token,
    encode_page_token,
    lookup,
    parse_filter,
    parse_order_by,
)
from modelworks.registry.models import (
    AliasEvent,
    LoggedModelTag,
    ModelAlias,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    Stage,
)
from modelworks.registry.services.common import read_json_artifact, read_mlmodel
from modelworks.registry.services.sources import ResolvedSource, resolve_source, storage_key
from modelworks.tracking.models import LatestMetric, Param, RunInput

__all__ = [
    "ModelVersionPage",
    "check_alias",
    "create_model_version",
    "delete_alias",
    "delete_model_version",
    "delete_model_version_tag",
    "get_latest_versions",
    "get_model_version",
    "get_version_by_alias",
    "search_model_versions",
    "set_alias",
    "set_model_version_tag",
    "transition_stage",
    "update_model_version",
    "version_metrics",
    "version_params",
]

log = logging.getLogger(__name__)

SEARCH_DEFAULT_MAX_RESULTS = 10_000
SEARCH_MAX_RESULTS = 200_000
MAX_ALIAS_LENGTH = 255
_ALIAS = re.compile(r"^[\w\-]+$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")
INPUT_EXAMPLE_ROWS = 5
ORDER_FIELDS = {
    "name": "registered_model__name",
    "version_number": "version",
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at",
    "timestamp": "updated_at",
}


def _version_number(version: Any) -> int:
    try:
        number = int(str(version))
    except (TypeError, ValueError):
        raise InvalidRegistryValueError(
            f"Parameter 'version' must be an integer, got '{str(version)[:40]}'.", field="version"
        ) from None
    if number < 1:
        raise InvalidRegistryValueError(f"Versions are numbered from 1; got {number}.", field="version")
    return number


def get_model_version(model: RegisteredModel, version: Any) -> ModelVersion:
    """Version ``version`` of ``model``.

    Raises:
        InvalidRegistryValueError: ``version`` is not a whole number.
        RegistryNotFoundError: the model has no such version.
    """
    number = _version_number(version)
    found = (
        model.versions.filter(version=number)
        .select_related("registered_model", "run", "logged_model")
        .first()
    )
    if found is None:
        raise RegistryNotFoundError(f"Model Version (name={model.name}, version={number}) not found")
    return found


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


def update_model_version(version: ModelVersion, *, description: str | None) -> ModelVersion:
    """Change a version's description (the only mutable part besides tags and aliases)."""
    if description is not None:
        version.description = str(description)
        version.save(update_fields=["description", "updated_at"])
    return version


@transaction.atomic
def delete_model_version(version: ModelVersion, *, actor: Any, request: Any = None) -> None:
    """Delete a version; aliases pointing at it are removed (and that is kept in their history)."""
    model = version.registered_model
    for alias in ModelAlias.objects.filter(model_version=version):
        AliasEvent.objects.create(
            registered_model=model,
            alias=alias.alias,
            from_version=version.version,
            to_version=None,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            actor_name=actor.get_username() if getattr(actor, "is_authenticated", False) else "",
            reason=f"version {version.version} deleted",
        )
    record(
        "model.version_deleted",
        actor=actor,
        project=model.project,
        target=version,
        request=request,
        details={"name": model.name, "version": version.version, "source": version.source[:300]},
    )
    try:
        version.delete()
    except RestrictedError as exc:  # the whole transaction (alias history, audit entry) is undone
        raise RegistryInUseError(
            in_use_message(f"Version {version.version} of '{model.name}'", exc)
        ) from None
    model.save(update_fields=["updated_at"])


def set_model_version_tag(version: ModelVersion, key: Any, value: Any) -> None:
    if not isinstance(key, str) or not key.strip() or len(key) > 250:
        raise InvalidRegistryValueError("A tag needs a key of 1 to 250 characters.", field="key")
    ModelVersionTag.objects.update_or_create(
        model_version=version, key=key, defaults={"value": "" if value is None else str(value)}
    )
    version.save(update_fields=["updated_at"])


def delete_model_version_tag(version: ModelVersion, key: Any) -> None:
    if not isinstance(key, str) or not key:
        raise InvalidRegistryValueError("Missing value for required parameter 'key'.", field="key")
    ModelVersionTag.objects.filter(model_version=version, key=key).delete()


@transaction.atomic
def transition_stage(
    version: ModelVersion, stage: Any, *, archive_existing_versions: bool = False
) -> ModelVersion:
    """MLflow 2's stage transition (deprecated there; aliases replace it). Kept for older clients."""
    by_name = {s.value.lower(): s for s in Stage}
    chosen = by_name.get(str(stage).strip().lower())
    if chosen is None:
        raise InvalidRegistryValueError(
            f"Invalid Model Version stage: {stage}. Value must be one of None, Staging, Production, Archived.",
            field="stage",
        )
    if archive_existing_versions and chosen in (Stage.STAGING, Stage.PRODUCTION):
        version.registered_model.versions.filter(current_stage=chosen).exclude(pk=version.pk).update(
            current_stage=Stage.ARCHIVED
        )
    version.current_stage = chosen
    version.save(update_fields=["current_stage", "updated_at"])
    return version


def get_latest_versions(model: RegisteredModel, stages: Sequence[str] | None = None) -> list[ModelVersion]:
    """The newest version in each stage (every stage when none are named)."""
    wanted = {s.lower() for s in stages or []}
    latest: dict[str, ModelVersion] = {}
    for version in model.versions.order_by("-version"):
        stage = version.current_stage
        if (not wanted or stage.lower() in wanted) and stage not in latest:
            latest[stage] = version
    return sorted(latest.values(), key=lambda v: v.version)


# -- aliases -----------------------------------------------------------------------------------
def check_alias(alias: Any) -> str:
    """A valid alias name, or an error saying why not.

    Raises:
        InvalidRegistryValueError: empty, not letters/digits/_/-, too long, ``latest`` or ``v<N>``.
    """
    if not isinstance(alias, str) or not alias:
        raise InvalidRegistryValueError("Registered model alias name cannot be empty.", field="alias")
    if not _ALIAS.match(alias):
        raise InvalidRegistryValueError(
            f"Invalid alias name: '{alias[:80]}'. Names may only contain alphanumerics, underscores (_), "
            "and dashes (-).",
            field="alias",
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidRegistryValueError(
            f"The alias is {len(alias)} characters long; the limit is {MAX_ALIAS_LENGTH}.", field="alias"
        )
    if alias.lower() == "latest":
        raise InvalidRegistryValueError("'latest' alias name (case insensitive) is reserved.", field="alias")
    if _VERSION_ALIAS.match(alias):
        raise InvalidRegistryValueError(f"Version alias name '{alias}' is reserved.", field="alias")
    return alias


def _run_alias_gates(version: ModelVersion, alias: str, actor: Any) -> list[str]:
    """Call each ``MODELWORKS_ALIAS_GATES`` function; their warnings, in order (errors propagate)."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    warnings: list[str] = []
    for path in getattr(settings, "MODELWORKS_ALIAS_GATES", []) or []:
        warning = import_string(path)(version, alias, actor=actor)
        if warning:
            warnings.append(str(warning))
    return warnings


@transaction.atomic
def set_alias(
    version: ModelVersion, alias: str, *, actor: Any, request: Any = None, reason: str = ""
) -> ModelAlias:
    """Point ``alias`` of the version's model at ``version`` (creating or moving it), with history.

    ``reason`` (e.g. "approved promotion #3", "rollback") is kept on the ``AliasEvent`` and in the
    audit entry.

    Every function named by the ``MODELWORKS_ALIAS_GATES`` setting is called first, as
    ``gate(version, alias, actor=actor)``: it raises a :class:`RegistryError` (e.g.
    :class:`PromotionBlockedError`) to refuse the move, or returns a warning text that is kept with
    the move (the governance sign-off uses this; the registry does not import it).

    Raises:
        InvalidRegistryValueError: the alias name is invalid.
        PromotionBlockedError: a gate refused the move (e.g. sign-offs missing).
    """
    check_alias(alias)
    model = RegisteredModel.objects.select_for_update().get(pk=version.registered_model_id)
    existing = (
        ModelAlias.objects.filter(registered_model=model, alias=alias).select_related("model_version").first()
    )
    before = existing.model_version.version if existing is not None else None
    if existing is not None and existing.model_version_id == version.pk:
        return existing
    warnings = _run_alias_gates(version, alias, actor)
    if warnings:
        reason = "; ".join([r for r in (str(reason or ""), *warnings) if r])
    if existing is None:
        existing = ModelAlias.objects.create(registered_model=model, alias=alias, model_version=version)
    else:
        existing.model_version = version
        existing.save(update_fields=["model_version", "updated_at"])
    signed_in = getattr(actor, "is_authenticated", False)
    AliasEvent.objects.create(
        registered_model=model,
        alias=alias,
        from_version=before,
        to_version=version.version,
        actor=actor if signed_in else None,
        actor_name=actor.get_username() if signed_in else "",
        reason=str(reason or "")[:200],
    )
    details: dict[str, Any] = {
        "name": model.name,
        "alias": alias,
        "from_version": before,
        "to_version": version.version,
    }
    if reason:
        details["reason"] = str(reason)[:200]
    record(
        "model.alias_set",
        actor=actor,
        project=model.project,
        target=version,
        request=request,
        details=details,
    )
    model.save(update_fields=["updated_at"])
    return existing


@transaction.atomic
def delete_alias(model: RegisteredModel, alias: str, *, actor: Any, request: Any = None) -> None:
    """Remove an alias (kept in its history). Nothing happens when the model has no such alias."""
    check_alias(alias)
    existing = (
        ModelAlias.objects.filter(registered_model=model, alias=alias).select_related("model_version").first()
    )
    if existing is None:
        return
    before = existing.model_version.version
    existing.delete()
    signed_in = getattr(actor, "is_authenticated", False)
    AliasEvent.objects.create(
        registered_model=model,
        alias=alias,
        from_version=before,
        to_version=None,
        actor=actor if signed_in else None,
        actor_name=actor.get_username() if signed_in else "",
    )
    record(
        "model.alias_deleted",
        actor=actor,
        project=model.project,
        target=model,
        request=request,
        details={"name": model.name, "alias": alias, "from_version": before},
    )


def get_version_by_alias(model: RegisteredModel, alias: Any) -> ModelVersion:
    """The version ``alias`` points at.

    Raises:
        InvalidRegistryValueError: the model has no such alias (MLflow's answer for a missing alias).
    """
    if not isinstance(alias, str) or not alias:
        raise InvalidRegistryValueError("Missing value for required parameter 'alias'.", field="alias")
    found = (
        ModelAlias.objects.filter(registered_model=model, alias=alias).select_related("model_version").first()
    )
    if found is None:
        raise InvalidRegistryValueError(f"Registered model alias {alias} not found.", field="alias")
    return get_model_version(model, found.model_version.version)


# -- metrics and params (live) --------------------------------------------------------------------
def version_metrics(version: ModelVersion) -> dict[str, float | None]:
    """Metrics of a version: the run's latest values, then the logged model's, then those given at
    registration (each later source wins for the same key)."""
    values: dict[str, float | None] = {}
    if version.run_id:
        for key, value in LatestMetric.objects.filter(run_id=version.run_id).values_list("key", "value"):
            values[key] = value
    if version.logged_model is not None:
        for metric in version.logged_model.metrics():
            values[metric.key] = metric.value  # ordered by timestamp: the last point wins
    values.update(version.metrics or {})
    return dict(sorted(values.items()))


def version_params(version: ModelVersion) -> dict[str, str]:
    """Parameters of a version: the run's, then the logged model's."""
    values: dict[str, str] = {}
    if version.run_id:
        values.update(Param.objects.filter(run_id=version.run_id).values_list("key", "value"))
    if version.logged_model is not None:
        values.update(version.logged_model.params.values_list("key", "value"))
    return dict(sorted(values.items()))


# -- search --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelVersionPage:
    versions: list[ModelVersion]
    next_page_token: str | None


_VERSION_ATTRIBUTES = {
    "name": ("registered_model__name", False),
    "run_id": ("run_id", False),
    "source_path": ("source", False),
    "source": ("source", False),
    "model_id": ("logged_model_id", False),
    "version_number": ("version", True),
    "current_stage": ("current_stage", False),
}


def search_model_versions(
    project: Any,
    *,
    filter_string: str | None = None,
    max_results: Any = None,
    order_by: Sequence[str] | str | None = None,
    page_token: str | None = None,
) -> ModelVersionPage:
    """The project's versions matching ``name``, ``run_id``, ``source_path``, ``version_number``,
    ``model_id`` and ``tags.<key>`` comparisons.

    Raises:
        InvalidRegistryValueError: a bad filter, order, limit or page token.
    """
    try:
        limit = int(max_results) if max_results not in (None, "") else SEARCH_DEFAULT_MAX_RESULTS
    except (TypeError, ValueError):
        raise InvalidRegistryValueError(f"max_results must be a whole number; got {max_results!r}.") from None
    if not 0 < limit <= SEARCH_MAX_RESULTS:
        raise InvalidRegistryValueError(
            f"Invalid value for request parameter max_results. It must be at most {SEARCH_MAX_RESULTS}, but got value {limit}"
        )
    clauses = parse_order_by(order_by, ORDER_FIELDS)
    query: QuerySet[ModelVersion] = ModelVersion.objects.filter(registered_model__project=project)
    for comparison in parse_filter(filter_string):
        if comparison.kind == "tag":
            rows = ModelVersionTag.objects.filter(model_version=OuterRef("pk"), key=comparison.key).filter(
                lookup("value", comparison.op, comparison.value)
            )
            query = query.filter(Exists(rows))
            continue
        spec = _VERSION_ATTRIBUTES.get(comparison.key) if comparison.kind == "attribute" else None
        if spec is None:
            raise InvalidRegistryValueError(
                f"Invalid filter on {comparison.key!r}: search model versions by name, run_id, source_path, "
                "version_number, model_id or tags.<key>."
            )
        query = query.filter(lookup(spec[0], comparison.op, comparison.value, numeric=spec[1]))
    ordering = [F(c.field).asc() if c.ascending else F(c.field).desc() for c in clauses]
    fields = {c.field for c in clauses}
    if "registered_model__name" not in fields:
        ordering.append(F("registered_model__name").asc())
    if "version" not in fields:
        ordering.append(F("version").desc())
    context = json.dumps([filter_string or "", [f"{c.field}:{c.ascending}" for c in clauses]])
    offset = decode_page_token(page_token, context)
    found = list(
        query.order_by(*ordering)
        .select_related("registered_model", "run", "logged_model")
        .prefetch_related("tags", "aliases")[offset : offset + limit + 1]
    )
    token = encode_page_token(offset + limit, context) if len(found) > limit else None
    return ModelVersionPage(found[:limit], token)
