"""Recipes: one transformation of a flow, from ordered input datasets to ordered output datasets."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models

from modelworks.core.models import ProjectScopedModel, ProjectScopedQuerySet
from modelworks.datasets.models.datasets import validate_dataset_name

__all__ = [
    "DEFAULT_STORAGE_SCHEMA",
    "Recipe",
    "RecipeInput",
    "RecipeKind",
    "RecipeOutput",
    "RecipeQuerySet",
    "spec_digest",
]


class RecipeKind(models.TextChoices):
    """The recipe kinds of the engine (``modelworks.engine.recipes.RECIPE_KINDS``)."""

    PREPARE = "prepare", "Prepare"
    JOIN = "join", "Join"
    GROUP = "group", "Group"
    WINDOW = "window", "Window"
    STACK = "stack", "Stack"
    SPLIT = "split", "Split"
    SAMPLE = "sample", "Sample"
    SORT = "sort", "Sort"
    DISTINCT = "distinct", "Distinct"
    PIVOT = "pivot", "Pivot"
    TOP_N = "top_n", "Top N"
    SQL = "sql", "SQL"
    PYTHON = "python", "Python"
    SCORE = "score", "Score"


#: Kinds that run a program over stored files (the Python sandbox, a model in a child process) instead
#: of compiling to SQL: never folded into another query, never pushed down, always stored.
RUN_ONLY_KINDS: tuple[str, ...] = (RecipeKind.PYTHON, RecipeKind.SCORE)


def spec_digest(
    kind: str,
    spec: Any,
    inputs: list[str],
    outputs: list[str],
    output_settings: dict[str, Any] | None = None,
) -> str:
    """``sha256:<hex>`` of a recipe's kind, spec, input/output names and the outputs' non-default
    settings (canonical JSON; without such settings, the digest is the one it always was).

    Stored as ``Recipe.spec_hash`` so pages and the API can tell at a glance whether a recipe
    changed; the build's up-to-date check uses the engine's fingerprint, which also covers the
    input versions.
    """
    document: dict[str, Any] = {"kind": kind, "spec": spec, "inputs": inputs, "outputs": outputs}
    if output_settings:
        document["output_settings"] = output_settings
    text = json.dumps(
        document,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class RecipeQuerySet(ProjectScopedQuerySet):
    """Query logic for recipes (``visible_to`` and ``with_role`` come from the project tier)."""

    def with_links(self) -> RecipeQuerySet:
        """Recipes with their inputs and outputs (and those datasets) fetched in two more queries."""
        return self.prefetch_related("input_links__dataset", "output_links__dataset")


class Recipe(ProjectScopedModel):
    """One step of a project's flow: reads its input datasets, writes new versions of its outputs.

    ``spec`` is the engine's JSON for ``kind`` (normalised by ``engine.recipes.normalize_spec``
    before it is saved). Inputs and outputs are ordered (``RecipeInput`` / ``RecipeOutput``); a
    dataset is the output of at most one recipe. Change recipes through
    ``modelworks.flows.services`` (validated, cycle-checked, atomic and audited), never directly.
    """

    name = models.CharField(max_length=200, validators=[validate_dataset_name])
    kind = models.CharField(max_length=16, choices=RecipeKind.choices)
    spec = models.JSONField(default=dict, blank=True, help_text="The engine's settings for this kind.")
    description = models.TextField(blank=True)
    spec_hash = models.CharField(
        max_length=80, blank=True, help_text="sha256 of kind, spec, input and output names."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RecipeQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"],
                name="unique_recipe_name_in_project",
                violation_error_message="A recipe with this name already exists in the project.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def input_datasets(self) -> list[Any]:
        """The input datasets in order (uses prefetched links when present)."""
        return [link.dataset for link in sorted(self.input_links.all(), key=lambda link: link.position)]

    @property
    def output_datasets(self) -> list[Any]:
        """The output datasets in order (uses prefetched links when present)."""
        return [link.dataset for link in sorted(self.output_links.all(), key=lambda link: link.position)]

    def output_settings(self) -> dict[str, dict[str, Any]]:
        """Output dataset name → its settings that are not the default (``RecipeOutput.storage_settings``);
        outputs kept in Modelworks storage are left out. Uses prefetched links when present."""
        found: dict[str, dict[str, Any]] = {}
        for link in sorted(self.output_links.all(), key=lambda link: link.position):
            chosen = link.storage_settings()
            if chosen:
                found[link.dataset.name] = chosen
        return found

    def compute_spec_hash(self) -> str:
        """The ``spec_hash`` for the current kind, spec, inputs, outputs and output settings."""
        return spec_digest(
            self.kind,
            self.spec,
            [d.name for d in self.input_datasets],
            [d.name for d in self.output_datasets],
            self.output_settings(),
        )


class RecipeInput(models.Model):
    """Input number ``position`` (0-based) of a recipe. A dataset read by a recipe cannot be deleted."""

    recipe = models.ForeignKey(Recipe, on_delete=models.CASCADE, related_name="input_links")
    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.PROTECT, related_name="recipe_inputs")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["recipe", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipe", "dataset"],
                name="unique_recipe_input",
                violation_error_message="A dataset can be an input of a recipe only once.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset} → {self.recipe}"


#: The schema of a connection where recipe outputs stored there go, unless the recipe names another.
DEFAULT_STORAGE_SCHEMA = "modelworks"


class RecipeOutput(models.Model):
    """Output number ``position`` of a recipe. A dataset has at most one producing recipe, and
    cannot be deleted while that recipe exists (delete the recipe first; the dataset stays).

    ``storage_connection`` (a PostgreSQL connection usable in the project) stores each new version of
    the output as a new table of that database, in ``storage_schema``, besides its Parquet snapshot;
    empty: Modelworks storage only. If the connection is deleted, later builds store the output in
    Modelworks storage again.

    A ``virtual`` output is never stored: the recipes that read it compute it inline, as a sub-query
    of their own query (``modelworks.flows.services.pipeline``), so it has no versions.
    """

    recipe = models.ForeignKey(Recipe, on_delete=models.CASCADE, related_name="output_links")
    dataset = models.OneToOneField(
        "datasets.Dataset", on_delete=models.PROTECT, related_name="producing_recipe_link"
    )
    position = models.PositiveIntegerField(default=0)
    storage_connection = models.ForeignKey(
        "connections.Connection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="PostgreSQL connection that stores each new version as a table; empty: Modelworks storage.",
    )
    storage_schema = models.CharField(
        max_length=63,
        blank=True,
        default=DEFAULT_STORAGE_SCHEMA,
        help_text="Schema of the connection where the tables are created (created when missing).",
    )
    virtual = models.BooleanField(
        default=False,
        help_text="Not stored: computed on the fly by the recipes that read it (it never has versions).",
    )

    class Meta:
        ordering = ["recipe", "position"]

    def __str__(self) -> str:
        return f"{self.recipe} → {self.dataset}"

    def storage_settings(self) -> dict[str, Any]:
        """Where this output goes, when it is not the default (Modelworks storage): ``{"virtual":
        True}`` or ``{"connection_id": …, "schema": …}``; ``{}`` for the default. Fingerprints and
        ``spec_hash`` include it, so a change makes the recipe out of date."""
        if self.virtual:
            return {"virtual": True}
        if self.storage_connection_id:
            return {
                "connection_id": self.storage_connection_id,
                "schema": self.storage_schema or DEFAULT_STORAGE_SCHEMA,
            }
        return {}
