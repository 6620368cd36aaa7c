"""Test helpers of the datasets app (used by its tests and by the permission suite's route tables).

* ``make_dataset(project, actor, …)``: a real dataset with one version, imported synchronously by
  the engine through the same service the import job uses.
* ``run_queued_jobs()``: run every queued job in this process, as the worker's child process would
  (``JobFailed`` → failed with its message…), including jobs queued by the jobs it runs. The real
  worker is covered by the tests that start one; this keeps the many other tests fast.
"""

from __future__ import annotations

import json
import tempfile
import traceback
from pathlib import Path
from typing import Any

from django.utils import timezone

from modelworks.core.jobs import JobCancelled, JobFailed, RetryableJobError, enqueue, job_type
from modelworks.core.models import Job, JobState, Project, User
from modelworks.core.testing.routes import PermissionWorld
from modelworks.datasets import services
from modelworks.datasets.models import Dataset, SourceKind
from modelworks.datasets.storage import data_store
from modelworks.engine.io import ImportOptions, import_file

__all__ = [
    "SAMPLE_CSV",
    "InlineReporter",
    "dataset_args",
    "dataset_page_args",
    "import_job",
    "import_status_args",
    "make_dataset",
    "rule_args",
    "rule_page_args",
    "run_queued_jobs",
    "version_page_args",
    "world_dataset",
]

SAMPLE_CSV = (
    b"flight,carrier,dep_delay,distance,day\n"
    b"AF1,AF,5,900,2024-01-01\n"
    b"AF2,AF,-3,1200,2024-01-02\n"
    b"LH7,LH,45,700,2024-01-02\n"
    b"LH8,LH,,650,2024-01-03\n"
    b"BA3,BA,12,400,2024-01-04\n"
)


def make_dataset(
    project: Project,
    actor: User,
    *,
    name: str = "Flights",
    content: bytes = SAMPLE_CSV,
    file_name: str = "flights.csv",
) -> Dataset:
    """A dataset with one version made from ``content`` (imported now, without a job)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source"
        path.write_bytes(content)
        info = import_file(path, store=data_store(), options=ImportOptions(original_name=file_name))
    kept = data_store().save(content)  # the upload is kept, as the import job keeps it
    version = services.create_version(
        project=project,
        info=info,
        how=SourceKind.UPLOAD,
        how_details={"file_name": file_name, "options": {}, "source_object_id": kept.object_id},
        actor=actor,
        job=None,
        name=name,
    )
    return version.dataset


def world_dataset(w: PermissionWorld) -> Dataset:
    """The world's dataset: one version, its profile and one rule (made on first use, by bob)."""
    if "datasets.dataset" not in w.extra:
        dataset = make_dataset(w.project, w.users["contributor"])
        version = dataset.latest_version
        assert version is not None
        services.save_profile(version, {"row_count": version.row_count, "columns": []})
        rule = services.add_rule(
            dataset, actor=w.users["contributor"], kind="not_null", params={"column": "flight"}
        )
        w.extra["datasets.dataset"], w.extra["datasets.rule"] = dataset, rule
    return w.extra["datasets.dataset"]


def dataset_args(w: PermissionWorld) -> dict[str, Any]:
    """URL arguments of the world's dataset (API style: ``dataset_id``)."""
    return {"slug": w.project.slug, "dataset_id": world_dataset(w).pk}


def rule_args(w: PermissionWorld) -> dict[str, Any]:
    world_dataset(w)
    return {
        "slug": w.project.slug,
        "dataset_id": w.extra["datasets.dataset"].pk,
        "rule_id": w.extra["datasets.rule"].pk,
    }


def import_job(w: PermissionWorld) -> Job:
    """A queued upload import of the world's project (its upload is never written: it stays queued)."""
    if "datasets.import_job" not in w.extra:
        w.extra["datasets.import_job"] = enqueue(
            "datasets.import",
            project=w.project,
            created_by=w.users["contributor"],
            params={
                "name": "Queued import",
                "source": {"kind": "upload", "upload_id": "0" * 32, "file_name": "q.csv"},
            },
        )
    return w.extra["datasets.import_job"]


class InlineReporter:
    """Collects a job's log lines and progress in memory."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.percent = 0.0

    def log(self, level: str, message: str) -> None:
        self.lines.append((level, message))

    def progress(self, percent: float, message: str) -> None:
        self.percent = percent

    def cancel_requested(self) -> bool:
        return False


def run_queued_jobs(limit: int = 50) -> list[Job]:
    """Run queued jobs (oldest first) until none is left; return them, finished."""
    done: list[Job] = []
    for _ in range(limit):
        job = Job.objects.filter(state=JobState.QUEUED).order_by("created_at").first()
        if job is None:
            break
        job.state, job.started_at, job.attempt = JobState.RUNNING, timezone.now(), job.attempt + 1
        job.save(update_fields=["state", "started_at", "attempt"])
        reporter = InlineReporter()
        try:
            result: Any = job_type(job.kind)(job, reporter).run()
            job.result = json.loads(json.dumps(result, allow_nan=False))
            job.state = JobState.SUCCEEDED
        except (JobFailed, RetryableJobError, JobCancelled) as exc:
            job.state, job.error = JobState.FAILED, str(exc)
        except Exception as exc:
            job.state, job.error = JobState.FAILED, f"Internal error: {type(exc).__name__}: {exc}"
            reporter.log("ERROR", traceback.format_exc())
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "result", "error", "finished_at"])
        job.inline_log = reporter.lines  # type: ignore[attr-defined]
        done.append(job)
    return done


def dataset_page_args(w: PermissionWorld) -> dict[str, Any]:
    """URL arguments of the world's dataset (page style: ``pk``)."""
    return {"slug": w.project.slug, "pk": world_dataset(w).pk}


def version_page_args(w: PermissionWorld) -> dict[str, Any]:
    return {**dataset_page_args(w), "number": 1}


def rule_page_args(w: PermissionWorld) -> dict[str, Any]:
    return {**dataset_page_args(w), "rule_pk": w.extra["datasets.rule"].pk}


def import_status_args(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "job_id": import_job(w).pk}
