"""The lineage store: datasets and jobs as nodes, runs, dataset edges and column-level edges.

Every object belongs to one project, like everything users work on. Nodes are named the way
OpenLineage names them: a *namespace* (where the thing lives, e.g. ``postgres://db:5432`` or, for
Modelworks' own datasets and jobs, ``modelworks://<project slug>``) and a *name* within it. Both
can be long (file paths, URLs), so uniqueness is enforced on a hash of the pair.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q

from modelworks.core.models import ProjectScopedModel

__all__ = [
    "INTERNAL_NAMESPACE_PREFIX",
    "ColumnLineageEdge",
    "EdgeDirection",
    "JobKind",
    "LineageDataset",
    "LineageEdge",
    "LineageEvent",
    "LineageJob",
    "LineageRun",
    "RunState",
    "internal_namespace",
    "node_key",
]

# Modelworks' own datasets and jobs live in this namespace, followed by the project's slug.
INTERNAL_NAMESPACE_PREFIX = "modelworks://"
NAME_MAX_LENGTH = 1000


def internal_namespace(project_slug: str) -> str:
    """The namespace of a project's own datasets and jobs, e.g. ``modelworks://flight-delays``."""
    return f"{INTERNAL_NAMESPACE_PREFIX}{project_slug}"


def node_key(namespace: str, name: str) -> str:
    """The unique key of a namespace and name (a hash: the pair may exceed an index's row size)."""
    return hashlib.sha256(f"{namespace}\x00{name}".encode()).hexdigest()


class JobKind(models.TextChoices):
    """Who reported a job."""

    INTERNAL = "internal", "Modelworks"
    OPENLINEAGE = "openlineage", "OpenLineage producer"


class RunState(models.TextChoices):
    """The state of a run, from OpenLineage's event types (START/RUNNING → running, …)."""

    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    ABORTED = "aborted", "Aborted"
    OTHER = "other", "Other"

    @property
    def is_final(self) -> bool:
        return self in (RunState.COMPLETED, RunState.FAILED, RunState.ABORTED)


class EdgeDirection(models.TextChoices):
    """Whether a dataset is read (input) or written (output) by a job."""

    INPUT = "input", "Input"
    OUTPUT = "output", "Output"


class LineageDataset(ProjectScopedModel):
    """A dataset node: a Modelworks dataset (``dataset`` set) or an external one, by namespace and name."""

    namespace = models.CharField(max_length=NAME_MAX_LENGTH)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    key = models.CharField(max_length=64, editable=False, help_text="Hash of namespace and name.")
    dataset = models.ForeignKey(
        "datasets.Dataset",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lineage_nodes",
        help_text="The Modelworks dataset this node stands for, when it is one.",
    )
    description = models.TextField(blank=True)
    columns = models.JSONField(default=list, blank=True, help_text="Schema: [{name, type, description}].")
    source_name = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    source_uri = models.CharField(max_length=2000, blank=True)
    facets = models.JSONField(default=dict, blank=True, help_text="Latest facets as reported.")

    class Meta:
        ordering = ["namespace", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="unique_lineage_dataset_in_project")
        ]
        indexes = [models.Index(fields=["project", "name"], name="lineage_dataset_name")]

    def __str__(self) -> str:
        return self.label

    def save(self, *args: object, **kwargs: object) -> None:
        self.key = node_key(self.namespace, self.name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        """The dataset's name as people know it (a linked dataset's current name)."""
        if self.dataset_id is not None and self.dataset is not None:
            return self.dataset.name
        return self.name

    @property
    def is_internal(self) -> bool:
        return self.namespace.startswith(INTERNAL_NAMESPACE_PREFIX)

    @property
    def column_names(self) -> list[str]:
        return [str(c.get("name", "")) for c in self.columns if isinstance(c, dict)]


class LineageJob(ProjectScopedModel):
    """A job node: something that reads datasets and writes others (a recipe, an Airflow task…)."""

    namespace = models.CharField(max_length=NAME_MAX_LENGTH)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    key = models.CharField(max_length=64, editable=False, help_text="Hash of namespace and name.")
    kind = models.CharField(max_length=16, choices=JobKind.choices, default=JobKind.INTERNAL)
    description = models.TextField(blank=True)
    sql = models.TextField(blank=True, help_text="The query, when the job is SQL.")
    sql_dialect = models.CharField(max_length=100, blank=True)
    job_type = models.CharField(max_length=200, blank=True, help_text="e.g. BATCH · SPARK · SQL_JOB.")
    facets = models.JSONField(default=dict, blank=True, help_text="Latest facets as reported.")

    class Meta:
        ordering = ["namespace", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="unique_lineage_job_in_project")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.key = node_key(self.namespace, self.name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        return self.name


class LineageRun(ProjectScopedModel):
    """One execution of a job, identified by its run id (a UUID chosen by the producer)."""

    job = models.ForeignKey(LineageJob, on_delete=models.CASCADE, related_name="runs")
    run_id = models.UUIDField()
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.RUNNING)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    facets = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "run_id"], name="unique_lineage_run_in_project")
        ]

    def __str__(self) -> str:
        return f"{self.job} run {self.run_id}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


