"""The Score recipe's form with the Django test client, over real registered scikit-learn versions:
the model and alias-or-version pickers, the input's column pickers, the round trip through saving
and editing, the alias fragment the model select refreshes, bad choices shown on their field, and
what the recipe and flow pages say the recipe runs."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset
from modelworks.datasets.testing import make_dataset
from modelworks.flows.forms.score import decode_target, encode_target
from modelworks.flows.models import Recipe
from modelworks.flows.tests import test_score_recipe as shared
from modelworks.registry.models import ModelVersion
from modelworks.registry.services import register_version, set_alias

pytest_plugins = ["modelworks.core.testing.fixtures"]

HTMX = {"HX-Request": "true"}

# The build tests' fixtures: a fresh home, two real registered versions of 'delays' (champion on
# version 1) and the flights dataset they score.
fresh_home = shared.fresh_home
model_folders = shared.model_folders
versions = shared.versions
flights = shared.flights


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _new_url(project: Project) -> str:
    return reverse("flows:recipe_new", args=[project.slug, "score"])


def _choices_url(project: Project) -> str:
    return reverse("flows:score_model_choices", args=[project.slug])


def _options(page: str, select_id: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of each option of the select ``select_id`` in ``page``."""
    found = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert found, f"no select #{select_id}"
    return [
        (html.unescape(value), html.unescape(label).strip(), bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>(.*?)</option>', found.group(1), re.S
        )
    ]


def _chosen(page: str, select_id: str) -> str:
    return next(value for value, _, selected in _options(page, select_id) if selected)


def _form(flights: Dataset, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Score flights",
        "description": "",
        "inputs": [str(flights.pk)],
        "outputs": ["Scored flights"],
        "spec.model": "delays",
        "spec.target": "alias:champion",
        "spec.probabilities": "true",
        "spec.log_predictions": "true",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("alias", "version", "target"),
    [("champion", None, "alias:champion"), ("", 3, "version:3"), ("", None, ""), (" ", "x", "version:x")],
)
def test_alias_and_version_make_one_choice_and_back(alias: str, version: Any, target: str) -> None:
    assert encode_target(alias, version) == target
    assert decode_target(target) == ((alias.strip(), None) if alias.strip() else ("", version))


def test_the_new_form_picks_the_only_model_its_champion_and_the_input_columns(
    project: Project, bob: User, flights: Dataset, versions: list[ModelVersion]
) -> None:
    page = _client(bob).get(_new_url(project), {"input": flights.pk}).content.decode()
    assert _options(page, "f-spec-model") == [("", "Choose a model…", False), ("delays", "delays", True)]
    assert _options(page, "f-spec-target") == [
        ("alias:champion", "champion → v1", True),
        ("version:2", "v2", False),
        ("version:1", "v1 (champion)", False),
    ]
    model = versions[0].registered_model
    assert f'href="{reverse("registry:version", args=[project.slug, model.pk, 1])}">delays v1</a> now' in page
    assert reverse("registry:model", args=[project.slug, model.pk]) in page
    assert 'needs the columns <span class="mono">dep_delay, distance</span>' in page
    # Row identifier and time: selects of the input's columns, none chosen.
    columns = [value for value, _, _ in _options(page, "f-spec-id-column")]
    assert columns == ["", "flight", "dep_delay", "distance"]
    assert not any(selected for *_, selected in _options(page, "f-spec-time-column"))
    assert 'value="Scored flights"' not in page  # the suggested output name is the input's
    assert 'value="flights_scored"' in page


