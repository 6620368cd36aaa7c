"""Sign-off: the review steps a project requires before a model version takes a protected alias,
the requests raised by alias moves and each reviewer's decision."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

__all__ = [
    "ReviewDecision",
    "SignoffMode",
    "SignoffPolicy",
    "SignoffRequest",
    "SignoffReview",
    "SignoffStatus",
    "SignoffStep",
    "default_protected_aliases",
]


def default_protected_aliases() -> list[str]:
    return ["champion", "production"]


class SignoffMode(models.TextChoices):
    BLOCK = "block", "Block the promotion until approved"
    WARN = "warn", "Allow the promotion with a warning"


class SignoffPolicy(models.Model):
    """A project's sign-off rule: which aliases are protected and which steps must approve."""

    project = models.OneToOneField("core.Project", on_delete=models.CASCADE, related_name="signoff_policy")
    aliases = models.JSONField(default=default_protected_aliases, blank=True)
    mode = models.CharField(max_length=10, choices=SignoffMode.choices, default=SignoffMode.BLOCK)
    due_days = models.PositiveIntegerField(default=5)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["project"]
        verbose_name_plural = "sign-off policies"

    def __str__(self) -> str:
        return f"Sign-off policy of {self.project}"


class SignoffStep(models.Model):
    """One review step of a policy, done by one user or by any member of one group."""

    policy = models.ForeignKey(SignoffPolicy, on_delete=models.CASCADE, related_name="steps")
    order = models.IntegerField(default=0)
    title = models.CharField(max_length=200)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["policy", "order", "id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if bool(self.reviewer_id) == bool(self.reviewer_group_id):
            raise ValidationError(
                {"reviewer": "Choose either a reviewer or a reviewer group, not both and not neither."}
            )


class SignoffStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


class SignoffRequest(models.Model):
    """A request to move ``alias`` to ``model_version``, waiting for the policy's reviews.

    ``details`` keeps a snapshot of the policy at request time, so later policy edits do not change
    what this request needed.
    """

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="signoff_requests")
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="signoff_requests"
    )
    alias = models.CharField(max_length=256)
    status = models.CharField(
        max_length=10, choices=SignoffStatus.choices, default=SignoffStatus.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    due_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Sign-off of {self.model_version} as {self.alias} ({self.get_status_display()})"


class ReviewDecision(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class SignoffReview(models.Model):
    """One reviewer's (or reviewer group's) decision on a request, copied from a policy step."""

    request = models.ForeignKey(SignoffRequest, on_delete=models.CASCADE, related_name="reviews")
    order = models.IntegerField(default=0)
    title = models.CharField(max_length=200)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(
        max_length=10, choices=ReviewDecision.choices, default=ReviewDecision.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["request", "order", "id"]

    def __str__(self) -> str:
        return f"{self.title}: {self.get_decision_display()}"
