"""Recipe history: one immutable revision per change of a recipe (who, when, what it became)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from modelworks.core.models import ProjectScopedQuerySet

__all__ = ["RecipeRevision", "RecipeRevisionQuerySet", "RevisionChange"]


class RevisionChange(models.TextChoices):
    """What happened to the recipe in a revision."""

    CREATED = "created", "Created"
    UPDATED = "updated", "Changed"
    RENAMED = "renamed", "Renamed"
    REVERTED = "reverted", "Reverted"
    DELETED = "deleted", "Deleted"


class RecipeRevisionQuerySet(ProjectScopedQuerySet):
    """Query logic for revisions (``visible_to`` and ``with_role`` come from the project tier)."""

    def of_recipe(self, project_id: int, recipe_pk: int) -> RecipeRevisionQuerySet:
        """The revisions of recipe ``recipe_pk`` of the project, also after the recipe was deleted."""
        return self.filter(project_id=project_id, recipe_pk=recipe_pk)


class RecipeRevision(models.Model):
    """The state of a recipe after one change: name, kind, settings, input and output names, and
    where its outputs are stored (``output_settings``).

    Written by ``modelworks.flows.services.history`` in the transaction of every create, update,
    revert and delete, so the history and the recipe never disagree. ``recipe`` becomes null when
    the recipe is deleted; ``recipe_pk`` (its former id) and ``recipe_name`` keep the history
    readable. Revisions are numbered 1, 2, 3… per recipe and never change once written.
    """

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="+")
    recipe = models.ForeignKey(
        "flows.Recipe", null=True, blank=True, on_delete=models.SET_NULL, related_name="revisions"
    )
    recipe_pk = models.PositiveBigIntegerField(
        db_index=True, help_text="The recipe's id, kept after the recipe is deleted."
    )
    recipe_name = models.CharField(max_length=200, help_text="The recipe's name after this change.")
    number = models.PositiveIntegerField(help_text="1, 2, 3… within the recipe.")
    change = models.CharField(max_length=10, choices=RevisionChange.choices)
    reverted_from = models.PositiveIntegerField(
        null=True, blank=True, help_text="For a revert: the revision number whose state was restored."
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16)
    spec = models.JSONField(default=dict, blank=True)
    inputs = models.JSONField(default=list, blank=True, help_text="Input dataset names, in order.")
    outputs = models.JSONField(default=list, blank=True, help_text="Output dataset names, in order.")
    output_settings = models.JSONField(
        null=True,
        blank=True,
        default=None,
        help_text=(
            "Output name → where it is stored when not in Modelworks storage: "
            '{"storage": {"connection", "connection_id", "schema"}} or {"virtual": true}. '
            "Null for revisions written before it was recorded."
        ),
    )
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = RecipeRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["project", "recipe_pk", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["recipe_pk", "number"], name="unique_recipe_revision_number"),
        ]

    def __str__(self) -> str:
        return f"{self.recipe_name} revision {self.number} ({self.change})"

    def snapshot(self) -> dict[str, Any]:
        """What the recipe was after this change (the fields compared by diffs and restored by
        reverts); ``output_settings`` only when some output is not in Modelworks storage."""
        snapshot: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "spec": self.spec,
        }
        if self.output_settings:
            snapshot["output_settings"] = self.output_settings
        return snapshot
