"""Database tables of deleted recipe output versions, waiting to be dropped (``flows.drop_tables``)."""

from __future__ import annotations

from django.db import models

from modelworks.core.models import TimestampedModel

__all__ = ["TableDrop", "TableDropState"]


class TableDropState(models.TextChoices):
    """Where a table drop stands."""

    PENDING = "pending", "Waiting to be dropped"
    DROPPED = "dropped", "Dropped"
    KEPT = "kept", "Kept (still used, or not a Modelworks table)"
    FAILED = "failed", "Could not be dropped"


class TableDrop(TimestampedModel):
    """A table a build created in a PostgreSQL connection for a recipe output version that was since
    deleted (alone, with its dataset or with its project).

    Written by the ``post_delete`` signal of ``DatasetVersion`` in the deleting transaction (a
    rolled-back delete leaves no row); the ``flows.drop_tables`` job drops the table afterwards.
    Only tables Modelworks made qualify: the version was a recipe output (``how="recipe"``) whose
    ``location`` a build recorded, named ``mw_<dataset id>_v<n>_<hex>``. The job drops a table only
    if no remaining version still names it, and never with ``CASCADE`` (a view someone built on it
    makes the drop fail, and the table stays). The connection is kept by id (not a foreign key): the
    row may be written while a whole project, its connections included, is being deleted.
    """

    connection_id = models.BigIntegerField(help_text="The PostgreSQL connection holding the table.")
    connection_name = models.CharField(max_length=200, blank=True)
    schema = models.CharField(max_length=63)
    table = models.CharField(max_length=63)
    project_slug = models.CharField(max_length=100, blank=True)
    dataset_name = models.CharField(max_length=200, blank=True)
    version_number = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=TableDropState.choices, default=TableDropState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    dropped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state", "connection_id"])]

    def __str__(self) -> str:
        return f"{self.schema}.{self.table} ({self.get_state_display().lower()})"

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.table}"
