"""The flows REST API: recipes (CRUD, field-keyed errors, previews), recipe kinds, the flow graph
and its check, builds (submit, follow, conflict, cancel). Permissions per role are covered by the
generated suite (``tests/test_route_permissions.py``); here, what each operation does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelworks.core.models import Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.flows.models import Build, Recipe
from modelworks.flows.testing import CARRIERS_CSV

pytest_plugins = ["modelworks.core.testing.fixtures"]

ApiFor = Callable[[User | None], ApiClient]


@pytest.fixture(autouse=True)
def fresh_home(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    return home


@pytest.fixture
def flights(project: Project, bob: User) -> Dataset:
    return make_dataset(project, bob)


@pytest.fixture
def carriers(project: Project, bob: User) -> Dataset:
    return make_dataset(project, bob, name="Carriers", content=CARRIERS_CSV, file_name="carriers.csv")


def _url(project: Project, rest: str = "") -> str:
    return f"/projects/{project.slug}{rest}"


def _group_body(**change: Any) -> dict[str, Any]:
    return {
        "name": "Delay by carrier",
        "kind": "group",
        "inputs": ["Flights"],
        "outputs": ["Delays"],
        "spec": {"keys": ["carrier"], "aggregations": [{"column": "dep_delay", "function": "max"}]},
        **change,
    }


def test_recipe_crud(project: Project, bob: User, carol: User, flights: Dataset, api_client: ApiFor) -> None:
    api = api_client(bob)
    created = expect(api.post(_url(project, "/recipes"), _group_body(description="Worst delay")), 201)
    assert created["kind"] == "group" and created["project"] == project.slug
    assert created["inputs"] == [{"id": flights.pk, "name": "Flights"}]
    assert [o["name"] for o in created["outputs"]] == ["Delays"]
    assert created["spec_hash"].startswith("sha256:") and created["created_by"]["username"] == "bob"
    recipe_url = _url(project, f"/recipes/{created['id']}")

    listed = expect(api_client(carol).get(_url(project, "/recipes")), 200)
    assert [r["name"] for r in listed["items"]] == ["Delay by carrier"]
    assert expect(api_client(carol).get(recipe_url), 200)["description"] == "Worst delay"

    changed = expect(api.patch(recipe_url, {"name": "Max delay", "inputs": [flights.pk]}), 200)
    assert changed["name"] == "Max delay" and changed["spec_hash"] == created["spec_hash"]

    expect(api.delete(recipe_url), 204)
    expect_error(api.get(recipe_url), 404, "not_found")
    assert Dataset.objects.filter(name="Delays").exists()


BAD_BODIES = [
    ({"inputs": ["Nope"]}, "inputs", "No dataset named 'Nope'"),
    ({"inputs": [99999]}, "inputs", "No dataset 99999"),
    ({"outputs": ["Flights"]}, "outputs", "cannot write its own input"),
    ({"spec": {"keys": ["carier"], "aggregations": [{"function": "count"}]}}, "spec", "carier"),
    ({"kind": "magic"}, "kind", ""),
    ({"colour": "red"}, "colour", ""),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_BODIES)
def test_bad_recipes_answer_422_keyed_by_field(
    project: Project,
    bob: User,
    flights: Dataset,
    api_client: ApiFor,
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    body = expect_error(
        api_client(bob).post(_url(project, "/recipes"), _group_body(**change)), 422, "validation_error"
    )
    assert field in body["details"]
    assert message in " ".join(body["details"][field])
    assert not Recipe.objects.exists()


def test_previews_of_a_draft_and_of_a_saved_recipe(
    project: Project, bob: User, carol: User, flights: Dataset, api_client: ApiFor
) -> None:
    api = api_client(bob)
    draft = {
        "kind": "sort",
        "inputs": ["Flights"],
        "spec": {"columns": [{"column": "distance", "direction": "desc"}]},
    }
    preview = expect(api.post(_url(project, "/recipes/preview"), {**draft, "limit": 2}), 200)
    assert [c["name"] for c in preview["columns"]][:2] == ["flight", "carrier"]
    assert [row[0] for row in preview["rows"]] == ["AF2", "AF1"]

    bad = expect_error(
        api.post(_url(project, "/recipes/preview"), {**draft, "spec": {"columns": ["distanse"]}}),
        422,
        "recipe_missing_column",
    )
    assert "distanse" in bad["message"] and "distance" in bad["message"]
    assert bad["details"]["column"] == "distanse"

    created = expect(api.post(_url(project, "/recipes"), _group_body()), 201)
    saved = expect(api_client(carol).get(_url(project, f"/recipes/{created['id']}/preview")), 200)
    assert {tuple(row) for row in saved["rows"]} == {("AF", 5), ("LH", 45), ("BA", 12)}


def test_recipe_kinds_describe_kinds_and_processors(bob: User, api_client: ApiFor) -> None:
    body = expect(api_client(bob).get("/recipe-kinds"), 200)
    names = {k["name"] for k in body["kinds"]}
    assert {"prepare", "join", "group", "sql", "python", "split"} <= names
    assert len(body["processors"]) >= 30


def test_flow_graph_states_and_check(
    project: Project, bob: User, carol: User, flights: Dataset, api_client: ApiFor
) -> None:
    api = api_client(bob)
    created = expect(api.post(_url(project, "/recipes"), _group_body()), 201)
    flow = expect(api_client(carol).get(_url(project, "/flow")), 200)
    states = {d["name"]: d["state"] for d in flow["datasets"]}
    assert states == {"Flights": "built", "Delays": "never_built"}
    assert flow["recipes"][0]["id"] == created["id"]
    assert {"from": f"recipe:{created['id']}", "to": f"dataset:{created['outputs'][0]['id']}"} in flow[
        "edges"
    ]
    assert len(flow["layout"]["nodes"]) == 3
    assert expect(api_client(carol).get(_url(project, "/flow/check")), 200) == {"ok": True, "problems": []}

    expect(api.post(_url(project, "/builds"), {}), 202)
    run_queued_jobs()
    flow = expect(api.get(_url(project, "/flow")), 200)
    assert {d["name"]: d["state"] for d in flow["datasets"]}["Delays"] == "built"
    assert flow["recipes"][0]["last_build_status"] == "succeeded" and flow["recipes"][0]["up_to_date"]


def test_submit_follow_and_cancel_builds(
    project: Project, bob: User, carol: User, flights: Dataset, api_client: ApiFor
) -> None:
    api = api_client(bob)
    expect(api.post(_url(project, "/recipes"), _group_body()), 201)
    submitted = expect(api.post(_url(project, "/builds"), {"targets": ["Delays"]}), 202)
    assert submitted["status"] == "queued" and submitted["trigger"] == "api" and submitted["job_id"]
    conflict = expect_error(api.post(_url(project, "/builds"), {}), 409, "conflict")
    assert f"Build {submitted['id']}" in conflict["message"]
    expect_error(api.post(_url(project, "/builds"), {"targets": ["Nope"]}), 422, "validation_error")

    run_queued_jobs()
    build = expect(api_client(carol).get(_url(project, f"/builds/{submitted['id']}")), 200)
    assert build["status"] == "succeeded" and build["step_counts"] == {"succeeded": 1}
    (step,) = build["steps"]
    assert step["recipe_name"] == "Delay by carrier" and step["rows"] == {"Delays": 3}
    assert step["output_versions"] == [
        {
            "dataset_id": Dataset.objects.get(name="Delays").pk,
            "dataset": "Delays",
            "number": 1,
            "row_count": 3,
        }
    ]
    assert build["plan"]["steps"][0]["output_names"] == ["Delays"]
    listed = expect(api_client(carol).get(_url(project, "/builds")), 200)
    assert [b["id"] for b in listed["items"]] == [submitted["id"]]
    expect_error(api.post(_url(project, f"/builds/{submitted['id']}/cancel")), 409, "conflict")

    queued = expect(api.post(_url(project, "/builds"), {"force": True}), 202)
    cancelled = expect(api.post(_url(project, f"/builds/{queued['id']}/cancel")), 200)
    assert cancelled["status"] == "cancelled"
    assert Build.objects.get(pk=queued["id"]).status == "cancelled"
