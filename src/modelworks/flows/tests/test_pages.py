"""The flow pages with the Django test client, on real uploaded datasets and real builds: the flow
graph and its states, the recipe editor (operations, generated forms, validation errors, the live
preview), the recipe page, and builds (submit, list, page, cancel)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from modelworks.core.models import Project, User
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset, SourceKind
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.flows import services
from modelworks.flows.models import Build, BuildStatus, Recipe

pytest_plugins = ["modelworks.core.testing.fixtures"]

HTMX = {"HX-Request": "true"}


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


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _flow_url(project: Project, rest: str = "") -> str:
    return f"/projects/{project.slug}/flow/{rest}"


def _sort_recipe(project: Project, bob: User, flights: Dataset, name: str = "Sorted flights") -> Recipe:
    return services.create_recipe(
        project,
        actor=bob,
        name=name,
        kind="sort",
        inputs=[flights],
        outputs=[f"{name} out"],
        spec={"columns": [{"column": "dep_delay", "direction": "desc"}]},
    )


def _prepare_form(flights: Dataset, **extra: str) -> dict[str, Any]:
    """A prepare recipe's editor form: keep rows with distance > 500, then rename carrier."""
    form: dict[str, Any] = {
        "name": "Clean flights",
        "description": "Long flights only",
        "inputs": [str(flights.pk)],
        "outputs": ["Long flights"],
        "step.n": "2",
        "step.0.processor": "filter_formula",
        "step.0.enabled": "1",
        "step.0.p.formula": "distance > 500",
        "step.0.p.action": "keep",
        "step.1.processor": "rename_columns",
        "step.1.enabled": "1",
        "step.1.p.renames": "carrier = airline",
    }
    form.update(extra)
    return form


def _new_version(project: Project, actor: User, dataset: Dataset, content: bytes) -> None:
    from modelworks.datasets.storage import data_store
    from modelworks.engine.io import ImportOptions, import_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source.csv"
        path.write_bytes(content)
        info = import_file(path, store=data_store(), options=ImportOptions(original_name="new.csv"))
    dataset_services.create_version(
        project=project,
        info=info,
        how=SourceKind.UPLOAD,
        how_details={"file_name": "new.csv"},
        actor=actor,
        job=None,
        dataset=dataset,
    )


# ------------------------------------------------------------------------------------------ the flow


def test_an_empty_flow_says_what_to_do_next(project: Project, bob: User, carol: User) -> None:
    page = _client(bob).get(_flow_url(project)).content.decode()
    assert "The flow is empty" in page and f"/projects/{project.slug}/datasets/upload/" in page
    reader = _client(carol).get(_flow_url(project)).content.decode()
    assert "The flow is empty" in reader and "Upload a file" not in reader
    assert 'aria-current="page">Flow</a>' in reader  # the sidebar entry


