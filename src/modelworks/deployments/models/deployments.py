"""Deployments: a registered model served at ``/score/<name>`` by the scoring service, its targets
(which versions answer, by alias or pinned), its endpoint tokens and the labels that come back later."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from modelworks.core.models.base import ProjectScopedModel, TimestampedModel

__all__ = [
    "ENDPOINT_TOKEN_PREFIX",
    "Deployment",
    "DeploymentMode",
    "DeploymentStatus",
    "DeploymentTarget",
    "EndpointToken",
    "Feedback",
    "RoutingRevision",
    "TargetRole",
    "default_max_rows",
    "hash_endpoint_token",
]

ENDPOINT_TOKEN_PREFIX = "mwe_"  # noqa: S105  (a public marker, not a secret)


def hash_endpoint_token(raw: str) -> str:
    """SHA-256 of a raw endpoint token (256 random bits: a slow hash would add nothing)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def default_max_rows() -> int:
    return int(getattr(settings, "MODELWORKS_SCORING_MAX_ROWS", 10_000))


class DeploymentMode(models.TextChoices):
    SINGLE = "single", "One model"
    AB = "ab", "A/B split"
    SHADOW = "shadow", "Shadow (challenger scores silently)"


class DeploymentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class TargetRole(models.TextChoices):
    PRIMARY = "primary", "Primary"
    CHALLENGER = "challenger", "Challenger"
    SHADOW = "shadow", "Shadow"


class Deployment(ProjectScopedModel):
    """A registered model served by the scoring service at ``/score/<name>``.

    ``name`` is the endpoint, so it is unique on the whole instance (not only in the project).
    ``mode``: ``single`` (the primary target answers), ``ab`` (primary and challenger share the
    traffic by ``weight``), ``shadow`` (the primary answers; shadow targets score the same rows and
    are only logged). A paused deployment is not served (its callers get an error) but keeps its
    targets, tokens and history.
    """

    name = models.SlugField(
        max_length=63, unique=True, help_text="The endpoint name: /score/<name>. Unique on this instance."
    )
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    mode = models.CharField(max_length=10, choices=DeploymentMode.choices, default=DeploymentMode.SINGLE)
    status = models.CharField(
        max_length=10, choices=DeploymentStatus.choices, default=DeploymentStatus.ACTIVE, db_index=True
    )
    log_sample_rate = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of requests whose rows go to the prediction log (1 = all).",
    )
    max_rows = models.PositiveIntegerField(
        default=default_max_rows, help_text="Largest number of rows one request may send."
    )
    id_column = models.CharField(
        max_length=200,
        blank=True,
        help_text="Input column holding the caller's row ID (matched later with feedback); blank: none.",
    )
    explain_allowed = models.BooleanField(
        default=False, help_text="Callers may ask for per-row explanations (?explain=true); slower."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["project", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == DeploymentStatus.ACTIVE

    @property
    def prediction_source(self) -> str:
        """The prediction log's source name of this deployment (``deployment-<id>``)."""
        return f"deployment-{self.pk}"


class DeploymentTarget(TimestampedModel):
    """One model a deployment routes to: by ``alias`` (follows promotions) or a pinned version.

    Exactly one of ``alias`` and ``model_version`` is set. The registry refuses to delete a model or
    a version a target names (``RESTRICT``): the deployment must change first.
    """

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="targets")
    registered_model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.RESTRICT, related_name="deployment_targets"
    )
    alias = models.CharField(max_length=256, blank=True)
    model_version = models.ForeignKey(
        "registry.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="deployment_targets",
    )
    role = models.CharField(max_length=12, choices=TargetRole.choices, default=TargetRole.PRIMARY)
    weight = models.PositiveSmallIntegerField(
        default=100, validators=[MaxValueValidator(100)], help_text="Share of traffic in an A/B split (%)."
    )

    class Meta:
        ordering = ["deployment", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(alias="") & models.Q(model_version__isnull=False))
                | (~models.Q(alias="") & models.Q(model_version__isnull=True)),
                name="deployments_target_alias_xor_version",
            ),
            models.CheckConstraint(
                condition=models.Q(weight__lte=100), name="deployments_target_weight_le_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deployment.name}: {self.role} {self.reference}"

    @property
    def reference(self) -> str:
        """``model@alias`` or ``model/v3``, as people read it."""
        name = self.registered_model.name
        if self.alias:
            return f"{name}@{self.alias}"
        return f"{name}/v{self.model_version.version}" if self.model_version else name


class EndpointToken(models.Model):
    """A bearer token (``mwe_…``) for one deployment's endpoint: shown once, stored as a SHA-256,
    revocable, optionally expiring. ``last_used_at`` is updated by the scoring service at most once
    a minute."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100, help_text="Who or what calls with it, e.g. 'billing app'.")
    key_prefix = models.CharField(max_length=16, help_text="First characters, to recognise the token.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deployment", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def new_secret() -> str:
        return ENDPOINT_TOKEN_PREFIX + secrets.token_urlsafe(32)

    @classmethod
    def build(
        cls, deployment: Deployment, name: str, *, created_by: Any, expires_at: datetime | None
    ) -> tuple[EndpointToken, str]:
        """An unsaved token and its raw value (never stored, shown once)."""
        raw = cls.new_secret()
        token = cls(
            deployment=deployment,
            name=name,
            key_prefix=raw[:12],
            key_hash=hash_endpoint_token(raw),
            created_by=created_by,
            expires_at=expires_at,
        )
        return token, raw

    @property
    def is_live(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class Feedback(models.Model):
    """The true outcome of one scored row, sent later (``row_id`` as in the prediction log).

    One label per row: a later label replaces the earlier one (``received_at`` moves).
    """

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="feedback")
    row_id = models.CharField(max_length=200)
    label = models.TextField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["deployment", "-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "row_id"], name="deployments_feedback_unique_row"),
        ]

    def __str__(self) -> str:
        return f"{self.row_id}={self.label[:40]}"


class RoutingRevision(models.Model):
    """One row counting the writes that change what the scoring service serves.

    Every service write of a deployment, target or token bumps it in the same transaction, so the
    scoring service's poll (``runtime.current_revision``) sees the change as soon as it commits.
    """

    counter = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"routing revision {self.counter}"
