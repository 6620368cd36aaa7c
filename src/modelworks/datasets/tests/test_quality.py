"""Quality rules: added through the page and the API, run when a version is created and on demand,
kept as history with failing rows; a failing blocking rule makes the version unusable."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from modelworks.core.models import Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error
from modelworks.datasets.models import Dataset, QualityRule, QualityRun, QualityStatus
from modelworks.datasets.testing import SAMPLE_CSV, make_dataset, run_queued_jobs
from modelworks.datasets.tests.helpers import upload

pytest_plugins = ["modelworks.core.testing.fixtures"]

ApiFor = Callable[[User | None], ApiClient]


@pytest.fixture
def flights(project: Project, bob: User) -> Dataset:
    return make_dataset(project, bob)


def _rules_url(dataset: Dataset) -> str:
    return f"/projects/{dataset.project.slug}/datasets/{dataset.pk}/rules"


def test_a_failing_blocking_rule_makes_the_version_unusable_with_a_sample(
    flights: Dataset, bob: User, carol: User, api_client: ApiFor
) -> None:
    api = api_client(bob)
    expect(
        api.post(
            _rules_url(flights), {"kind": "not_null", "params": {"column": "dep_delay"}, "blocking": True}
        ),
        201,
    )
    expect(
        api.post(
            _rules_url(flights), {"kind": "range", "params": {"column": "distance", "min": 0, "max": 5000}}
        ),
        201,
    )
    expect(
        api.post(
            _rules_url(flights),
            {"kind": "allowed_values", "params": {"column": "carrier", "values": ["AF", "LH"]}},
        ),
        201,
    )
    job = expect(api.post(f"/projects/{flights.project.slug}/datasets/{flights.pk}/quality/run", {}), 202)
    assert job["kind"] == "datasets.quality"
    (done,) = run_queued_jobs()
    assert done.result == {"status": "blocked", "passed": 1, "failed": 2, "usable": False}
    version = flights.latest_version
    assert version.quality_status == QualityStatus.BLOCKED and version.usable is False
    runs = expect(
        api_client(carol).get(f"/projects/{flights.project.slug}/datasets/{flights.pk}/quality/runs"), 200
    )
    results = {r["kind"]: r for r in runs["items"][0]["results"]}
    assert results["not_null"]["status"] == "failed" and results["not_null"]["failing_count"] == 1
    assert results["not_null"]["failing_sample"][0]["values"]["flight"] == "LH8"
    assert results["allowed_values"]["failing_sample"][0]["values"]["carrier"] == "BA"
    assert results["range"]["status"] == "passed"
    got = expect(api_client(carol).get(f"/projects/{flights.project.slug}/datasets/{flights.pk}"), 200)
    assert got["current_version"]["usable"] is False and got["current_version"]["quality_status"] == "blocked"


def test_rules_run_on_each_new_version_and_block_it_until_they_pass(flights: Dataset, bob: User) -> None:
    QualityRule.objects.create(
        dataset=flights, kind="row_count", params={"min": 6}, blocking=True, name="at least 6 rows"
    )
    upload(
        bob,
        flights.project.slug,
        "v2.csv",
        SAMPLE_CSV + b"XX9,XX,1,1,2024-02-01\n",
        dataset_id=str(flights.pk),
    )
    jobs = run_queued_jobs()
    assert jobs[0].result["quality"] == "passed"
    v2 = flights.versions.get(number=2)
    assert v2.usable and v2.quality_status == "passed"
    run = QualityRun.objects.get(version=v2)
    assert run.trigger == "version_created" and run.passed == 1


def test_a_rule_that_cannot_run_is_recorded_and_blocks(flights: Dataset, bob: User) -> None:
    from modelworks.datasets import services

    QualityRule.objects.create(dataset=flights, kind="not_null", params={"column": "gone"}, blocking=True)
    QualityRule.objects.create(dataset=flights, kind="not_null", params={"column": "flight"})
    run = services.run_quality(flights.latest_version, trigger="on_demand", actor=bob)
    statuses = [(r.kind, r.status) for r in run.results.all()]
    assert statuses == [("not_null", "error"), ("not_null", "passed")]
    assert "gone" in run.results.first().message and run.status == QualityStatus.BLOCKED


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"kind": "not_null", "params": {"column": "dep_dlay"}},
            "column",
            "Column 'dep_dlay' is not in version 1",
        ),
        (
            {"kind": "custom_sql", "params": {"expression": "1; DROP TABLE x"}},
            "expression",
            "only one expression is allowed",
        ),
        ({"kind": "range", "params": {"col": "x"}}, "params", "rule 'range' is malformed"),
        ({"kind": "spell", "params": {}}, "kind", "Input should be"),
    ],
)
def test_bad_rules_are_refused_naming_the_problem(
    flights: Dataset, bob: User, api_client: ApiFor, body: dict[str, object], field: str, message: str
) -> None:
    error = expect_error(api_client(bob).post(_rules_url(flights), body), 422, "validation_error")
    assert message in " ".join(error["details"].get(field, [error["message"]])), error
    assert not QualityRule.objects.exists()


def test_quality_page_adds_a_blocking_rule_and_shows_the_failure(
    flights: Dataset, bob: User, carol: User
) -> None:
    page = Client()
    page.force_login(bob)
    url = f"/projects/{flights.project.slug}/datasets/{flights.pk}/quality/"
    response = page.post(
        url, {"kind": "range", "column": "dep_delay", "min": "0", "max": "30", "blocking": "on"}
    )
    assert response.status_code == 303
    rule = QualityRule.objects.get()
    assert rule.params == {"column": "dep_delay", "min": 0, "max": 30} and rule.blocking
    bad = page.post(url, {"kind": "range", "column": "dep_delay", "min": "soon"})
    assert bad.status_code == 422 and "is not a number" in bad.content.decode()
    assert page.post(url.replace("quality/", "quality/run/")).status_code == 303
    run_queued_jobs()
    html = Client()
    html.force_login(carol)
    text = html.get(url).content.decode()
    assert "Blocked" in text and "Sample of failing rows" in text and "AF2" in text and "LH7" in text
    assert html.post(url, {"kind": "not_null", "column": "flight"}).status_code == 403
