"""Changing, pinning and deleting datasets, and recording who read their data (audited)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import User
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.datasets.storage import data_store

__all__ = ["delete_dataset", "pin_version", "record_access", "update_dataset", "version_path"]

_EDITABLE = {"name", "description", "tags", "owner", "column_descriptions"}
_MAX_TAGS = 30


def _clean_tags(tags: Any) -> list[str]:
    if not isinstance(tags, list | tuple):
        raise ValidationError({"tags": "Give a list of short labels."})
    cleaned: list[str] = []
    for tag in tags:
        text = str(tag).strip()
        if not text:
            continue
        if len(text) > 50 or any(ord(ch) < 32 for ch in text):
            raise ValidationError(
                {
                    "tags": f"Tag '{text[:50]}' is too long or holds control characters (50 characters at most)."
                }
            )
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > _MAX_TAGS:
        raise ValidationError({"tags": f"Use at most {_MAX_TAGS} tags."})
    return cleaned


def update_dataset(
    dataset: Dataset, *, actor: User, request: HttpRequest | None = None, **changes: Any
) -> Dataset:
    """Change a dataset's name, description, tags, owner or column descriptions.

    Raises:
        ValidationError: keyed by field.
    """
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed."})
    if "tags" in changes:
        changes["tags"] = _clean_tags(changes["tags"])
    if "column_descriptions" in changes:
        descriptions = changes["column_descriptions"] or {}
        if not isinstance(descriptions, dict):
            raise ValidationError({"column_descriptions": "Give an object mapping column names to text."})
        changes["column_descriptions"] = {
            str(k): str(v).strip() for k, v in descriptions.items() if str(v).strip()
        }
    before = {
        k: (getattr(dataset, k).username if k == "owner" and dataset.owner else getattr(dataset, k))
        for k in changes
    }
    for key, value in changes.items():
        setattr(dataset, key, value)
    dataset.full_clean()
    after = {k: (v.username if k == "owner" and v is not None else v) for k, v in changes.items()}
    with transaction.atomic():
        dataset.save()
        audit.record(
            "dataset.updated",
            actor=actor,
            project=dataset.project,
            target=dataset,
            request=request,
            details={"changed": sorted(k for k in changes if before.get(k) != after.get(k))},
        )
    return dataset


def pin_version(
    dataset: Dataset, version: DatasetVersion | None, *, actor: User, request: HttpRequest | None = None
) -> Dataset:
    """Pin ``version`` (later steps use it instead of the latest); ``None`` unpins."""
    if version is not None and version.dataset_id != dataset.pk:
        raise ValidationError({"version": "That version belongs to another dataset."})
    with transaction.atomic():
        dataset.pinned_version = version
        dataset.save(update_fields=["pinned_version", "updated_at"])
        audit.record(
            "dataset.pinned" if version is not None else "dataset.unpinned",
            actor=actor,
            project=dataset.project,
            target=dataset,
            request=request,
            details={"version": version.number if version is not None else None},
        )
    return dataset


def delete_dataset(dataset: Dataset, *, actor: User, request: HttpRequest | None = None) -> None:
    """Delete a dataset, its versions, profiles and quality history, then their files."""
    object_ids: list[str] = []
    for version in dataset.versions.all():
        object_ids.append(version.object_id)
        kept = version.how_details.get("source_object_id")
        if kept:
            object_ids.append(kept)
    with transaction.atomic():
        audit.record(
            "dataset.deleted",
            actor=actor,
            project=dataset.project,
            target=dataset,
            request=request,
            details={"versions": len(object_ids)},
        )
        try:
            dataset.delete()
        except ProtectedError as exc:
            # Recipes of the Flow read or write it (their links protect it); name them.
            users = sorted({str(getattr(obj, "recipe", obj)) for obj in exc.protected_objects})
            raise ValidationError(
                f"'{dataset.name}' is used by the recipe(s) {', '.join(repr(u) for u in users)} of the Flow; "
                "delete those recipes or change their inputs and outputs first."
            ) from exc
        # Files go only once the rows are gone for good: a rolled-back delete keeps its data.
        transaction.on_commit(lambda: _delete_objects(object_ids))


def _delete_objects(object_ids: list[str]) -> None:
    store = data_store()
    for object_id in object_ids:
        store.delete(object_id)


def version_path(version: DatasetVersion) -> Path:
    """The local Parquet file of a version."""
    return data_store().local_path(version.object_id)


def record_access(
    version: DatasetVersion,
    *,
    actor: User,
    what: str,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Audit a read of a version's data: ``data.accessed`` (explore, download) or, for a CSV export,
    ``data.exported`` as well."""
    facts = {"dataset_id": version.dataset_id, "version": version.number, "what": what, **(details or {})}
    dataset = version.dataset
    audit.record(
        "data.accessed", actor=actor, project=dataset.project, target=dataset, request=request, details=facts
    )
    if what == "export":
        audit.record(
            "data.exported",
            actor=actor,
            project=dataset.project,
            target=dataset,
            request=request,
            details=facts,
        )
