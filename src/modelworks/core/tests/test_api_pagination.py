"""Pagination of every list: ``items``, ``count``, ``limit``, ``offset``; at most 500 per page."""

from __future__ import annotations

from modelworks.core import services
from modelworks.core.models import User
from modelworks.core.testing.client import expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures"]


def _make_projects(owner: User, n: int) -> None:
    for i in range(n):
        services.create_project(actor=owner, slug=f"p{i:03d}", name=f"Project {i:03d}")


def test_pages_walk_the_whole_list(api_client, bob: User) -> None:
    _make_projects(bob, 7)
    client = api_client(bob)
    seen: list[str] = []
    offset = 0
    while True:
        page = expect(client.get("/projects", limit=3, offset=offset), 200)
        assert set(page) == {"items", "count", "limit", "offset"}
        assert page["count"] == 7 and page["limit"] == 3 and page["offset"] == offset
        seen += [p["slug"] for p in page["items"]]
        offset += 3
        if offset >= page["count"]:
            break
    assert seen == [f"p{i:03d}" for i in range(7)]


def test_default_limit_is_50(api_client, bob: User) -> None:
    _make_projects(bob, 55)
    page = expect(api_client(bob).get("/projects"), 200)
    assert page["limit"] == 50 and len(page["items"]) == 50 and page["count"] == 55


def test_offset_past_the_end_gives_an_empty_page(api_client, bob: User) -> None:
    _make_projects(bob, 2)
    page = expect(api_client(bob).get("/projects", offset=10), 200)
    assert page["items"] == [] and page["count"] == 2


def test_limit_above_500_is_refused_not_cut(api_client, bob: User) -> None:
    client = api_client(bob)
    expect(client.get("/projects", limit=500), 200)
    body = expect_error(client.get("/projects", limit=501), 422, "validation_error")
    assert "limit" in body["details"] and "500" in body["details"]["limit"][0]
    expect_error(client.get("/projects", limit=0), 422, "validation_error")
    expect_error(client.get("/projects", offset=-1), 422, "validation_error")


def test_every_list_operation_is_paginated() -> None:
    """Each GET operation answering a list uses the one pagination shape (checked on the schema)."""
    from modelworks.config.api import api

    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        get = methods.get("get")
        if get is None:
            continue
        ok = {str(status): value for status, value in get["responses"].items()}["200"]
        if "application/json" not in ok.get("content", {"application/json": None}):
            continue  # a file download (e.g. a CSV export), not a JSON list
        ref = ok["content"]["application/json"]["schema"].get("$ref", "")
        name = ref.rsplit("/", 1)[-1]
        params = {p["name"] for p in get.get("parameters", [])}
        if name.startswith("Paged"):
            fields = set(schema["components"]["schemas"][name]["properties"])
            assert fields == {"items", "count", "limit", "offset"}, path
            assert {"limit", "offset"} <= params, path
        else:
            assert ok["content"]["application/json"]["schema"].get("type") != "array", path
