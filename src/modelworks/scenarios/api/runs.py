"""``/projects/{slug}/scenarios/{id}/runs``: run now, history, one run, cancel."""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import ErrorCode, error_body, responses
from modelworks.core.models import Role
from modelworks.scenarios import services
from modelworks.scenarios.api.common import get_run, get_scenario
from modelworks.scenarios.models import RunTrigger, ScenarioRun
from modelworks.scenarios.schemas import RunOut

router = Router(tags=["scenarios"])

_RUNS = "/projects/{slug}/scenarios/{scenario_id}/runs"


@router.post(
    _RUNS,
    response=responses({202: RunOut}, 403, 404, 409),
    operation_id="scenario_runs_create",
    summary="Run a scenario now",
)
def scenario_runs_create(request: HttpRequest, slug: str, scenario_id: int) -> Status:
    """Queue a run acting as you (contributors). 409 when a run is already active: the attempt is
    still recorded in the history as a skipped run, and ``details.run`` gives its number."""
    _, scenario = get_scenario(request.user, slug, scenario_id, Role.CONTRIBUTOR)
    run = services.start_run(
        scenario, trigger_kind=RunTrigger.API, triggered_by=request.user, request=request
    )
    if run.status == "skipped":
        return Status(409, error_body(ErrorCode.CONFLICT, run.reason, {"run": run.number}))
    return Status(202, run)


@router.get(
    _RUNS,
    response=responses({200: list[RunOut]}, 404, 422),
    operation_id="scenario_runs_list",
    summary="List a scenario's runs",
)
@paginate
def scenario_runs_list(request: HttpRequest, slug: str, scenario_id: int) -> QuerySet:
    """Runs and skipped firings, newest first, with each step's result (readers)."""
    _, scenario = get_scenario(request.user, slug, scenario_id)
    return scenario.runs.select_related("triggered_by", "acting_as").order_by("-created_at", "-id")


@router.get(
    _RUNS + "/{number}",
    response=responses({200: RunOut}, 404),
    operation_id="scenario_runs_get",
    summary="Get a scenario run",
)
def scenario_runs_get(request: HttpRequest, slug: str, scenario_id: int, number: int) -> ScenarioRun:
    """One run with its steps' status, duration, message and links (readers)."""
    _, scenario = get_scenario(request.user, slug, scenario_id)
    return services.reconcile_run(get_run(scenario, number))


@router.post(
    _RUNS + "/{number}/cancel",
    response=responses({200: RunOut}, 403, 404, 409),
    operation_id="scenario_runs_cancel",
    summary="Cancel a scenario run",
)
def scenario_runs_cancel(request: HttpRequest, slug: str, scenario_id: int, number: int) -> ScenarioRun:
    """Cancel a queued or running run; the job of its current step is cancelled too (contributors).
    409 when the run has already ended."""
    _, scenario = get_scenario(request.user, slug, scenario_id, Role.CONTRIBUTOR)
    return services.cancel_run(get_run(scenario, number), actor=request.user, request=request)
