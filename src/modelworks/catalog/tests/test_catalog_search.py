"""The catalog search (page and API): what it finds, in what order, and never another project's data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from modelworks.catalog.models import CatalogColumn, CatalogTag
from modelworks.catalog.tests.data import make_dataset
from modelworks.core.models import Project, User
from modelworks.core.testing import ApiClient, expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.catalog.tests.fixtures"]


@pytest.fixture
def catalog(project: Project, other_project: Project, alice: User, bob: User, dave: User) -> dict[str, Any]:
    """Datasets in two projects; the names in the second project would match the first's searches."""
    return {
        "flights": make_dataset(
            project,
            "flights",
            description="Every departure of 2024 with its delay.",
            tags=["aviation", "raw"],
            owner=alice,
            column_descriptions={"dep_delay": "Minutes late at departure"},
            columns=[("carrier", "VARCHAR"), ("dep_delay", "BIGINT"), ("origin", "VARCHAR")],
        ),
        "airports": make_dataset(
            project,
            "airports",
            description="Reference list of airports used by flights.",
            tags=["reference"],
            owner=bob,
            columns=[("code", "VARCHAR"), ("city", "VARCHAR")],
        ),
        "weather": make_dataset(
            project, "weather_by_airport", tags=["aviation"], owner=bob, columns=[("station", "VARCHAR")]
        ),
        "secret": make_dataset(
            other_project,
            "flights_secret",
            description="Confidential flights of churned customers.",
            tags=["aviation", "confidential"],
            owner=dave,
            columns=[("dep_delay", "BIGINT"), ("ssn", "VARCHAR")],
        ),
    }


def search(user: User | None, api_client: Callable[..., ApiClient], **params: Any) -> dict[str, Any]:
    return expect(api_client(user).get("/catalog/search", **params), 200)


def names(body: dict[str, Any]) -> list[str]:
    return [item["name"] for item in body["items"]]


def facet(body: dict[str, Any], name: str) -> dict[str, int]:
    return {f["value"]: f["count"] for f in body["facets"][name]}


def test_saving_a_dataset_indexes_its_tags_and_columns(catalog: dict[str, Any]) -> None:
    flights = catalog["flights"]
    assert sorted(CatalogTag.objects.filter(dataset=flights).values_list("tag", flat=True)) == [
        "aviation",
        "raw",
    ]
    columns = CatalogColumn.objects.filter(dataset=flights)
    assert [(c.name, c.type) for c in columns] == [
        ("carrier", "VARCHAR"),
        ("dep_delay", "BIGINT"),
        ("origin", "VARCHAR"),
    ]
    assert columns.get(name="dep_delay").description == "Minutes late at departure"
    flights.tags = ["aviation"]
    flights.column_descriptions = {}
    flights.save()
    assert list(CatalogTag.objects.filter(dataset=flights).values_list("tag", flat=True)) == ["aviation"]
    assert CatalogColumn.objects.get(dataset=flights, name="dep_delay").description == ""


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("flights", ["flights", "airports"]),  # name first, then description
        ("FLIGHTS", ["flights", "airports"]),
        ("dep_delay", ["flights"]),  # a column
        ("minutes late", ["flights"]),  # a column description, every word must match
        ("reference", ["airports"]),  # a tag
        ("bob", ["airports", "weather_by_airport"]),  # an owner
        ("airport", ["airports", "weather_by_airport"]),  # a prefix of the name ranks above "anywhere"
        ("departure", ["flights"]),  # the description
        ("aviation raw", ["flights"]),
        ("nothing-like-this", []),
    ],
)
def test_search_finds_by_name_description_column_tag_and_owner(
    catalog: dict[str, Any], carol: User, api_client: Callable[..., ApiClient], q: str, expected: list[str]
) -> None:
    assert names(search(carol, api_client, q=q)) == expected


def test_results_never_include_other_projects(
    catalog: dict[str, Any], carol: User, erin: User, api_client: Callable[..., ApiClient]
) -> None:
    for q in ("", "flights", "dep_delay", "aviation", "dave", "confidential", "ssn"):
        body = search(carol, api_client, q=q)
        assert "flights_secret" not in names(body), q
        assert set(facet(body, "projects")) <= {"flight-delays"}, q
        assert "confidential" not in facet(body, "tags") and "dave" not in facet(body, "owners"), q
    # Naming the other project or its tag as a filter reveals nothing either.
    assert search(carol, api_client, project="churn")["count"] == 0
    assert search(carol, api_client, tag="confidential")["count"] == 0
    # erin reads only dave's project; dave is its admin.
    assert names(search(erin, api_client, q="flights")) == ["flights_secret"]
    assert facet(search(erin, api_client), "projects") == {"churn": 1}


