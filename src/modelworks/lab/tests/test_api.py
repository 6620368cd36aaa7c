"""The Lab's REST API for scripts: the same design, checks and refusals as the pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modelworks.core.models import Project, User
from modelworks.core.testing.client import ApiClient, expect_error
from modelworks.datasets.testing import run_queued_jobs
from modelworks.lab.tests.helpers import dataset_from, penguins_csv
from modelworks.lab.tests.test_design import SINGLE_CLASS

pytestmark = pytest.mark.django_db


def test_design_train_and_read_results(
    project: Project, bob: User, carol: User, api_client: Callable[[User | None], ApiClient]
) -> None:
    dataset = dataset_from(project, bob, penguins_csv(), "penguins")
    api = api_client(bob)
    base = f"/projects/{project.slug}/lab/analyses"
    created = api.request("POST", base, {"name": "Species", "dataset": dataset.pk, "target": "species"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["task"] == "multiclass" and body["can_train"] and body["dataset_name"] == "penguins"
    assert {f["column"] for f in body["features"]} >= {"island", "bill_length_mm"}

    bad = api.request("PATCH", f"{base}/{body['id']}", {"time_budget_s": 0})
    error = expect_error(bad, 422, "validation_error")
    assert "between" in error["details"]["time_budget_s"][0]
    changed = api.request(
        "PATCH",
        f"{base}/{body['id']}",
        {
            "algorithms": ["linear"],
            "time_budget_s": 5,
            "max_trials": 2,
            "features": [{"column": "island", "kind": "drop"}],
            "validation": {"kind": "kfold", "folds": 3, "holdout_fraction": 0.25},
        },
    )
    assert changed.status_code == 200, changed.content
    assert next(f for f in changed.json()["features"] if f["column"] == "island")["kind"] == "drop"

    started = api.request("POST", f"{base}/{body['id']}/sessions")
    assert started.status_code == 202 and started.json()["status"] == "queued"
    conflict = api.request("POST", f"{base}/{body['id']}/sessions")
    expect_error(conflict, 409, "conflict")
    run_queued_jobs()
    session = api_client(carol).request("GET", f"{base}/{body['id']}/sessions/1").json()
    assert session["status"] == "succeeded", session["error"]
    assert session["leaderboard"] and all(t["run_id"] for t in session["leaderboard"])
    assert session["holdout"]["metrics"]["accuracy"] > 0.7 and session["model_uri"].startswith(
        "mlflow-artifacts:/"
    )
    listed = api_client(carol).request("GET", f"{base}/{body['id']}/sessions").json()
    assert listed["items"][0]["best_algorithm"] == "linear"


def test_blocked_training_is_refused_with_the_reason(
    project: Project, bob: User, api_client: Callable[[User | None], ApiClient]
) -> None:
    dataset = dataset_from(project, bob, SINGLE_CLASS, "constant")
    api = api_client(bob)
    base = f"/projects/{project.slug}/lab/analyses"
    created = api.request(
        "POST", base, {"name": "Always", "dataset": dataset.pk, "target": "outcome", "task": "binary"}
    ).json()
    assert created["can_train"] is False and created["checks"][0]["severity"] == "error"
    refused = expect_error(api.request("POST", f"{base}/{created['id']}/sessions"), 422, "validation_error")
    assert "Training is blocked" in refused["message"]
    unknown = expect_error(
        api.request("POST", base, {"name": "X", "dataset": dataset.pk, "target": "outcom"}),
        422,
        "validation_error",
    )
    assert "did you mean 'outcome'" in unknown["details"]["target"][0]
