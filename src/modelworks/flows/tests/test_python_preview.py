"""Previewing Python recipes: the code runs in the real bubblewrap sandbox on a sample of each input,
from the API (draft and saved recipe) and from the editor, which shows the first rows and what the
code printed, or the error with the code's traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from modelworks.core.models import Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error
from modelworks.datasets.models import Dataset
from modelworks.datasets.storage import data_store
from modelworks.datasets.testing import make_dataset
from modelworks.engine.recipes.python.sandbox import INSTALL_HINT, find_bwrap
from modelworks.flows import services

pytest_plugins = ["modelworks.core.testing.fixtures"]

ApiFor = Callable[[User | None], ApiClient]

#: 12,000 flights, so the 10,000-row sample is visible in the counts.
MANY_FLIGHTS = b"flight,carrier,dep_delay\n" + b"".join(
    f"F{i},{('AF', 'LH', 'BA')[i % 3]},{i % 60}\n".encode() for i in range(12_000)
)
LATE = """from modelworks_recipe import inputs, outputs
df = inputs["Flights"].pandas()
print("sampled", len(df))
late = df[df["dep_delay"] > 30]
outputs["Late flights"].write(late)
outputs["Per carrier"].write(late.groupby("carrier", as_index=False).size())
"""
BROKEN = """from modelworks_recipe import inputs, outputs
df = inputs["Flights"].pandas()
print("columns", list(df.columns))
df["arr_delay"].mean()
"""


@pytest.fixture(scope="module", autouse=True)
def _bubblewrap_installed() -> None:
    if find_bwrap() is None:
        pytest.skip(f"{INSTALL_HINT} (./mw test installs it)")


@pytest.fixture(autouse=True)
def fresh_home(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    return home


@pytest.fixture
def flights(project: Project, bob: User) -> Dataset:
    return make_dataset(project, bob, content=MANY_FLIGHTS)


def _draft(code: str, **change: Any) -> dict[str, Any]:
    return {
        "kind": "python",
        "inputs": ["Flights"],
        "outputs": ["Late flights", "Per carrier"],
        "spec": {"code": code},
        **change,
    }


def _scratch_is_empty() -> bool:
    scratch = Path(data_store().root) / "scratch"
    return not scratch.exists() or not any(scratch.iterdir())


def test_the_api_previews_a_draft_on_a_sample_and_shows_what_it_printed(
    project: Project, bob: User, flights: Dataset, api_client: ApiFor
) -> None:
    api = api_client(bob)
    late = expect(api.post(f"/projects/{project.slug}/recipes/preview", {**_draft(LATE), "limit": 3}), 200)
    assert [c["name"] for c in late["columns"]] == ["flight", "carrier", "dep_delay"]
    assert late["rows"] == [["F31", "LH", 31], ["F32", "BA", 32], ["F33", "AF", 33]]
    # Of the first 10,000 flights, delays 31..59 are late: 29 of every 60.
    assert late["row_count_sampled"] == sum(1 for i in range(10_000) if i % 60 > 30)
    assert "sampled 10000" in late["log"]
    per_carrier = expect(
        api.post(f"/projects/{project.slug}/recipes/preview", _draft(LATE, output="Per carrier")), 200
    )
    assert {row[0] for row in per_carrier["rows"]} == {"AF", "LH", "BA"}
    assert _scratch_is_empty()


def test_an_error_in_the_code_answers_its_traceback_and_log(
    project: Project, bob: User, flights: Dataset, api_client: ApiFor
) -> None:
    error = expect_error(
        api_client(bob).post(f"/projects/{project.slug}/recipes/preview", _draft(BROKEN)),
        422,
        "python_user_error",
    )
    assert "arr_delay" in error["message"]
    assert "line 4" in error["details"]["traceback"]
    assert "columns ['flight', 'carrier', 'dep_delay']" in error["details"]["log"]
    assert _scratch_is_empty()


def test_a_saved_python_recipe_is_previewed_by_readers(
    project: Project, bob: User, carol: User, flights: Dataset, api_client: ApiFor
) -> None:
    recipe = services.create_recipe(
        project,
        actor=bob,
        name="Late",
        kind="python",
        inputs=[flights],
        outputs=["Late flights", "Per carrier"],
        spec={"code": LATE},
    )
    shown = expect(
        api_client(carol).get(f"/projects/{project.slug}/recipes/{recipe.pk}/preview?output=Per carrier"), 200
    )
    assert sorted(row[0] for row in shown["rows"]) == ["AF", "BA", "LH"]


def test_the_editor_runs_the_preview_when_asked_and_shows_rows_log_or_traceback(
    project: Project, bob: User, flights: Dataset
) -> None:
    client = Client()
    client.force_login(bob)
    url = f"/projects/{project.slug}/flow/recipes/new/python/preview/"
    form = {
        "name": "Late",
        "inputs": [str(flights.pk)],
        "outputs": ["Late flights", "Per carrier"],
        "spec.code": LATE,
    }
    page = client.post(url, form, headers={"HX-Request": "true"}).content.decode()
    late = sum(1 for i in range(10_000) if i % 60 > 30)
    assert 'data-preview-rows="50"' in page and f"of {late} computed on a sample" in page
    assert "data-preview-log" in page and "sampled 10000" in page
    assert "<td>F31</td>" in page

    failed = client.post(url, {**form, "spec.code": BROKEN}, headers={"HX-Request": "true"}).content.decode()
    assert 'data-error-code="python_user_error"' in failed
    traceback = failed.split("data-preview-traceback>")[1].split("</pre>")[0]
    assert "line 4" in traceback and "arr_delay" in traceback
    printed = failed.split("data-preview-log>")[1].split("</pre>")[0]
    assert escape("columns ['flight', 'carrier', 'dep_delay']") in printed


def test_a_python_preview_reading_a_dataset_that_is_not_stored_is_refused(
    project: Project, bob: User, flights: Dataset, api_client: ApiFor
) -> None:
    services.create_recipe(
        project,
        actor=bob,
        name="Sorted",
        kind="sort",
        inputs=[flights],
        outputs=["Sorted flights"],
        spec={"columns": [{"column": "dep_delay"}]},
        virtual_outputs=["Sorted flights"],
    )
    error = expect_error(
        api_client(bob).post(
            f"/projects/{project.slug}/recipes/preview",
            {**_draft(LATE), "inputs": ["Sorted flights"], "outputs": ["Late flights"]},
        ),
        422,
        "validation_error",
    )
    assert "'Sorted flights' is not stored" in str(error)
