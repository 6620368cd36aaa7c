"""Editing a trigger on its own page (its kind and that kind's settings, checked by the services,
audited), and the trigger and step forms saying which fields each kind uses so ``scenarios.js``
shows only those (every field still renders without JavaScript)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from modelworks.core.models import AuditEvent, Project, User
from modelworks.datasets.testing import make_dataset
from modelworks.scenarios.forms import STEP_FIELDS_SHOWN, TRIGGER_FIELDS_SHOWN
from modelworks.scenarios.models import Scenario, Trigger
from modelworks.scenarios.services.cron import next_times
from modelworks.scenarios.tests.helpers import make_scenario

pytest_plugins = ["modelworks.core.testing.fixtures"]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response: Any) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def scenario(project: Project, bob: User) -> Scenario:
    return make_scenario(project, bob, name="Nightly", triggers=[{"kind": "cron", "cron": "0 6 * * *"}])


def _edit_url(scenario: Scenario, trigger: Trigger) -> str:
    return f"/projects/{scenario.project.slug}/scenarios/{scenario.pk}/triggers/{trigger.pk}/edit/"


def test_the_edit_page_shows_the_trigger_and_its_fields(scenario: Scenario, bob: User, carol: User) -> None:
    trigger = scenario.triggers.get()
    page = _client(bob).get(_edit_url(scenario, trigger))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Schedule (cron, UTC): cron &#x27;0 6 * * *&#x27; (UTC)" in html
    assert '<option value="cron" selected>' in html
    assert 'name="cron" value="0 6 * * *"' in html
    assert 'hx-trigger="load, keyup changed delay:400ms from:#trigger_cron"' in html  # next times shown
    # every field renders (no JavaScript needed), each saying when it applies
    for name, condition in TRIGGER_FIELDS_SHOWN.items():
        assert re.search(
            rf'<(select|input)[^>]*name="{name}"[^>]*data-show-if="{condition}"', html
        ) or re.search(rf'<(select|input)[^>]*data-show-if="{condition}"[^>]*name="{name}"', html), name
    assert '<script src="/static/scenarios/scenarios.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " style=" not in html  # strict CSP
    # the scenario page links every trigger to its edit page, for contributors only
    detail = f"/projects/{scenario.project.slug}/scenarios/{scenario.pk}/"
    assert f'href="{_edit_url(scenario, trigger)}"' in _client(bob).get(detail).content.decode()
    assert _edit_url(scenario, trigger) not in _client(carol).get(detail).content.decode()
    assert _client(carol).get(_edit_url(scenario, trigger)).status_code == 403


def test_changing_the_schedule_computes_the_next_time_and_is_audited(scenario: Scenario, bob: User) -> None:
    trigger = scenario.triggers.get()
    client = _client(bob)
    saved = client.post(
        _edit_url(scenario, trigger), {"kind": "cron", "cron": "30 7 * * 1-5", "outcome": "any"}
    )
    assert (
        saved.status_code == 303 and saved["Location"] == f"/projects/flight-delays/scenarios/{scenario.pk}/"
    )
    trigger.refresh_from_db()
    assert (trigger.kind, trigger.cron, trigger.enabled) == ("cron", "30 7 * * 1-5", True)
    assert trigger.next_fire_at == next_times("30 7 * * 1-5", timezone.now(), 1)[0]
    event = AuditEvent.objects.filter(action="scenario.trigger_updated").latest("id")
    assert event.details["trigger_id"] == trigger.pk
    assert event.details["changed"] == ["cron", "dataset", "kind", "outcome", "upstream"]
    assert "Trigger saved." in _text(client.get(saved["Location"]))


def test_changing_the_kind_keeps_only_that_kinds_settings(
    project: Project, scenario: Scenario, bob: User
) -> None:
    flights = make_dataset(project, bob)
    trigger = scenario.triggers.get()
    data = {
        "kind": "dataset_changed",
        "cron": "0 6 * * *",
        "dataset": str(flights.pk),
        "outcome": "succeeded",
    }
    assert _client(bob).post(_edit_url(scenario, trigger), data).status_code == 303
    trigger.refresh_from_db()
    assert (trigger.kind, trigger.cron, trigger.dataset_id, trigger.next_fire_at) == (
        "dataset_changed",
        "",
        flights.pk,
        None,
    )


def test_a_switched_off_trigger_stays_off(scenario: Scenario, bob: User) -> None:
    trigger = scenario.triggers.get()
    client = _client(bob)
    client.post(
        f"/projects/flight-delays/scenarios/{scenario.pk}/triggers/{trigger.pk}/", {"enabled": "false"}
    )
    assert (
        client.post(
            _edit_url(scenario, trigger), {"kind": "cron", "cron": "0 8 * * *", "outcome": "any"}
        ).status_code
        == 303
    )
    trigger.refresh_from_db()
    assert (trigger.cron, trigger.enabled, trigger.next_fire_at) == ("0 8 * * *", False, None)


BAD_EDITS = [
    (
        {"kind": "cron", "cron": "0 6 * *"},
        "'0 6 * *' has 4 fields; a schedule has five (minute, hour, day of month, month, day of week)",
    ),
    ({"kind": "dataset_changed", "cron": ""}, "Choose the dataset whose new versions start the scenario."),
    ({"kind": "scenario_finished"}, "Choose the scenario whose end starts this one."),
    ({"kind": "scenario_finished", "upstream": "loop"}, "'Weekly' already runs after 'Nightly'"),
    (
        {"kind": "dataset_changed", "dataset": "999999"},
        "Select a valid choice. 999999 is not one of the available choices.",
    ),
    ({"kind": "hourly"}, "Select a valid choice. hourly is not one of the available choices."),
]


@pytest.mark.parametrize(("data", "message"), BAD_EDITS)
def test_bad_edits_are_refused_in_plain_words_and_change_nothing(
    project: Project, scenario: Scenario, bob: User, data: dict[str, str], message: str
) -> None:
    weekly = make_scenario(
        project, bob, name="Weekly", triggers=[{"kind": "scenario_finished", "upstream": scenario.pk}]
    )
    trigger = scenario.triggers.get()
    before = (trigger.kind, trigger.cron, trigger.next_fire_at)
    form = {"outcome": "succeeded", **data}
    if form.get("upstream") == "loop":
        form["upstream"] = str(weekly.pk)
    refused = _client(bob).post(_edit_url(scenario, trigger), form)
    assert refused.status_code == 422
    assert message in _text(refused)
    assert "cron '0 6 * * *' (UTC)" in _text(refused)  # the heading still shows the stored trigger
    trigger.refresh_from_db()
    assert (trigger.kind, trigger.cron, trigger.next_fire_at) == before
    assert not AuditEvent.objects.filter(action="scenario.trigger_updated").exists()


def test_a_trigger_of_another_scenario_is_not_found(project: Project, scenario: Scenario, bob: User) -> None:
    other = make_scenario(project, bob, name="Other", triggers=[{"kind": "cron", "cron": "0 1 * * *"}])
    url = f"/projects/flight-delays/scenarios/{scenario.pk}/triggers/{other.triggers.get().pk}/edit/"
    assert _client(bob).get(url).status_code == 404
    assert _client(bob).post(url, {"kind": "cron", "cron": "0 2 * * *", "outcome": "any"}).status_code == 404


def test_the_step_forms_say_which_fields_each_kind_uses(
    project: Project, scenario: Scenario, bob: User
) -> None:
    make_dataset(project, bob)
    scenario_page = _client(bob).get(f"/projects/flight-delays/scenarios/{scenario.pk}/").content.decode()
    for name, condition in STEP_FIELDS_SHOWN.items():
        field = re.search(rf'<(?:select|input|textarea)[^>]*name="{name}"[^>]*>', scenario_page)
        assert field is not None, name
        assert f'data-show-if="{condition}"' in field.group(0), name
    # the kind and the channel themselves always show, and so do the fields every step has
    for name in ("kind", "name", "run_condition"):
        field = re.search(rf'<(?:select|input)[^>]*name="{name}"[^>]*>', scenario_page)
        assert field is not None and "data-show-if" not in field.group(0)


def test_the_script_and_its_style_are_served_from_the_app() -> None:
    script = finders.find("scenarios/scenarios.js")
    style = finders.find("scenarios/scenarios.css")
    assert script and style
    code = open(script, encoding="utf-8").read()
    assert "data-show-if" in code and "eval(" not in code and "innerHTML" not in code
    assert ".field[hidden] { display: none; }" in open(style, encoding="utf-8").read()
