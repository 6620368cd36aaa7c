"""Where a recipe's outputs go is part of what a build is up to date with: changing an output's
storage (connection or schema) or whether it is stored makes the recipe out of date, while recipes
with default settings keep the fingerprint and ``spec_hash`` they always had; and the recipe page
says where each output is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from modelworks.connections import services as connection_services
from modelworks.connections.models import Connection
from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.engine.flow import REASON_CHANGED, fingerprint
from modelworks.flows import services
from modelworks.flows.models import BuildStatus, Recipe, spec_digest
from modelworks.flows.services.graph import OUTPUT_SETTINGS_KEY, fingerprint_spec
from modelworks.flows.services.pushdown import OutputChoice, OutputStorage

pytest_plugins = ["modelworks.core.testing.fixtures"]

SORT_SPEC: dict[str, Any] = {"columns": [{"column": "dep_delay", "direction": "desc"}]}
SPLIT_SPEC: dict[str, Any] = {
    "mode": "condition",
    "conditions": [{"output": "Long", "formula": "distance > 500"}],
    "other": "Short",
}


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
def warehouse(project: Project, alice: User) -> Connection:
    """A PostgreSQL connection of the project (never reached here: only the settings change)."""
    return connection_services.create_connection(
        actor=alice,
        project=project,
        name="Warehouse",
        kind="postgresql",
        config={"host": "db.example.test", "port": 5432, "database": "dwh", "user": "loader"},
        secrets={"password": "not-used-42"},
    )


@pytest.fixture
def sort(project: Project, bob: User, flights: Dataset) -> Recipe:
    return services.create_recipe(
        project,
        actor=bob,
        name="Sort flights",
        kind="sort",
        inputs=[flights],
        outputs=["Sorted"],
        spec=SORT_SPEC,
    )


def _build(project: Project, actor: User) -> None:
    build = services.submit_build(project, actor=actor)
    run_queued_jobs()
    build.refresh_from_db()
    assert build.status == BuildStatus.SUCCEEDED, build.error


def _planned(project: Project) -> dict[str, str]:
    return {step.name: step.reason for step in services.build_plan(project).steps}


def _page(project: Project, user: User, recipe: Recipe) -> str:
    client = Client()
    client.force_login(user)
    return client.get(f"/projects/{project.slug}/flow/recipes/{recipe.pk}/").content.decode()


def test_default_settings_keep_the_fingerprint_and_spec_hash_they_always_had(
    project: Project, bob: User, flights: Dataset, sort: Recipe
) -> None:
    shape = services.RecipeShape.of(Recipe.objects.with_links().get(pk=sort.pk))
    assert shape.output_settings == {} and shape.fingerprint_spec == sort.spec
    versions = {str(flights.pk): str(flights.latest_version.pk)}
    # The fingerprint before output settings existed: kind, spec and input versions only.
    assert services.current_fingerprints(project, [shape]) == {
        str(sort.pk): fingerprint("sort", sort.spec, versions)
    }
    assert sort.spec_hash == spec_digest("sort", sort.spec, ["Flights"], ["Sorted"])
    assert fingerprint_spec({"a": 1}, {"Out": {"virtual": True}}) == {
        "a": 1,
        OUTPUT_SETTINGS_KEY: {"Out": {"virtual": True}},
    }


def test_changing_where_an_output_is_stored_makes_the_recipe_out_of_date(
    project: Project, bob: User, carol: User, sort: Recipe, warehouse: Connection
) -> None:
    _build(project, bob)
    assert _planned(project) == {}
    assert "Up to date" in _page(project, carol, sort)
    sorted_ = sort.output_datasets[0]
    hash_before = Recipe.objects.get(pk=sort.pk).spec_hash

    services.update_recipe(
        sort, actor=bob, outputs=[OutputChoice(sorted_, OutputStorage(warehouse.pk, "marts"))]
    )
    assert _planned(project) == {"Sort flights": REASON_CHANGED}
    page = _page(project, carol, sort)
    assert "Out of date" in page and "PostgreSQL &#x27;Warehouse&#x27;, schema marts" in page
    assert Recipe.objects.get(pk=sort.pk).spec_hash != hash_before

    # Another schema of the same connection is another place too.
    services.update_recipe(
        sort, actor=bob, outputs=[OutputChoice(sorted_, OutputStorage(warehouse.pk, "staging"))]
    )
    staging = services.RecipeShape.of(Recipe.objects.with_links().get(pk=sort.pk)).fingerprint_spec
    assert staging[OUTPUT_SETTINGS_KEY] == {"Sorted": {"connection_id": warehouse.pk, "schema": "staging"}}

    # Back in Modelworks storage: the last build's fingerprint matches again, nothing to rebuild.
    services.update_recipe(sort, actor=bob, outputs=[OutputChoice(sorted_, OutputStorage())])
    assert _planned(project) == {}
    assert Recipe.objects.get(pk=sort.pk).spec_hash == hash_before
    assert "Modelworks storage" in _page(project, carol, sort)


def test_not_storing_an_output_makes_its_recipe_out_of_date_and_the_build_stores_only_the_rest(
    project: Project, bob: User, carol: User, flights: Dataset
) -> None:
    split = services.create_recipe(
        project,
        actor=bob,
        name="Split by distance",
        kind="split",
        inputs=[flights],
        outputs=["Long", "Short"],
        spec=SPLIT_SPEC,
    )
    _build(project, bob)
    assert _planned(project) == {}
    long, short = split.output_datasets
    services.update_recipe(split, actor=bob, virtual_outputs=["Short"])
    assert _planned(project) == {"Split by distance": REASON_CHANGED}
    page = _page(project, carol, split)
    assert "Not stored (virtual)" in page and "Modelworks storage" in page

    _build(project, bob)
    assert DatasetVersion.objects.filter(dataset=long).count() == 2
    assert DatasetVersion.objects.filter(dataset=short).count() == 1  # not stored: no new version
    assert _planned(project) == {}