class LineageEdge(ProjectScopedModel):
    """A dataset read (input) or written (output) by a job, in one run or declared by the job itself."""

    job = models.ForeignKey(LineageJob, on_delete=models.CASCADE, related_name="edges")
    run = models.ForeignKey(LineageRun, null=True, blank=True, on_delete=models.CASCADE, related_name="edges")
    dataset = models.ForeignKey(LineageDataset, on_delete=models.CASCADE, related_name="edges")
    direction = models.CharField(max_length=8, choices=EdgeDirection.choices)
    facets = models.JSONField(default=dict, blank=True, help_text="Input or output facets of the run.")

    class Meta:
        ordering = ["job", "direction", "dataset"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "dataset", "direction"],
                condition=Q(run__isnull=False),
                name="unique_lineage_edge_per_run",
            ),
            models.UniqueConstraint(
                fields=["job", "dataset", "direction"],
                condition=Q(run__isnull=True),
                name="unique_lineage_edge_per_job",
            ),
        ]
        indexes = [models.Index(fields=["dataset", "direction"], name="lineage_edge_dataset")]

    def __str__(self) -> str:
        arrow = "→" if self.direction == EdgeDirection.INPUT else "←"
        return f"{self.dataset} {arrow} {self.job}"


class ColumnLineageEdge(ProjectScopedModel):
    """An output column derived from an input column, with how (OpenLineage ``columnLineage``).

    The edges a job reports for one output dataset replace those it reported before: the latest
    description of a dataset's columns is the truth.
    """

    job = models.ForeignKey(
        LineageJob, null=True, blank=True, on_delete=models.CASCADE, related_name="column_edges"
    )
    run = models.ForeignKey(LineageRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    output_dataset = models.ForeignKey(LineageDataset, on_delete=models.CASCADE, related_name="column_inputs")
    output_column = models.CharField(max_length=NAME_MAX_LENGTH)
    input_dataset = models.ForeignKey(LineageDataset, on_delete=models.CASCADE, related_name="column_outputs")
    input_column = models.CharField(max_length=NAME_MAX_LENGTH)
    transformation_type = models.CharField(max_length=32, blank=True, help_text="DIRECT or INDIRECT.")
    transformation_subtype = models.CharField(
        max_length=32, blank=True, help_text="IDENTITY, TRANSFORMATION, AGGREGATION, FILTER, JOIN…"
    )
    description = models.TextField(blank=True)
    masking = models.BooleanField(default=False, help_text="True when the value is masked (e.g. hashed).")

    class Meta:
        ordering = ["output_dataset", "output_column", "input_dataset", "input_column"]
        indexes = [
            models.Index(fields=["output_dataset", "output_column"], name="column_edge_output"),
            models.Index(fields=["input_dataset", "input_column"], name="column_edge_input"),
        ]

    def __str__(self) -> str:
        return f"{self.output_dataset}.{self.output_column} ← {self.input_dataset}.{self.input_column}"


class LineageEvent(ProjectScopedModel):
    """An OpenLineage event exactly as received, kept for audit and for facets not modelled here."""

    kind = models.CharField(max_length=16, help_text="RunEvent, DatasetEvent or JobEvent.")
    event_type = models.CharField(max_length=16, blank=True, help_text="START, COMPLETE… (run events).")
    event_time = models.DateTimeField()
    job_namespace = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    job_name = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    run_id = models.UUIDField(null=True, blank=True)
    producer = models.CharField(max_length=2000, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        what = f"{self.job_namespace}/{self.job_name}" if self.job_name else "dataset"
        return f"{self.kind} {self.event_type} {what}".replace("  ", " ")
