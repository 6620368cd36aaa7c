"""The what-if form: score an edited row with a trained model, in a short child process.

The model is never loaded in the web process (see ``modelworks.lab.scoring``): the child runs in the
sandbox batch scoring uses (``engine.scoring.sandbox.model_child``: cleared environment, no network,
the model folder and the background rows read-only, the Python recipes' memory and CPU limits). It
answers the prediction, the class probabilities and each column's contribution.
``MODELWORKS_LAB_WHATIF_TIMEOUT_SECONDS`` (default 60) bounds it. Without bubblewrap the form says so
and scores nothing, as Python recipes do.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from modelworks.engine.automl import TrainingSpec
from modelworks.engine.recipes.python.errors import PythonRecipeError
from modelworks.engine.scoring.batch import scoring_limits
from modelworks.engine.scoring.sandbox import model_child
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
    timeout = float(getattr(settings, "MODELWORKS_LAB_WHATIF_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_S))
    with tempfile.TemporaryDirectory(prefix="modelworks-whatif-", ignore_cleanup_errors=True) as work:
        try:
            # Models are code: the same sandbox and limits as batch scoring (no secret, no network,
            # only the model folder and the background rows visible, read-only).
            child = model_child(
                "modelworks.lab.scoring",
                model_dir=model_folder(session),
                inputs=[_background(session)],
                workdir=Path(work),
                limits=replace(scoring_limits(), timeout_s=max(timeout, 1.0)),
            )
        except PythonRecipeError as exc:  # bubblewrap missing, or a limit setting that is not valid
            raise ValidationError(f"The what-if form cannot score this row: {exc.message}.") from exc
        request = {"model_dir": child.model_dir, "background": child.inputs[0], "row": row}
        try:
            done = subprocess.run(
                child.command,
                input=json.dumps(request),
                capture_output=True,
                text=True,
                timeout=timeout,
                env=child.env,
                cwd=work,
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
