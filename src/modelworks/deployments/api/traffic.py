"""``/projects/{slug}/deployments/{name}/feedback`` and ``.../predictions``: what the endpoint scored,
and the true labels that arrive later."""

# No ``from __future__ import annotations``: ninja reads the annotations at runtime.

from typing import Any

from django.http import HttpRequest
from ninja import Body, Query, Router, Schema
from ninja import Field as NinjaField

from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.deployments import services
from modelworks.deployments.api.common import get_deployment
from modelworks.deployments.schemas import FeedbackOut, PredictionsOut
from modelworks.deployments.services.queries import MAX_RECENT_PREDICTIONS, recent_predictions

router = Router(tags=["deployments"])

_ONE = "/projects/{slug}/deployments/{name}"


@router.post(
    _ONE + "/feedback",
    response=responses({200: FeedbackOut}, 403, 404, 422),
    operation_id="deployments_feedback",
    summary="Send the true labels of scored rows",
)
def deployments_feedback(
    request: HttpRequest, slug: str, name: str, payload: Body[list[Any]]
) -> dict[str, int]:
    """Store ground truth for rows the endpoint scored: ``[{"row_id": "...", "label": ...}]``, up to
    10,000 per call, all or nothing. ``row_id`` is the value of the deployment's ID column, or the
    ``<request_id>:<row index>`` of the answer. A label sent again replaces the earlier one.
    A bad row fails the call with a message naming it (``Row 12: …``) (contributors)."""
    _, deployment = get_deployment(request.user, slug, name, Role.CONTRIBUTOR)
    result = services.record_feedback(deployment, payload, actor=request.user, request=request)
    return {"received": result.received, "created": result.created, "updated": result.updated}


class PredictionsQuery(Schema):
    limit: int = NinjaField(50, ge=1, le=MAX_RECENT_PREDICTIONS, description="Newest rows to return.")
    role: str | None = NinjaField(None, pattern="^(primary|challenger|shadow)$")


@router.get(
    _ONE + "/predictions",
    response=responses({200: PredictionsOut}, 404, 422),
    operation_id="deployments_predictions",
    summary="Recent predictions of a deployment",
)
def deployments_predictions(
    request: HttpRequest, slug: str, name: str, filters: Query[PredictionsQuery]
) -> Any:
    """The newest rows of the prediction log (inputs, prediction, probabilities, version, role,
    latency), newest first, from the last month at most (readers)."""
    _, deployment = get_deployment(request.user, slug, name)
    return recent_predictions(deployment, limit=filters.limit, role=filters.role)
