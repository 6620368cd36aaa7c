"""``/projects/{slug}/flow``: the flow as a graph to draw (states and layout), and its check."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.core.permissions import get_project
from modelworks.flows import services
from modelworks.flows.api.common import engine_error
from modelworks.flows.schemas import FlowCheckOut, FlowOut

router = Router(tags=["flows"])


@router.get(
    "/projects/{slug}/flow",
    response=responses({200: FlowOut}, 404, 422),
    operation_id="flow_get",
    summary="Get the flow graph",
)
def flow_get(
    request: HttpRequest,
    slug: str,
    check: bool = Query(False, description="Also compile every recipe and list the problems."),
) -> Any:
    """Datasets and recipes as nodes with their states, edges, and a layered layout (readers)."""
    from modelworks.engine.flow import GraphError

    project, _ = get_project(request.user, slug, Role.READER)
    try:
        return services.flow_state(project, with_problems=check).to_dict()
    except GraphError as exc:
        return engine_error(exc, 422)


@router.get(
    "/projects/{slug}/flow/check",
    response=responses({200: FlowCheckOut}, 404),
    operation_id="flow_check",
    summary="Check the flow against the current schemas",
)
def flow_check(request: HttpRequest, slug: str) -> dict[str, Any]:
    """Compile every recipe in flow order from the current columns: each problem names the recipe
    and, for a column lost upstream, the column and the input (readers and above)."""
    project, _ = get_project(request.user, slug, Role.READER)
    problems = services.check_flow(project)
    return {"ok": not problems, "problems": [p.to_dict() for p in problems]}
