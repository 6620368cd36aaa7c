"""Test helpers of the catalog app, used by the permission suite's route tables.

* ``world_lineage(w)``: a run of job ``nightly`` reading ``pg://db/raw`` and writing ``pg://db/clean``
  in the world's project, recorded through the real ``record_run`` (made on first use).
* ``lineage_dataset_args`` / ``lineage_dataset_page_args`` / ``lineage_job_args`` /
  ``lineage_job_page_args``: URL arguments of those nodes (API style and page style).
* ``openlineage_event(w)``: a minimal valid OpenLineage RunEvent filed under the world's project.
"""

from __future__ import annotations

from typing import Any

from modelworks.catalog.lineage import DatasetRef, record_run
from modelworks.catalog.models import LineageDataset
from modelworks.core.testing.routes import PermissionWorld

__all__ = [
    "lineage_dataset_args",
    "lineage_dataset_page_args",
    "lineage_job_args",
    "lineage_job_page_args",
    "openlineage_event",
    "world_lineage",
]


def world_lineage(w: PermissionWorld) -> dict[str, Any]:
    """``{"job": LineageJob, "dataset": LineageDataset}`` of the world's project."""
    if "catalog.lineage" not in w.extra:
        run = record_run(
            w.project,
            "nightly",
            inputs=[DatasetRef("pg://db", "raw")],
            outputs=[DatasetRef("pg://db", "clean")],
        )
        w.extra["catalog.lineage"] = {
            "job": run.job,
            "dataset": LineageDataset.objects.get(project=w.project, name="raw"),
        }
    return w.extra["catalog.lineage"]


def lineage_dataset_args(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "node_id": world_lineage(w)["dataset"].pk}


def lineage_dataset_page_args(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": world_lineage(w)["dataset"].pk}


def lineage_job_args(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "job_id": world_lineage(w)["job"].pk}


def lineage_job_page_args(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": world_lineage(w)["job"].pk}


def openlineage_event(w: PermissionWorld) -> dict[str, Any]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-20T08:15:00Z",
        "producer": "permission-suite",
        "run": {"runId": "8d0a3c8e-0f3e-4c39-9c7c-7c3a8f1b2a10"},
        "job": {"namespace": w.project.slug, "name": "etl"},
        "inputs": [{"namespace": "pg://db", "name": "raw"}],
    }
