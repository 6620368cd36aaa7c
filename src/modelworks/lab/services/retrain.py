"""What the ``lab.retrain`` job does (``Retraining``), and the pieces it is made of:

* ``champion_session(version)``: the Lab training that produced a registered version.
* ``EvaluationWindow``: the recent labelled rows both models are scored on (a dataset version and
  an optional time range), with ``rows(frame)`` giving the mask of its rows.
* ``score_on_window(model_dir, frame, spec, classes)``: metrics of one model on the window rows,
  predicted by sandboxed batch scoring (the model is unpickled only in an isolated child).
* ``compare(metric, candidate, champion, margin)``: the decision and the evidence.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from django.db import IntegrityError, transaction
from django.db.models import Max

from modelworks.core import audit
from modelworks.core.jobs import JobFailed
from modelworks.lab.models import TrainingSession

if TYPE_CHECKING:
    from modelworks.core.jobs import BaseJob
    from modelworks.datasets.models import DatasetVersion
    from modelworks.engine.automl import TrainingSpec
    from modelworks.registry.models import ModelVersion

__all__ = [
    "Comparison",
    "EvaluationWindow",
    "Retraining",
    "champion_session",
    "compare",
    "model_dir_of",
    "score_on_window",
]


def champion_session(version: ModelVersion) -> TrainingSession | None:
    """The Lab training that produced ``version``: by its registration, its tracked run, or its model."""
    project = version.registered_model.project
    sessions = TrainingSession.objects.filter(analysis__project=project).select_related(
        "analysis", "dataset_version__dataset"
    )
    found = sessions.filter(
        registered_model_name=version.registered_model.name, registered_version=version.version
    ).first()
    if found is None and version.run_id:
        found = sessions.filter(parent_run_id=version.run_id).first()
    if found is None and version.logged_model_id:
        found = sessions.filter(logged_model_id=version.logged_model_id).first()
    return found


def model_dir_of(version: ModelVersion) -> Path:
    """The local MLflow model folder of a registered version."""
    from modelworks.registry.services.common import artifact_store
    from modelworks.registry.services.sources import storage_key

    return Path(artifact_store().path_of(storage_key(version.storage_location)))


def _times(frame: pd.DataFrame, column: str) -> pd.Series:
    raw = frame[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        series = pd.to_datetime(raw)
        return series.dt.tz_localize("UTC") if series.dt.tz is None else series.dt.tz_convert("UTC")
    return pd.to_datetime(raw, errors="coerce", utc=True)


@dataclass(frozen=True)
class EvaluationWindow:
    """Rows of ``version`` whose ``time_column`` lies in [start, end) (no column: every row)."""

    version: DatasetVersion
    time_column: str | None
    start: datetime | None
    end: datetime | None
    default: bool = False

    def rows(self, frame: pd.DataFrame) -> pd.Series:
        """Boolean mask of the window's rows in ``frame`` (a frame of the same columns)."""
        if not self.time_column:
            return pd.Series(True, index=frame.index)
        if self.time_column not in frame.columns:
            raise JobFailed(
                f"The evaluation window's time column '{self.time_column}' is not a column of "
                f"'{self.version.dataset.name}'; choose one of: {', '.join(map(str, frame.columns[:20]))}."
            )
        times = _times(frame, self.time_column)
        mask = times.notna()
        if self.start is not None:
            mask &= times >= pd.Timestamp(self.start)
        if self.end is not None:
            mask &= times < pd.Timestamp(self.end)
        return mask

    def describe(self) -> str:
        name = f"'{self.version.dataset.name}' v{self.version.number}"
        if not self.time_column:
            return f"every row of {name}"
        start = f"{self.start:%Y-%m-%d %H:%M}" if self.start else "the beginning"
        end = f"before {self.end:%Y-%m-%d %H:%M}" if self.end else "the latest row"
        from modelworks.lab.retrain import DEFAULT_WINDOW_FRACTION

        lead = f"the most recent {DEFAULT_WINDOW_FRACTION:.0%} of " if self.default else ""
        return f"{lead}rows of {name} with {self.time_column} from {start} to {end}"

    def to_dict(self, rows: int) -> dict[str, Any]:
        return {
            "dataset": self.version.dataset_id,
            "dataset_name": self.version.dataset.name,
            "dataset_version": self.version.number,
            "time_column": self.time_column,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "default": self.default,
            "rows": rows,
            "description": self.describe(),
        }


