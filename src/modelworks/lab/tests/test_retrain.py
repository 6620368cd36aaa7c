"""The ``lab.retrain`` job for real: a champion trained on January-June, fresh data for the whole year
where the rule changed in July, a retraining compared on the most recent rows, then an automatic
promotion, an approval request, or no promotion when the candidate is worse."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.conf import settings
from django.test import override_settings

from modelworks.core.jobs import InvalidJobParamsError, enqueue
from modelworks.core.models import AuditEvent, Job, JobState, Project, User
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset, SourceKind
from modelworks.datasets.storage import data_store
from modelworks.datasets.testing import run_queued_jobs
from modelworks.engine.io import ImportOptions, import_file
from modelworks.lab import services
from modelworks.lab.models import SessionStatus
from modelworks.lab.retrain import RetrainModelJob
from modelworks.lab.tests.helpers import dataset_from, train_now
from modelworks.registry.models import AliasEvent, PromotionStatus, RegisteredModel
from modelworks.registry.services import promotion

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures"]

JOB_TYPES = {**settings.MODELWORKS_JOB_TYPES, "lab.retrain": "modelworks.lab.retrain.RetrainModelJob"}


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def flights(*, months: tuple[int, int], rows: int = 360, seed: int = 3, noise_labels: bool = False) -> bytes:
    """Delays whose cause changes in July: before, ``weather`` decides; from July, ``traffic`` does."""
    rng = np.random.default_rng(seed)
    start, end = pd.Timestamp(2024, months[0], 1), pd.Timestamp(2024, months[1], 28)
    days = pd.to_datetime(np.sort(rng.uniform(start.value, end.value, rows)).astype("int64")).normalize()
    weather, traffic = rng.normal(size=rows), rng.normal(size=rows)
    signal = np.where(days.month < 7, weather, traffic) + rng.normal(scale=0.3, size=rows)
    delayed = np.where(signal > 0, "late", "on_time")
    if noise_labels:
        delayed = rng.permutation(delayed)
    return _csv(
        pd.DataFrame(
            {"day": days.date, "weather": weather.round(3), "traffic": traffic.round(3), "delayed": delayed}
        )
    )


def new_version(dataset: Dataset, actor: User, content: bytes) -> Any:
    """A new version of ``dataset`` (fresh data), as a re-import makes it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source"
        path.write_bytes(content)
        info = import_file(path, store=data_store(), options=ImportOptions(original_name="flights.csv"))
    return dataset_services.create_version(
        project=dataset.project,
        info=info,
        how=SourceKind.UPLOAD,
        how_details={"file_name": "flights.csv", "options": {}},
        actor=actor,
        job=None,
        dataset=dataset,
    )


FRESH = flights(months=(1, 12), rows=480, seed=5)


@pytest.fixture
def champion(project: Project, bob: User) -> tuple[Dataset, RegisteredModel]:
    """'Delays' trained in the Lab on January-June and registered as @champion; then the year arrives."""
    dataset = dataset_from(project, bob, flights(months=(1, 6), rows=240), "flights")
    analysis = services.create_analysis(
        project, actor=bob, name="Delays", dataset=dataset, target="delayed", time_column="day"
    )
    analysis = services.update_design(
        analysis,
        actor=bob,
        features=[
            {**f, "kind": "drop", "reason": "the date itself"} if f["column"] == "day" else f
            for f in analysis.features
        ],
        algorithms=["linear"],
        time_budget_s=3,
        max_trials=2,
        validation={"kind": "kfold", "folds": 3, "holdout_fraction": 0.2},
        metric="roc_auc",
    )
    session = train_now(analysis, bob)
    assert session.status == SessionStatus.SUCCEEDED, session.error
    services.register_model(session, actor=bob, name="Delays", alias="champion")
    new_version(dataset, bob, FRESH)
    return dataset, RegisteredModel.objects.get(project=project, name="Delays")


def retrain(project: Project, actor: User, **params: Any) -> Job:
    with override_settings(MODELWORKS_JOB_TYPES=JOB_TYPES):
        job = enqueue("lab.retrain", project=project, created_by=actor, params={"model": "Delays", **params})
        run_queued_jobs()
    job.refresh_from_db()
    return job


