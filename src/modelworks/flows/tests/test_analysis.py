"""What the editor and the recipe page know before a recipe runs (``services.analysis``): the SQL a
recipe compiles to, the columns before each Prepare step with each step's problem, and the preview's
error keeping the engine's step and column; on real uploaded datasets and real DuckDB."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from modelworks.core.models import Project, User
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset, SourceKind
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.flows import services
from modelworks.flows.models import BuildStatus, StepStatus
from modelworks.flows.services.analysis import _steps_one_by_one
from modelworks.flows.testing import CARRIERS_CSV

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


def _step(processor: str, enabled: bool = True, **params: Any) -> dict[str, Any]:
    return {"processor": processor, "params": params, "enabled": enabled}


def _draft(project: Project, inputs: list[Dataset], steps: list[Any], **kw: Any) -> services.RecipeDraft:
    return services.RecipeDraft(
        project=project,
        kind=kw.pop("kind", "prepare"),
        spec=kw.pop("spec", {"steps": steps}),
        inputs=tuple(inputs),
        outputs=tuple(kw.pop("outputs", ["Clean flights"])),
        name=kw.pop("name", "Clean"),
    )


def _names(columns: Any) -> list[str]:
    return [c.name for c in columns]


# ------------------------------------------------------------------------------------ recipe_sql


def test_recipe_sql_of_a_saved_recipe_reads_tables_named_like_its_inputs(
    project: Project, bob: User, flights: Dataset
) -> None:
    carriers = make_dataset(project, bob, name="Carriers", content=CARRIERS_CSV, file_name="carriers.csv")
    recipe = services.create_recipe(
        project,
        actor=bob,
        name="Enrich",
        kind="join",
        inputs=[flights, carriers],
        outputs=["Enriched"],
        spec={"joins": [{"type": "left", "on": [{"left": "carrier", "right": "code"}]}]},
    )
    [(output, sql)] = services.recipe_sql(recipe)
    assert output == "Enriched"
    assert '"Flights"' in sql and '"Carriers"' in sql and "LEFT JOIN" in sql
    assert '"carrier"' in sql and '"code"' in sql


def test_recipe_sql_of_a_recipe_reading_an_output_not_built_yet(
    project: Project, bob: User, flights: Dataset
) -> None:
    first = services.create_recipe(
        project,
        actor=bob,
        name="Rename",
        kind="prepare",
        inputs=[flights],
        outputs=["Renamed"],
        spec={"steps": [_step("rename_columns", renames={"carrier": "airline"})]},
    )
    renamed = first.output_datasets[0]
    assert renamed.current_version is None  # never built: its columns come from the flow
    draft = _draft(
        project,
        [renamed],
        [],
        kind="sort",
        spec={"columns": [{"column": "airline", "direction": "asc"}]},
        outputs=["Sorted"],
    )
    [(output, sql)] = services.recipe_sql(draft)
    assert output == "Sorted" and 'ORDER BY\n  "airline"' in sql and '"Renamed"' in sql


@pytest.mark.parametrize(
    ("kind", "spec", "field", "code", "message"),
    [
        ("python", {"code": "pass"}, "kind", "python", "run, not compiled"),
        (
            "sort",
            {"columns": [{"column": "carrer", "direction": "asc"}]},
            "spec",
            "recipe_missing_column",
            "'carrer'.*did you mean 'carrier'",
        ),
        (
            "prepare",
            {"steps": [_step("formula", output="x", formula="dep_delay +")]},
            "spec",
            "recipe_formula_invalid",
            r"^recipe 'Clean' step 1 \(Formula\): ",
        ),
    ],
)
def test_recipe_sql_says_why_there_is_none(
    project: Project, flights: Dataset, kind: str, spec: dict[str, Any], field: str, code: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.recipe_sql(_draft(project, [flights], [], kind=kind, spec=spec))
    assert list(caught.value.error_dict) == [field]
    [error] = caught.value.error_dict[field]
    assert error.code == code
    assert re.search(message, error.message)


def test_recipe_sql_needs_known_input_columns(project: Project, bob: User, flights: Dataset) -> None:
    code = (
        "from modelworks_recipe import inputs, outputs\noutputs['Scored'].write(inputs['Flights'].pandas())\n"
    )
    python = services.create_recipe(
        project,
        actor=bob,
        name="Score",
        kind="python",
        inputs=[flights],
        outputs=["Scored"],
        spec={"code": code},
    )
    scored = python.output_datasets[0]
    draft = _draft(project, [scored], [], kind="distinct", spec={}, outputs=["Unique"])
    with pytest.raises(ValidationError, match="The columns of 'Scored' are not known yet"):
        services.recipe_sql(draft)


# ---------------------------------------------------------------------------------- step_columns

STEPS = [
    _step("rename_columns", renames={"carrier": "airline"}),
    _step("formula", output="late", formula="dep_delay > 10"),
    _step("drop_columns", columns=["carrer"]),  # a typo: judged, then left out
    _step("keep_columns", enabled=False, columns=["flight"]),  # disabled: passes the columns through
    _step("formula", output="short", formula="distanse < 800"),  # its own problem, numbered 5
    _step("drop_columns", columns=["day"]),
]


def test_step_columns_gives_the_columns_before_each_step_and_each_problem(
    project: Project, flights: Dataset
) -> None:
    found = services.step_columns(_draft(project, [flights], STEPS))
    source = ["flight", "carrier", "dep_delay", "distance", "day"]
    renamed = ["flight", "airline", "dep_delay", "distance", "day"]
    assert [_names(cols) for cols, _ in found] == [
        source,
        renamed,
        [*renamed, "late"],
        [*renamed, "late"],
        [*renamed, "late"],
        [*renamed, "late"],
    ]
    assert dict(found[2][0][-1].__dict__) == {"name": "late", "type": "boolean"}
    problems = [p for _, p in found]
    assert [p is None for p in problems] == [True, True, False, True, False, True]
    third, fifth = problems[2], problems[4]
    assert third is not None and fifth is not None
    assert third.message.startswith("recipe 'Clean' step 3 (Drop columns): column 'carrer' not found")
    assert (
        third.reason.startswith("column 'carrer' not found") and "did you mean 'carrier'" not in third.reason
    )
    assert (third.step, third.code, third.details["column"]) == (3, "recipe_missing_column", "carrer")
    assert fifth.message.startswith("recipe 'Clean' step 5 (Formula): unknown column 'distanse'")
    assert fifth.reason.startswith("unknown column 'distanse' at position 1; did you mean 'distance'?")
    assert (fifth.step, fifth.details["position"]) == (5, 1)


def test_step_columns_in_one_session_agrees_with_one_by_one(project: Project, flights: Dataset) -> None:
    """The fast path (all steps described in one DuckDB session) and the step-by-step fallback give
    the same columns and problems."""
    from modelworks.engine.flow import relations_for
    from modelworks.flows.services.analysis import input_columns

    columns = input_columns(project, [flights])[0]
    assert columns is not None
    slow = _steps_one_by_one("Clean", STEPS, columns, relations_for({"Flights": columns}))
    fast = services.step_columns(_draft(project, [flights], STEPS))
    assert slow == fast


@pytest.mark.parametrize(
    ("inputs", "steps", "message"),
    [
        ([], [_step("drop_columns", columns=["day"])], "Choose the input dataset first."),
        ("unbuilt", [_step("drop_columns", columns=["day"])], "The columns of 'Scored' are not known yet"),
    ],
)
def test_step_columns_without_known_columns(
    project: Project, bob: User, flights: Dataset, inputs: Any, steps: list[Any], message: str
) -> None:
    if inputs == "unbuilt":
        code = "from modelworks_recipe import inputs, outputs\noutputs['Scored'].write(inputs['Flights'].pandas())\n"
        python = services.create_recipe(
            project,
            actor=bob,
            name="Score",
            kind="python",
            inputs=[flights],
            outputs=["Scored"],
            spec={"code": code},
        )
        inputs = [python.output_datasets[0]]
    [(columns, problem)] = services.step_columns(_draft(project, inputs, steps))
    assert columns == () and problem is not None and problem.message.startswith(message)


def test_step_columns_is_for_prepare_recipes(project: Project, flights: Dataset) -> None:
    assert services.step_columns(_draft(project, [flights], [])) == []
    with pytest.raises(ValidationError, match="Only Prepare recipes have steps"):
        services.step_columns(_draft(project, [flights], [], kind="sort", spec={"columns": []}))


# ------------------------------------------------------------------------------------ previews


def test_a_preview_error_keeps_the_engine_step_column_and_code(project: Project, flights: Dataset) -> None:
    steps = [
        _step("rename_columns", renames={"carrier": "airline"}),
        _step("drop_columns", columns=["carrier"]),
    ]
    with pytest.raises(services.PreviewError) as caught:
        services.recipe_preview(_draft(project, [flights], steps))
    error = caught.value
    assert isinstance(error, ValidationError) and list(error.error_dict) == ["spec"]
    assert error.code == "recipe_missing_column" and error.step == 2
    assert error.details["column"] == "carrier" and error.details["recipe"] == "Clean"
    assert error.engine_error.message.startswith("recipe 'Clean' step 2 (Drop columns): column 'carrier'")


def test_the_preview_marks_the_failing_step(project: Project, bob: User, flights: Dataset) -> None:
    client = Client()
    client.force_login(bob)
    form = {
        "name": "Clean flights",
        "inputs": [str(flights.pk)],
        "outputs": ["Long flights"],
        "step.n": "3",
        "step.0.processor": "rename_columns",
        "step.0.enabled": "1",
        "step.0.p.renames": "carrier = airline",
        "step.1.processor": "filter_formula",
        "step.1.enabled": "1",
        "step.1.p.formula": "carrier = 'AF'",
        "step.1.p.action": "keep",
        "step.2.processor": "drop_columns",
        "step.2.enabled": "1",
        "step.2.p.columns": "day",
    }
    url = f"/projects/{project.slug}/flow/recipes/new/prepare/preview/"
    page = client.post(url, form, headers=HTMX).content.decode()
    assert 'data-error-code="recipe_missing_column"' in page
    assert (
        '<a href="#step-1" data-error-step="1">Step 2 (Filter rows with a formula)</a>: unknown column'
        in page
    )
    # the step itself shows the reason only: the recipe and the step go without saying there
    assert (
        '<div id="step-1-problem" class="step-problem" role="status" hx-swap-oob="true" data-step-failing>'
        '<p class="field-error">Step 2: unknown column &#x27;carrier&#x27; at position 1</p></div>'
    ) in page
    assert page.count("data-step-failing") == 1
    assert '<div id="step-2-problem" class="step-problem" role="status" hx-swap-oob="true"></div>' in page
    # the datalists still follow the steps: the third step sees the renamed column
    assert '<datalist id="cols-step-2" hx-swap-oob="true"><option value="flight">' in page
    assert '<option value="airline">string</option>' in page.split('id="cols-step-2"')[1]


# -------------------------------------------------------------------------------------- builds


def test_a_failed_prepare_step_names_the_recipe_once(project: Project, bob: User, flights: Dataset) -> None:
    recipe = services.create_recipe(
        project,
        actor=bob,
        name="Late flights",
        kind="prepare",
        inputs=[flights],
        outputs=["Late"],
        spec={"steps": [_step("formula", output="late", formula="dep_delay > 10")]},
    )
    from modelworks.datasets.storage import data_store
    from modelworks.engine.io import ImportOptions, import_file

    with tempfile.TemporaryDirectory() as folder:  # a new version of Flights without dep_delay
        path = Path(folder) / "source.csv"
        path.write_bytes(b"flight,carrier,distance,day\nAF1,AF,900,2024-01-01\n")
        info = import_file(path, store=data_store(), options=ImportOptions(original_name="new.csv"))
    dataset_services.create_version(
        project=project,
        info=info,
        how=SourceKind.UPLOAD,
        how_details={"file_name": "new.csv"},
        actor=bob,
        job=None,
        dataset=flights,
    )
    build = services.submit_build(project, actor=bob)
    run_queued_jobs()
    build.refresh_from_db()
    assert build.status == BuildStatus.FAILED
    step = build.steps.get(recipe=recipe)
    assert step.status == StepStatus.FAILED
    assert step.error.startswith("recipe 'Late flights' step 1 (Formula): unknown column 'dep_delay'")
    assert step.error.count("Late flights") == 1
