"""Run search semantics over a generated experiment: every filter's answer is checked against the
same rule applied in Python to the data that was logged (no hard-coded answers)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from modelworks.core.models import Project, User
from modelworks.tracking.models import Experiment, Run
from modelworks.tracking.services import logging as log_service
from modelworks.tracking.services.experiments import create_experiment
from modelworks.tracking.services.runs import update_run
from modelworks.tracking.testing import make_run

pytest_plugins = ["modelworks.core.testing.fixtures"]

API = "/mlflow/flight-delays/api/2.0/mlflow/runs/search"


@pytest.fixture
def world(project: Project, bob: User) -> tuple[Experiment, list[dict[str, Any]]]:
    rng = random.Random(7)  # noqa: S311 (test data)
    experiment = create_experiment(project, actor=bob, name="Sweep")
    facts = []
    for i in range(40):
        model = rng.choice(["Forest", "forest", "linear", "boost"])
        metrics = {"rmse": round(rng.uniform(0, 1), 3)}
        if i % 5:
            metrics["val loss"] = round(rng.uniform(0, 2), 3)
        params = {"model": model, "depth": str(rng.randint(1, 9))}
        if i % 3 == 0:
            params["seed"] = "1"
        run = make_run(experiment, bob, name=f"sweep-{i:02d}", metrics=metrics, params=params)
        run.start_time = 1_000_000 + i * 1000
        run.save(update_fields=["start_time"])
        status = "FINISHED" if i % 4 else "FAILED"
        update_run(run, status=status)
        log_service.log_batch(run, tags=[("team", "ops" if i % 2 else "data")])
        if i % 7 == 0:
            log_service.log_inputs(
                run,
                datasets=[
                    {
                        "dataset": {"name": "flights", "digest": "d1", "source_type": "local", "source": "x"},
                        "tags": [{"key": "mlflow.data.context", "value": "training"}],
                    }
                ],
                models=[],
            )
        facts.append(
            {
                "id": run.run_uuid,
                "name": run.name,
                "metrics": metrics,
                "params": params,
                "status": status,
                "team": "ops" if i % 2 else "data",
                "start": run.start_time,
                "dataset": i % 7 == 0,
            }
        )
    return experiment, facts


def search(token: str, experiment: Experiment, **body: Any) -> dict[str, Any]:
    response = Client().post(
        API,
        data=json.dumps({"experiment_ids": [str(experiment.pk)], **body}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    return json.loads(response.content)


CASES: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
    ("metrics.rmse < 0.5", lambda f: f["metrics"]["rmse"] < 0.5),
    ("metrics.rmse >= 0.25 AND metrics.rmse <= 0.75", lambda f: 0.25 <= f["metrics"]["rmse"] <= 0.75),
    ("metrics.`val loss` > 1", lambda f: f["metrics"].get("val loss", -1) > 1),
    ("metrics.rmse != 0.5", lambda f: f["metrics"]["rmse"] != 0.5),
    ("params.model = 'forest'", lambda f: f["params"]["model"] == "forest"),
    ("params.model LIKE 'F%'", lambda f: f["params"]["model"].startswith("F")),
    ("params.model ILIKE 'f%'", lambda f: f["params"]["model"].lower().startswith("f")),
    ("params.model != 'linear'", lambda f: f["params"]["model"] != "linear"),
    ("params.seed IS NULL", lambda f: "seed" not in f["params"]),
    ("params.seed IS NOT NULL AND tags.team = 'ops'", lambda f: "seed" in f["params"] and f["team"] == "ops"),
    ("attributes.status IN ('FAILED')", lambda f: f["status"] == "FAILED"),
    ("attributes.status NOT IN ('FAILED', 'KILLED')", lambda f: f["status"] == "FINISHED"),
    ("run_name LIKE 'sweep-1%'", lambda f: f["name"].startswith("sweep-1")),
    ("tags.`mlflow.runName` = 'sweep-03'", lambda f: f["name"] == "sweep-03"),
    ("attributes.start_time > 1020000", lambda f: f["start"] > 1_020_000),
    ("dataset.context = 'training' AND dataset.name = 'flights'", lambda f: f["dataset"]),
    (
        "params.model LIKE '%e%' AND metrics.rmse > 0.1",
        lambda f: "e" in f["params"]["model"] and f["metrics"]["rmse"] > 0.1,
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "rule"), CASES, ids=[c[0] for c in CASES])
def test_filters_select_what_the_rule_selects(
    world: Any, tokens: dict[str, str], text: str, rule: Any
) -> None:
    experiment, facts = world
    answer = search(tokens["carol"], experiment, filter=text)
    found = {r["info"]["run_id"] for r in answer.get("runs", [])}
    assert found == {f["id"] for f in facts if rule(f)}


@pytest.mark.django_db
def test_order_by_metric_desc_keeps_missing_last_and_pages_cover_everything(
    world: Any, tokens: dict[str, str]
) -> None:
    experiment, facts = world
    seen: list[dict[str, Any]] = []
    token = None
    while True:
        body: dict[str, Any] = {"order_by": ["metrics.`val loss` DESC"], "max_results": 7}
        if token:
            body["page_token"] = token
        answer = search(tokens["carol"], experiment, **body)
        seen += answer["runs"]
        token = answer.get("next_page_token")
        if not token:
            break
    with_loss = sorted(
        (f for f in facts if "val loss" in f["metrics"]),
        key=lambda f: (-f["metrics"]["val loss"], -f["start"]),
    )
    without = sorted((f for f in facts if "val loss" not in f["metrics"]), key=lambda f: -f["start"])
    assert [r["info"]["run_id"] for r in seen] == [f["id"] for f in with_loss + without]


@pytest.mark.django_db
def test_default_order_and_deleted_runs(world: Any, tokens: dict[str, str], bob: User) -> None:
    experiment, facts = world
    answer = search(tokens["carol"], experiment, order_by=["params.depth", "attributes.start_time ASC"])
    expected = sorted(facts, key=lambda f: (f["params"]["depth"], f["start"]))
    assert [r["info"]["run_id"] for r in answer["runs"]] == [f["id"] for f in expected]
    Run.objects.filter(pk=facts[0]["id"]).update(lifecycle_stage="deleted")
    active = search(tokens["carol"], experiment)
    assert facts[0]["id"] not in {r["info"]["run_id"] for r in active["runs"]}
    assert [r["info"]["run_id"] for r in active["runs"]] == [
        f["id"] for f in sorted(facts[1:], key=lambda f: -f["start"])
    ]
    deleted = search(tokens["carol"], experiment, run_view_type="DELETED_ONLY")
    assert [r["info"]["run_id"] for r in deleted["runs"]] == [facts[0]["id"]]
    assert len(search(tokens["carol"], experiment, run_view_type="ALL")["runs"]) == len(facts)


@pytest.mark.django_db
def test_search_is_a_fixed_number_of_queries(
    world: Any, tokens: dict[str, str], django_assert_max_num_queries: Any
) -> None:
    experiment, _ = world
    with django_assert_max_num_queries(12):
        answer = search(tokens["carol"], experiment, filter="metrics.rmse > 0", order_by=["metrics.rmse"])
    assert len(answer["runs"]) == 40 and all(r["data"]["params"] for r in answer["runs"])
