"""The lineage graph and the catalog search in a real Chromium against a real ``modelworks serve``.

The lineage is sent the way an external tool sends it: the real ``openlineage-python`` client with
its HTTP transport, gzip on, authenticated with a Modelworks API token.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import column_lineage_dataset, schema_dataset
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpCompression, HttpConfig, HttpTransport
from openlineage.client.uuid import generate_new_uuid
from playwright.sync_api import expect

from browser.live_instance import ADMIN_PASSWORD, LiveInstance, shot, sign_in

pytest_plugins = ["browser.live_instance"]
pytestmark = pytest.mark.browser

WAREHOUSE = "postgres://warehouse:5432"

SETUP = f"""
from modelworks.core import services
from modelworks.core.models import ApiToken, Role, User
from modelworks.datasets.models import Dataset, DatasetVersion

admin = User.objects.get(username="admin")
flights = services.create_project(actor=admin, slug="flight-delays", name="Flight delays")
churn = services.create_project(actor=admin, slug="churn", name="Customer churn")
rita = User.objects.create_user(username="rita", email="rita@example.test", password="{ADMIN_PASSWORD}")
services.grant_membership(flights, actor=admin, user=rita, role=Role.READER)

def dataset(project, name, description, tags, columns):
    d = Dataset.objects.create(project=project, name=name, description=description, tags=tags, owner=admin,
                               column_descriptions={{"dep_delay": "Minutes late at departure"}})
    DatasetVersion.objects.create(dataset=d, number=1, object_id="obj" + str(d.pk).zfill(8), content_hash="sha256:0",
        row_count=120000, byte_size=1, how="upload",
        schema=[{{"name": n, "type": t}} for n, t in columns])

dataset(flights, "flights", "Every departure of 2024 with its delay.", ["aviation", "raw"],
        [("carrier", "VARCHAR"), ("dep_delay", "BIGINT"), ("origin", "VARCHAR")])
