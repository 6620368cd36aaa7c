"""The scenario pages: list (last outcome, next run), detail with trigger and step forms and their
plain errors, run now, the run page with per-step results and its live fragment, settings."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

from django.test import Client
from django.utils import timezone

from modelworks.core.models import Project, User
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.scenarios.models import Scenario, Trigger
from modelworks.scenarios.services.cron import next_times
from modelworks.scenarios.tests.helpers import diagnostic_step, make_scenario

pytest_plugins = ["modelworks.core.testing.fixtures"]

HX = {"HX-Request": "true"}


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response: object) -> str:
    html = response.content.decode()  # type: ignore[attr-defined]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _follow(client: Client, response: Any) -> Any:
    assert response.status_code == 303, response.status_code
    return client.get(response["Location"])


def test_list_create_and_the_navigation_link(project: Project, bob: User, carol: User) -> None:
    daily = make_scenario(project, bob, name="Daily", triggers=[{"kind": "cron", "cron": "15 4 * * *"}])
    client = _client(bob)
    page = client.get("/projects/flight-delays/scenarios/")
    assert page.status_code == 200
    text = _text(page)
    expected = next_times("15 4 * * *", timezone.now(), 1)[0]
    assert "Daily Steps 0" not in text and "Never run" in text and f"{expected:%Y-%m-%d %H:%M} UTC" in text
    assert (
        'href="/projects/flight-delays/scenarios/" aria-current="page">Scenarios</a>' in page.content.decode()
    )
    assert "New scenario" not in _text(_client(carol).get("/projects/flight-delays/scenarios/"))
    refused = client.post("/projects/flight-delays/scenarios/", {"name": "Daily"})
    assert refused.status_code == 422
    assert "A scenario called 'Daily' already exists in this project; choose another name." in _text(refused)
    created = client.post("/projects/flight-delays/scenarios/", {"name": "Weekly", "description": "Mondays."})
    weekly = Scenario.objects.get(name="Weekly")
    assert (
        created.status_code == 303
        and created["Location"] == f"/projects/flight-delays/scenarios/{weekly.pk}/"
    )
    assert weekly.run_as == bob and weekly.created_by == bob and daily.pk != weekly.pk


def test_triggers_and_steps_forms_with_plain_errors(project: Project, bob: User) -> None:
    flights = make_dataset(project, bob)
    scenario = make_scenario(project, bob)
    client = _client(bob)
    url = f"/projects/flight-delays/scenarios/{scenario.pk}/"
    bad = client.post(url + "triggers/", {"kind": "cron", "cron": "0 6 * *", "outcome": "succeeded"})
    assert bad.status_code == 422
    assert (
        "'0 6 * *' has 4 fields; a schedule has five (minute, hour, day of month, month, day of week)"
        in _text(bad)
    )
    ok = client.post(url + "triggers/", {"kind": "cron", "cron": "0 6 * * 1-5", "outcome": "succeeded"})
    assert ok.status_code == 303
    client.post(
        url + "triggers/", {"kind": "dataset_changed", "dataset": str(flights.pk), "outcome": "succeeded"}
    )
    page = _text(client.get(url))
    upcoming = next_times("0 6 * * 1-5", timezone.now(), 3)
    assert all(f"{t:%Y-%m-%d %H:%M}" in page for t in upcoming)
    assert "At 06:00 on Monday through Friday" in page and "new version of 'Flights'" in page
    bad_step = client.post(url + "steps/", {"kind": "quality", "run_condition": "always"})
    assert bad_step.status_code == 422 and "Choose at least one dataset." in _text(bad_step)
    bad_json = client.post(
        url + "steps/",
        {
            "kind": "job",
            "run_condition": "always",
            "job_type": "core.diagnostic",
            "job_params": "{seconds: 1",
        },
    )
    assert (
        bad_json.status_code == 422
        and "This is not JSON (Expecting property name enclosed in double quotes" in _text(bad_json)
    )
    bad_params = client.post(
        url + "steps/",
        {
            "kind": "job",
            "run_condition": "always",
            "job_type": "core.diagnostic",
            "job_params": '{"seconds": -5}',
        },
    )
    assert "parameter 'seconds' must be a number from 0 to 3600, got -5" in _text(bad_params)
    client.post(
        url + "steps/",
        {"kind": "quality", "run_condition": "always", "datasets": [str(flights.pk)], "name": "Check"},
    )
    client.post(
        url + "steps/",
        {
            "kind": "job",
            "run_condition": "on_failure",
            "job_type": "core.diagnostic",
            "job_params": '{"seconds": 0}',
        },
    )
    first, second = scenario.steps.order_by("position")
    assert (first.name, first.params) == ("Check", {"datasets": [flights.pk]})
    listed = _text(client.get(url))
    assert "1. Check" in listed and "Check the quality rules of Flights" in listed
    assert "Run the job core.diagnostic" in listed and "if an earlier step failed" in listed
    assert client.post(url + f"steps/{second.pk}/move/", {"direction": "up"}).status_code == 303
    assert [s.pk for s in scenario.steps.order_by("position")] == [second.pk, first.pk]
    edit = client.get(url + f"steps/{first.pk}/")
    assert edit.status_code == 200 and f'<option value="{flights.pk}" selected>' in edit.content.decode()
    saved = client.post(
        url + f"steps/{first.pk}/",
        {
            "kind": "quality",
            "run_condition": "on_success",
            "datasets": [str(flights.pk)],
            "name": "Check again",
        },
    )
    assert saved.status_code == 303
    first.refresh_from_db()
    assert first.name == "Check again" and first.run_condition == "on_success"
    trigger = scenario.triggers.get(kind="cron")
    client.post(url + f"triggers/{trigger.pk}/", {"enabled": "false"})
    trigger.refresh_from_db()
    assert trigger.enabled is False and trigger.next_fire_at is None
    client.post(url + f"triggers/{trigger.pk}/delete/")
    client.post(url + f"steps/{second.pk}/delete/")
    assert not Trigger.objects.filter(pk=trigger.pk).exists() and scenario.steps.count() == 1


def test_run_now_and_the_run_page(project: Project, bob: User, carol: User) -> None:
    scenario = make_scenario(
        project, bob, steps=[diagnostic_step(name="Diagnose"), diagnostic_step(fail=True, name="Breaks")]
    )
    client = _client(bob)
    url = f"/projects/flight-delays/scenarios/{scenario.pk}/"
    started = client.post(url + "run/")
    assert started.status_code == 303 and started["Location"] == url + "runs/1/"
    queued = client.get(url + "runs/1/")
    assert "Waiting for a worker" in _text(queued) and 'hx-trigger="every 2s"' in queued.content.decode()
    skipped = _follow(client, client.post(url + "run/"))
    assert "Not started: Run 1 was still queued; a scenario runs once at a time" in _text(skipped)
    run_queued_jobs()
    live = _client(carol).get(url + "runs/1/live/", headers=HX)
    text = _text(live)
    assert live.status_code == 200 and "hx-trigger" not in live.content.decode()
    assert "1. Diagnose" in text and "2. Breaks" in text and "Failed" in text
    assert "The job failed: The diagnostic job failed on purpose (fail=true)." in text
    assert "Cancel run" not in text
    history = _text(client.get(url + "runs/"))
    assert "Run 2 Skipped" in history and "Run 1 Failed" in history
    listing = _text(client.get("/projects/flight-delays/scenarios/"))
    assert "Failed" in listing
    # Not an HTMX request: the live address sends the browser to the run page.
    assert client.get(url + "runs/1/live/")["Location"] == url + "runs/1/"


def test_cancel_from_the_run_page_and_settings(project: Project, alice: User, bob: User, carol: User) -> None:
    scenario = make_scenario(project, bob, steps=[diagnostic_step()])
    client = _client(bob)
    url = f"/projects/flight-delays/scenarios/{scenario.pk}/"
    client.post(url + "run/")
    cancelled = _follow(client, client.post(url + "runs/1/cancel/"))
    assert "Run cancelled." in _text(cancelled) and "Cancelled by bob before it started." in _text(cancelled)
    form = {"name": "Renamed", "description": "", "enabled": "", "run_as": str(alice.pk)}
    refused = client.post(url + "settings/", form)
    assert refused.status_code == 422
    assert "Only project admins may make a scenario run as someone else" in _text(refused)
    form["run_as"] = str(carol.pk)
    assert "Select a valid choice" in _text(_client(alice).post(url + "settings/", form))
    form["run_as"] = str(bob.pk)
    assert client.post(url + "settings/", form).status_code == 303
    scenario.refresh_from_db()
    assert scenario.name == "Renamed" and scenario.enabled is False
    assert _client(alice).post(url + "delete/").status_code == 303
    assert not Scenario.objects.exists()


def test_the_schedule_preview(project: Project, carol: User) -> None:
    client = _client(carol)
    ok = _text(
        client.get(
            "/projects/flight-delays/scenarios/cron-preview/", {"cron": "*/30 9-17 * * 1-5"}, headers=HX
        )
    )
    assert "Every 30th minute from 09:00 through 17:59 on Monday through Friday (UTC)" in ok
    first = next_times("*/30 9-17 * * 1-5", timezone.now(), 1)[0]
    assert f"{first:%Y-%m-%d %H:%M}" in ok
    bad = _text(
        client.get("/projects/flight-delays/scenarios/cron-preview/", {"cron": "0 9 * * MON-XYZ"}, headers=HX)
    )
    assert "The day of week field 'MON-XYZ' is not valid" in bad
    assert (timezone.now() - dt.timedelta(seconds=1)).year >= 2024