def test_the_flow_draws_datasets_and_recipes_coloured_by_state(
    project: Project, bob: User, carol: User, flights: Dataset
) -> None:
    recipe = _sort_recipe(project, bob, flights)
    output = recipe.output_datasets[0]
    page = _client(carol).get(_flow_url(project)).content.decode()
    source = re.search(rf'<a [^>]*data-node="dataset:{flights.pk}"[^>]*>', page)
    target = re.search(rf'<a [^>]*data-node="dataset:{output.pk}"[^>]*>', page)
    node = re.search(rf'<a [^>]*data-node="recipe:{recipe.pk}"[^>]*>', page)
    assert source and "state-built" in source.group(0) and f"/datasets/{flights.pk}/" in source.group(0)
    assert target and "state-never_built" in target.group(0)
    assert node and "flow-recipe" in node.group(0) and f"/flow/recipes/{recipe.pk}/" in node.group(0)
    assert page.count('class="flow-edge"') == 2 and 'marker-end="url(#flow-arrow)"' in page
    assert "Never built" in page and "Blocked" in page  # the legend
    assert "New recipe" not in page and "Build all" not in page  # readers only look
    contributor = _client(bob).get(_flow_url(project)).content.decode()
    assert "Build all" in contributor and "Build this" in contributor
    assert "/flow/recipes/new/join/" in contributor and "Combine two or more datasets" in contributor
    # A poll gets the canvas alone.
    fragment = _client(carol).get(_flow_url(project), headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<section id="flow-canvas"') and "<html" not in fragment
    assert 'hx-trigger="every 2s"' not in fragment  # nothing is running, so no polling


def test_the_flow_check_names_the_recipe_and_the_lost_column(
    project: Project, bob: User, carol: User, flights: Dataset
) -> None:
    recipe = _sort_recipe(project, bob, flights)
    check = _client(carol).get(_flow_url(project, "check/"), headers=HTMX).content.decode()
    assert "No problem found" in check
    _new_version(project, bob, flights, b"flight,carrier,distance\nAF1,AF,900\n")
    check = _client(carol).get(_flow_url(project, "check/"), headers=HTMX).content.decode()
    assert recipe.name in check and "column dep_delay" in check and "Edit the recipe" not in check
    assert "Edit the recipe" in _client(bob).get(_flow_url(project, "check/"), headers=HTMX).content.decode()


# ---------------------------------------------------------------------------------------- the editor


def test_the_new_recipe_form_is_generated_from_the_kind(
    project: Project, bob: User, carol: User, flights: Dataset
) -> None:
    url = _flow_url(project, f"recipes/new/group/?input={flights.pk}")
    page = _client(bob).get(url).content.decode()
    assert 'value="group_flights"' in page and 'value="flights_grouped"' in page  # suggested names
    assert f'<option value="{flights.pk}" selected>Flights</option>' in page
    assert 'name="spec.keys" value="carrier"' in page  # a column checklist from the input's columns
    assert (
        'name="spec.aggregations.0.function"' in page
        and '<option value="count_distinct">count distinct</option>' in page
    )
    assert 'name="spec.having"' in page and "(optional)" in page
    assert _client(carol).get(url).status_code == 403
    assert _client(bob).get(_flow_url(project, "recipes/new/teleport/")).status_code == 404


def test_sql_and_python_editors_list_the_inputs_and_start_from_a_template(
    project: Project, bob: User, flights: Dataset
) -> None:
    sql = _client(bob).get(_flow_url(project, f"recipes/new/sql/?input={flights.pk}")).content.decode()
    assert '<code>"Flights"</code>' in sql and 'name="spec.sql"' in sql and "Run preview" in sql
    python = _client(bob).get(_flow_url(project, f"recipes/new/python/?input={flights.pk}")).content.decode()
    assert "from modelworks_recipe import inputs, outputs" in python
    assert (
        "inputs[&#x27;Flights&#x27;].pandas()" in python
        and "outputs[&#x27;flights_py&#x27;].write(df)" in python
    )
    # The code runs in the sandbox only when asked: a button, no automatic preview.
    assert 'id="recipe-preview"' in python and "Run preview" in python
    preview_div = re.search(r'<div id="recipe-preview"[^>]*>', python)
    assert preview_div is not None and "hx-trigger" not in preview_div.group(0)


def test_editor_operations_add_move_toggle_and_remove_steps(
    project: Project, bob: User, flights: Dataset
) -> None:
    client = _client(bob)
    editor = _flow_url(project, "recipes/new/prepare/editor/")
    base = {"name": "Clean", "inputs": [str(flights.pk)], "outputs": ["Clean out"], "step.n": "0"}
    added = client.post(editor, {**base, "op": "add-step:rename_columns"}, headers=HTMX)
    body = added.content.decode()
    assert added.status_code == 200 and added["HX-Trigger-After-Settle"] == "flows-preview"
    assert "<html" not in body and 'name="step.0.processor" value="rename_columns"' in body
    assert 'name="step.n" value="1"' in body and "data-focus-step" in body
    assert '<datalist id="cols-step-0"><option value="flight">string</option>' in body
    form = _prepare_form(flights)
    moved = client.post(editor, {**form, "op": "up-step:1"}, headers=HTMX).content.decode()
    assert moved.index('value="rename_columns"') < moved.index('value="filter_formula"')
    assert ">carrier = airline</textarea>" in moved and 'value="distance &gt; 500"' in moved
    toggled = client.post(editor, {**form, "op": "toggle-step:0"}, headers=HTMX).content.decode()
    assert 'name="step.0.enabled" value="0"' in toggled and "Disabled" in toggled
    removed = client.post(editor, {**form, "op": "del-step:0"}, headers=HTMX).content.decode()
    assert (
        'name="step.n" value="1"' in removed and "filter_formula" not in removed.split("processor-picker")[0]
    )
    # Without JavaScript the same buttons answer the whole page.
    page = client.post(editor, {**form, "op": "down-step:0"}).content.decode()
    assert "<html" in page and page.index('value="rename_columns"') < page.index('value="filter_formula"')


def test_saving_a_prepare_recipe_and_its_validation_errors(
    project: Project, bob: User, carol: User, flights: Dataset
) -> None:
    client = _client(bob)
    url = _flow_url(project, "recipes/new/prepare/")
    empty = client.post(url, _prepare_form(flights, name=""))
    assert empty.status_code == 422 and "Give the recipe a name" in empty.content.decode()
    assert 'aria-invalid="true" aria-describedby="id_name_error"' in empty.content.decode()
    bad = client.post(url, _prepare_form(flights, **{"step.0.p.formula": "distanse > 500"}))
    text = bad.content.decode()
    assert bad.status_code == 422 and "distanse" in text and 'id="spec_error"' in text
    assert 'value="distanse &gt; 500"' in text  # what the user typed is kept
    assert client.post(url, _prepare_form(flights)).status_code == 303
    recipe = Recipe.objects.get(project=project, name="Clean flights")
    steps = recipe.spec["steps"]
    assert [s["processor"] for s in steps] == ["filter_formula", "rename_columns"]
    assert (
        steps[1]["params"]["renames"] == {"carrier": "airline"} and recipe.description == "Long flights only"
    )
    assert [d.name for d in recipe.output_datasets] == ["Long flights"]
    taken = client.post(url, _prepare_form(flights, name="Another"))
    assert taken.status_code == 422 and "already written by recipe" in taken.content.decode()
    assert _client(carol).post(url, _prepare_form(flights, name="Reader's")).status_code == 403


def test_the_preview_shows_typed_rows_or_the_error_naming_step_and_column(
    project: Project, bob: User, flights: Dataset
) -> None:
    client = _client(bob)
    url = _flow_url(project, "recipes/new/prepare/preview/")
    fine = client.post(url, _prepare_form(flights), headers=HTMX).content.decode()
    header = re.findall(
        r'<span class="preview-col">([^<]+)</span><span class="preview-type">([^<]+)</span>', fine
    )
    assert header[:3] == [("flight", "string"), ("airline", "string"), ("dep_delay", "integer")]
    assert 'data-preview-rows="4"' in fine and "LH8" in fine and "BA3" not in fine  # BA3 flies 400 km
    assert '<span class="null">empty</span>' in fine  # LH8 has no delay
    assert 'id="step-1-problem"' in fine and 'hx-swap-oob="true"' in fine
    broken = client.post(
        url, _prepare_form(flights, **{"step.1.p.renames": "carrer = airline"}), headers=HTMX
    ).content.decode()
    assert "data-preview-error" in broken and "preview-table" not in broken
    assert "carrer" in broken and "Step 2:" in broken  # the step and the column are named
    assert (
        _client(bob)
        .post(url, {"name": "x", "step.n": "0"}, headers=HTMX)
        .content.decode()
        .count("Choose the input dataset")
    )


# -------------------------------------------------------------------------------------- recipe page


def test_the_recipe_page_is_read_only_for_readers_and_shows_the_sql(
    project: Project, bob: User, carol: User, flights: Dataset
) -> None:
    recipe = _sort_recipe(project, bob, flights)
    url = _flow_url(project, f"recipes/{recipe.pk}/")
    page = _client(carol).get(url).content.decode()
    assert recipe.name in page and "Never built" in page and "Read only" in page
    assert "Flights" in page and "Sorted flights out" in page
    assert "SQL it runs" in page and "ORDER BY" in page and "FROM &quot;Flights&quot;" in page
    assert "Column: dep_delay, Direction: desc" in page  # settings in words, not JSON
    assert "Edit</a>" not in page and "Delete recipe" not in page
    assert _client(carol).get(url + "edit/").status_code == 403
    edit = _client(bob).get(url + "edit/").content.decode()
    assert 'name="spec.columns.0.column" value="dep_delay"' in edit
    assert '<option value="desc" selected>desc</option>' in edit


def test_editing_and_deleting_a_recipe(project: Project, bob: User, flights: Dataset) -> None:
    recipe = _sort_recipe(project, bob, flights)
    client = _client(bob)
    url = _flow_url(project, f"recipes/{recipe.pk}/")
    form = {
        "name": "By distance",
        "inputs": [str(flights.pk)],
        "outputs": ["Sorted flights out"],
        "spec.columns.n": "1",
        "spec.columns.0.column": "distance",
        "spec.columns.0.direction": "asc",
    }
    assert client.post(url + "edit/", form).status_code == 303
    recipe.refresh_from_db()
    assert recipe.name == "By distance" and recipe.spec["columns"][0]["column"] == "distance"
    missing = client.post(url + "edit/", {**form, "spec.columns.0.column": "altitude"})
    assert missing.status_code == 422 and "altitude" in missing.content.decode()
    refused = client.post(url + "delete/", {})
    assert refused.status_code == 303 and Recipe.objects.filter(pk=recipe.pk).exists()
    assert client.post(url + "delete/", {"confirm": "yes"}).status_code == 303
    assert not Recipe.objects.filter(pk=recipe.pk).exists()
    assert Dataset.objects.filter(project=project, name="Sorted flights out").exists()  # outputs stay


# ------------------------------------------------------------------------------------------- builds


def test_build_a_recipe_follow_it_and_see_the_flow_up_to_date(
    project: Project, bob: User, carol: User, flights: Dataset
) -> None:
    recipe = _sort_recipe(project, bob, flights)
    submit = _flow_url(project, "build/")
    assert _client(carol).post(submit, {"node": f"recipe:{recipe.pk}"}).status_code == 403
    answer = _client(bob).post(submit, {"node": f"recipe:{recipe.pk}"})
    build = Build.objects.get(project=project)
    assert answer.status_code == 303 and answer["Location"] == _flow_url(project, f"builds/{build.pk}/")
    queued = _client(carol).get(answer["Location"]).content.decode()
    assert "Queued" in queued and 'hx-trigger="every 1s"' in queued and "Cancel build" not in queued
    flow = _client(carol).get(_flow_url(project)).content.decode()
    assert f"Build {build.pk} is queued" in flow and 'hx-trigger="every 2s"' in flow
    run_queued_jobs()
    build.refresh_from_db()
    assert build.status == BuildStatus.SUCCEEDED
    done = _client(carol).get(answer["Location"], headers=HTMX).content.decode()
    assert done.lstrip().startswith('<div id="build-live"') and "every 1s" not in done
    assert (
        "Succeeded" in done and recipe.name in done and "5 rows" in done and "Sorted flights out v1" in done
    )
    listing = _client(carol).get(_flow_url(project, "builds/")).content.decode()
    assert f"Build {build.pk}" in listing and "Sorted flights out" in listing and "bob" in listing
    output = recipe.output_datasets[0]
    flow = _client(carol).get(_flow_url(project)).content.decode()
    node = re.search(rf'<a [^>]*data-node="dataset:{output.pk}"[^>]*>', flow)
    assert node and "state-built" in node.group(0)
    # A second build of the same part while one is queued is refused with a plain message.
    _client(bob).post(submit, {"node": f"dataset:{output.pk}"})
    client = _client(bob)
    second = client.post(submit, {"node": f"dataset:{output.pk}"})
    assert second.status_code == 303 and second["Location"] == _flow_url(project)
    assert "may write some of the same datasets" in client.get(second["Location"]).content.decode()


def test_a_queued_build_can_be_cancelled_by_a_contributor(
    project: Project, bob: User, carol: User, flights: Dataset
) -> None:
    _sort_recipe(project, bob, flights)
    build = services.submit_build(project, actor=bob)
    url = _flow_url(project, f"builds/{build.pk}/cancel/")
    assert _client(carol).post(url).status_code == 403
    page = _client(bob).post(url, headers=HTMX).content.decode()
    build.refresh_from_db()
    assert build.status == BuildStatus.CANCELLED and "Cancelled" in page and "Cancel build" not in page
    client = _client(bob)
    again = client.post(url)
    assert again.status_code == 303 and "already ended" in client.get(again["Location"]).content.decode()
