"""The tracking pages with real data: experiments list, runs table (columns, sort, filter), run page
(history charts, dataset links), compare; and the page rows for core's permission suite."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from modelworks.core.models import Project, User
from modelworks.core.testing.routes import ACTORS, PermissionWorld, expected_outcome
from modelworks.datasets.testing import make_dataset
from modelworks.tracking.models import Experiment, Run
from modelworks.tracking.services import logging as log_service
from modelworks.tracking.services.experiments import create_experiment
from modelworks.tracking.testing import TRACKING_PAGE_ROUTES, make_run
from modelworks.tracking.validation import MetricPoint

pytest_plugins = ["modelworks.core.testing.fixtures"]


@pytest.fixture
def sweep(project: Project, bob: User) -> tuple[Experiment, list[Run]]:
    experiment = create_experiment(project, actor=bob, name="Delay <model>")
    runs = []
    for i, (model, rmse) in enumerate([("forest", 0.31), ("linear", 0.52), ("boost", 0.27)]):
        run = make_run(
            experiment, bob, name=f"try-{i}", metrics={"rmse": rmse}, params={"model": model, "seed": "1"}
        )
        log_service.log_batch(
            run, metrics=[MetricPoint("loss", 1 / (s + 1), int(time.time() * 1000), s) for s in range(5)]
        )
        runs.append(run)
    version = make_dataset(project, bob).latest_version
    log_service.log_inputs(
        runs[0],
        datasets=[
            {
                "dataset": {
                    "name": "flights",
                    "digest": "abc",
                    "source_type": "modelworks",
                    "source": f"modelworks:dataset-version:{version.pk}",
                },
                "tags": [{"key": "mlflow.data.context", "value": "training"}],
            }
        ],
        models=[],
    )
    return experiment, runs


@pytest.mark.django_db
def test_pages_show_the_runs(client: Client, carol: User, project: Project, sweep: Any) -> None:
    experiment, runs = sweep
    client.force_login(carol)
    listing = client.get(reverse("tracking:experiments", args=[project.slug])).content.decode()
    assert "Delay &lt;model&gt;" in listing and "/mlflow/flight-delays" in listing
    url = reverse("tracking:experiment", args=[project.slug, experiment.pk])
    table = client.get(url, {"order": "metrics.rmse", "metric": "rmse", "param": "model"}).content.decode()
    assert table.index("try-2") < table.index("try-0") < table.index("try-1")  # 0.27, 0.31, 0.52
    filtered = client.get(url, {"filter": "params.model = 'forest'"}, HTTP_HX_REQUEST="true").content.decode()
    assert "try-0" in filtered and "try-1" not in filtered and "<html" not in filtered
    bad = client.get(url, {"filter": "metrics.rmse < 'x'"}).content.decode()
    assert "At character 16" in bad and "try-0" not in bad
    page = client.get(
        reverse("tracking:run", args=[project.slug, experiment.pk, runs[0].run_uuid])
    ).content.decode()
    assert (
        "<svg" in page and "forest" in page and "Modelworks dataset, version 1" in page and "training" in page
    )
    compare = client.get(
        reverse("tracking:compare", args=[project.slug, experiment.pk]),
        {"runs": [runs[0].run_uuid, runs[1].run_uuid]},
    ).content.decode()
    assert "1 parameter differs" in compare and "0.31" in compare and "0.52" in compare
    alone = client.get(
        reverse("tracking:compare", args=[project.slug, experiment.pk]), {"runs": [runs[0].run_uuid]}
    )
    assert "Select at least two runs" in alone.content.decode()


@pytest.mark.django_db
def test_runs_of_another_experiment_or_project_are_not_found(
    client: Client, carol: User, project: Project, sweep: Any, bob: User
) -> None:
    _experiment, runs = sweep
    other = create_experiment(project, actor=bob, name="Other")
    client.force_login(carol)
    assert (
        client.get(reverse("tracking:run", args=[project.slug, other.pk, runs[0].run_uuid])).status_code
        == 404
    )
    assert client.get(reverse("tracking:experiment", args=[project.slug, 99999])).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("case", TRACKING_PAGE_ROUTES, ids=str)
def test_page_rows_follow_the_permission_rules(case: Any, permission_world: PermissionWorld) -> None:
    """What core's page suite will check once the rows are spliced in, for every actor."""
    for actor in ACTORS:
        client = Client()
        user = permission_world.user(actor)
        if user is not None:
            client.force_login(user)
        response = client.get(
            reverse(case.url_name, kwargs=case.kwargs(permission_world)), headers=case.headers
        )
        outcome = expected_outcome(case.access, actor)
        expected = {"ok": (200,), "not_found": (404,), "forbidden": (403,), "not_authenticated": (302, 204)}[
            outcome
        ]
        assert response.status_code in expected, (actor, response.status_code)
