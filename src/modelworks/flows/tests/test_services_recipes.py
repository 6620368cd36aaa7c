"""Recipe services: create, change and delete recipes (checked by the engine before saving, atomic and
audited), loops refused with the loop named, and schema problems found across the flow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from modelworks.core.models import AuditEvent, Project, User
from modelworks.datasets import services as dataset_services
from modelworks.datasets.models import Dataset, SourceKind
from modelworks.datasets.testing import make_dataset
from modelworks.flows import services
from modelworks.flows.models import Recipe, RecipeInput, RecipeOutput
from modelworks.flows.testing import CARRIERS_CSV

pytest_plugins = ["modelworks.core.testing.fixtures"]


@pytest.fixture(autouse=True)
def fresh_home(settings: Any, tmp_path: Path) -> Path:
    """A data store of this test only."""
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


def _by_carrier(project: Project, bob: User, flights: Dataset, name: str = "Delay by carrier") -> Recipe:
    return services.create_recipe(
        project,
        actor=bob,
        name=name,
        kind="group",
        inputs=[flights],
        outputs=[f"{name} out"],
        spec={"keys": ["carrier"], "aggregations": [{"column": "dep_delay", "function": "avg"}]},
    )


def test_create_recipe_makes_its_new_output_and_is_audited(
    project: Project, bob: User, flights: Dataset
) -> None:
    recipe = services.create_recipe(
        project,
        actor=bob,
        name="Sort flights",
        kind="sort",
        inputs=[flights],
        outputs=["Flights sorted"],
        spec={"columns": ["dep_delay"]},
        description="Worst delays last.",
    )
    output = Dataset.objects.get(project=project, name="Flights sorted")
    assert output.source_kind == SourceKind.RECIPE
    assert output.versions.count() == 0
    assert [d.pk for d in recipe.input_datasets] == [flights.pk]
    assert [d.pk for d in recipe.output_datasets] == [output.pk]
    assert recipe.spec_hash.startswith("sha256:") and recipe.spec_hash == recipe.compute_spec_hash()
    # The spec is stored normalised by the engine (a bare name becomes a full sort key).
    assert recipe.spec != {"columns": ["dep_delay"]}
    actions = list(AuditEvent.objects.filter(project=project).values_list("action", flat=True))
    assert "flows.recipe_created" in actions and "dataset.created" in actions


def test_outputs_may_reuse_a_free_dataset_and_inputs_keep_their_order(
    project: Project, bob: User, flights: Dataset, carriers: Dataset
) -> None:
    target = Dataset.objects.create(project=project, name="Joined", source_kind=SourceKind.RECIPE)
    recipe = services.create_recipe(
        project,
        actor=bob,
        name="Join carriers",
        kind="join",
        inputs=[flights, carriers],
        outputs=["Joined"],
        spec={"joins": [{"type": "left", "on": [{"left": "carrier", "right": "code"}]}]},
    )
    assert [d.name for d in recipe.input_datasets] == ["Flights", "Carriers"]
    assert recipe.output_datasets == [target]
    columns = services.validate_recipe(
        project,
        name="Other join",
        kind="join",
        inputs=[flights, carriers],
        outputs=["Joined 2"],
        spec=recipe.spec,
    ).output_columns["Joined 2"]
    assert [c["name"] for c in columns][-2:] == ["carrier_name", "country"]


BAD_RECIPES = [
    ({"name": ""}, "name", "Give the recipe a name"),
    ({"name": "../../etc/passwd"}, "name", "looks like a file path"),
    ({"name": "Taken"}, "name", "already exists"),
    ({"kind": "magic"}, "kind", "'magic' is not a recipe kind"),
    ({"outputs": []}, "outputs", "writes exactly 1 output"),
    ({"outputs": ["A", "B"]}, "outputs", "writes exactly 1 output"),
    ({"outputs": ["Flights"]}, "outputs", "a recipe cannot write its own input"),
    ({"outputs": ["Taken out"]}, "outputs", "already written by recipe 'Taken'"),
    ({"spec": {"columns": ["no_such_column"]}}, "spec", "no_such_column"),
    ({"spec": {"colums": ["carrier"]}}, "spec", "colums"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_RECIPES)
def test_bad_recipes_are_refused_by_field_and_change_nothing(
    project: Project, bob: User, flights: Dataset, change: dict[str, Any], field: str, message: str
) -> None:
    _by_carrier(project, bob, flights, name="Taken")
    recipes, datasets = Recipe.objects.count(), Dataset.objects.count()
    arguments: dict[str, Any] = {
        "name": "Sorted",
        "kind": "sort",
        "inputs": [flights],
        "outputs": ["Sorted flights"],
        "spec": {"columns": ["carrier"]},
        **change,
    }
    with pytest.raises(ValidationError, match=message) as caught:
        services.create_recipe(project, actor=bob, **arguments)
    assert field in caught.value.message_dict
    assert (Recipe.objects.count(), Dataset.objects.count()) == (recipes, datasets)


def test_an_input_of_another_project_is_refused(
    project: Project, bob: User, alice: User, flights: Dataset
) -> None:
    other = Project.objects.create(slug="other", name="Other")
    foreign = make_dataset(other, alice, name="Foreign")
    with pytest.raises(ValidationError, match="belongs to another project"):
        services.create_recipe(
            project,
            actor=bob,
            name="X",
            kind="sort",
            inputs=[foreign],
            outputs=["Y"],
            spec={"columns": ["carrier"]},
        )


def test_a_change_that_closes_a_loop_is_refused_naming_the_loop(
    project: Project, bob: User, flights: Dataset
) -> None:
    first = services.create_recipe(
        project,
        actor=bob,
        name="First",
        kind="sort",
        inputs=[flights],
        outputs=["Middle"],
        spec={"columns": ["carrier"]},
    )
    middle = Dataset.objects.get(name="Middle")
    services.create_recipe(
        project, actor=bob, name="Second", kind="distinct", inputs=[middle], outputs=["Last"], spec={}
    )
    last = Dataset.objects.get(name="Last")
    with pytest.raises(
        ValidationError, match=r"loop: recipe 'First' → dataset 'Middle' → recipe 'Second'"
    ) as caught:
        services.update_recipe(first, actor=bob, inputs=[last])
    assert "inputs" in caught.value.message_dict
    first.refresh_from_db()
    assert [d.name for d in first.input_datasets] == ["Flights"]


def test_update_recipe_changes_settings_and_links_audited(
    project: Project, bob: User, flights: Dataset
) -> None:
    recipe = _by_carrier(project, bob, flights)
    before = recipe.spec_hash
    updated = services.update_recipe(
        recipe,
        actor=bob,
        name="Delay per carrier",
        spec={"keys": ["carrier"], "aggregations": [{"column": "dep_delay", "function": "max"}]},
        outputs=["Delay per carrier out"],
    )
    assert updated.name == "Delay per carrier"
    assert updated.spec_hash != before
    assert [d.name for d in updated.output_datasets] == ["Delay per carrier out"]
    # The dropped output stays, with no producing recipe.
    assert not RecipeOutput.objects.filter(dataset__name="Delay by carrier out").exists()
    assert Dataset.objects.filter(name="Delay by carrier out").exists()
    event = AuditEvent.objects.filter(action="flows.recipe_updated").get()
    assert set(event.details["changed"]) == {"name", "spec", "outputs"}


def test_update_with_a_bad_spec_changes_nothing(project: Project, bob: User, flights: Dataset) -> None:
    recipe = _by_carrier(project, bob, flights)
    spec = dict(recipe.spec)
    with pytest.raises(ValidationError, match="dep_delai"):
        services.update_recipe(
            recipe,
            actor=bob,
            spec={"keys": ["carrier"], "aggregations": [{"column": "dep_delai", "function": "avg"}]},
        )
    recipe.refresh_from_db()
    assert recipe.spec == spec


def test_delete_recipe_keeps_its_outputs_and_the_inputs_are_protected(
    project: Project, bob: User, alice: User, flights: Dataset
) -> None:
    recipe = _by_carrier(project, bob, flights)
    output = recipe.output_datasets[0]
    assert services.recipes_using(flights) == {"reads": ["Delay by carrier"], "writes": []}
    with pytest.raises(ValidationError, match=r"'Flights' is used by the recipe\(s\) 'Delay by carrier'"):
        dataset_services.delete_dataset(flights, actor=alice)
    assert Dataset.objects.filter(pk=flights.pk).exists()
    assert not AuditEvent.objects.filter(action="dataset.deleted").exists()
    services.delete_recipe(recipe, actor=bob)
    assert not Recipe.objects.exists() and not RecipeInput.objects.exists()
    assert Dataset.objects.filter(pk=output.pk).exists()
    assert AuditEvent.objects.filter(
        action="flows.recipe_deleted", details__outputs_kept=[output.name]
    ).exists()


def test_a_recipe_over_an_unbuilt_output_is_checked_with_the_propagated_columns(
    project: Project, bob: User, flights: Dataset
) -> None:
    upstream = _by_carrier(project, bob, flights)
    unbuilt = upstream.output_datasets[0]
    assert unbuilt.versions.count() == 0
    recipe = services.create_recipe(
        project,
        actor=bob,
        name="Worst carriers",
        kind="sort",
        inputs=[unbuilt],
        outputs=["Worst"],
        spec={"columns": [{"column": "dep_delay_avg", "direction": "desc"}]},
    )
    assert recipe.pk
    with pytest.raises(ValidationError, match="dep_delay'"):
        services.create_recipe(
            project,
            actor=bob,
            name="Bad",
            kind="sort",
            inputs=[unbuilt],
            outputs=["Bad"],
            spec={"columns": ["dep_delay"]},
        )


def test_check_flow_names_the_column_and_recipe_lost_by_an_upstream_reimport(
    project: Project, bob: User, flights: Dataset
) -> None:
    upstream = _by_carrier(project, bob, flights)
    services.create_recipe(
        project,
        actor=bob,
        name="Worst carriers",
        kind="sort",
        inputs=[upstream.output_datasets[0]],
        outputs=["Worst"],
        spec={"columns": ["dep_delay_avg"]},
    )
    assert services.check_flow(project) == []
    # A new version of Flights without the dep_delay column.
    _new_version(project, bob, flights, b"flight,carrier,distance\nAF1,AF,900\n")
    problems = services.check_flow(project)
    assert [(p.recipe, p.code) for p in problems] == [
        ("Delay by carrier", "recipe_missing_column"),
        ("Worst carriers", "flow_upstream_error"),
    ]
    assert "dep_delay" in problems[0].message and "Delay by carrier" in problems[0].message
    assert problems[0].details["column"] == "dep_delay"
    assert "'Delay by carrier'" in problems[1].message


def _new_version(project: Project, actor: User, dataset: Dataset, content: bytes) -> None:
    import tempfile

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


def test_flow_state_reports_never_built_outputs_and_a_layout(
    project: Project, bob: User, flights: Dataset
) -> None:
    recipe = _by_carrier(project, bob, flights)
    state = services.flow_state(project, with_problems=True)
    by_name = {d["name"]: d for d in state.datasets}
    assert by_name["Flights"]["state"] == "built" and by_name["Flights"]["is_source"]
    assert by_name["Delay by carrier out"]["state"] == "never_built"
    assert state.recipes[0]["name"] == recipe.name and state.recipes[0]["last_build_status"] is None
    assert {"from": f"dataset:{flights.pk}", "to": f"recipe:{recipe.pk}"} in state.edges
    nodes = {n["id"] for n in state.layout["nodes"]}
    assert {f"dataset:{flights.pk}", f"recipe:{recipe.pk}"} <= nodes
    assert state.problems == []
