"""Test helpers of the scenarios app, and its rows of the generated permission suite.

``SCENARIOS_API_ROUTES`` and ``SCENARIOS_PAGE_ROUTES`` are spliced into
``modelworks.core.testing.api_routes`` and ``page_routes``: every API operation and page of
this app needs a row, or the meta-test in ``tests/test_route_permissions.py`` fails naming it.

* ``world_scenario(w)``: the world's scenario (made by the contributor): a daily schedule and one
  "build the whole flow" step.
* ``world_run(w)``: a queued run of it (its job is never run: it stays queued).
"""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, ApiRouteCase, PageRouteCase, PermissionWorld
from modelworks.scenarios import services
from modelworks.scenarios.models import RunTrigger, Scenario, ScenarioRun

__all__ = [
    "SCENARIOS_API_ROUTES",
    "SCENARIOS_PAGE_ROUTES",
    "run_args",
    "scenario_args",
    "world_run",
    "world_scenario",
]

READER = Access.project(Role.READER)
CONTRIBUTOR = Access.project(Role.CONTRIBUTOR)
ADMIN = Access.project(Role.ADMIN)
REDIRECTED = (303,)


def world_scenario(w: PermissionWorld) -> Scenario:
    if "scenarios.scenario" not in w.extra:
        w.extra["scenarios.scenario"] = services.create_scenario(
            w.project,
            actor=w.users["contributor"],
            name="Nightly refresh",
            triggers=[{"kind": "cron", "cron": "0 6 * * *"}],
            steps=[{"kind": "build", "params": {"datasets": [], "force": False}, "run_condition": "always"}],
        )
    return w.extra["scenarios.scenario"]


def world_run(w: PermissionWorld) -> ScenarioRun:
    if "scenarios.run" not in w.extra:
        w.extra["scenarios.run"] = services.start_run(
            world_scenario(w), trigger_kind=RunTrigger.MANUAL, triggered_by=w.users["contributor"]
        )
    return w.extra["scenarios.run"]


def scenario_args(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "scenario_id": world_scenario(w).pk}


def run_args(w: PermissionWorld) -> dict[str, Any]:
    return {**scenario_args(w), "number": world_run(w).number}


def _page(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": world_scenario(w).pk}


def _trigger_page(w: PermissionWorld) -> dict[str, Any]:
    return {**_page(w), "trigger_pk": world_scenario(w).triggers.get().pk}


def _step_page(w: PermissionWorld) -> dict[str, Any]:
    return {**_page(w), "step_pk": world_scenario(w).steps.get().pk}


def _run_page(w: PermissionWorld) -> dict[str, Any]:
    return {**_page(w), "number": world_run(w).number}


SCENARIOS_API_ROUTES: list[ApiRouteCase] = [
    ApiRouteCase("scenarios_list", READER, lambda w: {"slug": w.project.slug}),
    ApiRouteCase(
        "scenarios_create",
        CONTRIBUTOR,
        lambda w: {"slug": w.project.slug},
        body=lambda w: {
            "name": "Weekly report",
            "triggers": [{"kind": "cron", "cron": "0 7 * * 1"}],
            "steps": [{"kind": "build", "params": {}}],
        },
        ok_status=201,
    ),
    ApiRouteCase("scenarios_get", READER, scenario_args),
    ApiRouteCase(
        "scenarios_update", CONTRIBUTOR, scenario_args, body=lambda w: {"description": "Every night."}
    ),
    ApiRouteCase("scenarios_delete", ADMIN, scenario_args, ok_status=204),
    ApiRouteCase("scenario_runs_create", CONTRIBUTOR, scenario_args, ok_status=202),
    ApiRouteCase("scenario_runs_list", READER, scenario_args),
    ApiRouteCase("scenario_runs_get", READER, run_args),
    ApiRouteCase("scenario_runs_cancel", CONTRIBUTOR, run_args),
]

SCENARIOS_PAGE_ROUTES: list[PageRouteCase] = [
    PageRouteCase("scenarios:list", READER, lambda w: {"slug": w.project.slug}),
    PageRouteCase(
        "scenarios:list",
        CONTRIBUTOR,
        lambda w: {"slug": w.project.slug},
        method="POST",
        data=lambda w: {"name": "Hourly check"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("scenarios:cron_preview", READER, lambda w: {"slug": w.project.slug}),
    PageRouteCase("scenarios:detail", READER, _page),
    PageRouteCase("scenarios:settings", CONTRIBUTOR, _page),
    PageRouteCase(
        "scenarios:settings",
        CONTRIBUTOR,
        _page,
        method="POST",
        data=lambda w: {
            "name": "Nightly refresh",
            "description": "",
            "enabled": "on",
            "run_as": str(w.users["contributor"].pk),
        },
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("scenarios:delete", ADMIN, _page, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase("scenarios:run_now", CONTRIBUTOR, _page, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase(
        "scenarios:trigger_add",
        CONTRIBUTOR,
        _page,
        method="POST",
        data=lambda w: {"kind": "cron", "cron": "30 7 * * *", "outcome": "succeeded"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "scenarios:trigger_update",
        CONTRIBUTOR,
        _trigger_page,
        method="POST",
        data=lambda w: {"enabled": "false"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("scenarios:trigger_edit", CONTRIBUTOR, _trigger_page),
    PageRouteCase(
        "scenarios:trigger_edit",
        CONTRIBUTOR,
        _trigger_page,
        method="POST",
        data=lambda w: {"kind": "cron", "cron": "15 5 * * 1-5", "outcome": "succeeded"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "scenarios:trigger_delete", CONTRIBUTOR, _trigger_page, method="POST", ok_statuses=REDIRECTED
    ),
    PageRouteCase(
        "scenarios:step_add",
        CONTRIBUTOR,
        _page,
        method="POST",
        data=lambda w: {"kind": "build", "run_condition": "always"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("scenarios:step_edit", CONTRIBUTOR, _step_page),
    PageRouteCase(
        "scenarios:step_edit",
        CONTRIBUTOR,
        _step_page,
        method="POST",
        data=lambda w: {"kind": "build", "run_condition": "on_failure", "name": "Rebuild"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "scenarios:step_move",
        CONTRIBUTOR,
        _step_page,
        method="POST",
        data=lambda w: {"direction": "up"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("scenarios:step_delete", CONTRIBUTOR, _step_page, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase("scenarios:runs", READER, _page),
    PageRouteCase("scenarios:run", READER, _run_page),
    PageRouteCase("scenarios:run_live", READER, _run_page, headers={"HX-Request": "true"}),
    PageRouteCase("scenarios:run_cancel", CONTRIBUTOR, _run_page, method="POST", ok_statuses=REDIRECTED),
]
