"""Registered models, their numbered versions, tags and aliases (with the history of alias moves)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from modelworks.core.models.base import ProjectScopedModel, TimestampedModel
from modelworks.registry.models.logged import LoggedModel
from modelworks.tracking.models import Run


class RegisteredModel(ProjectScopedModel):
    """A named model of a project (``mlflow.register_model`` target): a series of versions.

    Names are unique per project. Aliases (``champion``, ``challenger``…) point at versions; clients
    load ``models:/<name>@<alias>`` or ``models:/<name>/<version>``.
    """

    name = models.CharField(max_length=256)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="registry_model_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def latest_version(self) -> ModelVersion | None:
        return self.versions.order_by("-version").first()


class RegisteredModelTag(models.Model):
    """A key/value tag of a registered model."""

    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True)

    class Meta:
        ordering = ["registered_model", "key"]
        constraints = [
            models.UniqueConstraint(fields=["registered_model", "key"], name="registry_model_tag_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class ModelVersionStatus(models.TextChoices):
    """MLflow's registration states; Modelworks registers synchronously, so versions are READY."""

    PENDING_REGISTRATION = "PENDING_REGISTRATION", "Pending"
    FAILED_REGISTRATION = "FAILED_REGISTRATION", "Failed"
    READY = "READY", "Ready"


class Stage(models.TextChoices):
    """MLflow 2's deprecated stages, kept because older clients still transition versions."""

    NONE = "None", "None"
    STAGING = "Staging", "Staging"
    PRODUCTION = "Production", "Production"
    ARCHIVED = "Archived", "Archived"


class ModelVersion(TimestampedModel):
    """One immutable version of a registered model, with its lineage.

    ``source`` is what the client sent (``runs:/…``, ``models:/m-…``, ``mlflow-artifacts:/…``);
    ``storage_location`` is where its files are, always inside the tracking store
    (``mlflow-artifacts:/<experiment>/…``): the download URI clients get. Lineage: the run and
    logged model that produced it, the exact training dataset version, the recipe and the code.
    ``metrics`` holds values given at registration (e.g. by the Lab); the run's and the logged
    model's metrics are read live (see ``modelworks.registry.services.version_metrics``).
    """

    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    source = models.TextField()
    storage_location = models.TextField()
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    run_link = models.TextField(blank=True)
    logged_model = models.ForeignKey(
        LoggedModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="versions"
    )
    status = models.CharField(
        max_length=24, choices=ModelVersionStatus.choices, default=ModelVersionStatus.READY
    )
    status_message = models.TextField(blank=True)
    current_stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NONE)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the MLmodel file says, when the files were readable at registration.
    signature = models.JSONField(
        null=True, blank=True, help_text="MLflow signature: inputs, outputs, params."
    )
    input_example = models.JSONField(null=True, blank=True, help_text="A few example input rows.")
    package_versions = models.JSONField(
        default=dict, blank=True, help_text="Flavors and library versions, e.g. {'sklearn': '1.9.0'}."
    )
    metrics = models.JSONField(default=dict, blank=True, help_text="Metrics given at registration.")
    training_dataset_version = models.ForeignKey(
        "datasets.DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipe = models.ForeignKey(
        "flows.Recipe", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    code_reference = models.CharField(
        max_length=500, blank=True, help_text="The code that trained it, e.g. 'train.py @ git 1a2b3c4'."
    )

    class Meta:
        ordering = ["registered_model", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["registered_model", "version"], name="registry_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.registered_model.name} v{self.version}"

    @property
    def project(self) -> Any:
        return self.registered_model.project

    @property
    def model_uri(self) -> str:
        return f"models:/{self.registered_model.name}/{self.version}"


class ModelVersionTag(models.Model):
    """A key/value tag of a model version."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True)

    class Meta:
        ordering = ["model_version", "key"]
        constraints = [
            models.UniqueConstraint(fields=["model_version", "key"], name="registry_version_tag_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value[:40]}"


class ModelAlias(models.Model):
    """A named pointer to one version (``champion`` → v3); unique per registered model."""

    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=256)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="aliases")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["registered_model", "alias"]
        constraints = [
            models.UniqueConstraint(fields=["registered_model", "alias"], name="registry_alias_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.registered_model.name}@{self.alias}"


class AliasEvent(models.Model):
    """One move of an alias: who pointed which alias from which version to which, and when.

    ``from_version``/``to_version`` are version numbers (kept even after a version is deleted);
    ``None`` means the alias did not exist before, or was removed.
    """

    registered_model = models.ForeignKey(
        RegisteredModel, on_delete=models.CASCADE, related_name="alias_events"
    )
    alias = models.CharField(max_length=256)
    from_version = models.PositiveIntegerField(null=True, blank=True)
    to_version = models.PositiveIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=200, blank=True, help_text="Why, e.g. 'version 2 deleted'.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["registered_model", "-created_at", "-id"]

    def __str__(self) -> str:
        before = f"v{self.from_version}" if self.from_version is not None else "nothing"
        after = f"v{self.to_version}" if self.to_version is not None else "nothing"
        return f"{self.registered_model.name}@{self.alias}: {before} → {after}"
