"""The artifact service: where a run's or a logged model's artifacts live, and who may touch them.

In-process API for the Lab and the registry:

* :func:`artifact_root`, :func:`run_artifact_dir`, :func:`model_artifact_dir`: folders on disk;
* :func:`copy_tree_into`: copy a local folder (e.g. a freshly saved MLflow model) into one of them;
* :func:`artifact_store`: the :class:`~.storage.LocalArtifactStore` the protocol views use.

:func:`resolve_artifact` turns a client's path into an :class:`ArtifactTarget` after checking that the
experiment belongs to the project in the address and the run or logged model to that experiment.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError

from modelworks.core.models import Project
from modelworks.tracking.artifacts.paths import RESERVED_PREFIX, check_segment, split_artifact_path
from modelworks.tracking.artifacts.storage import LocalArtifactStore
from modelworks.tracking.models import Experiment, LifecycleStage, Run
from modelworks.tracking.protocol import MlflowError

__all__ = [
    "DEFAULT_MAX_ARTIFACT_BYTES",
    "ArtifactTarget",
    "artifact_root",
    "artifact_store",
    "copy_tree_into",
    "max_artifact_bytes",
    "model_artifact_dir",
    "resolve_artifact",
    "run_artifact_dir",
    "sweep_stale_uploads",
    "tracking_root",
]

#: Largest single artifact when ``MODELWORKS_MAX_ARTIFACT_BYTES`` is not set: 20 GiB.
DEFAULT_MAX_ARTIFACT_BYTES = 20 * 1024**3
_PATH_SHAPE = (
    "Artifact paths look like '<experiment_id>/<run_id>/artifacts/<file>' or "
    "'<experiment_id>/models/<model_id>/artifacts/<file>'"
)


def max_artifact_bytes() -> int:
    """The size limit of one artifact (``MODELWORKS_MAX_ARTIFACT_BYTES``)."""
    return int(getattr(settings, "MODELWORKS_MAX_ARTIFACT_BYTES", DEFAULT_MAX_ARTIFACT_BYTES))


def tracking_root() -> Path:
    """``MODELWORKS_ARTIFACTS_DIR/tracking``: the root every tracking artifact lives under."""
    return Path(settings.MODELWORKS_ARTIFACTS_DIR) / "tracking"


def artifact_store() -> LocalArtifactStore:
    """The store of tracking artifacts (a local folder; object storage is not wired yet)."""
    return LocalArtifactStore(tracking_root())


def sweep_stale_uploads() -> int:
    """Remove multipart uploads abandoned for longer than a part token lives (a periodic task).

    Listed in ``MODELWORKS_PERIODIC_TASKS``: every worker calls it with the other periodic tasks.
    """
    from modelworks.tracking.artifacts.multipart import part_token_max_age

    return artifact_store().clean_stale_uploads(older_than_s=part_token_max_age() + 3600)


def artifact_root(experiment: Experiment) -> Path:
    """The folder of everything an experiment stores: ``tracking/<experiment_id>``."""
    return tracking_root() / str(int(experiment.pk))


def run_artifact_dir(run: Run) -> Path:
    """The folder of a run's artifacts: ``tracking/<experiment_id>/<run_id>/artifacts``."""
    return tracking_root() / str(int(run.experiment_id)) / check_segment(run.run_uuid) / "artifacts"


def model_artifact_dir(experiment_id: int | str, model_id: str) -> Path:
    """The folder of a logged model's artifacts: ``tracking/<experiment_id>/models/<model_id>/artifacts``."""
    return tracking_root() / str(int(experiment_id)) / "models" / check_segment(model_id) / "artifacts"


