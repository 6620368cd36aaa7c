"""Gaps found by the issue-4 audit of the recipe forms, with the Django test client on a real dataset:
settings that only apply in one mode (a split at random / by condition / by time, a sample of the
first rows, a fill with a constant or the previous value) are shown for that mode only and never sent
to the engine in another one; a window's frame is one object, not a list; options read as words;
choices of a list setting (the date parts) are check boxes; a new SQL recipe starts from a query."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client

from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import make_dataset
from modelworks.flows.forms.kinds import MODE_RULES, kind_choice
from modelworks.flows.forms.params import read_params

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


def _form(flights: Dataset, outputs: list[str], **spec: Any) -> dict[str, Any]:
    """Every field a browser posts: the seed keeps its default 0 whatever the mode."""
    return {"name": "r", "inputs": [str(flights.pk)], "outputs": outputs, **spec}


def _preview(client: Client, project: Project, kind: str, form: dict[str, Any]) -> str:
    url = f"/projects/{project.slug}/flow/recipes/new/{kind}/preview/"
    return client.post(url, form, headers=HTMX).content.decode()


SPLIT_OUTS = ["early", "late"]
FULL_SPLIT = {
    "spec.seed": "0",
    "spec.fractions": "",
    "spec.id_column": "",
    "spec.conditions.n": "0",
    "spec.other": "",
    "spec.column": "",
    "spec.cutoffs": "",
    "spec.percentiles": "",
}


@pytest.mark.parametrize(
    ("kind", "outputs", "fields", "rows"),
    [
        ("sample", ["s"], {"spec.mode": "first", "spec.n": "2", "spec.seed": "0", "spec.fraction": ""}, 2),
        (
            "split",
            SPLIT_OUTS,
            {**FULL_SPLIT, "spec.mode": "time", "spec.column": "day", "spec.cutoffs": "2024-01-03"},
            3,
        ),
        (
            "split",
            SPLIT_OUTS,
            {
                **FULL_SPLIT,
                "spec.mode": "condition",
                "spec.conditions.n": "1",
                "spec.conditions.0.output": "early",
                "spec.conditions.0.formula": "distance > 800",
                "spec.other": "late",
            },
            2,
        ),
        ("split", SPLIT_OUTS, {**FULL_SPLIT, "spec.mode": "random", "spec.fractions": "1\n0"}, 5),
    ],
)
def test_settings_of_another_mode_are_not_sent_to_the_engine(
    project: Project,
    bob: User,
    flights: Dataset,
    kind: str,
    outputs: list[str],
    fields: dict[str, str],
    rows: int,
) -> None:
    page = _preview(_client(bob), project, kind, _form(flights, outputs, **fields))
    assert "unknown setting" not in page and "data-preview-error" not in page, page
    assert f'data-preview-rows="{rows}"' in page


def test_mode_dependent_fields_say_when_they_apply(project: Project, bob: User, flights: Dataset) -> None:
    client = _client(bob)
    page = client.get(f"/projects/{project.slug}/flow/recipes/new/split/?input={flights.pk}").content.decode()
    assert page.count('data-show-if="spec.mode=random"') == 3  # shares, seed, id column
    assert page.count('data-show-if="spec.mode=condition"') == 2  # the conditions list, other rows
    assert page.count('data-show-if="spec.mode=time"') == 3  # time column, cutoffs, percentiles
    assert 'name="spec.mode"' in page and 'data-show-if="spec.mode=' not in page.split('name="spec.mode"')[0]
    prepare = client.post(
        f"/projects/{project.slug}/flow/recipes/new/prepare/editor/",
        {
            "name": "p",
            "inputs": [str(flights.pk)],
            "outputs": ["o"],
            "step.n": "0",
            "op": "add-step:fill_missing",
        },
        headers=HTMX,
    ).content.decode()
    assert 'data-show-if="step.0.p.method=constant"' in prepare
    assert 'data-show-if="step.0.p.method=previous next"' in prepare


@pytest.mark.parametrize(
    ("rule", "values", "kept"),
    [
        ("split", {"mode": "time", "seed": 0, "column": "day", "fractions": []}, {"mode", "column"}),
        ("split", {"mode": "random", "seed": 3, "conditions": [], "other": ""}, {"mode", "seed"}),
        ("split", {"mode": "", "seed": 3, "column": "day"}, {"mode", "seed", "column"}),  # none chosen yet
        ("sample", {"mode": "first", "n": 5, "seed": 0, "stratify_by": "x"}, {"mode", "n"}),
        ("fill_missing", {"columns": ["a"], "method": "mean", "value": "0"}, {"columns", "method"}),
        ("geo_distance", {"lat": "a", "to": "columns", "point_lat": 1.0, "lat2": "b"}, {"lat", "to", "lat2"}),
    ],
)
def test_mode_rules_keep_only_the_settings_of_the_chosen_mode(
    rule: str, values: dict[str, Any], kept: set[str]
) -> None:
    assert set(MODE_RULES[rule].keep(values)) == kept


def test_the_mode_rules_name_real_settings_and_modes() -> None:
    """A typo in a rule would hide a field for good: every name must be a setting, every mode a choice."""
    from modelworks.flows.forms.kinds import processor_choice

    for name, rule in MODE_RULES.items():
        owner = kind_choice(name) or processor_choice(name)
        assert owner is not None, name
        params = {p.name: p for p in (owner.other_params if hasattr(owner, "other_params") else owner.params)}
        assert set(rule.shown) == set(params[rule.param].choices), name
        assert rule.governed <= set(params), (name, rule.governed - set(params))


def test_a_window_frame_is_read_as_one_object_and_drawn_back(
    project: Project, bob: User, flights: Dataset
) -> None:
    window = kind_choice("window")
    assert window is not None
    base = {
        "spec.partition_by": "carrier",
        "spec.order_by.n": "1",
        "spec.order_by.0.column": "distance",
        "spec.functions.n": "1",
        "spec.functions.0.function": "sum",
        "spec.functions.0.column": "distance",
        "spec.functions.0.frame.n": "0",
    }
    none = QueryDict(mutable=True)
    none.update({**base, "spec.frame.n": "0"})
    assert "frame" not in read_params(window.other_params, none, "spec")
    one = QueryDict(mutable=True)
    one.update(
        {
            **base,
            "spec.frame.n": "1",
            "spec.frame.0.unit": "rows",
            "spec.frame.0.start": "1 preceding",
            "spec.frame.0.end": "current row",
        }
    )
    settings = read_params(window.other_params, one, "spec")
    assert settings["frame"] == {"unit": "rows", "start": "1 preceding", "end": "current row"}
    assert settings["functions"][0].get("frame") is None

    client = _client(bob)
    form = _form(
        flights,
        ["w"],
        **{
            **base,
            "spec.frame.n": "1",
            "spec.frame.0.unit": "rows",
            "spec.frame.0.start": "1 preceding",
            "spec.frame.0.end": "current row",
        },
    )
    page = _preview(client, project, "window", form)
    assert "data-preview-error" not in page, page
    assert 'data-preview-rows="5"' in page and "distance_sum" in page
    editor = client.post(
        f"/projects/{project.slug}/flow/recipes/new/window/editor/", form, headers=HTMX
    ).content.decode()
    assert 'value="1 preceding"' in editor
    assert 'value="add:spec.frame"' not in editor  # one frame at most
    assert 'value="add:spec.functions.0.frame"' in editor


def test_options_read_as_words_and_choices_of_a_list_are_check_boxes(
    project: Project, bob: User, flights: Dataset
) -> None:
    client = _client(bob)
    page = client.post(
        f"/projects/{project.slug}/flow/recipes/new/prepare/editor/",
        {
            "name": "p",
            "inputs": [str(flights.pk)],
            "outputs": ["o"],
            "step.n": "0",
            "op": "add-step:date_parts",
        },
        headers=HTMX,
    ).content.decode()
    boxes = re.findall(r'<input type="checkbox" name="step\.0\.p\.parts" value="(\w+)"( checked)?>', page)
    assert [v for v, _ in boxes][:4] == ["year", "quarter", "month", "week"]
    assert {v for v, ticked in boxes if ticked} == {"year", "month", "day"}  # the defaults
    assert '<textarea id="f-step-0-p-parts"' not in page
    form = {
        "name": "p",
        "inputs": [str(flights.pk)],
        "outputs": ["o"],
        "step.n": "1",
        "step.0.processor": "date_parts",
        "step.0.enabled": "1",
        "step.0.p.column": "day",
        "step.0.p.parts": ["quarter", "weekday"],
    }
    preview = _preview(client, project, "prepare", form)
    assert "day_quarter" in preview and "day_weekday" in preview and "day_year" not in preview
    group = client.get(
        f"/projects/{project.slug}/flow/recipes/new/group/?input={flights.pk}"
    ).content.decode()
    assert '<option value="count_distinct">count distinct</option>' in group


def test_a_new_sql_recipe_starts_from_a_query_on_its_input(
    project: Project, bob: User, flights: Dataset
) -> None:
    page = (
        _client(bob)
        .get(f"/projects/{project.slug}/flow/recipes/new/sql/?input={flights.pk}")
        .content.decode()
    )
    assert "SELECT *\nFROM &quot;Flights&quot;" in page


# ------------------------------------------------------------------- every Prepare processor, by form

AIRPORTS_CSV = (
    b"faa,name,lat,lon,flown,dep_delay,arr_delay,tailnum,when,note\n"
    b'JFK,Kennedy,40.64,-73.78,2013-01-01 05:00:00,5,7,N14228,2013-01-01,"{""a"": 1}"\n'
    b'LGA,La Guardia,40.78,-73.87,2013-01-02 06:00:00,,3,N24211,2013-02-03,"{""a"": 2}"\n'
    b'EWR,Newark,40.69,-74.17,2013-01-03 07:00:00,45,,N619AA, 2013-03-04 ,"{""a"": 3}"\n'
    # 'when' stays text (a padded date, a word): what Trim and Parse dates are for.
    b'BOS,Logan,42.36,-71.01,2013-01-04 08:00:00,-3,-4,N804JB,some day,"{""a"": 4}"\n'
)
C = "columns"
#: Processor → the settings a person types into its form (columns ticked in a checklist).
PROCESSOR_FORMS: dict[str, dict[str, Any]] = {
    "rename_columns": {"renames": "name = airport"},
    "drop_columns": {C: ["note"]},
    "keep_columns": {C: ["faa", "lat"]},
    "reorder_columns": {C: ["lat"], "position": "first"},
    "copy_column": {"column": "faa", "output": "faa_copy"},
    "formula": {"output": "delay_h", "formula": "dep_delay / 60"},
    "cast_columns": {C: ["dep_delay"], "to": "string"},
    "coalesce_columns": {C: ["dep_delay", "arr_delay"], "output": "any_delay"},
    "concat_columns": {C: ["faa", "name"], "separator": "-", "output": "code"},
    "filter_rows": {
        "conditions.n": "1",
        "conditions.0.column": "lat",
        "conditions.0.operator": "greater",
        "conditions.0.value": "40.7",
    },
    "filter_formula": {"formula": "lat > 40.7"},
    "remove_missing": {C: ["dep_delay"]},
    "filter_outliers": {"column": "dep_delay"},
    "deduplicate": {C: ["faa"]},
    "flag_rows": {"formula": "dep_delay > 15", "output": "late"},
    "fill_missing": {C: ["dep_delay"], "method": "constant", "value": "0"},
    "empty_to_null": {},
    "find_replace": {C: ["faa"], "find": "JFK", "replace": "Kennedy"},
    "change_case": {C: ["name"], "case": "upper"},
    "trim_spaces": {C: ["when"]},
    "pad_text": {C: ["faa"], "length": "5"},
    "truncate_text": {C: ["name"], "length": "3"},
    "text_length": {"column": "name"},
    "mask_text": {C: ["tailnum"], "method": "mask", "keep_last": "2"},
    "split_column": {"column": "tailnum", "delimiter": "N", "parts": "2"},
    "extract_regex": {"column": "tailnum", "pattern": "N(\\d+)", "outputs": "tail_digits"},
    "json_field": {"column": "note", "path": "a", "output": "a"},
    "round_numbers": {C: ["lat"], "decimals": "1"},
    "clip_numbers": {C: ["dep_delay"], "min": "0", "max": "30"},
    "bin_numbers": {"column": "lat", "method": "width", "width": "1"},
    "abs_value": {C: ["dep_delay"]},
    "log_transform": {C: ["lat"]},
    "standardize": {C: ["lat"]},
    "min_max_scale": {C: ["lat"]},
    "math_columns": {"left": "lat", "operation": "-", "right_column": "lon", "output": "diff"},
    "parse_date": {"column": "when", "on_failure": "null", "output": "when_date"},
    "date_parts": {"column": "flown", "parts": ["year", "quarter"]},
    "date_diff": {"start": "flown", "output": "age_days"},
    "truncate_date": {C: ["flown"], "unit": "month"},
    "shift_date": {"column": "flown", "amount": "2", "unit": "day"},
    "group_rare": {"column": "faa", "mode": "top_n", "threshold": "2"},
    "one_hot": {"column": "faa", "values": "JFK\nLGA"},
    "map_values": {"column": "faa", "mapping": "JFK = Kennedy", "unmatched": "keep"},
    "geo_distance": {
        "lat": "lat",
        "lon": "lon",
        "to": "point",
        "point_lat": "40.64",
        "point_lon": "-73.78",
        "output": "km_to_jfk",
    },
}


def test_the_audit_covers_every_processor_and_there_are_at_least_30() -> None:
    from modelworks.engine.recipes.prepare import PROCESSORS

    assert len(PROCESSORS) >= 30
    assert set(PROCESSOR_FORMS) == set(PROCESSORS)


@pytest.fixture
def airports(project: Project, bob: User) -> Dataset:
    return make_dataset(project, bob, name="Airports", content=AIRPORTS_CSV, file_name="airports.csv")


@pytest.mark.parametrize("processor", sorted(PROCESSOR_FORMS))
def test_each_processor_previews_from_its_form(
    project: Project, bob: User, airports: Dataset, processor: str
) -> None:
    """Add the step as the picker does, fill its form as a person would, and see rows in the preview."""
    client = _client(bob)
    base = {"name": "p", "inputs": [str(airports.pk)], "outputs": ["o"], "step.n": "0"}
    added = client.post(
        f"/projects/{project.slug}/flow/recipes/new/prepare/editor/",
        {**base, "op": f"add-step:{processor}"},
        headers=HTMX,
    ).content.decode()
    # The form as drawn (defaults included), then what the person typed.
    form = QueryDict(mutable=True)
    for name, value in re.findall(r'<input type="hidden" name="(step\.[^"]+)" value="([^"]*)"', added):
        form[name] = value
    for name, value in re.findall(
        r'<input type="(?:text|number)"[^>]* name="(step\.0\.p\.[^"]+)" value="([^"]*)"', added
    ):
        form[name] = value
    for name, body in re.findall(r'<select[^>]* name="(step\.0\.p\.[^"]+)"[^>]*>(.*?)</select>', added, re.S):
        selected = re.search(r'<option value="([^"]*)" selected>', body)
        form[name] = selected.group(1) if selected else ""
    for key, value in PROCESSOR_FORMS[processor].items():
        form.setlist(f"step.0.p.{key}", value if isinstance(value, list) else [value])
    form.update({"name": "p", "inputs": str(airports.pk), "outputs": "o"})
    # (the test client posts a dict of lists as repeated fields; a QueryDict would keep one value each)
    page = client.post(
        f"/projects/{project.slug}/flow/recipes/new/prepare/preview/", dict(form.lists()), headers=HTMX
    ).content.decode()
    assert "data-preview-error" not in page, re.sub(r"\s+", " ", page)[:500]
    found = re.search(r'data-preview-rows="(\d+)"', page)
    assert found is not None and int(found.group(1)) >= 1, processor
