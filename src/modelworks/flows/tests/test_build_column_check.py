"""A build of several steps checks every step's columns before anything runs: a column lost
upstream fails the build at once, naming the column and the recipe, and no step runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import make_dataset
from modelworks.flows import services
from modelworks.flows.models import BuildStatus, Recipe, StepStatus
from modelworks.flows.testing import staging_files, stored_objects
from modelworks.flows.tests.test_builds import _build, _new_version, _versions

pytest_plugins = ["modelworks.core.testing.fixtures"]

WITHOUT_DELAY = b"flight,carrier,distance,day\nAF1,AF,900,2024-01-01\nLH7,LH,700,2024-01-02\n"


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


def _chain(project: Project, bob: User, flights: Dataset, *, virtual_middle: bool) -> dict[str, Recipe]:
    """Flights → Long (filter on distance) → Scored (a formula on dep_delay) → Ranked (sort)."""
    long = services.create_recipe(
        project,
        actor=bob,
        name="Long",
        kind="prepare",
        inputs=[flights],
        outputs=["Long"],
        spec={
            "steps": [
                {"processor": "filter_formula", "params": {"formula": "distance > 500", "action": "keep"}}
            ]
        },
    )
    scored = services.create_recipe(
        project,
        actor=bob,
        name="Scored",
        kind="prepare",
        inputs=[long.output_datasets[0]],
        outputs=["Scored"],
        spec={"steps": [{"processor": "formula", "params": {"output": "late", "formula": "dep_delay > 10"}}]},
        virtual_outputs=["Scored"] if virtual_middle else [],
    )
    ranked = services.create_recipe(
        project,
        actor=bob,
        name="Ranked",
        kind="sort",
        inputs=[scored.output_datasets[0]],
        outputs=["Ranked"],
        spec={"columns": [{"column": "distance", "direction": "desc"}]},
    )
    return {"long": long, "scored": scored, "ranked": ranked}


def test_a_column_lost_two_steps_upstream_fails_the_build_before_anything_runs(
    project: Project, bob: User, flights: Dataset
) -> None:
    chain = _chain(project, bob, flights, virtual_middle=False)
    assert _build(project, bob).status == BuildStatus.SUCCEEDED
    _new_version(project, bob, flights, WITHOUT_DELAY)  # 'Long' passes every column through
    objects = stored_objects()

    build = _build(project, bob)

    assert build.status == BuildStatus.FAILED
    assert "Recipe 'Scored'" in build.error and "'dep_delay'" in build.error
    assert "found before anything ran: no recipe was run and no version was written" in build.error
    steps = {s.recipe_name: s for s in build.steps.all()}
    assert steps["Scored"].status == StepStatus.FAILED
    assert steps["Scored"].error_details["code"] == "recipe_missing_column"
    assert steps["Long"].status == StepStatus.SKIPPED and "recipe 'Scored' would fail" in steps["Long"].error
    assert steps["Ranked"].status == StepStatus.SKIPPED
    assert all(s.started_at is None for s in steps.values())  # none of them ran
    for recipe in chain.values():
        assert _versions(recipe.output_datasets[0]) == [1]
    assert stored_objects() == objects and staging_files() == []


def test_a_virtual_recipes_lost_column_fails_the_step_that_computes_it(
    project: Project, bob: User, flights: Dataset
) -> None:
    chain = _chain(project, bob, flights, virtual_middle=True)
    assert _build(project, bob).status == BuildStatus.SUCCEEDED
    _new_version(project, bob, flights, WITHOUT_DELAY)

    build = _build(project, bob)

    assert build.status == BuildStatus.FAILED
    assert "Recipe 'Scored'" in build.error and "'dep_delay'" in build.error
    steps = {s.recipe_name: s for s in build.steps.all()}
    assert steps["Scored"].status == StepStatus.UP_TO_DATE, steps["Scored"].reason  # computed inside 'Ranked'
    assert steps["Ranked"].status == StepStatus.FAILED and "'dep_delay'" in steps["Ranked"].error
    assert steps["Long"].status == StepStatus.SKIPPED
    assert _versions(chain["long"].output_datasets[0]) == [1]
    assert _versions(chain["ranked"].output_datasets[0]) == [1]


def test_a_python_recipe_whose_columns_are_only_known_once_it_runs_is_checked_from_its_last_output(
    project: Project, bob: User, flights: Dataset
) -> None:
    code = (
        "from modelworks_recipe import inputs, outputs\n"
        "df = inputs['Flights'].pandas()\n"
        "df['distance_km'] = df['distance'] * {factor}\n"
        "outputs['Flights km'].write(df[['flight', 'distance_km']])\n"
    )
    python = services.create_recipe(
        project,
        actor=bob,
        name="To km",
        kind="python",
        inputs=[flights],
        outputs=["Flights km"],
        spec={"code": code.format(factor=1.609)},
    )
    assert _build(project, bob).status == BuildStatus.SUCCEEDED
    far = services.create_recipe(
        project,
        actor=bob,
        name="Far",
        kind="sql",
        inputs=[python.output_datasets[0]],
        outputs=["Far"],
        spec={"sql": 'SELECT flight FROM "Flights km" WHERE distance_km > 1000'},
    )
    services.update_recipe(python, actor=bob, spec={"code": code.format(factor=1.61)})

    build = _build(project, bob)  # both steps run: the check reads the Python output's last columns

    assert build.status == BuildStatus.SUCCEEDED, build.error
    assert build.steps.get(recipe=python).status == StepStatus.SUCCEEDED
    assert build.steps.get(recipe=far).rows == {"Far": 4}
