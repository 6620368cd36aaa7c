"""Rows of the MLflow permission suite for the ``mlflow-artifacts`` operations.

* ``ARTIFACT_MLFLOW_ROUTES``: ``MlflowRouteCase`` rows (the row type of ``modelworks.tracking.testing``)
  for download, upload, delete, listing and multipart create/complete/abort.
* ``ARTIFACT_TOKEN_ROUTES``: URL names authorised by a signed per-request token instead of the
  caller's identity (the part upload of a multipart upload: MLflow's client sends no
  ``Authorization`` header there). The MLflow permission suite cannot describe them with a role;
  ``tracking/tests/test_artifacts_protocol.py`` covers them (missing, forged, reused, misdirected and
  expired tokens, another project in the address).

* ``SECRET`` and ``tree_snapshot(root)``: the canary file of the artifact tests and a snapshot of a
  folder, to assert that a refused request changed nothing on disk.

Each row works on a run of its own (``world_artifact_run``) so rows of other suites that delete the
world's run do not change what these expect.
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from modelworks.core.models import Role
from modelworks.core.testing.routes import PermissionWorld
from modelworks.tracking.artifacts.services import artifact_store
from modelworks.tracking.models import Run
from modelworks.tracking.testing import MlflowRouteCase, make_run, world_experiment

__all__ = ["ARTIFACT_MLFLOW_ROUTES", "ARTIFACT_TOKEN_ROUTES", "SECRET", "tree_snapshot", "world_artifact_run"]

SECRET = b"the instance's secret: never served, never overwritten\n"


def tree_snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file, folder and link under ``root``: ``{relative path: bytes (files) or None}``."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if path.is_symlink():
            found[relative] = b"-> " + str(path.readlink()).encode()
        elif path.is_file():
            found[relative] = path.read_bytes()
        else:
            found[relative] = None
    return found


ARTIFACT_TOKEN_ROUTES = ["mlflow:artifacts_mpu_part"]


def world_artifact_run(w: PermissionWorld) -> Run:
    """A run of the world's experiment holding ``notes.txt`` among its artifacts (made on first use)."""
    if "artifacts.run" not in w.extra:
        run = make_run(world_experiment(w), w.users["contributor"], name="with artifacts")
        artifact_store().save_stream(_key(run, "notes.txt"), io.BytesIO(b"notes\n"), max_bytes=1024)
        w.extra["artifacts.run"] = run
    run = w.extra["artifacts.run"]
    assert isinstance(run, Run)
    return run


def _key(run: Run, *names: str) -> tuple[str, ...]:
    return (str(run.experiment_id), run.run_uuid, "artifacts", *names)


def _folder(w: PermissionWorld) -> str:
    return "/".join(_key(world_artifact_run(w)))


def _file(name: str) -> Any:
    return lambda w: {"artifact_path": f"{_folder(w)}/{name}"}


def _upload(w: PermissionWorld, *, with_part: bool) -> dict[str, Any]:
    """A multipart upload of ``big.bin`` into the world's run, begun directly in the store."""
    run = world_artifact_run(w)
    store = artifact_store()
    upload_id = uuid.uuid4().hex
    store.begin_upload(
        upload_id,
        {"project": w.project.pk, "key": list(_key(run, "big.bin")), "num_parts": 1, "user": None},
    )
    body: dict[str, Any] = {"path": "/data/big.bin", "upload_id": upload_id}
    if with_part:
        _, etag = store.save_part(upload_id, 1, io.BytesIO(b"part one"), max_bytes=1024)
        body["parts"] = [{"part_number": 1, "etag": etag}]
    return body


def _build_rows() -> list[MlflowRouteCase]:
    reader, contributor = Role.READER, Role.CONTRIBUTOR
    folder = lambda w: {"artifact_path": _folder(w)}  # noqa: E731
    return [
        MlflowRouteCase("mlflow:artifacts_file", reader, "GET", kwargs=_file("notes.txt")),
        MlflowRouteCase(
            "mlflow:artifacts_file",
            contributor,
            "PUT",
            kwargs=_file("uploaded.txt"),
            content=lambda w: b"hello\n",
        ),
        MlflowRouteCase("mlflow:artifacts_file", contributor, "DELETE", kwargs=_file("notes.txt")),
        MlflowRouteCase("mlflow:artifacts_list", reader, "GET", body=lambda w: {"path": _folder(w)}),
        MlflowRouteCase(
            "mlflow:artifacts_mpu_create",
            contributor,
            "POST",
            kwargs=folder,
            body=lambda w: {"path": "/data/big.bin", "num_parts": 2},
        ),
        MlflowRouteCase(
            "mlflow:artifacts_mpu_complete",
            contributor,
            "POST",
            kwargs=folder,
            body=lambda w: _upload(w, with_part=True),
        ),
        MlflowRouteCase(
            "mlflow:artifacts_mpu_abort",
            contributor,
            "POST",
            kwargs=folder,
            body=lambda w: _upload(w, with_part=False),
        ),
    ]


ARTIFACT_MLFLOW_ROUTES: list[MlflowRouteCase] = _build_rows()
