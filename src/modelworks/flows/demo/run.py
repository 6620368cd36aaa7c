"""Running the demo Flow to its end: headless with in-process workers, or in the interactive demo's background."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TextIO

from django.core.exceptions import ValidationError
from django.db import connections

from modelworks.core.models import Job, JobState, Project
from modelworks.datasets.models import Dataset
from modelworks.flows.build_runner import FINISHED_JOB_STATES, build_table
from modelworks.flows.demo.flow import complete_flow_demo
from modelworks.flows.demo.imports import FlowDemo
from modelworks.flows.demo_catalog import RECIPES, SOURCES
from modelworks.flows.models import BuildStatus

__all__ = ["complete_flow_demo_in_background", "dataset_table", "run_flow_demo_headless"]


def _run_until(job_ids: Sequence[str], deadline: float) -> None:
    """Run in-process burst workers until every job of ``job_ids`` has ended (or the deadline)."""
    from modelworks.core.jobs.worker import run_worker

    while time.monotonic() < deadline:
        run_worker(concurrency=2, burst=True, name="demo-headless")
        if not Job.objects.filter(pk__in=job_ids).exclude(state__in=FINISHED_JOB_STATES).exists():
            return
        time.sleep(0.5)


def dataset_table(project: Project, names: Sequence[str]) -> str:
    """Datasets as a plain-text table: current version, rows, columns, quality verdict."""
    lines = [f"  {'dataset':<24} {'version':>7} {'rows':>10} {'columns':>8}  quality"]
    for name in names:
        dataset = Dataset.objects.filter(project=project, name=name).first()
        version = dataset.current_version if dataset is not None else None
        if version is None:
            lines.append(f"  {name:<24} {'-':>7} {'-':>10} {'-':>8}  (no data)")
            continue
        lines.append(
            f"  {name:<24} {'v' + str(version.number):>7} {version.row_count:>10,} {len(version.columns):>8}  "
            f"{version.get_quality_status_display().lower()}"
        )
    return "\n".join(lines)


def run_flow_demo_headless(demo: FlowDemo, out: TextIO, deadline: float) -> bool:
    """Wait for the imports, complete the flow, build it here and print what happened.

    Returns:
        True when the imports and the build succeeded.
    """
    _run_until(demo.import_jobs, deadline)
    for job in Job.objects.filter(pk__in=demo.import_jobs).exclude(state=JobState.SUCCEEDED):
        out.write(f"Import '{job.title}' {job.state}: {job.error or 'it did not end in time'}\n")
    try:
        build = complete_flow_demo(demo, out, always_build=True)
    except ValidationError as exc:
        out.write(f"The demo flow could not be set up: {' '.join(exc.messages)}\n")
        return False
    assert build is not None
    began = time.monotonic()
    _run_until([str(build.job_id)], deadline)
    pending = (
        Job.objects.filter(project=demo.project)
        .exclude(state__in=FINISHED_JOB_STATES)
        .values_list("pk", flat=True)
    )
    _run_until([str(pk) for pk in pending], deadline)  # the profiles and checks the build queued
    build.refresh_from_db()
    took = f" in {build.duration_seconds:.1f} s" if build.duration_seconds is not None else ""
    out.write(
        f"Build {build.pk}: {build.status}{took}; with profiles and checks {time.monotonic() - began:.1f} s.\n"
    )
    out.write(build_table(build) + "\n")
    if build.error:
        out.write(f"  {build.error}\n")
    names = [s.name for s in SOURCES] + [o.name for spec in RECIPES for o in spec.outputs]
    out.write("Datasets of the demo project:\n" + dataset_table(demo.project, names) + "\n")
    out.flush()
    return bool(build.status == BuildStatus.SUCCEEDED)


def complete_flow_demo_in_background(
    demo: FlowDemo, out: TextIO, *, base_url: str = "", timeout: float = 3600
) -> threading.Thread:
    """Interactive demo: once the worker has run the imports, complete the flow and queue its build.

    Args:
        demo: what :func:`queue_demo_imports` returned.
        out: where to say what was done (the terminal of ``modelworks demo``).
        base_url: the address of the web server, to point at the flow page.
        timeout: give up waiting for the imports after this many seconds.
    """

    def wait_and_complete() -> None:
        try:
            deadline = time.monotonic() + timeout
            while Job.objects.filter(pk__in=demo.import_jobs).exclude(state__in=FINISHED_JOB_STATES).exists():
                if time.monotonic() > deadline:
                    out.write("The demo imports did not end in time; the demo flow was not created.\n")
                    return
                time.sleep(1)
            build = complete_flow_demo(demo, out)
            if build is not None:
                out.write(f"Watch it on the flow page: {base_url}/projects/{demo.project.slug}/flow/\n")
        except ValidationError as exc:
            out.write(f"The demo flow could not be set up: {' '.join(exc.messages)}\n")
        except Exception as exc:  # a background thread must say why it stopped
            out.write(f"The demo flow could not be set up: {type(exc).__name__}: {exc}\n")
        finally:
            out.flush()
            connections.close_all()

    thread = threading.Thread(target=wait_and_complete, name="demo-flow", daemon=True)
    thread.start()
    return thread
