"""What the ``lab.train`` job does, step by step, for one training session (``TrainingRun``).

Read → check → search (each trial a tracked child run) → explain → save the model → record. Each
step's duration lands in ``session.timings``. On failure ``fail()`` ends the session and the parent
run, and removes any model files written, so nothing half-made remains.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from modelworks.core.jobs import JobFailed
from modelworks.engine.automl import TrainingSpec, TrialResult
from modelworks.engine.automl.algorithms import ALGORITHMS
from modelworks.engine.automl.evaluation import METRICS
from modelworks.engine.automl.search import run_search, split_rows
from modelworks.lab.models import SessionStatus, TrainingSession
from modelworks.lab.services import tracking
from modelworks.lab.services.data import TrainingFrame, read_version
from modelworks.lab.services.design import run_checks
from modelworks.tracking.models import RunModelLink, RunStatus

if TYPE_CHECKING:
    from modelworks.engine.automl import SearchResult
    from modelworks.lab.jobs import TrainModelJob
    from modelworks.tracking.models import Run

__all__ = ["EXPLAIN_ROWS", "PDP_COLUMNS", "TrainingRun", "holdout_frame"]

#: Partial dependence is computed for this many of the most important columns.
PDP_COLUMNS = 5
#: Per-row explanations of this many holdout rows (also the what-if form's examples).
EXPLAIN_ROWS = 3
#: Rows the explanations work on at most.
EXPLAIN_MAX_ROWS = 1000
#: Background rows kept for the what-if form.
BACKGROUND_ROWS = 100
# Share of the progress bar each phase takes.
_SEARCH_START, _SEARCH_END = 5.0, 85.0


def holdout_frame(frame: pd.DataFrame, spec: TrainingSpec) -> tuple[pd.DataFrame, pd.Series]:
    """The holdout rows of ``frame`` (features and target), cut exactly as the search cut them.

    Falls back to every usable row when the spec keeps no holdout.
    """
    keep = frame[spec.target].notna()
    times = None
    if spec.validation.kind == "time" and spec.validation.time_column:
        raw = frame[spec.validation.time_column]
        times = (
            raw
            if pd.api.types.is_datetime64_any_dtype(raw)
            else pd.to_datetime(raw, errors="coerce", utc=True)
        )
        keep &= times.notna()
        times = times[keep].reset_index(drop=True)
    used = [f.column for f in spec.used_features]
    X = frame.loc[keep, used].reset_index(drop=True)
    y = frame.loc[keep, spec.target].reset_index(drop=True)
    if spec.task == "regression":
        y = pd.to_numeric(y, errors="coerce").astype("float64")
    split = split_rows(y.to_numpy(), spec, times)
    rows = split.holdout if len(split.holdout) else np.arange(len(y))
    return X.iloc[rows].reset_index(drop=True), y.iloc[rows].reset_index(drop=True)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON values (dates as ISO text, missing as null)."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))  # type: ignore[no-any-return]


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class TrainingRun:
    """One execution of a training session by its job."""

    def __init__(self, session: TrainingSession, *, job: TrainModelJob) -> None:
        self.session = session
        self.job = job
        self.analysis = session.analysis
        self.actor = session.created_by
        self.parent: Run | None = None
        self.written: list[Path] = []
        self.logged: Any = None  # the LoggedModel made for the saved model, until the session records it
        self.timings: dict[str, float] = {}
        self._last_save = 0.0

    # ------------------------------------------------------------------------------------ helpers

    def _save(self, *fields: str) -> None:
        TrainingSession.objects.filter(pk=self.session.pk).update(
            **{f: getattr(self.session, f) for f in fields}
        )

    def _timed(self, name: str, started: float) -> None:
        self.timings[name] = round(time.monotonic() - started, 3)
        self.session.timings = dict(self.timings)
        self._save("timings")

    # --------------------------------------------------------------------------------------- run

    def run(self) -> None:
        session = self.session
        session.status, session.started_at = SessionStatus.RUNNING, timezone.now()
        self._save("status", "started_at")
        version = session.dataset_version
        if version is None:
            raise JobFailed(
                "The dataset version this training was started on was deleted; start a new training."
            )
        spec = TrainingSpec.from_dict(session.spec)
        dataset = version.dataset

        started = time.monotonic()
        self.job.progress(1, f"Reading '{dataset.name}' version {version.number}")
        data = self.read_data(version)
        session.rows_total, session.rows_used = data.rows_total, data.rows_used
        self._save("rows_total", "rows_used")
        note = (
            f"; a random sample of {data.rows_used:,} of its {data.rows_total:,} rows (the Lab's row limit)"
            if data.sampled
            else ""
        )
        self.job.log(f"Read {data.rows_used:,} rows of '{dataset.name}' v{version.number}{note}.")
        self._timed("read_s", started)

        started = time.monotonic()
        self.job.progress(3, "Checking the data")
        session.warnings = run_checks(data.frame, spec)
        self._save("warnings")
        blocking = [w for w in session.warnings if w["severity"] == "error"]
        if blocking:
            raise JobFailed(
                "Training is blocked: "
                + " ".join(f"{w['message']} {w.get('hint', '')}".strip() for w in blocking)
            )
        for warning in session.warnings:
            self.job.log(f"{warning['message']} {warning.get('hint', '')}".strip(), "WARNING")
        self._timed("check_s", started)

        started = time.monotonic()
        experiment = tracking.experiment_for(self.analysis, self.actor)
        self.parent = tracking.start_run(
            experiment,
            name=f"{self.analysis.name} · training {session.number}",
            actor=self.actor,
            tags={
                "modelworks.lab.analysis": str(self.analysis.pk),
                "modelworks.lab.session": str(session.number),
                "mlflow.note.content": f"Lab training {session.number} of '{self.analysis.name}'.",
            },
        )
        session.experiment, session.parent_run = experiment, self.parent
        self._save("experiment", "parent_run")
        tracking.log_params(
            self.parent,
            {
                "task": spec.task,
                "target": spec.target,
                "metric": spec.metric,
                "algorithms": ",".join(spec.algorithms),
                "time_budget_s": spec.time_budget_s,
                "validation": spec.validation.kind,
                "folds": spec.validation.folds,
                "holdout_fraction": spec.validation.holdout_fraction,
                "features": ",".join(f.column for f in spec.used_features),
                "rows": data.rows_used,
            },
        )
        tracking.log_dataset(self.parent, version, rows_used=data.rows_used)
        result = run_search(
            data.frame,
            spec,
            on_trial=lambda trial: self._on_trial(trial, spec, version),
            progress=self._on_progress,
            cancelled=self.job.cancelled,
        )
        self._timed("search_s", started)

        started = time.monotonic()
        self.job.progress(88, "Explaining the best model")
        X_holdout, y_holdout = holdout_frame(data.frame, spec)
        explanations = self._explain(result, spec, X_holdout, y_holdout)
        self._timed("explain_s", started)

        started = time.monotonic()
        self.job.progress(95, "Saving the model")
        self._save_model(result, spec, data.frame, X_holdout, explanations, experiment)
        self._timed("save_s", started)
        self.job.progress(100, "Done")

    def read_data(self, version: Any) -> TrainingFrame:
        """The rows to train on (a ``TrainingFrame``); the retraining job leaves out its evaluation window."""
        return read_version(version)

    # ----------------------------------------------------------------------------- search events

    def _on_progress(self, fraction: float, message: str) -> None:
        self.job.progress(_SEARCH_START + (_SEARCH_END - _SEARCH_START) * float(fraction), message)

    def _on_trial(self, trial: TrialResult, spec: TrainingSpec, version: Any) -> None:
        assert self.parent is not None
        info = ALGORITHMS.get(trial.algorithm)
        label = info.label if info is not None else trial.algorithm
        run = tracking.start_run(
            self.parent.experiment,
            name=f"trial {trial.number + 1}: {label}",
            actor=self.actor,
            parent=self.parent,
            tags={
                "modelworks.lab.analysis": str(self.analysis.pk),
                "modelworks.lab.session": str(self.session.number),
                "modelworks.lab.trial": str(trial.number),
                "modelworks.lab.trial_status": trial.status,
            },
        )
        tracking.log_params(run, {"algorithm": trial.algorithm, **trial.params})
        metrics: dict[str, float | None] = {f"cv_{k}": v for k, v in trial.scores.items()}
        metrics["training_duration_s"] = trial.duration_s
        tracking.log_metrics(run, metrics)
        tracking.log_dataset(run, version, rows_used=self.session.rows_used)
        if trial.error:
            tracking.log_params(run, {"error": trial.error})
        tracking.end_run(run, RunStatus.FINISHED if trial.status == "complete" else RunStatus.FAILED)
        row = trial.to_dict()
        row["run_id"] = run.run_uuid
        row["label"] = label
        self.session.leaderboard = [*self.session.leaderboard, row]
        self._save("leaderboard")
        metric = METRICS[spec.metric]
        if trial.status == "complete" and trial.score is not None and math.isfinite(trial.score):
            shown = trial.score if metric.greater_is_better else -trial.score
            self.job.log(
                f"Trial {trial.number + 1}: {label}, {metric.label} {shown:.4f} ({trial.duration_s:.1f} s)"
            )
        else:
            self.job.log(
                f"Trial {trial.number + 1}: {label} {trial.status}: {trial.error or ''}".strip(), "WARNING"
            )

    # ------------------------------------------------------------------------------- explanations

    def _explain(
        self, result: SearchResult, spec: TrainingSpec, X: pd.DataFrame, y: pd.Series
    ) -> dict[str, Any]:
        from modelworks.engine.automl import explain

        model = result.model
        X = X.head(EXPLAIN_MAX_ROWS)
        y = y.head(EXPLAIN_MAX_ROWS)
        found: dict[str, Any] = {"rows": len(X), "notes": []}
        try:
            permutation = explain.permutation_importance(
                model, X, y.to_numpy(), spec.task, metric=spec.metric, repeats=3, seed=spec.seed
            )
            found["permutation"] = [
                {"column": c.column, "importance": _finite(c.importance), "std": _finite(c.std)}
                for c in permutation
            ]
        except Exception as exc:  # an explanation that fails must not lose the model
            found["permutation"] = []
            found["notes"].append(f"Permutation importance could not be computed: {exc}")
        self.job.check_cancelled()
        try:
            found["shap"] = explain.shap_importance(model, X, max_rows=500).to_dict()
        except Exception as exc:
            found["shap"] = {"available": False, "reason": str(exc), "importances": []}
        self.job.check_cancelled()
        kinds = {f.column: f.kind for f in spec.used_features}
        ranked = [row["column"] for row in found["permutation"]] or [f.column for f in spec.used_features]
        dependence: list[dict[str, Any]] = []
        for column in [c for c in ranked if kinds.get(c) in ("numeric", "categorical", "date")][:PDP_COLUMNS]:
            try:
                dependence.append(explain.partial_dependence(model, X, column, grid=20).to_dict())
            except Exception as exc:
                found["notes"].append(f"Partial dependence of '{column}' could not be computed: {exc}")
        found["partial_dependence"] = dependence
        self.job.check_cancelled()
        examples = X.head(EXPLAIN_ROWS)
        try:
            rows = explain.explain_rows(model, examples, X.head(BACKGROUND_ROWS))
            actual = [r["actual"] for r in _records(y.head(EXPLAIN_ROWS).to_frame(name="actual"))]
            found["rows_explained"] = [
                {**r.to_dict(), "actual": a} for r, a in zip(rows, actual, strict=False)
            ]
        except Exception as exc:
            found["rows_explained"] = []
            found["notes"].append(f"Per-row explanations could not be computed: {exc}")
        self.session.example_rows = _records(examples)
        return found

    # ----------------------------------------------------------------------------------- saving

    def _save_model(
        self,
        result: SearchResult,
        spec: TrainingSpec,
        frame: pd.DataFrame,
        X_holdout: pd.DataFrame,
        explanations: dict[str, Any],
        experiment: Any,
    ) -> None:
        from modelworks.engine.automl.persist import save_model
        from modelworks.registry.models.logged import LoggedModelStatus
        from modelworks.registry.services import create_logged_model
        from modelworks.tracking.artifacts.services import (
            copy_tree_into,
            model_artifact_dir,
            run_artifact_dir,
        )

        assert self.parent is not None
        session = self.session
        used = [f.column for f in spec.used_features]
        background = frame[used].sample(n=min(BACKGROUND_ROWS, len(frame)), random_state=spec.seed)
        example = X_holdout.head(5) if len(X_holdout) else frame[used].head(5)
        with tempfile.TemporaryDirectory(dir=_scratch_dir()) as scratch:
            folder = Path(scratch) / "model"
            save_model(result, folder, input_example=example)
            # PENDING until the files are in place and the session records it (MLflow's own order).
            logged = create_logged_model(
                self.analysis.project,
                actor=self.actor,
                experiment_id=experiment.pk,
                name=self.analysis.name[:500],
                model_type=ALGORITHMS[result.best.algorithm].label
                if result.best.algorithm in ALGORITHMS
                else "",
                source_run_id=self.parent.run_uuid,
                params=[{"key": k, "value": v} for k, v in result.best.params.items()],
            )
            self.logged = logged
            model_id = logged.model_id
            target_dir = model_artifact_dir(experiment.pk, model_id)
            self.written.append(target_dir.parent)
            copy_tree_into(folder, target_dir)
            lab_dir = Path(scratch) / "lab"
            lab_dir.mkdir()
            background.to_parquet(lab_dir / "background.parquet", index=False)
            (lab_dir / "explanations.json").write_text(json.dumps(explanations, allow_nan=False, default=str))
            run_dir = run_artifact_dir(self.parent) / "lab"
            self.written.append(run_dir)
            copy_tree_into(lab_dir, run_dir)
        holdout = result.holdout.to_dict() if result.holdout is not None else None
        best = result.best.to_dict()
        with transaction.atomic():
            logged.status = LoggedModelStatus.READY
            logged.last_updated_timestamp_ms = tracking.now_ms()
            logged.save(update_fields=["status", "last_updated_timestamp_ms"])
            RunModelLink.objects.get_or_create(run=self.parent, model_id=logged.model_id, direction="output")
            tracking.log_params(self.parent, {"best_algorithm": result.best.algorithm})
            metrics: dict[str, float | None] = {f"best_cv_{k}": v for k, v in result.best.scores.items()}
            if holdout is not None:
                metrics.update({f"holdout_{k}": v for k, v in holdout["metrics"].items()})
            tracking.log_metrics(self.parent, metrics, model_id=model_id)
            tracking.end_run(self.parent, RunStatus.FINISHED)
            session.best_trial = {
                **best,
                "run_id": self._run_of(result.best.number),
                "label": ALGORITHMS[result.best.algorithm].label
                if result.best.algorithm in ALGORITHMS
                else result.best.algorithm,
            }
            session.holdout = holdout
            session.classes = list(result.classes) if result.classes is not None else None
            session.explanations = explanations
            session.model_uri = logged.artifact_location
            session.model_dir = str(target_dir.relative_to(Path(settings.MODELWORKS_ARTIFACTS_DIR)))
            session.logged_model_id = logged.model_id
            session.status, session.ended_at, session.error = SessionStatus.SUCCEEDED, timezone.now(), ""
            session.timings = dict(self.timings)
            self._save(
                "best_trial",
                "holdout",
                "classes",
                "explanations",
                "example_rows",
                "model_uri",
                "model_dir",
                "logged_model_id",
                "status",
                "ended_at",
                "error",
                "timings",
            )
        self.written.clear()
        self.logged = None

    def _run_of(self, number: int) -> str | None:
        for row in self.session.leaderboard:
            if row.get("number") == number:
                return row.get("run_id")
        return None

    # ---------------------------------------------------------------------------------- failure

    def fail(self, status: str, message: str) -> None:
        """End the session (and the parent run) as failed or cancelled, removing written model files."""
        for path in self.written:
            shutil.rmtree(path, ignore_errors=True)
        self.written.clear()
        if self.logged is not None:
            type(self.logged).objects.filter(pk=self.logged.pk).delete()
            self.logged = None
        if self.parent is not None:
            tracking.end_run(
                self.parent, RunStatus.KILLED if status == SessionStatus.CANCELLED else RunStatus.FAILED
            )
        session = self.session
        session.status, session.error, session.ended_at = status, message[:4000], timezone.now()
        session.timings = dict(self.timings)
        self._save("status", "error", "ended_at", "timings")


def _scratch_dir() -> str:
    folder = Path(settings.MODELWORKS_HOME) / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)
