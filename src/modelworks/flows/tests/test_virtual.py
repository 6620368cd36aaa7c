"""Virtual (not stored) datasets through the real ``flows.build`` job on uploaded CSV datasets: a chain
with virtual intermediates builds the same rows as the stored chain in one query, stores nothing in
between, rebuilds only what a change affects, keeps the lineage complete; and the refusals."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from modelworks.catalog.models import ColumnLineageEdge, LineageRun
from modelworks.core.models import Project, User
from modelworks.core.testing.client import expect, expect_error
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.datasets.storage import data_store
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.engine.io import ImportOptions, import_file
from modelworks.flows import services
from modelworks.flows.models import Build, BuildStatus, Recipe, RecipeOutput, StepStatus
from modelworks.flows.services import pipeline
from modelworks.flows.testing import CARRIERS_CSV, staging_files, stored_objects

pytest_plugins = ["modelworks.core.testing.fixtures"]

PREPARE_SPEC: dict[str, Any] = {
    "steps": [
        {"processor": "filter_formula", "params": {"formula": "distance > 500", "action": "keep"}},
        {"processor": "formula", "params": {"output": "late", "formula": "dep_delay > 10"}},
        {"processor": "date_parts", "params": {"column": "day", "parts": ["month"]}},
    ]
}
JOIN_SPEC: dict[str, Any] = {"joins": [{"type": "inner", "on": [{"left": "carrier", "right": "code"}]}]}
GROUP_SPEC: dict[str, Any] = {
    "keys": ["country"],
    "aggregations": [
        {"column": "dep_delay", "function": "sum"},
        {"column": "distance", "function": "max"},
        {"column": None, "function": "count"},
    ],
}
SORT_SPEC: dict[str, Any] = {"columns": [{"column": "dep_delay_sum", "direction": "desc"}]}


@pytest.fixture(autouse=True)
def fresh_home(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    return home


@pytest.fixture
def sources(project: Project, bob: User) -> tuple[Dataset, Dataset]:
    flights = make_dataset(project, bob)
    carriers = make_dataset(project, bob, name="Carriers", content=CARRIERS_CSV, file_name="carriers.csv")
    return flights, carriers


def make_chain(
    project: Project, bob: User, sources: tuple[Dataset, Dataset], suffix: str = "", *, virtual: bool
) -> dict[str, Recipe]:
    """Flights → prepare → Long flights → join Carriers → Enriched → group → By country → sort → Ranked.
    With ``virtual``, Long flights and Enriched are not stored."""
    flights, carriers = sources

    def create(name: str, kind: str, inputs: list[Dataset], output: str, spec: dict[str, Any]) -> Recipe:
        return services.create_recipe(
            project,
            actor=bob,
            name=name + suffix,
            kind=kind,
            inputs=inputs,
            outputs=[output + suffix],
            spec=spec,
            virtual_outputs=[output + suffix] if virtual and kind in ("prepare", "join") else [],
        )

    prepare = create("Long flights", "prepare", [flights], "Long flights", PREPARE_SPEC)
    join = create("Add carriers", "join", [prepare.output_datasets[0], carriers], "Enriched", JOIN_SPEC)
    group = create("Delay by country", "group", [join.output_datasets[0]], "By country", GROUP_SPEC)
    sort = create("Rank countries", "sort", [group.output_datasets[0]], "Ranked", SORT_SPEC)
    return {"prepare": prepare, "join": join, "group": group, "sort": sort}


def _build(project: Project, actor: User, **kwargs: Any) -> Build:
    build = services.submit_build(project, actor=actor, **kwargs)
    run_queued_jobs()
    build.refresh_from_db()
    return build


def _rows(dataset: Dataset) -> list[tuple[Any, ...]]:
    version = Dataset.objects.get(pk=dataset.pk).latest_version
    assert version is not None
    path = dataset_services.version_path(version)
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}')").fetchall()  # noqa: S608 - test path


def _steps(build: Build) -> dict[str, tuple[str, str]]:
    return {s.recipe_name: (s.status, s.reason) for s in build.steps.all()}


def _ran(build: Build) -> list[str]:
    return sorted(s.recipe_name for s in build.steps.filter(status=StepStatus.SUCCEEDED))


def test_a_chain_with_virtual_intermediates_builds_the_same_rows_and_stores_nothing_between(
    project: Project, bob: User, sources: tuple[Dataset, Dataset]
) -> None:
    stored = make_chain(project, bob, sources, virtual=False)
    fused = make_chain(project, bob, sources, " v", virtual=True)
    build = _build(project, bob)
    assert build.status == BuildStatus.SUCCEEDED, build.error

    for key in ("group", "sort"):  # a group's rows come in no set order: compare them sorted
        assert sorted(_rows(fused[key].output_datasets[0])) == sorted(_rows(stored[key].output_datasets[0]))
    assert _rows(fused["sort"].output_datasets[0]) == [("DE", 45, 700, 2), ("FR", 2, 1200, 2)]
    for key in ("prepare", "join"):
        dataset = fused[key].output_datasets[0]
        assert not DatasetVersion.objects.filter(dataset=dataset).exists()
        assert DatasetVersion.objects.filter(dataset=stored[key].output_datasets[0]).count() == 1
    # Every object in the store is a source upload/version or a stored output: nothing for virtual ones.
    versions = DatasetVersion.objects.filter(dataset__project=project)
    assert {v.object_id for v in versions} <= stored_objects() and staging_files() == []
    assert versions.count() == 2 + 4 + 2

    steps = _steps(build)
    assert steps["Long flights v"] == (
        StepStatus.UP_TO_DATE,
        "virtual: computed on the fly inside 'Delay by country v'",
    )
    assert steps["Add carriers v"][0] == StepStatus.UP_TO_DATE
    assert steps["Delay by country v"][0] == StepStatus.SUCCEEDED
    group_step = build.steps.get(recipe_name="Delay by country v")
    assert (
        "Computed on the fly, not stored: Long flights v (recipe Long flights v), Enriched v"
        in group_step.log
    )
    assert build.plan["fused"] == {str(fused["group"].pk): [str(fused["prepare"].pk), str(fused["join"].pk)]}
    group_plan = next(s for s in build.plan["steps"] if s["name"] == "Delay by country v")
    assert group_plan["input_names"] == ["Flights", "Carriers"]


def test_only_what_a_change_affects_is_rebuilt(
    project: Project, bob: User, sources: tuple[Dataset, Dataset]
) -> None:
    chain = make_chain(project, bob, sources, virtual=True)
    first = _build(project, bob)
    assert _ran(first) == ["Delay by country", "Rank countries"]
    group_version = chain["group"].output_datasets[0].latest_version
    assert _ran(_build(project, bob)) == []  # nothing changed

    services.update_recipe(
        chain["sort"], actor=bob, spec={"columns": [{"column": "country", "direction": "desc"}]}
    )
    build = _build(project, bob)
    assert _ran(build) == ["Rank countries"]
    assert chain["group"].output_datasets[0].latest_version == group_version
    assert [r[0] for r in _rows(chain["sort"].output_datasets[0])] == ["FR", "DE"]

    spec = {"steps": [*PREPARE_SPEC["steps"][:1], *PREPARE_SPEC["steps"][2:]]}  # a virtual recipe changed
    services.update_recipe(chain["prepare"], actor=bob, spec=spec)
    state = {d["name"]: d["state"] for d in services.flow_state(project).datasets}
    assert state["Long flights"] == "virtual" and state["By country"] == "out_of_date"
    build = _build(project, bob)
    assert _steps(build)["Delay by country"] == (
        StepStatus.SUCCEEDED,
        "recipe changed or input version changed",
    )
    assert _steps(build)["Rank countries"] == (StepStatus.SUCCEEDED, "upstream rebuilt")

    state = {d["name"]: (d["state"], d["virtual"]) for d in services.flow_state(project).datasets}
    assert state["Enriched"] == ("virtual", True) and state["By country"] == ("built", False)


def test_turning_storage_on_and_off_rebuilds_the_readers(
    project: Project, bob: User, sources: tuple[Dataset, Dataset]
) -> None:
    chain = make_chain(project, bob, sources, virtual=False)
    _build(project, bob)
    services.update_recipe(chain["join"], actor=bob, virtual_outputs=["Enriched"])
    assert RecipeOutput.objects.get(recipe=chain["join"]).virtual
    build = _build(project, bob)
    assert _ran(build) == ["Delay by country", "Rank countries"]
    assert DatasetVersion.objects.filter(dataset=chain["join"].output_datasets[0]).count() == 1  # kept

    services.update_recipe(chain["join"], actor=bob, spec=JOIN_SPEC)  # left out: stays virtual
    assert RecipeOutput.objects.get(recipe=chain["join"]).virtual
    services.update_recipe(chain["join"], actor=bob, virtual_outputs=[])
    # Stored again: its version from before is still up to date (same recipe, same inputs), so only
    # the readers, which read a virtual dataset last time, run.
    build = _build(project, bob)
    assert _ran(build) == ["Delay by country", "Rank countries"]
    assert _steps(build)["Add carriers"] == (StepStatus.UP_TO_DATE, "up to date")
    left = {"joins": [{"type": "left", "on": [{"left": "carrier", "right": "code"}]}]}
    services.update_recipe(chain["join"], actor=bob, spec=left)
    assert _ran(_build(project, bob)) == ["Add carriers", "Delay by country", "Rank countries"]


def test_lineage_goes_from_the_stored_inputs_through_the_virtual_datasets(
    project: Project, bob: User, sources: tuple[Dataset, Dataset]
) -> None:
    make_chain(project, bob, sources, virtual=True)
    _build(project, bob)
    for job in ("recipe/Long flights", "recipe/Add carriers", "recipe/Delay by country"):
        assert LineageRun.objects.filter(project=project, job__name=job, state="completed").count() == 1, job
    edges = {
        (e.job.name, e.input_dataset.name, e.input_column, e.output_column)
        for e in ColumnLineageEdge.objects.filter(project=project).select_related("job", "input_dataset")
    }
    assert ("recipe/Long flights", "Flights", "dep_delay", "late") in edges
    assert ("recipe/Add carriers", "Carriers", "country", "country") in edges
    assert ("recipe/Delay by country", "Enriched", "dep_delay", "dep_delay_sum") in edges


def test_a_virtual_dataset_cannot_be_built_on_its_own(
    project: Project, bob: User, sources: tuple[Dataset, Dataset]
) -> None:
    chain = make_chain(project, bob, sources, virtual=True)
    with pytest.raises(ValidationError) as refused:
        _build(project, bob, targets=chain["join"].output_datasets)
    message = " ".join(refused.value.message_dict["targets"])
    assert "dataset 'Enriched' is virtual (not stored)" in message
    assert "cannot be built on its own; build a dataset computed from it instead ('By country')" in message
    assert 'untick "Don\'t store"' in message
    assert not Build.objects.exists()


@pytest.mark.parametrize(
    ("case", "field", "match"),
    [
        (
            "python reads virtual",
            "inputs",
            r"'Long flights' is not stored .* a Python recipe reads stored files",
        ),
        ("python writes virtual", "outputs", r"A Python recipe's outputs are always stored"),
        ("python reader exists", "outputs", r"'By country' is read by the Python recipe 'Py'"),
        ("not an output", "outputs", r"'Elsewhere' is marked as not stored but is not an output"),
    ],
)
def test_virtual_datasets_and_python_recipes_are_refused_at_save_time(
    project: Project, bob: User, sources: tuple[Dataset, Dataset], case: str, field: str, match: str
) -> None:
    chain = make_chain(project, bob, sources, virtual=True)
    python: dict[str, Any] = {"kind": "python", "spec": {"code": "pass"}, "actor": bob}
    with pytest.raises(ValidationError, match=match) as caught:
        if case == "python reads virtual":
            services.create_recipe(
                project, name="Py", inputs=chain["prepare"].output_datasets, outputs=["py out"], **python
            )
        elif case == "python writes virtual":
            services.create_recipe(
                project,
                name="Py",
                inputs=[sources[0]],
                outputs=["py out"],
                virtual_outputs=["py out"],
                **python,
            )
        elif case == "python reader exists":
            services.create_recipe(
                project, name="Py", inputs=chain["group"].output_datasets, outputs=["py out"], **python
            )
            services.update_recipe(chain["group"], actor=bob, virtual_outputs=["By country"])
        else:
            services.update_recipe(chain["sort"], actor=bob, virtual_outputs=["Elsewhere"])
    assert field in caught.value.message_dict
    if case == "python reader exists":
        assert not RecipeOutput.objects.get(recipe=chain["group"]).virtual
    else:
        assert not Recipe.objects.filter(project=project, name="Py").exists()


def test_pages_show_virtual_datasets(project: Project, bob: User, sources: tuple[Dataset, Dataset]) -> None:
    chain = make_chain(project, bob, sources, virtual=True)
    client = Client()
    client.force_login(bob)
    enriched = chain["join"].output_datasets[0]
    page = client.get(reverse("datasets:detail", args=[project.slug, enriched.pk])).content.decode()
    assert "Virtual: not stored; computed when the recipes that read it are built." in page
    assert "Add carriers" in page
    stored = chain["group"].output_datasets[0]
    page = client.get(reverse("datasets:detail", args=[project.slug, stored.pk])).content.decode()
    assert "Virtual: not stored" not in page
    flow = client.get(reverse("flows:flow", args=[project.slug])).content.decode()
    assert f'data-node="dataset:{enriched.pk}"' in flow
    node = flow[flow.index(f'data-node="dataset:{enriched.pk}"') - 200 :][:1200]
    assert "state-virtual" in node and "Not stored (virtual)" in node
    assert pipeline.virtual_keys(project) == {str(enriched.pk), str(chain["prepare"].output_datasets[0].pk)}
    recipe = client.get(reverse("flows:recipe", args=[project.slug, chain["join"].pk])).content.decode()
    assert "Not stored: computed on the fly by the recipes that read its output" in recipe
    assert "not stored: computed on the fly by the recipes that read it" in recipe


def test_the_api_sets_and_shows_virtual_outputs(
    project: Project, bob: User, sources: tuple[Dataset, Dataset], api_client: Any
) -> None:
    api = api_client(bob)
    url = f"/projects/{project.slug}/recipes"
    body = {
        "name": "Long flights",
        "kind": "prepare",
        "inputs": ["Flights"],
        "outputs": [{"name": "Long flights", "virtual": True}],
        "spec": PREPARE_SPEC,
    }
    created = expect(api.post(url, body), 201)
    assert [(o["name"], o["virtual"]) for o in created["outputs"]] == [("Long flights", True)]
    recipe_url = f"{url}/{created['id']}"
    kept = expect(api.patch(recipe_url, {"outputs": ["Long flights"]}), 200)  # plain: unchanged
    assert kept["outputs"][0]["virtual"] is True
    stored = expect(api.patch(recipe_url, {"outputs": [{"name": "Long flights", "virtual": False}]}), 200)
    assert stored["outputs"][0]["virtual"] is False

    python = {
        **body,
        "name": "Py",
        "kind": "python",
        "spec": {"code": "pass"},
        "outputs": [{"name": "Py out", "virtual": True}],
    }
    error = expect_error(api.post(url, python), 422, "validation_error")
    assert "A Python recipe's outputs are always stored" in error["message"]


def test_the_editor_has_a_dont_store_checkbox(
    project: Project, bob: User, sources: tuple[Dataset, Dataset]
) -> None:
    client = Client()
    client.force_login(bob)
    flights = sources[0]
    new_url = reverse("flows:recipe_new", args=[project.slug, "sort"]) + f"?input={flights.pk}"
    page = client.get(new_url).content.decode()
    assert 'name="output_virtual" value="0"' in page
    assert "Don't store (computed on the fly by the next recipes)" in page
    form = {
        "name": "Sorted",
        "inputs": [str(flights.pk)],
        "outputs": ["Sorted flights"],
        "output_virtual": ["0"],
        "spec.columns.n": "1",
        "spec.columns.0.column": "distance",
        "spec.columns.0.direction": "asc",
    }
    answer = client.post(reverse("flows:recipe_new", args=[project.slug, "sort"]), form)
    assert answer.status_code == 303, answer.content.decode()[:2000]
    recipe = Recipe.objects.get(project=project, name="Sorted")
    assert RecipeOutput.objects.get(recipe=recipe).virtual
    edit = client.get(reverse("flows:recipe_edit", args=[project.slug, recipe.pk])).content.decode()
    assert 'name="output_virtual" value="0" checked' in edit
    python = client.get(reverse("flows:recipe_new", args=[project.slug, "python"])).content.decode()
    assert 'name="output_virtual"' not in python


def test_an_error_in_a_virtual_recipe_fails_the_step_naming_that_recipe(
    project: Project, bob: User, sources: tuple[Dataset, Dataset]
) -> None:
    chain = make_chain(project, bob, sources, virtual=True)
    _build(project, bob)
    objects = stored_objects()
    flights = sources[0]
    with tempfile.TemporaryDirectory() as folder:  # a new version of Flights without `distance`
        path = Path(folder) / "flights.csv"
        path.write_bytes(b"flight,carrier,dep_delay,day\nAF9,AF,7,2024-02-01\n")
        info = import_file(path, store=data_store(), options=ImportOptions(original_name="flights.csv"))
    dataset_services.create_version(
        project=project, info=info, how="upload", how_details={}, actor=bob, job=None, dataset=flights
    )
    build = _build(project, bob)
    assert build.status == BuildStatus.FAILED
    step = build.steps.get(recipe_name="Delay by country")
    assert step.status == StepStatus.FAILED
    assert "recipe 'Long flights'" in step.error and "'distance'" in step.error
    assert "computed inside recipe 'Delay by country'" in step.error
    assert build.steps.get(recipe_name="Rank countries").status == StepStatus.SKIPPED
    assert DatasetVersion.objects.filter(dataset=chain["group"].output_datasets[0]).count() == 1
    assert stored_objects() - objects == {info.object_id} and staging_files() == []


def test_a_recipe_reading_a_virtual_dataset_previews_through_the_chain(
    project: Project, bob: User, sources: tuple[Dataset, Dataset]
) -> None:
    stored = make_chain(project, bob, sources, virtual=False)
    fused = make_chain(project, bob, sources, " v", virtual=True)
    assert _build(project, bob).status == BuildStatus.SUCCEEDED
    # The group recipe reads 'Enriched v', which has no version: its preview computes the chain inline.
    through_chain = services.recipe_preview(fused["group"])
    materialised = services.recipe_preview(stored["group"])
    assert [c.name for c in through_chain.columns] == [c.name for c in materialised.columns]
    assert sorted(map(tuple, through_chain.rows)) == sorted(map(tuple, materialised.rows))
    # A draft with a bad column is refused naming the recipe and the column, like any preview.
    draft = services.RecipeDraft.of(fused["group"])
    bad = services.RecipeDraft(
        project=draft.project,
        kind=draft.kind,
        spec={**draft.spec, "keys": ["no_such_column"]},
        inputs=draft.inputs,
        outputs=draft.outputs,
        name=draft.name,
    )
    with pytest.raises(ValidationError, match="no_such_column"):
        services.recipe_preview(bad)