dataset(flights, "airports", "Reference list of airports.", ["reference"], [("code", "VARCHAR"), ("city", "VARCHAR")])
dataset(churn, "flights_of_churned_customers", "Confidential.", ["aviation"], [("dep_delay", "BIGINT")])
_, raw = ApiToken.issue(admin, "lineage producer")
print(raw)
"""


def schema(*columns: str) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=c, type="int") for c in columns]
    )


def derived(**columns: tuple[str, str, str]) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """``column=(source namespace, source name, source column)``."""
    return column_lineage_dataset.ColumnLineageDatasetFacet(
        fields={
            out: column_lineage_dataset.Fields(
                inputFields=[column_lineage_dataset.InputField(namespace=ns, name=name, field=field)]
            )
            for out, (ns, name, field) in columns.items()
        }
    )


def send_lineage(instance: LiveInstance, token: str) -> None:
    """Two jobs: flights (a Modelworks dataset) → clean → clean_flights → aggregate → daily_delays."""
    config = HttpConfig(
        url=instance.base_url,
        endpoint="api/v1/lineage",
        auth=ApiKeyTokenProvider({"apiKey": token}),
        compression=HttpCompression.GZIP,
        timeout=15,
    )
    client = OpenLineageClient(transport=HttpTransport(config))
    internal = "modelworks://flight-delays"
    jobs = [
        (
            "etl.clean",
            [InputDataset(namespace=internal, name="flights")],
            OutputDataset(
                namespace=WAREHOUSE,
                name="public.clean_flights",
                facets={
                    "schema": schema("carrier", "delay_minutes"),
                    "columnLineage": derived(
                        carrier=(internal, "flights", "carrier"),
                        delay_minutes=(internal, "flights", "dep_delay"),
                    ),
                },
            ),
        ),
        (
            "etl.aggregate",
            [InputDataset(namespace=WAREHOUSE, name="public.clean_flights")],
            OutputDataset(
                namespace=WAREHOUSE,
                name="public.daily_delays",
                facets={
                    "schema": schema("carrier", "mean_delay"),
                    "columnLineage": derived(
                        carrier=(WAREHOUSE, "public.clean_flights", "carrier"),
                        mean_delay=(WAREHOUSE, "public.clean_flights", "delay_minutes"),
                    ),
                },
            ),
        ),
    ]
    for name, inputs, output in jobs:
        run = Run(runId=str(generate_new_uuid()))
        job = Job(namespace="flight-delays", name=name)
        for state, time in (
            (RunState.START, "2026-11-20T02:00:00Z"),
            (RunState.COMPLETE, "2026-11-20T02:03:00Z"),
        ):
            client.emit(
                RunEvent(
                    eventType=state,
                    eventTime=time,
                    run=run,
                    job=job,
                    producer="browser-test",
                    inputs=inputs,
                    outputs=[output],
                )
            )


@pytest.fixture(scope="module")
def world(instance: LiveInstance) -> LiveInstance:
    token = instance.shell(SETUP).strip().splitlines()[-1]
    send_lineage(instance, token)
    return instance


def view_box(page: Any) -> list[float]:
    return [float(v) for v in str(page.locator("svg[data-pan-zoom]").first.get_attribute("viewBox")).split()]


def test_the_lineage_graph_is_drawn_and_columns_can_be_followed(page: Any, world: LiveInstance) -> None:
    sign_in(page, "admin")
    page.goto("/projects/flight-delays/")
    page.get_by_role("link", name="Lineage", exact=True).click()
    page.wait_for_url("**/projects/flight-delays/lineage/")
    svg = page.locator("svg.lineage-svg")
    assert svg.locator(".lineage-dataset").count() == 3 and svg.locator(".lineage-job").count() == 2
    assert svg.locator(".lineage-dataset.is-internal").count() == 1
    shot(page, "lineage-graph")

    # Zoom and pan change the view, not the page.
    before = view_box(page)
    page.get_by_role("button", name="Zoom in").click()
    zoomed = view_box(page)
    assert zoomed != before
    box = svg.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + box["height"] - 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + box["height"] - 60, steps=5)
    page.mouse.up()
    assert view_box(page) != zoomed
    page.get_by_role("button", name="Fit").click()
    assert view_box(page) == before

    # The columns view; choosing a column highlights where it comes from and where it goes.
    page.evaluate("window.__mwSamePage = true")
    page.get_by_label("Show", exact=True).select_option("columns")
    page.locator("svg.lineage-view-columns").wait_for()
    page.locator('.lineage-column[data-column="delay_minutes"]').click()
    page.locator('.lineage-column.is-selected[data-column="delay_minutes"]').wait_for()
    assert page.locator('.lineage-column.is-upstream[data-column="dep_delay"]').count() == 1
    assert page.locator('.lineage-column.is-downstream[data-column="mean_delay"]').count() == 1
    assert page.locator(".lineage-edge.is-highlighted").count() == 2
    assert page.evaluate("window.__mwSamePage === true"), "choosing a column must not reload the page"
    assert re.search(r"view=columns.*column=\d+%3Adelay_minutes", page.url)
    assert page.get_by_label("Column", exact=True).input_value().endswith(":delay_minutes")
    shot(page, "lineage-columns")

    # Clicking a job node opens the job.
    page.get_by_label("Show", exact=True).select_option("datasets")
    page.locator("svg.lineage-view-datasets").wait_for()
    page.locator(".lineage-job", has_text="etl.aggregate").locator("a").click()
    page.wait_for_url(re.compile(r"/lineage/jobs/\d+/$"))
    assert page.get_by_role("heading", name="etl.aggregate").is_visible()
    assert page.get_by_text("Completed").first.is_visible()
    shot(page, "lineage-job")


def test_the_catalog_search_finds_only_readable_datasets(page: Any, world: LiveInstance) -> None:
    sign_in(page, "rita")
    page.get_by_role("link", name="Catalog", exact=True).click()
    page.wait_for_url("**/catalog/")
    assert page.locator(".catalog-hit").count() == 2
    page.get_by_label("Search", exact=True).fill("dep_delay")
    page.locator(".catalog-hit").first.get_by_text("dep_delay").wait_for()
    expect(page.locator(".catalog-hit")).to_have_count(1)
    hit = page.locator(".catalog-hit")
    assert hit.get_by_role("link", name="flights", exact=True).is_visible()
    assert "flights_of_churned_customers" not in page.content()
    shot(page, "catalog-search")

    page.get_by_label("Search", exact=True).fill("")
    expect(page.locator(".catalog-hit")).to_have_count(2)
    page.get_by_role("navigation", name="Tag").get_by_role("link", name=re.compile("^reference")).click()
    page.wait_for_url("**tag=reference**")
    assert page.locator(".catalog-hit").count() == 1
    page.get_by_role("link", name="airports", exact=True).click()
    page.wait_for_url(re.compile(r"/projects/flight-delays/datasets/\d+/$"))  # the dataset's own page

    page.goto("/catalog/?q=flights")
    page.locator(".catalog-hit", has_text="Every departure").get_by_role("link", name="Documentation").click()
    page.wait_for_url(re.compile(r"/catalog/datasets/\d+/$"))
    assert page.get_by_role("heading", name="flights").is_visible()
    assert page.get_by_text("Minutes late at departure").is_visible()
    panel = page.locator("section", has=page.get_by_role("heading", name="Lineage and usage"))
    assert panel.get_by_role("link", name="etl.clean", exact=True).is_visible()
    assert panel.locator("svg .lineage-job").count() == 1  # the neighbourhood is drawn too
    shot(page, "dataset-documentation")
