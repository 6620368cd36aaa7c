"""EU AI Act: a use case's risk-classification questionnaire and the technical documentation
packs generated for it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["AIActAssessment", "AIActRiskClass", "TechnicalDocument"]


class AIActRiskClass(models.TextChoices):
    PROHIBITED = "prohibited", "Prohibited practice"
    HIGH = "high", "High risk"
    LIMITED = "limited", "Limited risk (transparency duties)"
    MINIMAL = "minimal", "Minimal risk"


class AIActAssessment(models.Model):
    """The latest answers of a use case's AI Act questionnaire and the risk class they lead to.

    ``reasons`` is a list of plain-language reasons, each naming the article or annex it comes
    from; ``version`` counts re-assessments.
    """

    use_case = models.OneToOneField(
        "governance.UseCase", on_delete=models.CASCADE, related_name="aiact_assessment"
    )
    answers = models.JSONField(default=dict, blank=True)
    risk_class = models.CharField(max_length=16, choices=AIActRiskClass.choices)
    reasons = models.JSONField(default=list, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assessed_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["use_case"]
        verbose_name = "AI Act assessment"

    def __str__(self) -> str:
        return f"AI Act assessment of {self.use_case}: {self.get_risk_class_display()}"


class TechnicalDocument(models.Model):
    """A generated technical documentation pack, kept exactly as generated (``content`` sections)."""

    use_case = models.ForeignKey(
        "governance.UseCase", on_delete=models.CASCADE, related_name="technical_documents"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    generated_at = models.DateTimeField(default=timezone.now, db_index=True)
    content = models.JSONField(default=dict, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["use_case", "-generated_at", "-id"]

    def __str__(self) -> str:
        return f"Technical documentation of {self.use_case} ({self.generated_at:%Y-%m-%d %H:%M})"