def _champion_version(model: RegisteredModel) -> int:
    return model.aliases.get(alias="champion").model_version.version


def test_auto_promotion_when_the_candidate_is_better(project: Project, bob: User, champion: Any) -> None:
    dataset, model = champion
    job = retrain(project, bob, policy="auto", margin=0.05)
    assert job.state == JobState.SUCCEEDED, job.error
    result = job.result
    assert result["decision"] == "promoted" and result["candidate_version"] == 2
    # The window is the most recent 20% of the fresh rows (from the 385th row's day on, ties
    # included), and it was left out of the candidate's training.
    days = pd.to_datetime(pd.read_csv(io.BytesIO(FRESH))["day"]).sort_values().reset_index(drop=True)
    window = int((days >= days[384]).sum())
    assert result["window_rows"] == window and 96 <= window < 110
    assert result["candidate_score"] > result["champion_score"] + 0.05
    assert result["improvement"] == pytest.approx(result["candidate_score"] - result["champion_score"])
    assert _champion_version(model) == 2
    assert model.aliases.get(alias="challenger").model_version.version == 2
    event = AliasEvent.objects.filter(alias="champion").order_by("-id").first()
    assert event.from_version == 1 and event.to_version == 2
    assert event.reason == f"automatic promotion: +{result['improvement']:.3f} ROC AUC"
    audit = AuditEvent.objects.get(action="model.promoted_automatically")
    assert audit.details["evidence"]["window"]["rows"] == window
    assert audit.details["evidence"]["window_left_out_of_training"] == window
    assert result["message"].startswith("Promoted automatically: @champion now points at v2")

    # The candidate is a real Lab training of the same analysis on the fresh version.
    version = model.versions.get(version=2)
    assert version.training_dataset_version == dataset.current_version
    from modelworks.lab.models import TrainingSession

    trained = TrainingSession.objects.get(registered_model_name="Delays", registered_version=2)
    assert trained.number == 2 and trained.job_id == job.pk and trained.rows_used == 480 - window
    assert trained.spec == TrainingSession.objects.get(number=1).spec

    # Rolling back restores the champion of January-June.
    promotion.rollback_alias(model, "champion", actor=bob, reason="latency")
    assert _champion_version(model) == 1


def test_approval_path(project: Project, alice: User, bob: User, champion: Any) -> None:
    _, model = champion
    job = retrain(project, bob, policy="approval", approver="alice", margin=0.0)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["decision"] == "approval_requested" and job.result["promotion_request"] == 1
    request = model.promotion_requests.get(number=1)
    assert (
        request.status == PromotionStatus.PENDING and request.approver == alice and request.job_id == job.pk
    )
    evidence = request.evidence
    assert evidence["candidate"]["version"] == 2 and evidence["champion"]["version"] == 1
    assert evidence["metric"] == "roc_auc" and evidence["window"]["default"] is True
    assert set(evidence["candidate"]["metrics"]) >= {"roc_auc", "accuracy", "log_loss"}
    assert _champion_version(model) == 1  # nothing moves before the decision

    with pytest.raises(promotion.PromotionNotAllowed, match="Only alice"):
        promotion.approve(request, actor=bob)
    promotion.approve(request, actor=alice)
    assert _champion_version(model) == 2
    assert AliasEvent.objects.filter(alias="champion", to_version=2, reason="approved promotion #1").exists()
    assert AuditEvent.objects.filter(action="model.promotion_approved", actor=alice).exists()


def test_a_worse_candidate_is_not_promoted(project: Project, bob: User, alice: User, champion: Any) -> None:
    _, model = champion
    # Fresh "training data" whose labels were shuffled, judged on a separate labelled window that
    # follows the January-June rule: the candidate learns nothing, the champion still fits.
    noise = dataset_from(project, bob, flights(months=(1, 6), rows=240, seed=8, noise_labels=True), "noise")
    recent = dataset_from(project, bob, flights(months=(3, 6), rows=120, seed=9), "recent")
    job = retrain(
        project,
        bob,
        dataset=noise.pk,
        evaluation={"dataset": recent.pk, "time_column": "day", "start": "2024-04-01", "end": "2024-07-01"},
        policy="approval",
        approver="alice",
    )
    assert job.state == JobState.SUCCEEDED, job.error
    result = job.result
    assert result["decision"] == "not_promoted" and result["promotion_request"] is None
    assert result["candidate_score"] < result["champion_score"]
    assert "Not promoted" in result["message"] and "@champion stays on v1" in result["message"]
    assert _champion_version(model) == 1 and not model.promotion_requests.exists()
    assert model.aliases.get(alias="challenger").model_version.version == 2  # kept for shadowing


