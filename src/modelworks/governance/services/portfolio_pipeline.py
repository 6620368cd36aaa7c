"""The configurable pipeline: governance leads add, rename and reorder stages; a stage in use (by a
use case or in the stage history) or one demand intake needs cannot be deleted
(:class:`StageInUseError`; the API answers 409). All audited."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.governance.models import Stage, StageChange, StageKind
from modelworks.governance.services.access import is_lead
from modelworks.governance.services.portfolio_intake import IDEA_STAGE, QUALIFIED_STAGE, REJECTED_STAGE

__all__ = [
    "StageInUseError",
    "create_stage",
    "delete_stage",
    "reorder_stage",
    "require_lead",
    "set_stage_order",
    "stage_usage",
    "update_stage",
]

_KEY = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
PROTECTED_STAGES = (IDEA_STAGE, QUALIFIED_STAGE, REJECTED_STAGE)


class StageInUseError(ValidationError):
    """A stage cannot be deleted: demand intake needs it, use cases are in it or went through it.

    A ``ValidationError`` keyed ``stage`` (pages show it like any rule); ``use_cases`` and
    ``history`` say how many use cases are in the stage and how many recorded moves name it.
    """

    def __init__(self, message: str, *, use_cases: int = 0, history: int = 0) -> None:
        super().__init__({"stage": message})
        self.use_cases = use_cases
        self.history = history


def require_lead(actor: Any) -> None:
    """Raise ``PermissionDenied`` unless ``actor`` may configure the pipeline (governance leads)."""
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
    require_lead(actor)
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
    require_lead(actor)
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
    require_lead(actor)
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Move a stage 'up' or 'down'."})
    stages = list(Stage.objects.select_for_update().order_by("order", "id"))
    index = next(i for i, s in enumerate(stages) if s.pk == stage.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(stages):
        return  # already first or last: nothing to do
    stages[index], stages[other] = stages[other], stages[index]
    _renumber(stages)
    audit.record(
        "governance.stage_reordered",
        actor=actor,
        target=stage,
        details={"direction": direction, "order": [s.key for s in stages]},
        request=request,
    )


def _renumber(stages: list[Stage]) -> None:
    """Give ``stages`` the orders 10, 20, … in the list's order (only the rows that change)."""
    for position, item in enumerate(stages, start=1):
        if item.order != position * 10:
            Stage.objects.filter(pk=item.pk).update(order=position * 10)
            item.order = position * 10


@transaction.atomic
def set_stage_order(keys: list[str], *, actor: Any, request: HttpRequest | None = None) -> list[Stage]:
    """Put the whole pipeline in the order of ``keys`` (governance leads); all or nothing.

    ``keys`` must name every stage exactly once, so a script working from an outdated list (a stage
    added or deleted meanwhile) is refused instead of half-applied.

    Returns:
        The stages in their new order.

    Raises:
        PermissionDenied: ``actor`` is not a lead.
        ValidationError: keyed ``stages``: unknown, repeated or missing keys.
    """
    require_lead(actor)
    stages = list(Stage.objects.select_for_update().order_by("order", "id"))
    by_key = {s.key: s for s in stages}
    counts = Counter(keys)
    unknown = [k for k in counts if k not in by_key]
    repeated = [k for k, n in counts.items() if n > 1]
    missing = [s.key for s in stages if s.key not in counts]
    problems = []
    if unknown:
        problems.append(f"no stage with key {_quoted(unknown)}")
    if repeated:
        problems.append(f"{_quoted(repeated)} listed more than once")
    if missing:
        problems.append(f"missing {_quoted(missing)}")
    if problems:
        raise ValidationError(
            {
                "stages": f"List every stage key exactly once, in the new order ({'; '.join(problems)}). "
                f"The stages now are: {', '.join(s.key for s in stages)}."
            }
        )
    before = [s.key for s in stages]
    ordered = [by_key[k] for k in keys]
    _renumber(ordered)
    if keys != before:
        audit.record(
            "governance.stage_reordered",
            actor=actor,
            target_repr="pipeline",
            details={"before": before, "order": list(keys)},
            request=request,
        )
    return ordered


def _quoted(keys: list[str]) -> str:
    return ", ".join(f"'{k}'" for k in keys)


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
        StageInUseError: demand intake needs the stage, or use cases are in it or went through it.
    """
    require_lead(actor)
    if stage.key in PROTECTED_STAGES:
        raise StageInUseError(
            f"Stage '{stage.label}' is used by demand intake and cannot be deleted; rename it instead."
        )
    current, history = stage_usage(stage)
    if current:
        raise StageInUseError(
            f"Stage '{stage.label}' cannot be deleted: {current} use case{'s are' if current != 1 else ' is'} "
            "in it. Move them to another stage first.",
            use_cases=current,
            history=history,
        )
    if history:
        raise StageInUseError(
            f"Stage '{stage.label}' cannot be deleted: it appears in the stage history of use cases "
            f"({history} move{'s' if history != 1 else ''}), which is kept for the record. Rename it or "
            "move it to the end of the pipeline instead.",
            history=history,
        )
    audit.record(
        "governance.stage_deleted",
        actor=actor,
        target=stage,
        details={"key": stage.key, "label": stage.label},
        request=request,
    )
    stage.delete()
