"""The what-if form: score an edited row with a trained model, in a short child process.

The model is never loaded in the web process (see ``modelworks.lab.scoring``). The child gets the
model folder, the background rows saved with the training and the row; it answers the prediction,
the class probabilities and each column's contribution. ``MODELWORKS_LAB_WHATIF_TIMEOUT_SECONDS``
(default 60) bounds it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from modelworks.engine.automl import TrainingSpec
from modelworks.lab.models import TrainingSession
from modelworks.lab.services.training import TrainingConflict

__all__ = ["DEFAULT_TIMEOUT_S", "form_fields", "model_folder", "score_row"]

DEFAULT_TIMEOUT_S = 60


def model_folder(session: TrainingSession) -> Path:
    """The session's model folder, checked to lie inside the artifact store."""
    root = Path(settings.MODELWORKS_ARTIFACTS_DIR).resolve()
    folder = (root / session.model_dir).resolve()
    if root not in folder.parents or not (folder / "MLmodel").is_file():
        raise TrainingConflict(
            f"The model of training {session.number} is missing from the artifact store; train again."
        )
    return folder


def _background(session: TrainingSession) -> Path:
    from modelworks.tracking.artifacts.services import run_artifact_dir

    if session.parent_run is None:
        raise TrainingConflict(f"Training {session.number} has no tracked run any more; train again.")
    path = run_artifact_dir(session.parent_run) / "lab" / "background.parquet"
    if not path.is_file():
        raise TrainingConflict(f"The example rows of training {session.number} are missing; train again.")
    return path


def form_fields(session: TrainingSession) -> list[dict[str, Any]]:
    """One input per feature the model uses: column, kind, current value (a real row, or the user's)."""
    spec = TrainingSpec.from_dict(session.spec)
    example = session.example_rows[0] if session.example_rows else {}
    return [{"column": f.column, "kind": f.kind, "value": example.get(f.column)} for f in spec.used_features]


def score_row(session: TrainingSession, values: Mapping[str, Any]) -> dict[str, Any]:
    """Score the row made of ``values`` (column → value; missing or empty → missing value).

    Returns:
        ``{"row", "prediction", "probabilities", "contributions", "method", "base_value", "output"}``.

    Raises:
        TrainingConflict: the session has no model (not trained, failed, or its files are gone).
        ValidationError: a value does not fit its column (the message names it).
    """
    if not session.has_model:
        raise TrainingConflict(
            f"Training {session.number} has no model to score with ({session.get_status_display().lower()}); "
            "use a finished training."
        )
    row: dict[str, Any] = {}
    for field in form_fields(session):
        raw = values.get(field["column"])
        text = None if raw is None else str(raw).strip()
        row[field["column"]] = text if text else None
    request = {"model_dir": str(model_folder(session)), "background": str(_background(session)), "row": row}
    timeout = float(getattr(settings, "MODELWORKS_LAB_WHATIF_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_S))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(settings.MODELWORKS_HOME),
        "OMP_NUM_THREADS": "1",
        "MLFLOW_TRACKING_URI": "file:///nonexistent",  # the child never talks to a server
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "modelworks.lab.scoring"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ValidationError(
            f"Scoring the row took longer than {timeout:g} seconds and was stopped; try again later."
        ) from exc
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ValidationError(
            "The model could not score this row (the scoring process ended unexpectedly); "
            "check the values, and tell your administrator if it keeps happening."
        ) from None
    if not answer.get("ok"):
        column = (answer.get("details") or {}).get("column")
        message = str(answer.get("error") or "The model could not score this row.")
        raise ValidationError({column: message} if column in row else message)
    return {"row": row, **answer["result"]}