def test_the_form_round_trip_saves_and_edits_the_chosen_version_and_columns(
    project: Project, bob: User, flights: Dataset, versions: list[ModelVersion]
) -> None:
    client = _client(bob)
    saved = client.post(
        _new_url(project),
        _form(
            flights,
            **{
                "spec.target": "version:2",
                "spec.keep_columns": ["flight", "dep_delay"],
                "spec.id_column": "flight",
                "spec.time_column": "",
                "spec.log_predictions": "",
            },
        ),
    )
    assert saved.status_code == 303, saved.content.decode()[:2000]
    recipe = Recipe.objects.get(project=project, name="Score flights")
    assert recipe.kind == "score"
    assert recipe.spec == {
        "model": "delays",
        "alias": "",
        "version": 2,
        "keep_columns": ["flight", "dep_delay"],
        "probabilities": True,
        "log_predictions": False,
        "id_column": "flight",
        "time_column": None,
    }
    edit_url = reverse("flows:recipe_edit", args=[project.slug, recipe.pk])
    page = client.get(edit_url).content.decode()
    assert _chosen(page, "f-spec-target") == "version:2"
    assert _chosen(page, "f-spec-id-column") == "flight"
    assert 'value="flight" checked' in page and 'value="distance" checked' not in page

    # Back to following the champion alias, and log the predictions again.
    edited = client.post(edit_url, _form(flights, **{"spec.keep_columns": ["flight"]}))
    assert edited.status_code == 303, edited.content.decode()[:2000]
    recipe.refresh_from_db()
    assert (recipe.spec["alias"], recipe.spec["version"]) == ("champion", None)
    assert recipe.spec["log_predictions"] is True and recipe.spec["keep_columns"] == ["flight"]

    # The recipe page says which version the alias scores with now, and what it runs (no SQL).
    page = client.get(reverse("flows:recipe", args=[project.slug, recipe.pk])).content.decode()
    model = versions[0].registered_model
    version_url = reverse("registry:version", args=[project.slug, model.pk, 1])
    assert f'Alias “champion”: now <a href="{version_url}">v1</a>' in page
    assert f'<a href="{reverse("registry:model", args=[project.slug, model.pk])}">delays</a>' in page
    assert "delays@champion → v1</strong> in a separate process" in page
    assert f'source <span class="mono">recipe-{recipe.pk}</span>' in page
    assert "SQL it runs" not in page
    # A promotion shows at once.
    set_alias(versions[1], "champion", actor=bob)
    page = client.get(reverse("flows:recipe", args=[project.slug, recipe.pk])).content.decode()
    assert "delays@champion → v2</strong>" in page
    # The flow's node and list say what the recipe scores with.
    flow = client.get(reverse("flows:flow", args=[project.slug])).content.decode()
    assert 'data-detail="Scores with delays@champion"' in flow