def score_on_window(
    model_dir: Path, frame: pd.DataFrame, spec: TrainingSpec, classes: list[str] | None
) -> dict[str, float]:
    """Metrics of the model in ``model_dir`` on ``frame`` (features and the target), every metric of
    the task that can be computed (non-finite values left out).

    Raises:
        JobFailed: the model cannot be loaded, or the rows cannot be scored (the message says why).
    """
    from modelworks.engine.automl.evaluation import EvaluationError, evaluate
    from modelworks.engine.scoring import ScoringError
    from modelworks.engine.scoring.sandbox import score_frame

    used = [f.column for f in spec.used_features]
    X = frame[used]
    y = frame[spec.target]
    try:
        # Sandboxed batch scoring: the model (a pickle runs code) is loaded only in an isolated child.
        scores = score_frame(model_dir, X)
    except ScoringError as exc:
        raise JobFailed(
            f"The model in {model_dir.name} cannot score the evaluation rows: {exc.message}"
        ) from exc
    predicted = np.asarray(scores.predictions)
    proba = None
    if classes is not None and scores.classes and scores.probabilities is not None:
        fitted = scores.probabilities
        proba = np.zeros((len(X), len(classes)))
        known = {label: i for i, label in enumerate(classes)}
        for column, label in enumerate(scores.classes):
            if str(label) in known:
                proba[:, known[str(label)]] = fitted[:, column]
        totals = proba.sum(axis=1, keepdims=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proba = np.divide(proba, totals, out=np.full_like(proba, 1.0 / len(classes)), where=totals > 0)
    try:
        if spec.task == "regression":
            evaluation = evaluate(
                spec.task, pd.to_numeric(y, errors="coerce").to_numpy(dtype="float64"), predicted
            )
        else:
            truth = np.asarray([str(v) for v in y])
            evaluation = evaluate(spec.task, truth, np.asarray([str(v) for v in predicted]), proba, classes)
    except EvaluationError as exc:
        raise JobFailed(f"The evaluation window cannot be scored: {exc.message}") from exc
    return {k: float(v) for k, v in evaluation.metrics.items() if v is not None and math.isfinite(float(v))}


@dataclass(frozen=True)
class Comparison:
    """Candidate against champion on one metric: ``improvement`` is positive when the candidate is better
    (whatever the metric's direction); ``better`` means it beats the champion by more than ``margin``."""

    metric: str
    label: str
    greater_is_better: bool
    candidate: float
    champion: float
    improvement: float
    margin: float

    @property
    def better(self) -> bool:
        return self.improvement > self.margin

    def summary(self) -> str:
        sign = "+" if self.improvement >= 0 else "-"
        return f"{sign}{abs(self.improvement):.3f} {self.label}"


def compare(
    metric: str, candidate: dict[str, float], champion: dict[str, float], margin: float
) -> Comparison:
    """Compare the two models on ``metric``.

    Raises:
        JobFailed: the metric could not be computed for one of the models.
    """
    from modelworks.engine.automl.evaluation import METRICS

    info = METRICS[metric]
    for who, values in (("candidate", candidate), ("champion", champion)):
        if metric not in values:
            raise JobFailed(
                f"{info.label} could not be computed for the {who} on the evaluation window (e.g. it holds a "
                "single class); choose another metric or a larger window."
            )
    difference = candidate[metric] - champion[metric]
    return Comparison(
        metric=metric,
        label=info.label,
        greater_is_better=info.greater_is_better,
        candidate=candidate[metric],
        champion=champion[metric],
        improvement=difference if info.greater_is_better else -difference,
        margin=margin,
    )


class Retraining:
    """One execution of a ``lab.retrain`` job (see ``modelworks.lab.retrain``)."""

    def __init__(self, job: BaseJob) -> None:
        self.job = job
        self.params = job.params
        self.project = job.project
        self.actor = job.job.created_by

    # ---------------------------------------------------------------------------------- resolving

    def _model_and_champion(self) -> tuple[Any, ModelVersion]:
        from modelworks.registry.errors import RegistryError
        from modelworks.registry.models import RegisteredModel
        from modelworks.registry.services import get_version_by_alias

        name, alias = self.params["model"], self.params["alias"]
        model = RegisteredModel.objects.filter(project=self.project, name=name).first()
        if model is None:
            raise JobFailed(
                f"No registered model '{name}' in this project; check the name on the Models page (names are "
                "case-sensitive)."
            )
        try:
            champion = get_version_by_alias(model, alias)
        except RegistryError:
            raise JobFailed(
                f"'{name}' has no alias @{alias}, so there is no model to compare with; point @{alias} at a "
                "version first (model page → Set an alias)."
            ) from None
        return model, champion

    def _approver(self) -> Any:
        from modelworks.core.models import User
        from modelworks.registry.errors import RegistryError
        from modelworks.registry.services.promotion import check_approver

        if self.params["policy"] != "approval":
            return None
        username = self.params["approver"]
        user = User.objects.filter(username=username).first()
        if user is None:
            raise JobFailed(f"approver: no user '{username}'; give the username of a contributor or admin.")
        try:
            return check_approver(self.project, user)  # type: ignore[arg-type]
        except RegistryError as exc:
            raise JobFailed(f"approver: {exc.message}") from exc

    def _dataset_version(self, dataset_id: int, what: str) -> DatasetVersion:
        from modelworks.datasets.models import Dataset

        dataset = Dataset.objects.filter(project=self.project, pk=dataset_id).first()
        if dataset is None:
            raise JobFailed(f"{what}: no dataset {dataset_id} in this project; use the id shown on its page.")
        version = dataset.current_version
        if version is None:
            raise JobFailed(f"{what}: '{dataset.name}' has no data yet; import or build it first.")
        return version

    def _training_version(self, champion: ModelVersion, session: TrainingSession) -> DatasetVersion:
        if self.params.get("dataset"):
            return self._dataset_version(self.params["dataset"], "dataset")
        source = champion.training_dataset_version or session.dataset_version
        dataset = source.dataset if source is not None else session.analysis.dataset
        if dataset is None:
            raise JobFailed(
                "The champion's training dataset was deleted; give dataset, the id of the fresh training data."
            )
        version = dataset.current_version
        if version is None:
            raise JobFailed(f"'{dataset.name}' has no data yet; import or build it first.")
        return version

    def _window(
        self, analysis: Any, spec: TrainingSpec, training: DatasetVersion, frame: pd.DataFrame
    ) -> EvaluationWindow:
        from modelworks.lab.retrain import DEFAULT_WINDOW_FRACTION, parse_moment

        given = self.params.get("evaluation")
        if given:
            version = (
                self._dataset_version(given["dataset"], "evaluation.dataset")
                if given.get("dataset")
                else training
            )
            return EvaluationWindow(
                version=version,
                time_column=given.get("time_column"),
                start=parse_moment(given["start"], "start") if given.get("start") else None,
                end=parse_moment(given["end"], "end") if given.get("end") else None,
            )
        column = analysis.time_column or spec.validation.time_column or None
        if not column:
            raise JobFailed(
                "The analysis has no time column, so the recent window cannot be found on its own; give "
                "evaluation: {dataset, time_column, start, end} (the recent labelled rows)."
            )
        if column not in frame.columns:
            raise JobFailed(f"The analysis' time column '{column}' is not in the fresh training data.")
        times = _times(frame, column).dropna().sort_values(kind="stable")
        if len(times) < 10:
            raise JobFailed(
                f"Only {len(times)} rows have a value in '{column}'; too few to cut a recent window."
            )
        start = times.iloc[math.floor(len(times) * (1 - DEFAULT_WINDOW_FRACTION))]
        return EvaluationWindow(
            version=training, time_column=column, start=start.to_pydatetime(), end=None, default=True
        )

    # -------------------------------------------------------------------------------------- run

    def run(self) -> dict[str, Any]:
        from modelworks.engine.automl import TrainingSpec
        from modelworks.engine.automl.evaluation import METRICS
        from modelworks.lab.retrain import train_candidate
        from modelworks.lab.services.data import read_version
        from modelworks.lab.services.register import register_model

        job, params = self.job, self.params
        job.progress(1, "Finding the champion and its Lab training")
        model, champion = self._model_and_champion()
        session = champion_session(champion)
        if session is None:
            raise JobFailed(
                f"Version {champion.version} of '{model.name}' (@{params['alias']}) was not trained in the Lab "
                "(it came from an MLflow client), so there is no analysis to retrain. Retrain it where it was "
                "made, or train it in the Lab and register that version."
            )
        analysis = session.analysis
        spec = TrainingSpec.from_dict(session.spec)
        metric = params.get("metric") or analysis.metric or spec.metric
        if spec.task not in METRICS[metric].tasks:
            raise JobFailed(
                f"metric '{metric}' does not fit a {spec.task} model; use one of "
                f"{', '.join(k for k, m in METRICS.items() if spec.task in m.tasks)}."
            )
        approver = self._approver()
        training = self._training_version(champion, session)
        job.log(
            f"Champion: '{model.name}' v{champion.version} from analysis '{analysis.name}', training "
            f"{session.number}. Fresh data: '{training.dataset.name}' v{training.number}."
        )

        job.progress(4, "Cutting the evaluation window")
        training_frame = read_version(training).frame
        window = self._window(analysis, spec, training, training_frame)
        window_frame = (
            training_frame if window.version.pk == training.pk else read_version(window.version).frame
        )
        missing = [
            c for c in [spec.target, *(f.column for f in spec.used_features)] if c not in window_frame.columns
        ]
        if missing:
            raise JobFailed(
                f"The evaluation data '{window.version.dataset.name}' lacks the column(s) the model needs: "
                f"{', '.join(missing[:10])}."
            )
        rows = window_frame.loc[window.rows(window_frame) & window_frame[spec.target].notna()].reset_index(
            drop=True
        )
        if len(rows) < 10:
            raise JobFailed(
                f"The evaluation window ({window.describe()}) holds {len(rows)} labelled rows; at least 10 are "
                "needed. Widen it (start/end) or choose another dataset."
            )
        job.log(f"Evaluation window: {window.describe()}, {len(rows):,} labelled rows.")
        del training_frame
        same_data = window.version.dataset_id == training.dataset_id

        job.progress(6, "Starting the training")
        candidate_session = self._start_session(analysis, session, training)
        trained = train_candidate(job, candidate_session, exclude=window.rows if same_data else None)
        candidate_session.refresh_from_db()

        job.progress(78, "Registering the candidate as @challenger")
        register_model(candidate_session, actor=self.actor, name=model.name, alias="challenger")
        candidate = model.versions.get(version=candidate_session.registered_version)
        job.log(f"Registered the candidate as '{model.name}' v{candidate.version} (@challenger).")

        job.progress(85, "Scoring the candidate and the champion on the same rows")
        classes = [str(c) for c in candidate_session.classes] if candidate_session.classes else None
        candidate_metrics = score_on_window(model_dir_of(candidate), rows, spec, classes)
        champion_metrics = score_on_window(model_dir_of(champion), rows, spec, classes)
        result = compare(metric, candidate_metrics, champion_metrics, float(params["margin"]))
        evidence = {
            "source": "lab.retrain",
            "metric": metric,
            "greater_is_better": result.greater_is_better,
            "margin": result.margin,
            "policy": params["policy"],
            "rule": (
                f"Promote when the candidate beats the champion by more than {result.margin:g} {result.label} "
                f"on the same rows ({'automatically' if params['policy'] == 'auto' else 'after approval'})."
            ),
            "window": window.to_dict(len(rows)),
            "window_left_out_of_training": trained.excluded_rows if same_data else 0,
            "candidate": {"version": candidate.version, "metrics": candidate_metrics},
            "champion": {"version": champion.version, "metrics": champion_metrics},
            "difference": result.candidate - result.champion,
            "improvement": result.improvement,
            "better": result.better,
            "training": {"analysis": analysis.pk, "session": candidate_session.number},
        }
        job.log(
            f"{result.label} on {len(rows):,} rows: candidate v{candidate.version} {result.candidate:.4f}, "
            f"champion v{champion.version} {result.champion:.4f} ({result.summary()}; margin {result.margin:g})."
        )
        outcome = self._decide(model, candidate, champion, result, evidence, approver)
        job.progress(100, outcome["message"])
        return {
            "model": model.name,
            "alias": params["alias"],
            "champion_version": champion.version,
            "candidate_version": candidate.version,
            "metric": metric,
            "candidate_score": result.candidate,
            "champion_score": result.champion,
            "improvement": result.improvement,
            "margin": result.margin,
            "window_rows": len(rows),
            "training_session": candidate_session.number,
            **outcome,
        }

    def _start_session(
        self, analysis: Any, champion: TrainingSession, version: DatasetVersion
    ) -> TrainingSession:
        """A new training session of ``analysis`` with the champion's spec, run by this job."""
        try:
            with transaction.atomic():
                number = (analysis.sessions.aggregate(n=Max("number"))["n"] or 0) + 1
                session = TrainingSession.objects.create(
                    analysis=analysis,
                    number=number,
                    dataset_version=version,
                    spec=dict(champion.spec),
                    created_by=self.actor,
                    job=self.job.job,
                )
                audit.record(
                    "lab.training_started",
                    actor=self.actor,
                    project=analysis.project,
                    target=analysis,
                    details={
                        "session": number,
                        "dataset": version.dataset.name,
                        "version": version.number,
                        "retraining_of": champion.number,
                        "job": str(self.job.job.pk),
                    },
                )
        except IntegrityError as exc:
            raise JobFailed(
                f"The analysis '{analysis.name}' is already training; wait for that training to end, then run "
                "the retraining again."
            ) from exc
        return session

    def _decide(
        self,
        model: Any,
        candidate: ModelVersion,
        champion: ModelVersion,
        result: Comparison,
        evidence: dict[str, Any],
        approver: Any,
    ) -> dict[str, Any]:
        from modelworks.registry.services.promotion import promote_automatically, request_promotion

        alias = self.params["alias"]
        if not result.better:
            worse = (
                "not better than" if result.improvement <= 0 else "better, but not by more than the margin of"
            )
            margin = f" {result.margin:g}" if result.improvement > 0 else ""
            message = (
                f"Not promoted: candidate v{candidate.version} is {worse}{margin} the champion v{champion.version} "
                f"({result.summary()}); @{alias} stays on v{champion.version}."
            )
            self.job.log(message)
            return {"decision": "not_promoted", "message": message, "promotion_request": None}
        if self.params["policy"] == "auto":
            promote_automatically(
                candidate,
                alias=alias,
                actor=self.actor,
                reason=f"automatic promotion: {result.summary()}",
                evidence=evidence,
            )
            message = (
                f"Promoted automatically: @{alias} now points at v{candidate.version} ({result.summary()})."
            )
            self.job.log(message)
            return {"decision": "promoted", "message": message, "promotion_request": None}
        promotion = request_promotion(
            candidate,
            alias=alias,
            approver=approver,
            actor=self.actor,
            evidence=evidence,
            note=f"Retrained on fresh data: {result.summary()} on the evaluation window.",
            job=self.job.job,
        )
        message = (
            f"Approval requested: promotion request #{promotion.number} asks {promotion.approver_name} to "
            f"point @{alias} at v{candidate.version} ({result.summary()})."
        )
        self.job.log(message)
        return {"decision": "approval_requested", "message": message, "promotion_request": promotion.number}
