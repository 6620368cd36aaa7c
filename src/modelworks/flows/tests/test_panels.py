"""A dataset's page shows where the dataset is used in the Flow (the "In the Flow" panel the flows
app adds through ``MODELWORKS_DATASET_PANELS``), the flow page focuses on a node from there, and
deleting a dataset that recipes use is refused with the recipes named; with the Django test client
on real uploaded datasets."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import make_dataset
from modelworks.flows import services
from modelworks.flows.models import Recipe

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


@pytest.fixture
def recipes(project: Project, bob: User, flights: Dataset) -> dict[str, Recipe]:
    """Flights → sort → Sorted; Flights → distinct → Unique (two readers, two outputs)."""
    sort = services.create_recipe(
        project,
        actor=bob,
        name="Sort flights",
        kind="sort",
        inputs=[flights],
        outputs=["Sorted"],
        spec={"columns": [{"column": "dep_delay", "direction": "desc"}]},
    )
    distinct = services.create_recipe(
        project,
        actor=bob,
        name="Another view",
        kind="distinct",
        inputs=[flights],
        outputs=["Unique"],
        spec={},
    )
    return {"sort": sort, "distinct": distinct}


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(user: User, project: Project, dataset: Dataset) -> str:
    response = _client(user).get(f"/projects/{project.slug}/datasets/{dataset.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _panel(page: str) -> str:
    found = re.search(r"<section class=\"card dataset-flow-panel\".*?</section>", page, re.S)
    assert found, "no 'In the Flow' panel on the page"
    return found.group(0)


def no_panel(request: Any, project: Project, dataset: Dataset) -> None:
    """A panel function with nothing to show for this dataset (used through the setting)."""
    return None


def test_a_source_dataset_lists_the_recipes_that_read_it(
    project: Project, carol: User, flights: Dataset, recipes: dict[str, Recipe]
) -> None:
    panel = _panel(_page(carol, project, flights))
    assert "In the Flow" in panel
    readers = re.findall(r'<li><a href="([^"]+)">([^<]+)</a><span class="muted small">([^<]+)</span>', panel)
    assert readers == [
        (f"/projects/{project.slug}/flow/recipes/{recipes['distinct'].pk}/", "Another view", "Distinct"),
        (f"/projects/{project.slug}/flow/recipes/{recipes['sort'].pk}/", "Sort flights", "Sort"),
    ]
    assert "No recipe: its data is imported (Upload)" in panel
    assert f'href="/projects/{project.slug}/flow/?focus=dataset:{flights.pk}">Show in the Flow</a>' in panel
    assert "cannot be deleted" in panel


def test_an_output_links_to_the_recipe_that_writes_it(
    project: Project, carol: User, recipes: dict[str, Recipe]
) -> None:
    sorted_ = recipes["sort"].output_datasets[0]
    panel = _panel(_page(carol, project, sorted_))
    writer = re.search(r"<dd data-flow-writer>(.*?)</dd>", panel, re.S)
    assert writer is not None
    assert (
        f'<a href="/projects/{project.slug}/flow/recipes/{recipes["sort"].pk}/">Sort flights</a>'
        in writer.group(1)
    )
    assert "Sort recipe" in writer.group(1)
    assert "No recipe yet." in panel  # nothing reads it; carol (reader) is not offered a new recipe
    assert "Prepare it with a new recipe" not in panel


def test_an_unused_dataset_offers_contributors_a_new_recipe(
    project: Project, bob: User, carol: User, flights: Dataset
) -> None:
    panel = _panel(_page(bob, project, flights))
    assert "No recipe yet." in panel and "cannot be deleted" not in panel
    assert f'href="/projects/{project.slug}/flow/recipes/new/prepare/?input={flights.pk}">Prepare it' in panel
    assert "Prepare it with a new recipe" not in _panel(_page(carol, project, flights))


def test_the_panels_come_from_the_setting(
    settings: Any, project: Project, bob: User, flights: Dataset
) -> None:
    settings.MODELWORKS_DATASET_PANELS = ["modelworks.flows.tests.test_panels.no_panel"]
    page = _page(bob, project, flights)
    assert "dataset-flow-panel" not in page and "Columns" in page  # a panel may have nothing to say
    settings.MODELWORKS_DATASET_PANELS = []
    assert "dataset-flow-panel" not in _page(bob, project, flights)


def test_the_datasets_app_does_not_import_the_flows_app() -> None:
    """The flows app builds on the datasets app; the datasets app only names flows in a setting."""
    import modelworks.datasets

    root = Path(modelworks.datasets.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if "tests" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(n == "modelworks.flows" or n.startswith("modelworks.flows.") for n in names):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize(
    ("focus", "selected"),
    [("dataset:{pk}", True), ("dataset:999999", False), ("dataset:{pk}'><script>", False), ("", False)],
)
def test_the_flow_page_focuses_on_a_node(
    project: Project, carol: User, flights: Dataset, recipes: dict[str, Recipe], focus: str, selected: bool
) -> None:
    value = focus.format(pk=flights.pk)
    page = _client(carol).get(f"/projects/{project.slug}/flow/", {"focus": value}).content.decode()
    node = re.search(rf'<a href="[^"]+" class="([^"]+)" data-node="dataset:{flights.pk}"', page)
    assert node is not None
    assert ("is-selected" in node.group(1)) is selected
    assert page.count("is-selected") == (1 if selected else 0)
    if selected or value == "dataset:999999":  # a well-formed focus goes to the script
        assert f'data-flow-focus="{value}"' in page
    else:
        assert "data-flow-focus" not in page and "&gt;&lt;script&gt;" not in page and "'><script>" not in page


@pytest.mark.parametrize("headers", [HTMX, {}])
def test_deleting_a_dataset_used_by_recipes_is_refused_naming_them(
    project: Project, alice: User, flights: Dataset, recipes: dict[str, Recipe], headers: dict[str, str]
) -> None:
    client = _client(alice)
    settings_url = f"/projects/{project.slug}/datasets/{flights.pk}/settings/"
    response = client.post(f"/projects/{project.slug}/datasets/{flights.pk}/delete/", headers=headers)
    if headers:  # HTMX: the browser goes to the settings page (no page swapped into the form)
        assert response.status_code == 204 and response["HX-Redirect"] == settings_url
    else:
        assert response.status_code == 303 and response["Location"] == settings_url
    assert Dataset.objects.filter(pk=flights.pk).exists()
    page = client.get(settings_url).content.decode()
    alert = re.search(r'<div class="alert alert-error" role="alert">\s*<p>(.*?)</p>', page, re.S)
    assert alert is not None
    assert alert.group(1) == (
        "&#x27;Flights&#x27; is used by the recipe(s) &#x27;Another view&#x27;, &#x27;Sort flights&#x27; "
        "of the Flow; delete those recipes or change their inputs and outputs first."
    )
