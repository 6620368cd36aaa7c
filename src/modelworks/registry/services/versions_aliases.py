"""Aliases of a registered model: :func:`check_alias` (the naming rules), :func:`set_alias` (through
every ``MODELWORKS_ALIAS_GATES`` gate, kept as an ``AliasEvent`` and audited), :func:`delete_alias`
and :func:`get_version_by_alias`.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from modelworks.core.audit import record
from modelworks.registry.errors import InvalidRegistryValueError
from modelworks.registry.models import AliasEvent, ModelAlias, ModelVersion, RegisteredModel
from modelworks.registry.services.versions_manage import get_model_version

MAX_ALIAS_LENGTH = 255
_ALIAS = re.compile(r"^[\w\-]+$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")


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
