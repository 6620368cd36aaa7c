"""The configurable pipeline: governance leads add, rename and reorder stages; a stage in use (by a
use case or in the stage history) or one demand intake needs cannot be deleted. All audited."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.governance.models import Stage, StageChange, StageKind
from modelworks.governance.services.access import is_lead
from modelworks.governance.services.portfolio_intake import IDEA_STAGE, QUALIFIED_STAGE, REJECTED_STAGE

__all__ = ["create_stage", "delete_stage", "reorder_stage", "stage_usage", "update_stage"]

_KEY = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
PROTECTED_STAGES = (IDEA_STAGE, QUALIFIED_STAGE, REJECTED_STAGE)


def _require_lead(actor: Any) -> None:
    if not is_lead(actor):
        raise PermissionDenied("Only governance leads can configure the pipeline.")


def _check(label: str, kind: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not (label or "").strip():
        errors["label"] = "Give the stage a name people recognise, e.g. 'Pilot'."
    elif len(label.strip()) > 100:
        errors["label"] = "Keep the stage name under 100 characters."
    if kind not in StageKind.values:
        errors["kind"] = f"'{kind}' is not a kind of stage; use one of: {', '.join(StageKind.values)}."
    return errors


@transaction.atomic
def create_stage(
    *,
    actor: Any,
    key: str,
    label: str,
    kind: str = StageKind.ACTIVE,
    description: str = "",
    request: HttpRequest | None = None,
) -> Stage:
    """Add a stage at the end of the pipeline (governance leads).

    Raises:
        PermissionDenied: ``actor`` is not a lead.
        ValidationError: a bad or taken key, an empty label or an unknown kind (keyed by field).
    """
    _require_lead(actor)
    key = (key or "").strip()
    errors = _check(label, kind)
    if not _KEY.match(key):
        errors["key"] = (
            "Use 1 to 40 lower-case letters, digits and hyphens for the key, starting and ending with a letter "
            "or digit, e.g. 'user-testing'."
        )
    elif Stage.objects.filter(key=key).exists():
        errors["key"] = f"A stage with key '{key}' already exists; choose another key."
    if errors:
        raise ValidationError(errors)
    last = Stage.objects.aggregate(top=Max("order"))["top"] or 0
    stage = Stage.objects.create(
        key=key, label=label.strip(), kind=kind, description=(description or "").strip(), order=last + 10
    )
    audit.record(
        "governance.stage_created",
        actor=actor,
        target=stage,
        details={"key": key, "label": stage.label, "kind": kind},
        request=request,
    )
    return stage


@transaction.atomic
def update_stage(
    stage: Stage,
    *,
    actor: Any,
    label: str,
    kind: str,
    description: str = "",
    request: HttpRequest | None = None,
) -> Stage:
    """Rename a stage or change its kind and description (its key stays: addresses and the API use it)."""
    _require_lead(actor)
    errors = _check(label, kind)
    if not errors and stage.key in PROTECTED_STAGES and kind != stage.kind:
        errors["kind"] = (
            f"Demand intake relies on stage '{stage.key}' being {stage.get_kind_display().lower()}."
        )
    if errors:
        raise ValidationError(errors)
    before = {"label": stage.label, "kind": stage.kind, "description": stage.description}
    stage.label, stage.kind, stage.description = label.strip(), kind, (description or "").strip()
    stage.save()
    after = {"label": stage.label, "kind": stage.kind, "description": stage.description}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit.record("governance.stage_updated", actor=actor, target=stage, details=changes, request=request)
    return stage


@transaction.atomic
def reorder_stage(stage: Stage, *, actor: Any, direction: str, request: HttpRequest | None = None) -> None:
    """Move a stage one place ``up`` or ``down`` in the pipeline (renumbers the orders 10, 20, …)."""
    _require_lead(actor)
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Move a stage 'up' or 'down'."})
    stages = list(Stage.objects.select_for_update().order_by("order", "id"))
    index = next(i for i, s in enumerate(stages) if s.pk == stage.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(stages):
        return  # already first or last: nothing to do
    stages[index], stages[other] = stages[other], stages[index]
    for position, item in enumerate(stages, start=1):
        if item.order != position * 10:
            Stage.objects.filter(pk=item.pk).update(order=position * 10)
    audit.record(
        "governance.stage_reordered",
        actor=actor,
        target=stage,
        details={"direction": direction, "order": [s.key for s in stages]},
        request=request,
    )


def stage_usage(stage: Stage) -> tuple[int, int]:
    """How many use cases are in ``stage`` now, and how many stage moves name it."""
    current = stage.use_cases.count()
    history = StageChange.objects.filter(Q(from_stage=stage) | Q(to_stage=stage)).count()
    return current, history


@transaction.atomic
def delete_stage(stage: Stage, *, actor: Any, request: HttpRequest | None = None) -> None:
    """Delete an unused stage.

    Raises:
        PermissionDenied: ``actor`` is not a lead.
        ValidationError: demand intake needs the stage, or use cases are in it or went through it.
    """
    _require_lead(actor)
    if stage.key in PROTECTED_STAGES:
        raise ValidationError(
            {
                "stage": f"Stage '{stage.label}' is used by demand intake and cannot be deleted; rename it instead."
            }
        )
    current, history = stage_usage(stage)
    if current:
        raise ValidationError(
            {
                "stage": f"Stage '{stage.label}' cannot be deleted: {current} use case{'s are' if current != 1 else ' is'} "
                "in it. Move them to another stage first."
            }
        )
    if history:
        raise ValidationError(
            {
                "stage": f"Stage '{stage.label}' cannot be deleted: it appears in the stage history of use cases "
                f"({history} move{'s' if history != 1 else ''}), which is kept for the record. Rename it or "
                "move it to the end of the pipeline instead."
            }
        )
    audit.record(
        "governance.stage_deleted",
        actor=actor,
        target=stage,
        details={"key": stage.key, "label": stage.label},
        request=request,
    )
    stage.delete()
