"""Recipe history on real datasets: a revision for every create, change, rename and delete (in the
same transaction), readable diffs, reverts checked like edits and audited, the API and the page."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from modelworks.connections import services as connection_services
from modelworks.connections.models import Connection
from modelworks.core.models import AuditEvent, Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset, SourceKind
from modelworks.datasets.storage import data_store
from modelworks.datasets.testing import make_dataset
from modelworks.engine.io import ImportOptions, import_file
from modelworks.flows import services
from modelworks.flows.models import Recipe, RecipeOutput, RecipeRevision
from modelworks.flows.services import history
from modelworks.flows.services.pushdown import OutputChoice, OutputStorage
from modelworks.flows.testing import CARRIERS_CSV

pytest_plugins = ["modelworks.core.testing.fixtures"]

ApiFor = Callable[[User | None], ApiClient]
NO_DELAY_CSV = b"flight,carrier,distance\nAF1,AF,900\nLH7,LH,700\n"


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


@pytest.fixture
def recipe(project: Project, bob: User, flights: Dataset) -> Recipe:
    return services.create_recipe(
        project,
        actor=bob,
        name="Sort flights",
        kind="sort",
        inputs=[flights],
        outputs=["Sorted"],
        spec={"columns": [{"column": "dep_delay", "direction": "desc"}]},
        description="Worst first.",
    )


def _sort_by(column: str, direction: str = "asc") -> dict[str, Any]:
    return {"columns": [{"column": column, "direction": direction}]}


def _revisions(recipe_pk: int) -> list[tuple[int, str]]:
    return list(
        RecipeRevision.objects.filter(recipe_pk=recipe_pk).order_by("number").values_list("number", "change")
    )


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client: Client, url: str, data: dict[str, str], then: str) -> str:
    """POST a form, check it redirects to ``then`` (303), and return that page with its messages."""
    response = client.post(url, data)
    assert response.status_code == 303 and response["Location"] == then, response
    return client.get(then).content.decode()


def _history_url(project: Project, pk: int) -> str:
    return f"/projects/{project.slug}/flow/recipes/{pk}/history/"


# ---------------------------------------------------------------------------------------------- services


def test_every_create_change_rename_and_delete_writes_one_revision(
    project: Project, bob: User, alice: User, recipe: Recipe
) -> None:
    first = RecipeRevision.objects.get(recipe_pk=recipe.pk, number=1)
    assert (first.change, first.name, first.kind, first.created_by) == (
        "created",
        "Sort flights",
        "sort",
        bob,
    )
    assert (first.inputs, first.outputs, first.description) == (["Flights"], ["Sorted"], "Worst first.")
    assert first.spec == Recipe.objects.get(pk=recipe.pk).spec

    services.update_recipe(recipe, actor=alice, spec=_sort_by("distance"))
    services.update_recipe(recipe, actor=alice, spec=_sort_by("distance"))  # no change: no revision
    services.update_recipe(recipe, actor=bob, name="Sort by distance")
    assert _revisions(recipe.pk) == [(1, "created"), (2, "updated"), (3, "renamed")]
    assert RecipeRevision.objects.get(recipe_pk=recipe.pk, number=2).created_by == alice

    pk = recipe.pk
    services.delete_recipe(Recipe.objects.get(pk=pk), actor=alice)
    assert _revisions(pk) == [(1, "created"), (2, "updated"), (3, "renamed"), (4, "deleted")]
    kept = history.revisions_of(project, pk)
    assert [r.number for r in kept] == [4, 3, 2, 1]
    assert all(r.recipe_id is None and r.recipe_pk == pk for r in kept)
    assert kept[0].recipe_name == "Sort by distance" and kept[0].created_by == alice


def test_a_refused_change_writes_no_revision(project: Project, bob: User, recipe: Recipe) -> None:
    with pytest.raises(ValidationError, match="no_such_column"):
        services.update_recipe(recipe, actor=bob, spec=_sort_by("no_such_column"))
    assert _revisions(recipe.pk) == [(1, "created")]


def test_diff_shows_the_changed_lines_of_the_canonical_yaml(bob: User, recipe: Recipe) -> None:
    services.update_recipe(recipe, actor=bob, spec=_sort_by("distance"), description="Longest\nfirst.")
    one, two = RecipeRevision.objects.filter(recipe_pk=recipe.pk).order_by("number")
    diff = history.diff_revisions(one, two)
    lines = diff.splitlines()
    assert lines[:2] == ["--- revision 1", "+++ revision 2"]
    assert "-    - column: dep_delay" in lines and "+    - column: distance" in lines
    assert "-      direction: desc" in lines and "+      direction: asc" in lines
    assert "-description: Worst first." in lines
    assert "+description: |-" in lines and "+  Longest" in lines and "+  first." in lines
    assert not any(line.startswith(("+", "-")) and "Sorted" in line for line in lines[2:])

    created = history.diff_revisions(None, one).splitlines()
    assert created[:2] == ["--- (nothing)", "+++ revision 1"]
    assert "+name: Sort flights" in created and "+kind: sort" in created
    assert history.diff_revisions(two, two) == ""
    kinds = {kind for kind, _ in history.diff_lines(diff)}
    assert kinds == {"head", "hunk", "add", "del", "ctx"}


def test_revert_restores_a_revision_through_update_and_is_audited(
    project: Project, bob: User, carriers: Dataset, recipe: Recipe
) -> None:
    services.update_recipe(
        recipe,
        actor=bob,
        name="Sort carriers",
        inputs=[carriers],
        outputs=["Sorted carriers"],
        spec=_sort_by("code"),
    )
    reverted, revision = history.revert_recipe(recipe, to=1, actor=bob)
    assert (revision.number, revision.change, revision.reverted_from) == (3, "reverted", 1)
    assert reverted.name == "Sort flights"
    assert [d.name for d in reverted.input_datasets] == ["Flights"]
    assert [d.name for d in reverted.output_datasets] == ["Sorted"]
    assert reverted.spec == RecipeRevision.objects.get(recipe_pk=recipe.pk, number=1).spec
    assert history.diff_revisions(RecipeRevision.objects.get(recipe_pk=recipe.pk, number=1), revision) == ""
    event = AuditEvent.objects.filter(action="flows.recipe_reverted").get()
    assert (event.outcome, event.actor, event.details) == ("success", bob, {"to": 1, "revision": 3})


def _lose_delay_column(project: Project, bob: User, recipe: Recipe, flights: Dataset) -> None:
    """The recipe now sorts by distance, and a new version of Flights has no dep_delay column."""
    services.update_recipe(recipe, actor=bob, spec=_sort_by("distance"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "v2.csv"
        path.write_bytes(NO_DELAY_CSV)
        info = import_file(path, store=data_store(), options=ImportOptions(original_name="v2.csv"))
    dataset_services.create_version(
        project=project,
        info=info,
        how=SourceKind.UPLOAD,
        how_details={"file_name": "v2.csv", "options": {}},
        actor=bob,
        job=None,
        dataset=flights,
    )


def _drop_carriers(project: Project, bob: User, recipe: Recipe, carriers: Dataset) -> None:
    services.update_recipe(recipe, actor=bob, inputs=[carriers], spec=_sort_by("code"))
    services.update_recipe(
        recipe, actor=bob, inputs=[Dataset.objects.get(name="Flights")], spec=_sort_by("flight")
    )
    dataset_services.delete_dataset(Dataset.objects.get(pk=carriers.pk), actor=bob)


@pytest.mark.parametrize(
    ("prepare", "to", "match"),
    [
        (None, 99, "has no revision 99"),
        (None, 1, "already matches revision 1"),
        ("lose_column", 1, "dep_delay"),
        ("drop_input", 2, "read dataset 'Carriers', which no longer exists"),
    ],
)
def test_a_revert_that_no_longer_fits_is_refused_and_audited(
    project: Project,
    bob: User,
    flights: Dataset,
    carriers: Dataset,
    recipe: Recipe,
    prepare: str | None,
    to: int,
    match: str,
) -> None:
    if prepare == "lose_column":
        _lose_delay_column(project, bob, recipe, flights)
    elif prepare == "drop_input":
        _drop_carriers(project, bob, recipe, carriers)
    before = _revisions(recipe.pk)
    spec = Recipe.objects.get(pk=recipe.pk).spec
    with pytest.raises(ValidationError, match=match):
        history.revert_recipe(recipe, to=to, actor=bob)
    assert _revisions(recipe.pk) == before
    assert Recipe.objects.get(pk=recipe.pk).spec == spec
    event = AuditEvent.objects.filter(action="flows.recipe_reverted").get()
    assert (
        event.outcome == "failure"
        and event.details["to"] == to
        and match.split("'")[0] in event.details["error"]
    )


# ------------------------------------------------------------------------------------- output settings


def _warehouse(project: Project, alice: User, name: str = "Warehouse") -> Connection:
    return connection_services.create_connection(
        actor=alice,
        project=project,
        name=name,
        kind="postgresql",
        config={"host": "db.example.test", "port": 5432, "database": "dwh", "user": "loader"},
        secrets={"password": "not-used-42"},
    )


def _storage(recipe: Recipe) -> list[tuple[str, int | None, str, bool]]:
    return [
        (link.dataset.name, link.storage_connection_id, link.storage_schema, link.virtual)
        for link in RecipeOutput.objects.filter(recipe=recipe).select_related("dataset").order_by("position")
    ]


def test_revisions_record_output_settings_and_reverts_restore_them(
    project: Project, alice: User, bob: User, recipe: Recipe
) -> None:
    warehouse = _warehouse(project, alice)
    sorted_ = recipe.output_datasets[0]
    services.update_recipe(
        recipe, actor=bob, outputs=[OutputChoice(sorted_, OutputStorage(warehouse.pk, "marts"))]
    )
    services.update_recipe(recipe, actor=bob, virtual_outputs=["Sorted"])
    assert _revisions(recipe.pk) == [(1, "created"), (2, "updated"), (3, "updated")]
    second, third = (RecipeRevision.objects.get(recipe_pk=recipe.pk, number=n) for n in (2, 3))
    assert second.output_settings == {
        "Sorted": {"storage": {"connection": "Warehouse", "connection_id": warehouse.pk, "schema": "marts"}}
    }
    assert third.output_settings == {"Sorted": {"virtual": True}}
    assert RecipeRevision.objects.get(recipe_pk=recipe.pk, number=1).output_settings == {}
    assert "+  Sorted:\n+    storage:\n+      connection: Warehouse" in history.diff_revisions(
        RecipeRevision.objects.get(recipe_pk=recipe.pk, number=1), second
    )

    history.revert_recipe(recipe, to=2, actor=bob)
    assert _storage(recipe) == [("Sorted", warehouse.pk, "marts", False)]
    history.revert_recipe(recipe, to=1, actor=bob)
    assert _storage(recipe) == [("Sorted", None, "modelworks", False)]
    history.revert_recipe(recipe, to=3, actor=bob)
    assert _storage(recipe) == [("Sorted", None, "modelworks", True)]

    # A connection renamed since is still found (by id); one that is gone refuses the revert.
    warehouse.name = "Old warehouse"
    warehouse.save(update_fields=["name"])
    history.revert_recipe(recipe, to=2, actor=bob)
    assert _storage(recipe) == [("Sorted", warehouse.pk, "marts", False)]
    history.revert_recipe(recipe, to=1, actor=bob)
    Connection.objects.filter(pk=warehouse.pk).delete()
    with pytest.raises(ValidationError, match="stored output 'Sorted' in PostgreSQL connection 'Warehouse'"):
        history.revert_recipe(recipe, to=2, actor=bob)
    assert _storage(recipe) == [("Sorted", None, "modelworks", False)]


def test_a_revision_older_than_output_settings_keeps_the_storage_on_revert(
    project: Project, alice: User, bob: User, recipe: Recipe
) -> None:
    warehouse = _warehouse(project, alice)
    services.update_recipe(recipe, actor=bob, spec=_sort_by("distance"))
    services.update_recipe(
        recipe,
        actor=bob,
        outputs=[OutputChoice(recipe.output_datasets[0], OutputStorage(warehouse.pk, "marts"))],
    )
    RecipeRevision.objects.filter(recipe_pk=recipe.pk, number=1).update(output_settings=None)
    reverted, _ = history.revert_recipe(recipe, to=1, actor=bob)
    assert reverted.spec == RecipeRevision.objects.get(recipe_pk=recipe.pk, number=1).spec
    assert _storage(recipe) == [("Sorted", warehouse.pk, "marts", False)]


# --------------------------------------------------------------------------------------------------- API


def test_api_lists_revisions_shows_a_diff_and_reverts(
    project: Project, bob: User, carol: User, recipe: Recipe, api_client: ApiFor
) -> None:
    services.update_recipe(recipe, actor=bob, spec=_sort_by("distance"))
    base = f"/projects/{project.slug}/recipes/{recipe.pk}/revisions"
    listed = expect(api_client(carol).get(base), 200)
    assert [(r["number"], r["change"]) for r in listed["items"]] == [(2, "updated"), (1, "created")]
    assert listed["items"][0]["created_by"]["username"] == "bob"
    assert listed["items"][1]["spec"]["columns"][0]["column"] == "dep_delay"

    two = expect(api_client(carol).get(f"{base}/2"), 200)
    assert two["previous"] == 1 and "+    - column: distance" in two["diff"].splitlines()
    assert two["yaml"].startswith("name: Sort flights\nkind: sort\n")
    expect_error(api_client(carol).get(f"{base}/7"), 404, "not_found")
    expect_error(api_client(carol).post(f"{base}/1/revert"), 403, "permission_denied")

    reverted = expect(api_client(bob).post(f"{base}/1/revert"), 200)
    assert (reverted["number"], reverted["change"], reverted["reverted_from"]) == (3, "reverted", 1)
    assert "-    - column: distance" in reverted["diff"].splitlines()
    refused = expect_error(api_client(bob).post(f"{base}/1/revert"), 422, "validation_error")
    assert "already matches revision 1" in refused["message"]


def test_api_keeps_the_history_of_a_deleted_recipe(
    project: Project, bob: User, carol: User, recipe: Recipe, api_client: ApiFor
) -> None:
    pk = recipe.pk
    services.delete_recipe(recipe, actor=bob)
    base = f"/projects/{project.slug}/recipes/{pk}/revisions"
    listed = expect(api_client(carol).get(base), 200)
    assert [(r["number"], r["change"], r["recipe_id"]) for r in listed["items"]] == [
        (2, "deleted", pk),
        (1, "created", pk),
    ]
    assert expect(api_client(carol).get(f"{base}/2"), 200)["diff"] == ""
    expect_error(api_client(bob).post(f"{base}/1/revert"), 404, "not_found")
    expect_error(
        api_client(carol).get(f"/projects/{project.slug}/recipes/{pk + 100}/revisions"), 404, "not_found"
    )


# ------------------------------------------------------------------------------------------------- pages


def test_history_page_shows_escaped_coloured_diffs_and_reverts_after_confirmation(
    project: Project, bob: User, carol: User, recipe: Recipe
) -> None:
    services.update_recipe(recipe, actor=bob, description="<script>alert(1)</script>")
    url = _history_url(project, recipe.pk)
    page = _client(carol).get(url).content.decode()
    assert "History of Sort flights" in page and "Revision 2" in page and "Revision 1" in page
    assert (
        '<span class="diff-line diff-add">+description: &lt;script&gt;alert(1)&lt;/script&gt;</span>' in page
    )
    assert '<span class="diff-line diff-del">-description: Worst first.</span>' in page
    assert "<script>alert" not in page and "style=" not in page
    assert "Revert</button>" not in page  # readers cannot revert
    assert "Revert</button>" in _client(bob).get(url).content.decode()
    recipe_page = _client(carol).get(f"/projects/{project.slug}/flow/recipes/{recipe.pk}/").content.decode()
    assert f'href="{url}"' in recipe_page

    revert = f"{url}1/revert/"
    unconfirmed = _post(_client(bob), revert, {}, url)
    assert "to confirm" in unconfirmed and _revisions(recipe.pk) == [(1, "created"), (2, "updated")]
    done = _post(_client(bob), revert, {"confirm": "yes"}, url)
    assert "Recipe reverted to revision 1 (saved as revision 3)" in done
    assert _revisions(recipe.pk)[-1] == (3, "reverted")
    assert Recipe.objects.get(pk=recipe.pk).description == "Worst first."
    again = _post(_client(bob), revert, {"confirm": "yes"}, url)
    assert "already matches revision 1" in again

    pk = recipe.pk
    services.delete_recipe(Recipe.objects.get(pk=pk), actor=bob)
    gone = _client(carol).get(_history_url(project, pk)).content.decode()
    assert "This recipe was deleted; its history is kept." in gone and "Revision 4" in gone
    assert _client(carol).get(_history_url(project, pk + 100)).status_code == 404
