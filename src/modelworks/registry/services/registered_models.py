"""Registered models: create, rename, describe, tag, delete and search them (per project)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, RestrictedError

from modelworks.core.audit import record
from modelworks.registry.errors import (
    InvalidRegistryValueError,
    RegistryAlreadyExistsError,
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
from modelworks.registry.models import RegisteredModel, RegisteredModelTag

__all__ = [
    "RegisteredModelPage",
    "check_model_name",
    "create_registered_model",
    "delete_registered_model",
    "delete_registered_model_tag",
    "get_registered_model",
    "rename_registered_model",
    "search_registered_models",
    "set_registered_model_tag",
    "update_registered_model",
]

MAX_NAME_LENGTH = 256
SEARCH_DEFAULT_MAX_RESULTS = 100
SEARCH_MAX_RESULTS = 1000
PROMPT_TAG = "mlflow.prompt.is_prompt"
ORDER_FIELDS = {
    "name": "name",
    "timestamp": "updated_at",
    "last_updated_timestamp": "updated_at",
    "creation_timestamp": "created_at",
}


def check_model_name(name: Any, *, field: str = "name") -> str:
    """A valid registered model name (what MLflow accepts), or an error saying why not.

    Raises:
        InvalidRegistryValueError: empty, too long, or containing '/' or ':' (they break
            ``models:/<name>/<version>`` URIs).
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidRegistryValueError(f"Missing value for required parameter '{field}'.", field=field)
    if any(c in name for c in "/:"):
        raise InvalidRegistryValueError(
            f"Invalid model name '{name[:80]}'. Names cannot contain '/' or ':'.", field=field
        )
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidRegistryValueError(
            f"The model name is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}.", field=field
        )
    if any(ord(c) < 32 for c in name):
        raise InvalidRegistryValueError("Model names cannot contain control characters.", field=field)
    return name