def copy_tree_into(src_dir: Path, dest_dir: Path) -> int:
    """Copy the files of ``src_dir`` into ``dest_dir`` (inside the tracking root); returns the file count.

    When ``dest_dir`` does not exist yet, the whole tree is copied to a temporary sibling and renamed
    into place, so readers see all of it or nothing. When it exists, each file is replaced atomically
    (temporary file, ``fsync``, rename). Symbolic links in the source are refused, not followed.

    Raises:
        ValueError: ``dest_dir`` is outside the tracking root, or the source holds a symbolic link or
            a name the protocol would refuse.
        FileNotFoundError: ``src_dir`` is not a folder.
    """
    src = Path(src_dir)
    if not src.is_dir():
        raise FileNotFoundError(f"Cannot copy artifacts from '{src}': it is not a folder.")
    root = Path(os.path.realpath(tracking_root()))
    dest = Path(os.path.abspath(dest_dir))
    if root not in Path(os.path.realpath(dest)).parents:
        raise ValueError(f"'{dest}' is not inside the tracking artifact store '{root}'.")
    files = _source_files(src)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        staging = dest.parent / f"{RESERVED_PREFIX}staging-{uuid.uuid4().hex}"
        try:
            for relative in files:
                target = staging.joinpath(*relative)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src.joinpath(*relative), target, follow_symlinks=False)
            staging.mkdir(exist_ok=True)
            os.rename(staging, dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return len(files)
    store = LocalArtifactStore(tracking_root())
    base = Path(os.path.realpath(dest)).relative_to(root).parts
    for relative in files:
        with open(src.joinpath(*relative), "rb") as stream:
            store.save_stream((*base, *relative), stream, max_bytes=max_artifact_bytes())
    return len(files)


def _source_files(src: Path) -> list[tuple[str, ...]]:
    files: list[tuple[str, ...]] = []
    for current, dirs, names in os.walk(src, followlinks=False):
        relative = Path(current).relative_to(src).parts
        for name in [*dirs, *names]:
            if stat.S_ISLNK(os.lstat(Path(current) / name).st_mode):
                raise ValueError(f"'{Path(current) / name}' is a symbolic link; copy real files only.")
            check_segment(name)
        files.extend((*relative, name) for name in sorted(names))
    return files


@dataclass(frozen=True)
class ArtifactTarget:
    """A validated place in the store: the experiment, the run or logged model, and the key."""

    experiment: Experiment
    run: Run | None
    model_id: str | None
    key: tuple[str, ...]
    # The names after ``.../artifacts``: empty for the artifact folder itself.
    relative: tuple[str, ...]

    @property
    def label(self) -> str:
        return "/".join(self.key)


def _logged_model(experiment: Experiment, model_id: str) -> Any | None:
    try:
        model = apps.get_model("registry", "LoggedModel")
    except LookupError:  # the registry app without its model: no logged model exists
        return None
    try:
        return model.objects.filter(pk=model_id, experiment=experiment).first()
    except DatabaseError:  # the registry's tables not migrated yet (never inside a transaction here)
        return None


def resolve_artifact(project: Project, raw_path: str, *, write: bool) -> ArtifactTarget:
    """Validate a client's artifact path and find what it belongs to.

    Args:
        project: the project named in the address.
        raw_path: the path as received (decoded once).
        write: True for uploads and deletes: the run or model must not be deleted.

    Raises:
        MlflowError: ``INVALID_PARAMETER_VALUE`` for an unsafe or misshapen path or a deleted run,
            ``RESOURCE_DOES_NOT_EXIST`` when the experiment is not in the project or the run or model
            not in the experiment.
    """
    from modelworks.tracking.artifacts.paths import UnsafeArtifactPathError

    try:
        segments = split_artifact_path(raw_path)
    except UnsafeArtifactPathError as exc:
        raise MlflowError("INVALID_PARAMETER_VALUE", str(exc)) from exc
    experiment_id = segments[0]
    if not experiment_id.isascii() or not experiment_id.isdigit() or str(int(experiment_id)) != experiment_id:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE", f"'{experiment_id}' is not an experiment ID. {_PATH_SHAPE}."
        )
    experiment = Experiment.objects.filter(pk=int(experiment_id), project=project).first()
    if experiment is None:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST", f"No experiment with ID {experiment_id} in project '{project.slug}'."
        )
    run: Run | None = None
    model_id: str | None = None
    if len(segments) >= 4 and segments[1] == "models" and segments[3] == "artifacts":
        model_id = segments[2]
        model = _logged_model(experiment, model_id)
        if model is None:
            raise MlflowError(
                "RESOURCE_DOES_NOT_EXIST", f"No logged model '{model_id}' in experiment {experiment_id}."
            )
        deleted = getattr(model, "lifecycle_stage", LifecycleStage.ACTIVE) == LifecycleStage.DELETED
        what, head = f"logged model '{model_id}'", 4
    elif len(segments) >= 3 and segments[2] == "artifacts":
        run = Run.objects.filter(pk=segments[1], experiment=experiment).first()
        if run is None:
            raise MlflowError(
                "RESOURCE_DOES_NOT_EXIST", f"No run '{segments[1]}' in experiment {experiment_id}."
            )
        deleted = run.lifecycle_stage == LifecycleStage.DELETED
        what, head = f"run '{run.run_uuid}'", 3
    else:
        raise MlflowError("INVALID_PARAMETER_VALUE", f"'{raw_path}' is not an artifact path. {_PATH_SHAPE}.")
    if write and (deleted or experiment.lifecycle_stage == LifecycleStage.DELETED):
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"The {what} is deleted, so its artifacts cannot change. Restore it first.",
        )
    return ArtifactTarget(
        experiment=experiment, run=run, model_id=model_id, key=segments, relative=segments[head:]
    )
