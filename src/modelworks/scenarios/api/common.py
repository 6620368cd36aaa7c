"""Lookups shared by the scenario API operations, with the one permission model (404 / 403)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404

from modelworks.core.models import Project, Role, User
from modelworks.core.permissions import get_project
from modelworks.scenarios.models import Scenario, ScenarioRun

__all__ = ["get_run", "get_scenario", "user_named"]


def get_scenario(
    user: Any, slug: str, scenario_id: int, needed: Role = Role.READER
) -> tuple[Project, Scenario]:
    """Scenario ``scenario_id`` of project ``slug`` if the caller holds ``needed`` there."""
    project, _ = get_project(user, slug, needed)
    scenario = (
        Scenario.objects.filter(project=project, pk=scenario_id)
        .select_related("project", "created_by", "run_as")
        .prefetch_related("triggers__scenario", "steps")
        .first()
    )
    if scenario is None:
        raise Http404(f"No scenario {scenario_id} in project '{slug}'.")
    return project, scenario


def get_run(scenario: Scenario, number: int) -> ScenarioRun:
    run = (
        scenario.runs.select_related("triggered_by", "acting_as", "scenario__project")
        .filter(number=number)
        .first()
    )
    if run is None:
        raise Http404(f"'{scenario.name}' has no run {number}.")
    return run


def user_named(username: str | None) -> User | None:
    if username is None:
        return None
    user = User.objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"run_as": f"No user called '{username}'."})
    return user