def test_run_time_refusals_name_the_fix(project: Project, bob: User, carol: User, champion: Any) -> None:
    job = retrain(project, bob, policy="approval", approver="carol")
    assert job.state == JobState.FAILED and "approver: 'carol' cannot approve" in job.error
    job = retrain(project, bob, alias="staging", policy="auto")
    assert job.state == JobState.FAILED and "has no alias @staging" in job.error
    with override_settings(MODELWORKS_JOB_TYPES=JOB_TYPES):
        job = enqueue(
            "lab.retrain", project=project, created_by=bob, params={"model": "Nope", "policy": "auto"}
        )
        run_queued_jobs()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "No registered model 'Nope'" in job.error
    # Nothing was trained by the refused jobs.
    from modelworks.lab.models import TrainingSession

    assert TrainingSession.objects.count() == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "needs model"),
        ({"model": "m", "policy": "approval"}, "policy 'approval' needs approver"),
        (
            {"model": "m", "approver": "alice", "policy": "auto"},
            "approver is only used with policy 'approval'",
        ),
        ({"model": "m", "policy": "maybe"}, "policy must be 'auto'"),
        ({"model": "m", "policy": "auto", "margin": -1}, "margin must be a number of 0 or more"),
        ({"model": "m", "policy": "auto", "margin": "0.1"}, "margin must be a number"),
        ({"model": "m", "policy": "auto", "metric": "auc"}, "metric 'auc' is unknown"),
        ({"model": "m", "policy": "auto", "alias": "latest"}, "alias: 'latest' alias name"),
        ({"model": "m", "policy": "auto", "alias": "challenger"}, "cannot be 'challenger'"),
        ({"model": "m", "policy": "auto", "dataset": "flights"}, "dataset must be the id of a dataset"),
        ({"model": "m", "policy": "auto", "colour": 1}, "has no parameter 'colour'"),
        ({"model": "m", "policy": "auto", "evaluation": [1]}, "evaluation must be an object"),
        (
            {"model": "m", "policy": "auto", "evaluation": {"start": "2024-01-01"}},
            "need evaluation.time_column",
        ),
        (
            {"model": "m", "policy": "auto", "evaluation": {"time_column": "day"}},
            "evaluation needs a dataset",
        ),
        (
            {"model": "m", "policy": "auto", "evaluation": {"time_column": "d", "start": "July"}},
            "evaluation.start = 'July' is not a date",
        ),
        (
            {
                "model": "m",
                "policy": "auto",
                "evaluation": {"time_column": "d", "start": "2024-07-01", "end": "2024-01-01"},
            },
            r"evaluation.start \(2024-07-01\) must come before evaluation.end",
        ),
        (
            {"model": "m", "policy": "auto", "evaluation": {"dataset": 3, "when": 1}},
            "evaluation has no key 'when'",
        ),
    ],
)
def test_clean_params_refuses_bad_input(params: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidJobParamsError, match=message):
        RetrainModelJob.clean_params(params)


def test_clean_params_fills_the_defaults() -> None:
    assert RetrainModelJob.clean_params({"model": " Delays ", "approver": "alice"}) == {
        "model": "Delays",
        "alias": "champion",
        "dataset": None,
        "evaluation": None,
        "metric": None,
        "margin": 0.0,
        "policy": "approval",
        "approver": "alice",
    }
    window = RetrainModelJob.clean_params(
        {
            "model": "m",
            "policy": "auto",
            "evaluation": {"dataset": 4, "time_column": "day", "start": "2024-10-01"},
        }
    )["evaluation"]
    assert window == {"dataset": 4, "time_column": "day", "start": "2024-10-01", "end": None}