def _tag_pairs(tags: Iterable[Any] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in tags or ():
        key = tag.get("key") if isinstance(tag, dict) else None
        if not isinstance(key, str) or not key.strip() or len(key) > 250:
            raise InvalidRegistryValueError("Each tag needs a key of 1 to 250 characters.", field="tags")
        value = tag.get("value")
        found[key] = "" if value is None else str(value)
    return found


def get_registered_model(project: Any, name: Any) -> RegisteredModel:
    """The project's registered model ``name``.

    Raises:
        RegistryNotFoundError: none with that name in this project.
    """
    check_model_name(name)
    model = RegisteredModel.objects.filter(project=project, name=name).first()
    if model is None:
        raise RegistryNotFoundError(f"Registered Model with name={name} not found")
    return model


@transaction.atomic
def create_registered_model(
    project: Any,
    *,
    actor: Any,
    name: str,
    description: str = "",
    tags: Iterable[Any] | None = None,
    request: Any = None,
) -> RegisteredModel:
    """A new registered model (no versions yet).

    Raises:
        InvalidRegistryValueError: the name or a tag is invalid.
        RegistryAlreadyExistsError: the project already has a model with that name.
    """
    check_model_name(name)
    pairs = _tag_pairs(tags)
    if RegisteredModel.objects.filter(project=project, name=name).exists():
        raise RegistryAlreadyExistsError(f"Registered Model (name={name}) already exists.", field="name")
    try:
        with transaction.atomic():
            model = RegisteredModel.objects.create(
                project=project,
                name=name,
                description=description or "",
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        raise RegistryAlreadyExistsError(
            f"Registered Model (name={name}) already exists.", field="name"
        ) from None
    RegisteredModelTag.objects.bulk_create(
        RegisteredModelTag(registered_model=model, key=k, value=v) for k, v in pairs.items()
    )
    record("model.created", actor=actor, project=project, target=model, request=request)
    return model


@transaction.atomic
def rename_registered_model(
    model: RegisteredModel, new_name: Any, *, actor: Any, request: Any = None
) -> RegisteredModel:
    """Rename a model (its versions, aliases and history follow).

    Raises:
        InvalidRegistryValueError: the new name is invalid.
        RegistryAlreadyExistsError: another model of the project has that name.
    """
    check_model_name(new_name, field="new_name")
    if new_name == model.name:
        return model
    if RegisteredModel.objects.filter(project=model.project, name=new_name).exists():
        raise RegistryAlreadyExistsError(
            f"Registered Model (name={new_name}) already exists.", field="new_name"
        )
    old = model.name
    model.name = new_name
    model.save(update_fields=["name", "updated_at"])
    record(
        "model.renamed",
        actor=actor,
        project=model.project,
        target=model,
        request=request,
        details={"from": old, "to": new_name},
    )
    return model


def update_registered_model(model: RegisteredModel, *, description: str | None) -> RegisteredModel:
    """Change a model's description."""
    if description is not None:
        model.description = str(description)
        model.save(update_fields=["description", "updated_at"])
    return model


@transaction.atomic
@transaction.atomic
def delete_registered_model(model: RegisteredModel, *, actor: Any, request: Any = None) -> None:
    """Delete a model with all its versions, tags and aliases (audited; the files stay with their runs)."""
    details = {
        "name": model.name,
        "versions": list(model.versions.order_by("version").values_list("version", flat=True)),
        "aliases": dict(model.aliases.values_list("alias", "model_version__version")),
    }
    project = model.project
    record("model.deleted", actor=actor, project=project, target=model, request=request, details=details)
    try:
        model.delete()
    except RestrictedError as exc:  # the audit entry is undone with the transaction
        raise RegistryInUseError(in_use_message(f"Model '{model.name}'", exc)) from None


def set_registered_model_tag(model: RegisteredModel, key: Any, value: Any) -> None:
    """Set one tag of a model (overwrites)."""
    pairs = _tag_pairs([{"key": key, "value": value}])
    for k, v in pairs.items():
        RegisteredModelTag.objects.update_or_create(registered_model=model, key=k, defaults={"value": v})
    model.save(update_fields=["updated_at"])


def delete_registered_model_tag(model: RegisteredModel, key: Any) -> None:
    """Remove a tag of a model (nothing happens when it has no such tag, as in MLflow)."""
    if not isinstance(key, str) or not key:
        raise InvalidRegistryValueError("Missing value for required parameter 'key'.", field="key")
    RegisteredModelTag.objects.filter(registered_model=model, key=key).delete()


@dataclass(frozen=True)
class RegisteredModelPage:
    models: list[RegisteredModel]
    next_page_token: str | None


def search_registered_models(
    project: Any,
    *,
    filter_string: str | None = None,
    max_results: Any = None,
    order_by: Sequence[str] | str | None = None,
    page_token: str | None = None,
) -> RegisteredModelPage:
    """The project's models matching ``name = / != / LIKE / ILIKE`` and ``tags.<key>`` comparisons.

    Raises:
        InvalidRegistryValueError: a bad filter, order, limit or page token.
    """
    try:
        limit = int(max_results) if max_results not in (None, "") else SEARCH_DEFAULT_MAX_RESULTS
    except (TypeError, ValueError):
        raise InvalidRegistryValueError(f"max_results must be a whole number; got {max_results!r}.") from None
    if not 0 < limit <= SEARCH_MAX_RESULTS:
        raise InvalidRegistryValueError(
            f"Invalid value for request parameter max_results. It must be at most {SEARCH_MAX_RESULTS}, "
            f"but got value {limit}"
        )
    clauses = parse_order_by(order_by, ORDER_FIELDS)
    query = RegisteredModel.objects.filter(project=project)
    for comparison in parse_filter(filter_string):
        if comparison.kind == "attribute" and comparison.key == "name":
            if comparison.op not in ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"):
                raise InvalidRegistryValueError(
                    f"Invalid comparator {comparison.op!r} for name; use =, !=, LIKE, ILIKE, IN or NOT IN."
                )
            value = comparison.value if comparison.op in ("IN", "NOT IN") else str(comparison.value)
            query = query.filter(lookup("name", comparison.op, value))
        elif comparison.kind == "tag" and comparison.key == PROMPT_TAG and comparison.op == "!=":
            # MLflow 3 clients add "tags.`mlflow.prompt.is_prompt` != 'true'" to hide prompts: a model
            # without the tag is not a prompt, so it matches.
            prompts = RegisteredModelTag.objects.filter(
                registered_model=OuterRef("pk"), key=PROMPT_TAG, value=comparison.value
            )
            query = query.filter(~Exists(prompts))
        elif comparison.kind == "tag":
            rows = RegisteredModelTag.objects.filter(
                registered_model=OuterRef("pk"), key=comparison.key
            ).filter(lookup("value", comparison.op, comparison.value))
            query = query.filter(Exists(rows))
        else:
            raise InvalidRegistryValueError(
                f"Invalid filter on {comparison.key!r}: registered models can be searched by name and tags.<key>."
            )
    ordering = [F(c.field).asc() if c.ascending else F(c.field).desc() for c in clauses]
    if not any(c.field == "name" for c in clauses):
        ordering.append(F("name").asc())
    context = json.dumps([filter_string or "", clauses and [str(c) for c in clauses]])
    offset = decode_page_token(page_token, context)
    found = list(
        query.order_by(*ordering).prefetch_related("tags", "aliases__model_version")[
            offset : offset + limit + 1
        ]
    )
    token = encode_page_token(offset + limit, context) if len(found) > limit else None
    return RegisteredModelPage(found[:limit], token)
