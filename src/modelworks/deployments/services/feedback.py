"""Ground truth arriving after the prediction: labels matched to logged rows by ``row_id``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core import audit
from modelworks.deployments.models import Deployment, Feedback

__all__ = ["MAX_FEEDBACK_ROWS", "FeedbackResult", "record_feedback"]

MAX_FEEDBACK_ROWS = 10_000
MAX_ROW_ID_LENGTH = 200
MAX_LABEL_LENGTH = 1000
_CHUNK = 500


@dataclass(frozen=True)
class FeedbackResult:
    """What one call stored: new labels, and labels that replaced earlier ones."""

    created: int
    updated: int

    @property
    def received(self) -> int:
        return self.created + self.updated


def _text(value: Any, *, what: str, where: str, limit: int) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(
                {"items": f"{where}: the {what} is {value}; send a finite number or a text."}
            )
        # 1.0 and 1 are the same label: match how the prediction log writes class labels
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, str):
        text = value.strip()
    elif value is None:
        raise ValidationError({"items": f"{where}: the {what} is missing."})
    else:
        raise ValidationError(
            {"items": f"{where}: the {what} must be a text or a number, not {type(value).__name__}."}
        )
    if not text:
        raise ValidationError({"items": f"{where}: the {what} is empty."})
    if len(text) > limit:
        raise ValidationError(
            {"items": f"{where}: the {what} is {len(text)} characters long; the limit is {limit}."}
        )
    return text


def _clean_items(items: Sequence[Any]) -> dict[str, str]:
    """``{row_id: label}`` in the order sent; each bad row named by its position (row 1 is the first)."""
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise ValidationError({"items": 'Send a list of {"row_id": …, "label": …} objects.'})
    if not items:
        raise ValidationError({"items": 'The list is empty; send at least one {"row_id", "label"} object.'})
    if len(items) > MAX_FEEDBACK_ROWS:
        raise ValidationError(
            {
                "items": f"{len(items):,} labels in one call; the limit is {MAX_FEEDBACK_ROWS:,}. Split them into several calls."
            }
        )
    labels: dict[str, str] = {}
    first_row: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        where = f"Row {number}"
        if not isinstance(item, dict):
            raise ValidationError({"items": f"{where}: expected an object with 'row_id' and 'label'."})
        extra = set(item) - {"row_id", "label"}
        if extra:
            raise ValidationError(
                {
                    "items": f"{where}: unknown field(s) {', '.join(sorted(map(str, extra)))[:200]}; send only 'row_id' and 'label'."
                }
            )
        row_id = _text(item.get("row_id"), what="row_id", where=where, limit=MAX_ROW_ID_LENGTH)
        label = _text(item.get("label"), what="label", where=where, limit=MAX_LABEL_LENGTH)
        if row_id in first_row:
            raise ValidationError(
                {
                    "items": f"{where}: row_id '{row_id[:80]}' was already given in row {first_row[row_id]}; send one label per row_id."
                }
            )
        first_row[row_id] = number
        labels[row_id] = label
    return labels


def record_feedback(
    deployment: Deployment, items: Sequence[Any], *, actor: Any, request: HttpRequest | None = None
) -> FeedbackResult:
    """Store the true labels of scored rows, all or nothing (up to 10,000 per call).

    Args:
        deployment: the deployment whose predictions these labels answer.
        items: ``[{"row_id": "...", "label": ...}]``; ``row_id`` is the row's value of the
            deployment's ID column, or the ``<request_id>:<row index>`` the service logged. A label
            sent again for the same row replaces the earlier one.
        actor: who sends them (contributor or above; the caller checks the role).
        request: for the audit log.

    Raises:
        ValidationError: on ``items``, naming the first bad row (``Row 12: …``) and the fix.
    """
    labels = _clean_items(items)
    now = timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    ids = list(labels)
    with transaction.atomic():
        existing = 0
        for start in range(0, len(ids), _CHUNK):
            existing += Feedback.objects.filter(
                deployment=deployment, row_id__in=ids[start : start + _CHUNK]
            ).count()
        Feedback.objects.bulk_create(
            [
                Feedback(deployment=deployment, row_id=r, label=label, received_at=now, created_by=user)
                for r, label in labels.items()
            ],
            batch_size=_CHUNK,
            update_conflicts=True,
            unique_fields=["deployment", "row_id"],
            update_fields=["label", "received_at", "created_by"],
        )
        result = FeedbackResult(created=len(ids) - existing, updated=existing)
        audit.record(
            "deployment.feedback_recorded",
            actor=actor,
            project=deployment.project,
            target=deployment,
            request=request,
            details={"deployment": deployment.name, "created": result.created, "updated": result.updated},
        )
    return result
