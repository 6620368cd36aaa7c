"""The scenarios REST API: create with nested triggers and steps, change, run now (409 when a run is
active, recorded as skipped), list and read runs, cancel; errors name the field and what to fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modelworks.core.models import AuditEvent, Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.scenarios.models import Scenario

pytest_plugins = ["modelworks.core.testing.fixtures"]

ApiFor = Callable[[User | None], ApiClient]
BASE = "/projects/flight-delays/scenarios"


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Nightly",
        "description": "Refresh and check.",
        "triggers": [{"kind": "cron", "cron": "0  6 * * 1-5"}],
        "steps": [
            {
                "kind": "job",
                "name": "Diagnose",
                "params": {"job_type": "core.diagnostic", "params": {"seconds": 0}},
            },
            {
                "kind": "job",
                "params": {"job_type": "core.diagnostic", "params": {"seconds": 0}},
                "run_condition": "always",
            },
        ],
    }
    body.update(overrides)
    return body


def test_create_read_change_and_delete(project: Project, alice: User, bob: User, api_client: ApiFor) -> None:
    api = api_client(bob)
    created = expect(api.post(BASE, _body()), 201)
    assert created["name"] == "Nightly" and created["project"] == "flight-delays"
    assert created["run_as"]["username"] == "bob" and created["created_by"]["username"] == "bob"
    (trigger,) = created["triggers"]
    assert trigger["cron"] == "0 6 * * 1-5" and trigger["description"] == "cron '0 6 * * 1-5' (UTC)"
    assert len(trigger["next_times"]) == 3 and trigger["next_fire_at"] == trigger["next_times"][0]
    assert [(s["position"], s["name"], s["run_condition"]) for s in created["steps"]] == [
        (1, "Diagnose", "on_success"),
        (2, "", "always"),
    ]
    assert created["steps"][0]["params"]["params"]["steps"] == 5  # filled by the job type's own check
    assert created["last_run"] is None
    one = f"{BASE}/{created['id']}"
    assert expect(api.get(one), 200) == expect(api.get(BASE), 200)["items"][0]
    changed = expect(api.patch(one, {"enabled": False, "steps": [_body()["steps"][1]]}), 200)
    assert changed["enabled"] is False and len(changed["steps"]) == 1 and len(changed["triggers"]) == 1
    assert changed["triggers"][0]["next_times"] == []
    expect_error(api.delete(one), 403, "permission_denied")
    assert expect(api_client(alice).delete(one), 204) is None
    assert not Scenario.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="scenario.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["scenario.created", "scenario.updated", "scenario.deleted"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": ""}, "name", "This field cannot be blank"),
        (
            {"triggers": [{"kind": "cron", "cron": "every day"}]},
            "triggers.0.cron",
            "'every day' has 2 fields",
        ),
        (
            {"triggers": [{"kind": "hourly"}]},
            "triggers.0.kind",
            "Input should be 'cron', 'dataset_changed' or 'scenario_finished'",
        ),
        (
            {"steps": [{"kind": "quality", "params": {"datasets": []}}]},
            "steps.0.datasets",
            "Choose at least one dataset",
        ),
        (
            {"steps": [{"kind": "quality", "params": {"datasets": [424242]}}]},
            "steps.0.datasets",
            "No dataset 424242 in project 'flight-delays'",
        ),
        (
            {"steps": [{"kind": "job", "params": {"job_type": "core.self_check"}}]},
            "steps.0.job_type",
            "'core.self_check' cannot be run by a scenario; allowed job types: core.diagnostic",
        ),
        (
            {
                "steps": [
                    {"kind": "job", "params": {"job_type": "core.diagnostic", "params": {"seconds": -1}}}
                ]
            },
            "steps.0.params",
            "'core.diagnostic' parameter 'seconds' must be a number from 0 to 3600",
        ),
        (
            {"steps": [{"kind": "build", "params": {"force": "yes"}}]},
            "steps.0.force",
            "force is true or false",
        ),
        ({"run_as": "carol"}, "run_as", "Only project admins may make a scenario run as someone else"),
        ({"run_as": "nobody"}, "run_as", "No user called 'nobody'"),
        ({"colour": "blue"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_bad_scenarios_are_refused_and_nothing_is_created(
    project: Project, bob: User, api_client: ApiFor, body: dict[str, Any], field: str, message: str
) -> None:
    error = expect_error(api_client(bob).post(BASE, _body(**body)), 422, "validation_error")
    assert field in error["details"], error
    assert message in " ".join(error["details"][field]), error
    assert not Scenario.objects.exists()


def test_the_name_is_unique_in_the_project_and_run_as_must_be_a_contributor(
    project: Project, alice: User, bob: User, carol: User, api_client: ApiFor
) -> None:
    expect(api_client(bob).post(BASE, _body()), 201)
    error = expect_error(api_client(bob).post(BASE, _body()), 422, "validation_error")
    assert error["details"]["name"] == [
        "A scenario called 'Nightly' already exists in this project; choose another name."
    ]
    error = expect_error(
        api_client(alice).post(BASE, _body(name="Other", run_as="carol")), 422, "validation_error"
    )
    assert error["details"]["run_as"] == [
        "carol is not a contributor of 'Flight delays'; choose a contributor."
    ]
    assert (
        expect(api_client(alice).post(BASE, _body(name="Other", run_as="bob")), 201)["run_as"]["username"]
        == "bob"
    )


def test_run_now_history_one_run_and_cancel(
    project: Project, bob: User, carol: User, api_client: ApiFor
) -> None:
    api = api_client(bob)
    scenario = expect(api.post(BASE, _body()), 201)
    runs = f"{BASE}/{scenario['id']}/runs"
    first = expect(api.post(runs), 202)
    assert first["status"] == "queued" and first["trigger_kind"] == "api" and first["number"] == 1
    assert first["triggered_by"]["username"] == "bob" and first["job_id"]
    conflict = expect_error(api.post(runs), 409, "conflict")
    assert (
        conflict["message"]
        == "Run 1 was still queued; a scenario runs once at a time, so this firing was skipped."
    )
    assert conflict["details"] == {"run": 2}
    run_queued_jobs()
    done = expect(api_client(carol).get(f"{runs}/1"), 200)
    assert done["status"] == "succeeded" and done["duration_seconds"] >= 0
    assert [(s["name"], s["status"], s["kind"]) for s in done["steps"]] == [
        ("Diagnose", "succeeded", "job"),
        ("Run a job", "succeeded", "job"),
    ]
    assert done["steps"][0]["links"]["Job"].startswith("/jobs/")
    history = expect(api.get(runs), 200)
    assert [(r["number"], r["status"]) for r in history["items"]] == [(2, "skipped"), (1, "succeeded")]
    assert expect(api.get(f"{BASE}/{scenario['id']}"), 200)["last_run"]["number"] == 1
    expect_error(api.post(f"{runs}/1/cancel"), 409, "conflict")
    third = expect(api.post(runs), 202)
    cancelled = expect(api.post(f"{runs}/{third['number']}/cancel"), 200)
    assert cancelled["status"] == "cancelled" and cancelled["reason"] == "Cancelled by bob before it started."
    expect_error(api_client(carol).post(runs), 403, "permission_denied")
    expect_error(api.get(f"{runs}/99"), 404, "not_found")


def test_quality_steps_name_datasets_of_the_project(project: Project, bob: User, api_client: ApiFor) -> None:
    flights = make_dataset(project, bob)
    body = _body(
        steps=[{"kind": "quality", "params": {"datasets": [flights.pk, flights.pk]}}],
        triggers=[{"kind": "dataset_changed", "dataset": flights.pk}],
    )
    created = expect(api_client(bob).post(BASE, body), 201)
    assert created["steps"][0]["params"] == {"datasets": [flights.pk]}
    assert created["triggers"][0]["description"] == "new version of 'Flights'"


def test_run_as_set_by_an_admin_survives_edits_by_other_contributors(
    project: Project, alice: User, bob: User, api_client: ApiFor
) -> None:
    from modelworks.core import services as core_services
    from modelworks.core.testing.fixtures import make_user

    erin = make_user("erin")
    core_services.grant_membership(project, actor=alice, user=erin, role="contributor")
    created = expect(api_client(alice).post(BASE, _body(run_as="bob")), 201)
    one = f"{BASE}/{created['id']}"
    api = api_client(erin)
    changed = expect(api.patch(one, {"description": "Edited by Erin.", "run_as": "bob", "steps": []}), 200)
    assert changed["run_as"]["username"] == "bob" and changed["steps"] == []
    assert changed["triggers"][0]["id"] == created["triggers"][0]["id"]  # triggers kept when not given
    error = expect_error(api.patch(one, {"run_as": "alice"}), 422, "validation_error")
    assert error["details"]["run_as"] == [
        "Only project admins may make a scenario run as someone else; leave it as yourself."
    ]
    assert expect(api.patch(one, {"run_as": "erin"}), 200)["run_as"]["username"] == "erin"
