"""``/projects/{slug}/scenarios``: scenarios with their triggers and steps (read, create, change, delete)."""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.core.permissions import get_project
from modelworks.scenarios import services
from modelworks.scenarios.api.common import get_scenario, user_named
from modelworks.scenarios.models import Scenario
from modelworks.scenarios.schemas import ScenarioIn, ScenarioOut, ScenarioPatch

router = Router(tags=["scenarios"])

_ONE = "/projects/{slug}/scenarios/{scenario_id}"


@router.get(
    "/projects/{slug}/scenarios",
    response=responses({200: list[ScenarioOut]}, 404, 422),
    operation_id="scenarios_list",
    summary="List a project's scenarios",
)
@paginate
def scenarios_list(request: HttpRequest, slug: str) -> QuerySet:
    """The project's scenarios by name, with triggers, steps and last run (readers and above)."""
    project, _ = get_project(request.user, slug, Role.READER)
    return (
        Scenario.objects.filter(project=project)
        .select_related("project", "created_by", "run_as")
        .prefetch_related("triggers__scenario", "steps")
        .order_by("name", "id")
    )


@router.post(
    "/projects/{slug}/scenarios",
    response=responses({201: ScenarioOut}, 403, 404, 422),
    operation_id="scenarios_create",
    summary="Create a scenario",
)
def scenarios_create(request: HttpRequest, slug: str, payload: ScenarioIn) -> Status:
    """Create a scenario with its triggers and steps, all checked first (contributors)."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    scenario = services.create_scenario(
        project,
        actor=request.user,
        name=payload.name,
        description=payload.description,
        enabled=payload.enabled,
        run_as=user_named(payload.run_as),
        triggers=[t.dict() for t in payload.triggers],
        steps=[s.dict() for s in payload.steps],
        request=request,
    )
    return Status(201, get_scenario(request.user, slug, scenario.pk)[1])


@router.get(
    _ONE,
    response=responses({200: ScenarioOut}, 404),
    operation_id="scenarios_get",
    summary="Get a scenario",
)
def scenarios_get(request: HttpRequest, slug: str, scenario_id: int) -> Scenario:
    """A scenario with its triggers (and the next times of schedules) and steps (readers)."""
    return get_scenario(request.user, slug, scenario_id)[1]


@router.patch(
    _ONE,
    response=responses({200: ScenarioOut}, 403, 404, 422),
    operation_id="scenarios_update",
    summary="Change a scenario",
)
def scenarios_update(request: HttpRequest, slug: str, scenario_id: int, payload: ScenarioPatch) -> Scenario:
    """Change fields; ``triggers`` or ``steps``, when given, replace the current ones (contributors)."""
    _, scenario = get_scenario(request.user, slug, scenario_id, Role.CONTRIBUTOR)
    data = payload.dict(exclude_unset=True)
    triggers = data.pop("triggers", None)
    steps = data.pop("steps", None)
    if "run_as" in data:
        data["run_as"] = user_named(data["run_as"])
    services.update_scenario(
        scenario, actor=request.user, request=request, triggers=triggers, steps=steps, **data
    )
    return get_scenario(request.user, slug, scenario_id)[1]


@router.delete(
    _ONE,
    response=responses({204: None}, 403, 404),
    operation_id="scenarios_delete",
    summary="Delete a scenario",
)
def scenarios_delete(request: HttpRequest, slug: str, scenario_id: int) -> Status:
    """Delete a scenario with its history; a run in progress is cancelled (project admins)."""
    _, scenario = get_scenario(request.user, slug, scenario_id, Role.ADMIN)
    services.delete_scenario(scenario, actor=request.user, request=request)
    return Status(204, None)
