"""Promotion requests: asking a named approver to move an alias (``champion``) to a candidate version.

A request carries its evidence (candidate against champion on the same window of labelled rows, the
margin and the rule applied), so the approver decides on facts, and the decision, so the audit log
and the alias history can say who promoted what and why.

Designed to grow into multi-step sign-off (issue 7): the approver is the single review step of
issue 6. More steps can be added as rows of a separate model linked to the request (reviewer, step,
decision), with ``services.promotion`` completing the request only once every required step has
approved; the request's own fields and statuses stay as they are.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from modelworks.core.models.base import ProjectScopedModel, ProjectScopedQuerySet
from modelworks.registry.models.registered import ModelVersion, RegisteredModel


class PromotionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


class PromotionRequest(ProjectScopedModel):
    """A request to point ``alias`` of ``registered_model`` at ``candidate``, decided by ``approver``.

    * ``number``: 1, 2, 3… within the registered model (``promotion #n`` in the alias history).
    * ``candidate`` may be deleted later; ``candidate_version`` keeps its number.
    * ``champion_version``: the version the alias pointed at when the request was made (None: the
      alias did not exist).
    * ``evidence``: ``{"metric", "greater_is_better", "margin", "rule", "window": {...},
      "candidate": {"version", "metrics"}, "champion": {"version", "metrics"}, "difference",
      "better"}`` as written by the retraining job (or a person); shown side by side.
    * ``superseded_by``: the newer request for the same model and alias that cancelled this one.
    """

    registered_model = models.ForeignKey(
        RegisteredModel, on_delete=models.CASCADE, related_name="promotion_requests"
    )
    number = models.PositiveIntegerField()
    candidate = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="promotion_requests"
    )
    candidate_version = models.PositiveIntegerField()
    alias = models.CharField(max_length=256)
    champion_version = models.PositiveIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_name = models.CharField(max_length=150, blank=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="promotion_requests_to_decide",
    )
    approver_name = models.CharField(max_length=150, blank=True)
    status = models.CharField(
        max_length=12, choices=PromotionStatus.choices, default=PromotionStatus.PENDING, db_index=True
    )
    note = models.TextField(blank=True, help_text="Why the requester asks for it.")
    evidence = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True, help_text="The decision's comment (required to reject).")
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job = models.ForeignKey(
        "core.Job",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The retraining job that opened it, if any.",
    )

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        ordering = ["registered_model", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["registered_model", "number"], name="registry_promotion_number"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.registered_model.name} promotion #{self.number}: v{self.candidate_version} "
            f"→ @{self.alias} ({self.status})"
        )

    @property
    def is_pending(self) -> bool:
        return self.status == PromotionStatus.PENDING
