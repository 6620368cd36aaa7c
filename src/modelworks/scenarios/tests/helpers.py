"""Small builders shared by the scenario tests."""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Project, User
from modelworks.datasets.testing import run_queued_jobs
from modelworks.scenarios import services
from modelworks.scenarios.models import RunTrigger, Scenario, ScenarioRun

__all__ = ["diagnostic_step", "make_scenario", "run_now"]


def diagnostic_step(*, fail: bool = False, condition: str = "on_success", name: str = "") -> dict[str, Any]:
    """A "Run a job" step starting ``core.diagnostic`` (instant; fails on purpose when ``fail``)."""
    return {
        "kind": "job",
        "name": name,
        "run_condition": condition,
        "params": {"job_type": "core.diagnostic", "params": {"seconds": 0, "steps": 1, "fail": fail}},
    }


def make_scenario(project: Project, actor: User, name: str = "Refresh", **fields: Any) -> Scenario:
    return services.create_scenario(project, actor=actor, name=name, **fields)


def run_now(scenario: Scenario, actor: User) -> ScenarioRun:
    """Start a run by hand and run every queued job (the run's and those it starts); return it, ended."""
    run = services.start_run(scenario, trigger_kind=RunTrigger.MANUAL, triggered_by=actor)
    run_queued_jobs()
    run.refresh_from_db()
    return run
