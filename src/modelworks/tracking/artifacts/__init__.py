"""Proxied MLflow artifacts: the ``mlflow-artifacts`` protocol and the artifact service.

Client paths are never trusted as file paths: see :mod:`.paths` (validation) and :mod:`.storage`
(resolution inside the root, no symbolic links, atomic writes). The in-process API for the Lab and the
registry is in :mod:`.services`.
"""

from __future__ import annotations

from modelworks.tracking.artifacts.services import (
    artifact_root,
    artifact_store,
    copy_tree_into,
    max_artifact_bytes,
    model_artifact_dir,
    run_artifact_dir,
    tracking_root,
)

__all__ = [
    "artifact_root",
    "artifact_store",
    "copy_tree_into",
    "max_artifact_bytes",
    "model_artifact_dir",
    "run_artifact_dir",
    "tracking_root",
]
