"""The lineage pages: the graph drawn as SVG (datasets and columns), a dataset node, a job."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from modelworks.catalog.lineage import record_run
from modelworks.catalog.lineage.graph import dataset_key, job_key
from modelworks.catalog.models import LineageDataset, LineageJob
from modelworks.catalog.tests.data import CLEAN, DAILY, RAW, make_dataset
from modelworks.core.models import Project, User

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.catalog.tests.fixtures"]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def node_pk(project: Project, name: str) -> int:
    return LineageDataset.objects.get(project=project, name=name).pk


def drawn_nodes(html: str) -> set[str]:
    return set(re.findall(r'data-node="([a-z]+:\d+)"', html))


def test_the_graph_page_draws_every_node_as_svg(pipeline: Project, carol: User) -> None:
    response = signed_in(carol).get(reverse("catalog:lineage", args=[pipeline.slug]))
    html = response.content.decode()

    assert response.status_code == 200
    assert "<svg" in html and 'class="lineage-svg lineage-view-datasets"' in html
    expected = {dataset_key(d.pk) for d in LineageDataset.objects.filter(project=pipeline)}
    expected |= {job_key(j.pk) for j in LineageJob.objects.filter(project=pipeline)}
    assert drawn_nodes(html) == expected and len(expected) == 6
    # raw → clean, airports → clean, clean → clean_flights → aggregate → daily_delays
    assert html.count('class="lineage-edge"') == 5
    job = LineageJob.objects.get(name="aggregate")
    assert reverse("catalog:lineage_job", args=[pipeline.slug, job.pk]) in html  # click a node to open it
    assert "catalog/js/lineage.js" in html and "catalog/css/catalog.css" in html


def test_a_node_with_depth_shows_its_neighbourhood_only(pipeline: Project, carol: User) -> None:
    clean = node_pk(pipeline, CLEAN.name)
    url = reverse("catalog:lineage", args=[pipeline.slug])
    html = (
        signed_in(carol)
        .get(url, {"focus": dataset_key(clean), "depth": 1, "direction": "downstream"})
        .content.decode()
    )
    names = {
        LineageDataset.objects.get(pk=int(k.split(":")[1])).name
        for k in drawn_nodes(html)
        if k.startswith("dataset")
    }
    assert names == {CLEAN.name, DAILY.name}
    assert "is-root" in html


def test_the_columns_view_highlights_upstream_and_downstream(pipeline: Project, carol: User) -> None:
    clean = node_pk(pipeline, CLEAN.name)
    url = reverse("catalog:lineage", args=[pipeline.slug])
    html = signed_in(carol).get(url, {"view": "columns", "column": f"{clean}:delay_minutes"}).content.decode()

    def state(column: str) -> str:
        found = re.search(rf'class="lineage-column(?: is-(\w+))?"[^>]*data-column="{column}"', html)
        assert found, column
        return found.group(1) or ""

    assert state("delay_minutes") == "selected"
    assert state("dep_delay") == "upstream"
    assert state("mean_delay") == "downstream"
    assert state("carrier") == "faded"
    assert html.count("lineage-edge is-highlighted") == 2
    assert "Upstream 1" in html and "Downstream 1" in html


def test_htmx_gets_only_the_graph(pipeline: Project, carol: User) -> None:
    response = signed_in(carol).get(
        reverse("catalog:lineage", args=[pipeline.slug]), {"view": "columns"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="lineage-graph">') and "<html" not in html
    assert "lineage-view-columns" in html


def test_an_unknown_or_foreign_focus_is_404(pipeline: Project, other_project: Project, carol: User) -> None:
    record_run(other_project, "theirs", inputs=[RAW], outputs=[CLEAN])
    foreign = LineageDataset.objects.get(project=other_project, name=RAW.name)
    client = signed_in(carol)
    url = reverse("catalog:lineage", args=[pipeline.slug])
    assert client.get(url, {"focus": dataset_key(foreign.pk)}).status_code == 404
    assert client.get(url, {"focus": "dataset:999999"}).status_code == 404
    assert client.get(reverse("catalog:lineage_dataset", args=[pipeline.slug, foreign.pk])).status_code == 404
    theirs = LineageJob.objects.get(project=other_project)
    assert client.get(reverse("catalog:lineage_job", args=[pipeline.slug, theirs.pk])).status_code == 404


def test_an_empty_project_says_how_to_send_lineage(project: Project, carol: User) -> None:
    html = signed_in(carol).get(reverse("catalog:lineage", args=[project.slug])).content.decode()
    assert "No lineage yet" in html
    assert "OPENLINEAGE_NAMESPACE=flight-delays" in html and "/api/v1/lineage" in html


def test_the_dataset_node_and_job_pages(pipeline: Project, carol: User) -> None:
    client = signed_in(carol)
    clean = LineageDataset.objects.get(project=pipeline, name=CLEAN.name)
    html = client.get(reverse("catalog:lineage_dataset", args=[pipeline.slug, clean.pk])).content.decode()
    assert "postgres://warehouse:5432" in html and "delay_minutes" in html
    assert "Made by" in html and ">clean</a>" in html and ">aggregate</a>" in html
    assert "<svg" in html

    job = LineageJob.objects.get(name="clean")
    html = client.get(reverse("catalog:lineage_job", args=[pipeline.slug, job.pk])).content.decode()
    assert "Reads and writes" in html and "public.raw_flights" in html and "Completed" in html
    assert "origin_city" in html and "join" in html  # the column lineage table


@pytest.mark.parametrize("view", ["datasets", "columns"])
def test_a_cycle_is_drawn(project: Project, carol: User, view: str) -> None:
    # A job that reads and writes the same table (an incremental update) makes a cycle.
    record_run(project, "append", inputs=[RAW], outputs=[RAW])
    html = (
        signed_in(carol).get(reverse("catalog:lineage", args=[project.slug]), {"view": view}).content.decode()
    )
    assert len(drawn_nodes(html)) == (2 if view == "datasets" else 1)


def test_a_modelworks_dataset_node_links_to_its_documentation(project: Project, carol: User) -> None:
    flights = make_dataset(project, "flights", columns=[("carrier", "VARCHAR")])
    record_run(project, "prepare", inputs=[flights], outputs=[CLEAN])
    html = signed_in(carol).get(reverse("catalog:lineage", args=[project.slug])).content.decode()
    assert reverse("catalog:dataset_doc", args=[project.slug, flights.pk]) in html
    assert "is-internal" in html
