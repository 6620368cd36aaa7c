"""Use cases of the portfolio: look-ups with the permission rules, create, edit, delete, stage moves
and the filtered, sorted portfolio list. Every write is atomic and audited (project None: the
portfolio sits above projects)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.text import slugify

from modelworks.core import audit
from modelworks.core.models import Project, User
from modelworks.governance.models import RiskLevel, Stage, StageChange, StageKind, UseCase
from modelworks.governance.services.access import (
    can_edit_use_case,
    can_view_use_case,
    is_lead,
    visible_use_cases,
)

__all__ = [
    "EDITABLE_FIELDS",
    "SORTS",
    "create_use_case",
    "delete_use_case",
    "filter_use_cases",
    "get_use_case",
    "move_use_case",
    "unique_slug",
    "update_use_case",
]

# Words the pages use in addresses next to use-case slugs.
RESERVED_SLUGS = frozenset({"new"})

# The fields of a use case an editor may set (``projects`` and ``stage`` have their own rules).
EDITABLE_FIELDS = (
    "title",
    "problem_statement",
    "business_unit",
    "business_owner",
    "sponsor",
    "expected_value_one_off",
    "expected_value_recurring",
    "currency",
    "value_formula",
    "value_assumptions",
    "cost_people_days",
    "cost_compute",
    "feasibility_score",
    "data_readiness_score",
    "risk_level",
)

# Sort keys of the portfolio list: key → (label, ordering).
SORTS: dict[str, tuple[str, list[Any]]] = {
    "title": ("Title", ["title", "id"]),
    "-priority": ("Priority (highest first)", [F("priority").desc(nulls_last=True), "title"]),
    "-value": ("Expected first-year value (highest first)", [F("first_value").desc(), "title"]),
    "stage": ("Pipeline stage", ["stage__order", "title"]),
    "-updated": ("Last changed", ["-updated_at", "-id"]),
    "unit": ("Business unit", ["business_unit", "title"]),
}


def get_use_case(user: Any, slug: str, *, edit: bool = False, lead: bool = False) -> UseCase:
    """The use case ``slug`` when ``user`` may see it (and edit it, or act as a lead on it).

    Raises:
        Http404: no such use case, or one ``user`` may not see (indistinguishable).
        PermissionDenied: ``user`` sees it but may not edit it (``edit``) or is not a lead (``lead``).
    """
    use_case = (
        UseCase.objects.filter(slug=slug).select_related("stage", "business_owner", "submitted_by").first()
    )
    if use_case is None or not can_view_use_case(user, use_case):
        raise Http404(f"No use case '{slug}' that you can see.")
    if lead and not is_lead(user):
        raise PermissionDenied(
            "Only governance leads can do this; ask an instance administrator for the role."
        )
    if edit and not can_edit_use_case(user, use_case):
        raise PermissionDenied(
            f"Only governance leads and the business owner of '{use_case.title}' can change it."
        )
    return use_case


def unique_slug(title: str, *, exclude_id: int | None = None) -> str:
    """A free slug made from ``title`` (``use-case`` when the title has no usable letters)."""
    base = slugify(title)[:56].strip("-") or "use-case"
    if base in RESERVED_SLUGS:
        base = f"{base}-use-case"
    taken = set(
        UseCase.objects.filter(slug__startswith=base).exclude(id=exclude_id).values_list("slug", flat=True)
    )
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def _check_projects(actor: Any, use_case: UseCase | None, projects: Iterable[Project]) -> list[Project]:
    """The projects to link; each newly linked one must be a project ``actor`` is a member of."""
    wanted = list(dict.fromkeys(projects))
    current = set(use_case.projects.values_list("id", flat=True)) if use_case and use_case.pk else set()
    allowed = set(Project.objects.visible_to(actor).values_list("id", flat=True))
    refused = [p for p in wanted if p.id not in current and p.id not in allowed]
    if refused:
        names = ", ".join(f"'{p.slug}'" for p in refused)
        raise ValidationError(
            {
                "projects": f"You can only link projects you are a member of; you are not a member of {names}. "
                "Ask a member of that project to link it, or a project admin to add you."
            }
        )
    return wanted


def _resolve_stage(stage: Stage | str | None, default_key: str) -> Stage:
    if isinstance(stage, Stage):
        return stage
    key = stage or default_key
    found = Stage.objects.filter(key=key).first()
    if found is None:
        keys = ", ".join(Stage.objects.values_list("key", flat=True))
        raise ValidationError({"stage": f"No pipeline stage '{key}'; use one of: {keys}."})
    return found


def _snapshot(use_case: UseCase) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in EDITABLE_FIELDS:
        value = getattr(use_case, name)
        if isinstance(value, User):
            value = value.username
        elif isinstance(value, Decimal):
            value = str(value)
        values[name] = value
    return values


def _full_clean(use_case: UseCase) -> None:
    # Uniqueness is checked by the callers with a clear message (the slug is generated).
    use_case.full_clean(exclude=["slug", "stage"], validate_unique=False)


@transaction.atomic
def create_use_case(
    *,
    actor: Any,
    title: str,
    stage: Stage | str | None = None,
    projects: Iterable[Project] = (),
    slug: str | None = None,
    request: HttpRequest | None = None,
    **values: Any,
) -> UseCase:
    """Create a use case (governance leads) in ``stage`` (default: qualified), audited.

    Args:
        actor: the lead creating it.
        title: its title.
        stage: a ``Stage`` or its key.
        projects: projects to link; each must be one ``actor`` is a member of.
        slug: its address name; generated from the title when omitted.
        request: the HTTP request, for the audit log.
        **values: any of ``EDITABLE_FIELDS``.

    Raises:
        PermissionDenied: ``actor`` is not a governance lead.
        ValidationError: a value breaks a rule (keyed by field).
    """
    if not is_lead(actor):
        raise PermissionDenied("Only governance leads can add use cases; anyone can submit an idea instead.")
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({"__all__": f"Unknown use-case fields: {', '.join(sorted(unknown))}."})
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": f"'{slug}' is reserved by the pages; choose another address name."})
    if slug and UseCase.objects.filter(slug=slug).exists():
        raise ValidationError(
            {"slug": f"The address name '{slug}' is taken by another use case; choose another."}
        )
    target = _resolve_stage(stage, "qualified")
    use_case = UseCase(
        title=(title or "").strip(), slug=slug or unique_slug(title or ""), stage=target, **values
    )
    use_case.full_clean(exclude=["stage"], validate_unique=False)
    linked = _check_projects(actor, None, projects)
    use_case.save()
    use_case.projects.set(linked)
    StageChange.objects.create(
        use_case=use_case, from_stage=None, to_stage=target, actor=actor, comment="Created"
    )
    audit.record(
        "governance.use_case_created",
        actor=actor,
        target=use_case,
        details={"stage": target.key, "projects": [p.slug for p in linked], **_snapshot(use_case)},
        request=request,
    )
    return use_case


@transaction.atomic
def update_use_case(
    use_case: UseCase,
    *,
    actor: Any,
    projects: Iterable[Project] | None = None,
    request: HttpRequest | None = None,
    **values: Any,
) -> UseCase:
    """Change a use case (leads and its business owner); audits the fields that changed.

    Raises:
        PermissionDenied: ``actor`` may not edit it.
        ValidationError: a value breaks a rule (keyed by field).
    """
    if not can_edit_use_case(actor, use_case):
        raise PermissionDenied(
            f"Only governance leads and the business owner of '{use_case.title}' can change it."
        )
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({"__all__": f"Unknown use-case fields: {', '.join(sorted(unknown))}."})
    if (
        "business_owner" in values
        and values["business_owner"] != use_case.business_owner
        and not is_lead(actor)
    ):
        raise PermissionDenied("Only governance leads can hand a use case to another business owner.")
    before = _snapshot(use_case)
    before_projects = sorted(use_case.projects.values_list("slug", flat=True))
    for name, value in values.items():
        setattr(use_case, name, value)
    if "title" in values:
        use_case.title = (use_case.title or "").strip()
    _full_clean(use_case)
    linked = _check_projects(actor, use_case, projects) if projects is not None else None
    use_case.save()
    changes = {k: [before[k], v] for k, v in _snapshot(use_case).items() if before[k] != v}
    if linked is not None:
        use_case.projects.set(linked)
        after_projects = sorted(p.slug for p in linked)
        if after_projects != before_projects:
            changes["projects"] = [before_projects, after_projects]
    if changes:
        audit.record(
            "governance.use_case_updated", actor=actor, target=use_case, details=changes, request=request
        )
    return use_case


@transaction.atomic
def delete_use_case(use_case: UseCase, *, actor: Any, request: HttpRequest | None = None) -> None:
    """Delete a use case with its history, value definitions and AI Act records (governance leads)."""
    if not is_lead(actor):
        raise PermissionDenied("Only governance leads can delete use cases.")
    audit.record(
        "governance.use_case_deleted",
        actor=actor,
        target=use_case,
        details={"slug": use_case.slug, "stage": use_case.stage.key, **_snapshot(use_case)},
        request=request,
    )
    use_case.delete()


@transaction.atomic
def move_use_case(
    use_case: UseCase,
    to_stage: Stage | str,
    *,
    actor: Any,
    comment: str = "",
    request: HttpRequest | None = None,
) -> StageChange:
    """Move a use case to another pipeline stage, recorded as a ``StageChange`` and audited.

    Governance leads may move to any stage; the business owner only between two active stages.

    Raises:
        PermissionDenied: ``actor`` may not make this move.
        ValidationError: the stage is unknown or the one the use case is already in.
    """
    target = _resolve_stage(to_stage, "")
    locked = UseCase.objects.select_for_update().select_related("stage").get(pk=use_case.pk)
    current = locked.stage
    if target.pk == current.pk:
        raise ValidationError({"stage": f"'{use_case.title}' is already in stage '{current.label}'."})
    if not is_lead(actor):
        if not can_edit_use_case(actor, locked):
            raise PermissionDenied(
                f"Only governance leads and the business owner of '{use_case.title}' can move it."
            )
        if current.kind != StageKind.ACTIVE or target.kind != StageKind.ACTIVE:
            raise PermissionDenied(
                f"As business owner you can move '{use_case.title}' between active stages only "
                f"(from '{current.label}' to '{target.label}' needs a governance lead)."
            )
    now = timezone.now()
    change = StageChange.objects.create(
        use_case=locked,
        from_stage=current,
        to_stage=target,
        actor=actor,
        comment=(comment or "").strip(),
        created_at=now,
    )
    UseCase.objects.filter(pk=locked.pk).update(stage=target, stage_changed_at=now, updated_at=now)
    use_case.stage, use_case.stage_changed_at = target, now
    audit.record(
        "governance.use_case_stage_moved",
        actor=actor,
        target=use_case,
        details={"from": current.key, "to": target.key, "comment": change.comment},
        request=request,
    )
    return change


def filter_use_cases(
    user: Any,
    *,
    unit: str = "",
    stage: str = "",
    owner: int | str | None = None,
    risk: str = "",
    q: str = "",
    sort: str = "title",
) -> QuerySet[UseCase]:
    """The use cases ``user`` may see, filtered and sorted (``SORTS`` keys), with ``priority`` and
    ``first_value`` annotated (the same formula as ``UseCase.priority_score``)."""
    queryset = visible_use_cases(user).select_related("stage", "business_owner", "submitted_by")
    if unit:
        queryset = queryset.filter(business_unit=unit)
    if stage:
        queryset = queryset.filter(stage__key=stage)
    if owner not in (None, ""):
        queryset = (
            queryset.filter(business_owner_id=owner)
            if str(owner).isdigit()
            else queryset.filter(business_owner__username=owner)
        )
    if risk:
        if risk not in RiskLevel.values:
            raise ValidationError(
                {"risk": f"'{risk}' is not a risk level; use one of: {', '.join(RiskLevel.values)}."}
            )
        queryset = queryset.filter(risk_level=risk)
    if q:
        queryset = queryset.filter(
            Q(title__icontains=q)
            | Q(problem_statement__icontains=q)
            | Q(sponsor__icontains=q)
            | Q(slug__icontains=q)
        )
    money = DecimalField(max_digits=20, decimal_places=2)
    first_value = ExpressionWrapper(
        F("expected_value_one_off") + F("expected_value_recurring"), output_field=money
    )
    queryset = queryset.annotate(
        first_value=first_value,
        priority=ExpressionWrapper(first_value * F("feasibility_score") / 5, output_field=money),
    )
    if sort not in SORTS:
        raise ValidationError({"sort": f"Cannot sort by '{sort}'; use one of: {', '.join(SORTS)}."})
    return queryset.order_by(*SORTS[sort][1])
