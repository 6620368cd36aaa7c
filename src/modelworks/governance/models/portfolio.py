"""The use-case portfolio: who may see it (portfolio roles), the configurable pipeline of stages,
the use cases themselves and the history of their stage moves."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from modelworks.core.models.base import TimestampedModel
from modelworks.core.models.projects import slug_validator

__all__ = [
    "PRIORITY_FORMULA",
    "PortfolioMember",
    "PortfolioRole",
    "RiskLevel",
    "Stage",
    "StageChange",
    "StageKind",
    "UseCase",
    "UseCaseQuerySet",
]

# Shown on the portfolio page next to the prioritisation matrix: keep in step with priority_score.
PRIORITY_FORMULA = (
    "priority = first-year value × feasibility ÷ 5, where first-year value = expected one-off value "  # noqa: RUF001
    "+ expected recurring value per year; a use case without a feasibility score has no priority yet"
)


class PortfolioRole(models.TextChoices):
    """Instance-level roles above projects; instance admins (superusers) count as leads."""

    VIEWER = "viewer", "Viewer"
    LEAD = "lead", "Governance lead"


class PortfolioMember(models.Model):
    """A portfolio role granted to one user or to one group (exactly one of the two)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="portfolio_memberships",
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="portfolio_memberships"
    )
    role = models.CharField(max_length=16, choices=PortfolioRole.choices, default=PortfolioRole.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role", "user__username", "group__name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False)
                ),
                name="governance_member_user_xor_group",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(user__isnull=False), name="governance_unique_user_member"
            ),
            models.UniqueConstraint(
                fields=["group"], condition=Q(group__isnull=False), name="governance_unique_group_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.principal_name} is {self.get_role_display()} of the portfolio"

    @property
    def principal_name(self) -> str:
        return self.user.username if self.user_id else f"group {self.group.name}"

    @property
    def principal_kind(self) -> str:
        return "user" if self.user_id else "group"

    def clean(self) -> None:
        if bool(self.user_id) == bool(self.group_id):
            raise ValidationError({"user": "Choose either a user or a group, not both and not neither."})


class StageKind(models.TextChoices):
    """What a pipeline stage means for reporting (time to production, active counts…)."""

    INTAKE = "intake", "Intake"
    ACTIVE = "active", "Active"
    PRODUCTION = "production", "Production"
    CLOSED = "closed", "Closed"


class Stage(models.Model):
    """One step of the configurable use-case pipeline (idea → qualified → … → production → retired)."""

    key = models.SlugField(
        max_length=40, unique=True, help_text="Short stable name used in addresses and the API, e.g. pilot."
    )
    label = models.CharField(max_length=100)
    order = models.IntegerField(default=0)
    kind = models.CharField(max_length=16, choices=StageKind.choices, default=StageKind.ACTIVE)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.label


class RiskLevel(models.TextChoices):
    """Risk level of a use case, in the EU AI Act's classes (``unassessed`` until someone decides)."""

    UNASSESSED = "unassessed", "Not assessed"
    MINIMAL = "minimal", "Minimal"
    LIMITED = "limited", "Limited"
    HIGH = "high", "High"
    PROHIBITED = "prohibited", "Prohibited"


score_validators = [MinValueValidator(1), MaxValueValidator(5)]


_AMOUNT_LABELS = {
    "expected_value_one_off": "expected one-off value",
    "expected_value_recurring": "expected recurring value",
    "cost_people_days": "cost in people-days",
    "cost_compute": "compute cost",
}


class UseCaseQuerySet(models.QuerySet):
    """Query logic of use cases."""

    def visible_to(self, user: Any) -> UseCaseQuerySet:
        """The use cases ``user`` may see (rules in ``governance.services.access``)."""
        from modelworks.governance.services.access import visible_use_cases

        return self.filter(id__in=visible_use_cases(user).values("id"))


class UseCase(TimestampedModel):
    """A business problem AI may solve: the unit of the portfolio, linked to one or more projects.

    Expected values are in ``currency``; ``expected_value_recurring`` is per year. Costs are
    people-days and compute spend (in ``currency``).
    """

    title = models.CharField(max_length=200)
    slug = models.CharField(
        max_length=64,
        unique=True,
        validators=[slug_validator],
        help_text="Short name used in addresses, e.g. delay-prediction.",
    )
    problem_statement = models.TextField(blank=True)
    business_unit = models.CharField(max_length=100, blank=True, db_index=True)
    business_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_use_cases",
    )
    sponsor = models.CharField(max_length=200, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submitted_use_cases",
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="use_cases")
    stage_changed_at = models.DateTimeField(default=timezone.now)
    expected_value_one_off = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    expected_value_recurring = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), help_text="Per year."
    )
    currency = models.CharField(max_length=3, default="EUR")
    value_formula = models.TextField(blank=True)
    value_assumptions = models.TextField(blank=True)
    cost_people_days = models.DecimalField(max_digits=10, decimal_places=1, default=Decimal("0"))
    cost_compute = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    feasibility_score = models.PositiveSmallIntegerField(null=True, blank=True, validators=score_validators)
    data_readiness_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=score_validators
    )
    risk_level = models.CharField(max_length=16, choices=RiskLevel.choices, default=RiskLevel.UNASSESSED)
    projects = models.ManyToManyField("core.Project", blank=True, related_name="use_cases")
    rejection_reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = UseCaseQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not re.fullmatch(r"[A-Z]{3}", self.currency or ""):
            errors["currency"] = "Use a three-letter ISO 4217 currency code in capitals, e.g. EUR or USD."
        for name, label in _AMOUNT_LABELS.items():
            value = getattr(self, name)
            if value is not None and value < 0:
                errors[name] = f"The {label} cannot be negative; enter 0 when there is none."
        has_value = (self.expected_value_one_off or 0) > 0 or (self.expected_value_recurring or 0) > 0
        if has_value and not (self.value_formula or "").strip() and self.stage_kind != StageKind.INTAKE:
            errors["value_formula"] = (
                "Write down how the expected value is computed (e.g. '1,200 delays a year x 15 min x EUR 8 "
                "per minute'), so others can check the estimate."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def stage_kind(self) -> str | None:
        """The kind of the current stage (None before a stage is set)."""
        return self.stage.kind if self.stage_id else None

    @property
    def first_year_value(self) -> Decimal:
        """Expected one-off value plus one year of the expected recurring value."""
        return (self.expected_value_one_off or Decimal("0")) + (self.expected_value_recurring or Decimal("0"))

    @property
    def priority_score(self) -> Decimal | None:
        """First-year value x feasibility / 5 (see ``PRIORITY_FORMULA``); None without feasibility.

        Dividing by 5 keeps the score in the currency's unit: a fully feasible use case (5) scores
        its whole first-year value, a barely feasible one (1) a fifth of it.
        """
        if self.feasibility_score is None:
            return None
        return (self.first_year_value * Decimal(self.feasibility_score) / Decimal(5)).quantize(
            Decimal("0.01")
        )


class StageChange(models.Model):
    """One move of a use case between pipeline stages (``from_stage`` is None for its creation)."""

    use_case = models.ForeignKey(UseCase, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["use_case", "created_at", "id"]

    def __str__(self) -> str:
        start = self.from_stage.label if self.from_stage_id else "created"
        return f"{self.use_case}: {start} → {self.to_stage}"
