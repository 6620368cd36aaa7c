"""Reading data: the explore page and API (filters, sort, pages), profiles as charts and JSON, the
CSV export with formula escaping; every read is audited."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client

from modelworks.core.models import AuditEvent, Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.datasets.tests.helpers import upload

pytest_plugins = ["modelworks.core.testing.fixtures"]

ApiFor = Callable[[User | None], ApiClient]


@pytest.fixture
def flights(project: Project, bob: User) -> Dataset:
    return make_dataset(project, bob)


def test_rows_api_filters_sorts_and_pages(flights: Dataset, carol: User, api_client: ApiFor) -> None:
    url = f"/projects/{flights.project.slug}/datasets/{flights.pk}/versions/1/rows"
    api = api_client(carol)
    page = expect(api.get(url, sort="-dep_delay", limit=2), 200)
    assert [r[0] for r in page["rows"]] == ["LH7", "BA3"] and page["total"] == 5
    assert [c["name"] for c in page["columns"]][:3] == ["flight", "carrier", "dep_delay"]
    filters = json.dumps(
        [
            {"column": "carrier", "op": "in", "value": ["AF", "BA"]},
            {"column": "dep_delay", "op": "gt", "value": 0},
        ]
    )
    page = expect(api.get(url, filters=filters, sort="flight"), 200)
    assert [r[0] for r in page["rows"]] == ["AF1", "BA3"] and page["total"] == 2
    error = expect_error(
        api.get(url, filters=json.dumps([{"column": "dep_dlay", "op": "gt", "value": 1}])),
        422,
        "validation_error",
    )
    assert (
        "column 'dep_dlay', which this dataset version does not have; did you mean 'dep_delay'?"
        in error["message"]
    )
    error = expect_error(
        api.get(url, filters=json.dumps([{"column": "dep_delay", "op": "gt", "value": "soon"}])),
        422,
        "validation_error",
    )
    assert "dep_delay" in error["message"]
    assert AuditEvent.objects.filter(action="data.accessed", actor=carol).count() == 2


def test_explore_page_and_its_htmx_table(flights: Dataset, carol: User) -> None:
    page = Client()
    page.force_login(carol)
    url = f"/projects/{flights.project.slug}/datasets/{flights.pk}/explore/"
    full = page.get(url).content.decode()
    assert 'id="explore"' in full and '<nav class="tabs"' in full and "LH7" in full
    fragment = page.get(
        url, {"fc": "carrier", "fo": "eq", "fv": "LH", "sort": "-dep_delay"}, headers={"HX-Request": "true"}
    )
    text = fragment.content.decode()
    assert "<html" not in text and "of 2 matching rows" in text
    assert text.index("LH7") < text.index("LH8")
    assert 'class="null"' in text  # LH8 has no dep_delay
    assert "carrier equals LH" in " ".join(text.split())
    bad = page.get(
        url, {"fc": "dep_delay", "fo": "gt", "fv": "soon"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "alert-error" in bad and "dep_delay" in bad
    assert AuditEvent.objects.filter(action="data.accessed", details__what="explore").count() == 2


def test_profile_is_computed_by_a_job_shown_as_svg_charts_and_served_by_the_api(
    project: Project, bob: User, carol: User, api_client: ApiFor
) -> None:
    upload(bob, project.slug, "flights.csv", make_csv(), name="Flights")
    run_queued_jobs()
    dataset = Dataset.objects.get()
    page = Client()
    page.force_login(carol)
    html = page.get(f"/projects/{project.slug}/datasets/{dataset.pk}/profile/").content.decode()
    assert html.count('<svg class="chart"') >= 3  # histograms of numbers and dates, top values of text
    assert (
        'aria-label="Histogram of dep_delay' in html and 'aria-label="Most frequent values of carrier' in html
    )
    assert "<script" not in html.split("<main")[1].split("</main>")[0]  # no chart script in the page body
    profile = expect(
        api_client(carol).get(f"/projects/{project.slug}/datasets/{dataset.pk}/versions/1/profile"), 200
    )
    columns = {c["name"]: c for c in profile["profile"]["columns"]}
    assert columns["dep_delay"]["null_count"] == 1 and columns["dep_delay"]["histogram"]
    assert columns["carrier"]["top_values"][0] == {"value": "AF", "count": 47}
    # On demand: contributors queue it again; readers may not.
    expect_error(
        api_client(carol).post(f"/projects/{project.slug}/datasets/{dataset.pk}/versions/1/profile"),
        403,
        "permission_denied",
    )
    job = expect(
        api_client(bob).post(f"/projects/{project.slug}/datasets/{dataset.pk}/versions/1/profile"), 202
    )
    assert job["kind"] == "datasets.profile"


def test_profile_page_waits_for_the_job(flights: Dataset, carol: User) -> None:
    page = Client()
    page.force_login(carol)
    html = page.get(f"/projects/{flights.project.slug}/datasets/{flights.pk}/profile/").content.decode()
    assert "has no profile yet" in html


def make_csv() -> bytes:
    lines = ["flight,carrier,dep_delay,day"]
    for i in range(100):
        carrier = ("AF", "LH", "BA")[i % 3] if i % 5 else "AF"
        delay = "" if i == 7 else str((i * 7) % 60 - 10)
        lines.append(f"F{i},{carrier},{delay},2024-01-{1 + i % 28:02d}")
    return ("\n".join(lines) + "\n").encode()


def test_csv_export_escapes_formulas_and_is_audited(
    project: Project, bob: User, carol: User, api_client: ApiFor
) -> None:
    content = b'name,amount,note\n=HYPERLINK("http://x"),-5,ok\n+1+1,3,@SUM(A1)\n-cmd,4,plain\n'
    dataset = make_dataset(project, bob, name="Risky", content=content, file_name="risky.csv")
    response = api_client(carol).get(f"/projects/{project.slug}/datasets/{dataset.pk}/versions/1/export")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    assert 'filename="Risky-v1.csv"' in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    assert text.splitlines() == [
        "name,amount,note",
        '"\'=HYPERLINK(""http://x"")",-5,ok',
        "'+1+1,3,'@SUM(A1)",
        "'-cmd,4,plain",
    ]
    page = Client()
    page.force_login(carol)
    download = page.get(f"/projects/{project.slug}/datasets/{dataset.pk}/versions/1/export.csv")
    assert b"".join(download.streaming_content).decode() == text
    assert AuditEvent.objects.filter(action="data.exported", actor=carol).count() == 2
    assert AuditEvent.objects.filter(action="data.accessed", actor=carol, details__what="export").count() == 2
    parquet = page.get(f"/projects/{project.slug}/datasets/{dataset.pk}/versions/1/download.parquet")
    assert b"".join(parquet.streaming_content)[:4] == b"PAR1"
    assert AuditEvent.objects.filter(action="data.accessed", details__what="download").count() == 1


def test_outsiders_never_learn_a_dataset_exists(flights: Dataset, dave: User, api_client: ApiFor) -> None:
    slug = flights.project.slug
    expect_error(api_client(dave).get(f"/projects/{slug}/datasets/{flights.pk}"), 404, "not_found")
    page = Client()
    page.force_login(dave)
    assert page.get(f"/projects/{slug}/datasets/{flights.pk}/versions/1/export.csv").status_code == 404
    assert not AuditEvent.objects.filter(action="data.accessed").exists()
