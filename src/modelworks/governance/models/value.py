"""Realised value: how a use case's value is measured in production, and the measured values per
period (computed from a deployment's prediction log, or pushed through the API)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = [
    "MeasurementSource",
    "ValueDefinition",
    "ValueKind",
    "ValueMeasurement",
    "ValuePeriod",
]


class ValueKind(models.TextChoices):
    PREDICTION_LOG = "prediction_log", "Computed from a deployment's prediction log"
    PUSHED = "pushed", "Pushed through the API"


class ValuePeriod(models.TextChoices):
    MONTH = "month", "Month"
    WEEK = "week", "Week"
    DAY = "day", "Day"


class ValueDefinition(models.Model):
    """How one part of a use case's value is measured.

    For ``prediction_log``: the rows of ``deployment``'s prediction log (with their feedback
    ``label``) that match ``row_filter`` (a formula of the Flow's safe formula language) are each
    worth ``value_per_row`` (a number or a formula), summed per ``period``.
    """

    use_case = models.ForeignKey(
        "governance.UseCase", on_delete=models.CASCADE, related_name="value_definitions"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ValueKind.choices, default=ValueKind.PREDICTION_LOG)
    deployment = models.ForeignKey(
        "deployments.Deployment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    row_filter = models.TextField(blank=True)
    value_per_row = models.TextField(blank=True)
    unit = models.CharField(max_length=20, default="EUR")
    period = models.CharField(max_length=10, choices=ValuePeriod.choices, default=ValuePeriod.MONTH)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["use_case", "name", "id"]

    def __str__(self) -> str:
        return self.name


class MeasurementSource(models.TextChoices):
    COMPUTED = "computed", "Computed"
    PUSHED = "pushed", "Pushed"


class ValueMeasurement(models.Model):
    """The realised value of one definition over one period (one row per period start)."""

    definition = models.ForeignKey(ValueDefinition, on_delete=models.CASCADE, related_name="measurements")
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(max_digits=16, decimal_places=2)
    rows = models.IntegerField(null=True, blank=True)
    source = models.CharField(
        max_length=10, choices=MeasurementSource.choices, default=MeasurementSource.COMPUTED
    )
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["definition", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "period_start"], name="governance_measurement_unique_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition}: {self.period_start} = {self.value}"