def test_instance_admins_search_every_project(
    catalog: dict[str, Any], instance_admin: User, api_client: Callable[..., ApiClient]
) -> None:
    body = search(instance_admin, api_client, q="flights")
    assert names(body) == ["flights", "flights_secret", "airports"]
    assert facet(body, "projects") == {"flight-delays": 2, "churn": 1}


def test_facets_count_and_filter(
    catalog: dict[str, Any], carol: User, api_client: Callable[..., ApiClient]
) -> None:
    body = search(carol, api_client)
    assert body["count"] == 3
    assert facet(body, "tags") == {"aviation": 2, "raw": 1, "reference": 1}
    assert facet(body, "owners") == {"bob": 2, "alice": 1}
    assert names(search(carol, api_client, tag="aviation")) == ["flights", "weather_by_airport"]
    by_bob = search(carol, api_client, owner="bob", tag="aviation")
    assert names(by_bob) == ["weather_by_airport"]
    # A facet ignores its own filter, so the other values stay choosable.
    assert facet(by_bob, "owners") == {"bob": 1, "alice": 1}
    assert [f["value"] for f in by_bob["facets"]["tags"] if f["selected"]] == ["aviation"]


def test_results_carry_what_the_list_shows(
    catalog: dict[str, Any], carol: User, api_client: Callable[..., ApiClient]
) -> None:
    hit = search(carol, api_client, q="dep_delay")["items"][0]
    assert hit["project"] == "flight-delays" and hit["owner"] == "alice"
    assert hit["tags"] == ["aviation", "raw"] and hit["matched_columns"] == ["dep_delay"]
    assert hit["latest_version"] == 1 and hit["row_count"] == 1000 and hit["quality_status"] == "not_run"
    assert hit["url"] == reverse("datasets:detail", args=["flight-delays", catalog["flights"].pk])
    assert hit["documentation_url"] == reverse(
        "catalog:dataset_doc", args=["flight-delays", catalog["flights"].pk]
    )


def test_search_is_paginated(
    catalog: dict[str, Any], carol: User, api_client: Callable[..., ApiClient]
) -> None:
    first = search(carol, api_client, limit=2)
    second = search(carol, api_client, limit=2, offset=2)
    assert first["count"] == second["count"] == 3
    assert names(first) + names(second) == ["airports", "flights", "weather_by_airport"]
    expect_error(api_client(carol).get("/catalog/search", limit=501), 422, "validation_error")
    expect_error(ApiClient().get("/catalog/search"), 401, "not_authenticated")


def test_the_search_page(catalog: dict[str, Any], carol: User) -> None:
    client = Client()
    client.force_login(carol)
    html = client.get(reverse("catalog:search"), {"q": "flights"}).content.decode()
    assert "2 datasets" in html and "flights_secret" not in html
    assert reverse("datasets:detail", args=["flight-delays", catalog["flights"].pk]) in html
    assert reverse("catalog:dataset_doc", args=["flight-delays", catalog["flights"].pk]) in html
    assert "?q=flights&amp;tag=aviation" in html  # a facet link keeps the query
    fragment = client.get(
        reverse("catalog:search"), {"q": "dep_delay"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="catalog-results"') and "column <span" in fragment
    empty = client.get(reverse("catalog:search"), {"q": "zzz"}).content.decode()
    assert "No dataset matches" in empty


def test_the_documentation_page(catalog: dict[str, Any], carol: User, dave: User) -> None:
    from modelworks.catalog.lineage import record_run
    from modelworks.catalog.tests.data import CLEAN

    flights = catalog["flights"]
    record_run(flights.project, "clean", inputs=[flights], outputs=[CLEAN])
    client = Client()
    client.force_login(carol)
    url = reverse("catalog:dataset_doc", args=["flight-delays", flights.pk])
    html = client.get(url).content.decode()
    for text in (
        "Every departure of 2024",
        "Minutes late at departure",
        "aviation",
        "Alice Admin",
        "v1",
        "Not checked",
    ):
        assert text in html, text
    assert "Lineage and usage" in html and "Used by" in html and ">clean</a>" in html
    client.force_login(dave)
    assert client.get(url).status_code == 404
    secret = reverse("catalog:dataset_doc", args=["flight-delays", catalog["secret"].pk])
    assert client.get(secret).status_code == 404