def test_the_alias_fragment_lists_the_models_aliases_and_versions(
    project: Project, bob: User, carol: User, versions: list[ModelVersion], model_folders: list[Any]
) -> None:
    other = register_version(
        project, actor=bob, model_name="arrivals", source_dir_or_logged_model=model_folders[0]
    )
    set_alias(other, "challenger", actor=bob)
    url = _choices_url(project)
    answer = _client(carol).get(url, {"spec.model": "arrivals"}, headers=HTMX)
    assert answer.status_code == 200
    assert answer["HX-Trigger-After-Settle"] == "flows-preview"
    page = answer.content.decode()
    assert 'id="score-target"' in page and "<html" not in page
    # No champion: the first alias is chosen.
    assert _options(page, "f-spec-target") == [
        ("alias:challenger", "challenger → v1", True),
        ("version:1", "v1 (challenger)", False),
    ]
    # A choice the model still offers is kept when the model is chosen again.
    page = _client(bob).get(url, {"spec.model": "delays", "spec.target": "version:1"}, headers=HTMX)
    assert _chosen(page.content.decode(), "f-spec-target") == "version:1"
    # One it does not offer falls back to the model's default.
    page = _client(bob).get(url, {"spec.model": "delays", "spec.target": "alias:challenger"}, headers=HTMX)
    assert _chosen(page.content.decode(), "f-spec-target") == "alias:champion"
    # The input's columns: the version's needed columns the input lacks are named.
    thin = make_dataset(project, bob, name="Thin", content=b"flight,dep_delay\nAF1,5\n")
    page = _client(bob).get(url, {"spec.model": "delays", "inputs": thin.pk}, headers=HTMX).content.decode()
    assert 'The input lacks <span class="mono">distance</span>' in page
    # No model chosen, or one the project does not have: nothing to choose yet.
    for name in ("", "nope"):
        page = _client(bob).get(url, {"spec.model": name}, headers=HTMX).content.decode()
        assert "f-spec-target" not in page and "Choose a model to see its aliases and versions." in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"spec.model": ""}, "model", "choose a model"),
        (
            {"spec.model": "delay"},
            "model",
            "no registered model 'delay' in this project; did you mean 'delays'",
        ),
        (
            {"spec.target": "alias:production"},
            "target",
            "model 'delays' has no alias 'production' (its aliases: champion)",
        ),
        (
            {"spec.target": "version:9"},
            "target",
            "model 'delays' has no version 9; choose one of its versions",
        ),
        ({"spec.target": ""}, "target", "setting 'alias' is empty and no version is given"),
        (
            {"spec.keep_columns": ["flihgt"]},
            "keep_columns",
            "uses column 'flihgt', which input 'Flights' does not have; did you mean 'flight'",
        ),
        ({"spec.id_column": "flght"}, "id_column", "(row identifier) uses column 'flght'"),
        ({"spec.time_column": "day"}, "time_column", "(time of each row) uses column 'day'"),
    ],
)
def test_bad_choices_are_shown_on_their_field_and_nothing_is_saved(
    project: Project,
    bob: User,
    flights: Dataset,
    versions: list[ModelVersion],
    fields: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response: HttpResponse = _client(bob).post(_new_url(project), _form(flights, **fields))
    assert response.status_code == 422
    errors = response.context["score_errors"]
    assert list(errors) == [field]
    assert message in errors[field]
    page = html.unescape(response.content.decode())
    assert page.count(errors[field]) == 1  # on the field, not again in the settings' alert
    assert 'id="spec_error"' not in page
    assert not Recipe.objects.filter(project=project).exists()


def test_a_choice_that_no_longer_exists_stays_visible_and_marked(
    project: Project, bob: User, flights: Dataset, versions: list[ModelVersion]
) -> None:
    client = _client(bob)
    assert client.post(_new_url(project), _form(flights)).status_code == 303
    recipe = Recipe.objects.get(project=project)
    from modelworks.registry.services import delete_alias

    delete_alias(versions[0].registered_model, "champion", actor=bob)
    page = client.get(reverse("flows:recipe_edit", args=[project.slug, recipe.pk])).content.decode()
    assert ("alias:champion", "champion (no such alias)", True) in _options(page, "f-spec-target")
    shown = client.get(reverse("flows:recipe", args=[project.slug, recipe.pk])).content.decode()
    assert "model &#x27;delays&#x27; has no alias &#x27;champion&#x27;" in shown


def test_the_preview_lists_the_output_columns_without_running_the_model(
    project: Project, bob: User, flights: Dataset, versions: list[ModelVersion]
) -> None:
    url = reverse("flows:recipe_new_preview", args=[project.slug, "score"])
    form = _form(flights, **{"spec.keep_columns": ["flight"]})
    page = _client(bob).post(url, form, headers=HTMX).content.decode()
    assert "The model only runs in a build" in page
    names = re.findall(r'<li><span class="mono">([^<]+)</span>', page)
    assert names == ["flight", "prediction", "model_version"]
    bad = _client(bob).post(url, {**form, "spec.target": "version:9"}, headers=HTMX).content.decode()
    assert "has no version 9" in html.unescape(bad)


def test_a_project_without_models_says_where_to_register_one(
    project: Project, bob: User, flights: Dataset
) -> None:
    page = _client(bob).get(_new_url(project), {"input": flights.pk}).content.decode()
    assert "This project has no registered model yet" in page
    assert reverse("registry:list", args=[project.slug]) in page
    assert "f-spec-target" not in page


def test_readers_cannot_open_the_score_form(project: Project, carol: User, flights: Dataset) -> None:
    assert _client(carol).get(_new_url(project)).status_code == 403
