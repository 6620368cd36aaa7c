"""Realised value API: ``/governance/use-cases/{slug}/value`` (read the definitions and their
measurements), ``.../value/{definition_id}/measurements`` (push one period's value, idempotent per
period), ``.../value/{definition_id}/compute`` (compute from the prediction log now) and
``/governance/tower`` (the control tower's figures).

Who: reading a use case's value needs to see the use case (404 otherwise); pushing and computing
need to edit it (governance leads and its business owner; 403 for others who see it). The tower is
for portfolio viewers and leads (403 for everyone else).
"""

# No ``from __future__ import annotations``: ninja reads the annotations at runtime.

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from modelworks.core.api.errors import ErrorCode, error_body, responses
from modelworks.core.schemas import InputSchema
from modelworks.governance.models import UseCase, ValueDefinition
from modelworks.governance.services.access import is_portfolio_viewer
from modelworks.governance.services.portfolio import get_use_case
from modelworks.governance.services.tower import tower_figures
from modelworks.governance.services.value import (
    RealisedValueError,
    compute_definition,
    definition_in_words,
    push_measurement,
    value_overview,
)

router = Router(tags=["governance: realised value"])

_UC = "/governance/use-cases/{slug}/value"


# -- schemas --------------------------------------------------------------------------------------
class MeasurementOut(Schema):
    period_start: date
    period_end: date = Field(description="Last day of the period (included).")
    value: Decimal
    rows: int | None = Field(None, description="Rows of the prediction log that matched (computed values).")
    source: str = Field(description="computed or pushed")
    note: str
    computed_at: datetime


class DefinitionOut(Schema):
    id: int
    name: str
    kind: str = Field(description="prediction_log or pushed")
    in_words: str
    deployment: str | None = Field(None, description="Name of the deployment whose log it reads.")
    row_filter: str
    value_per_row: str
    unit: str
    period: str
    description: str
    last_computed_at: str | None
    last_error: dict[str, Any] | None
    total: Decimal
    measurements: list[MeasurementOut]


class MonthOut(Schema):
    period_start: date
    realised: Decimal
    estimated: Decimal
    cumulative_realised: Decimal
    cumulative_estimated: Decimal


class ValueOut(Schema):
    use_case: str
    currency: str
    expected_value_one_off: Decimal
    expected_value_recurring: Decimal = Field(description="Per year.")
    realised_total: Decimal = Field(
        description="Measured so far by the definitions in the use case's currency."
    )
    months: list[MonthOut] = Field(
        description="Realised vs estimated per month (definitions in the currency)."
    )
    definitions: list[DefinitionOut]


class MeasurementIn(InputSchema):
    period: str = Field(
        description="The period: any date YYYY-MM-DD inside it (stored as the period's first day), or "
        "YYYY-MM for a monthly definition.",
        max_length=40,
    )
    value: Decimal = Field(description="The period's value, in the definition's unit.")
    rows: int | None = Field(None, ge=0, description="Optional count behind the value (e.g. cases handled).")
    note: str = Field("", max_length=2000)


class PushOut(Schema):
    created: bool = Field(description="False: the period already had a value, now replaced.")
    measurement: MeasurementOut


class ComputeOut(Schema):
    periods: int
    rows: int
    total: Decimal
    message: str


class GroupOut(Schema):
    key: str
    label: str
    count: int
    expected_one_off: Decimal
    expected_recurring: Decimal
    realised: Decimal


class HealthOut(Schema):
    use_case: str
    project: str
    deployment: str
    health: str = Field(description="alert, drift, ok or unmonitored")
    open_alerts: int
    monitors: int


class DurationOut(Schema):
    use_case: str
    days: float


class OverdueOut(Schema):
    kind: str = Field(description="signoff or promotion")
    project: str
    model: str
    version: int
    alias: str
    since: datetime = Field(description="Due date (sign-off) or request date (promotion).")


class TowerOut(Schema):
    currency: str
    total: GroupOut
    in_production: int
    by_stage: list[GroupOut]
    by_unit: list[GroupOut]
    median_days_to_production: float | None
    time_to_production: list[DurationOut]
    health: list[HealthOut]
    overdue: list[OverdueOut]


# -- helpers --------------------------------------------------------------------------------------
def _definition(use_case: UseCase, definition_id: int) -> ValueDefinition:
    definition = (
        ValueDefinition.objects.select_related("use_case", "deployment")
        .filter(use_case=use_case, pk=definition_id)
        .first()
    )
    if definition is None:
        raise Http404(f"Use case '{use_case.slug}' has no value definition {definition_id}.")
    return definition


def _measurement(m: Any) -> dict[str, Any]:
    return {
        "period_start": m.period_start,
        "period_end": m.period_end,
        "value": m.value,
        "rows": m.rows,
        "source": m.source,
        "note": m.note,
        "computed_at": m.computed_at,
    }


def _group(g: Any) -> dict[str, Any]:
    return {
        "key": g.key,
        "label": g.label,
        "count": g.count,
        "expected_one_off": g.expected_one_off,
        "expected_recurring": g.expected_recurring,
        "realised": g.realised,
    }


# -- operations -----------------------------------------------------------------------------------
@router.get(
    _UC,
    response=responses({200: ValueOut}, 404),
    operation_id="governance_value_get",
    summary="Realised value of a use case",
)
def governance_value_get(request: HttpRequest, slug: str) -> Any:
    """Estimated vs realised value per month, and each value definition with its measurements
    (whoever may see the use case)."""
    use_case = get_use_case(request.user, slug)
    overview = value_overview(use_case)
    return {
        "use_case": use_case.slug,
        "currency": use_case.currency,
        "expected_value_one_off": use_case.expected_value_one_off,
        "expected_value_recurring": use_case.expected_value_recurring,
        "realised_total": overview["realised_total"],
        "months": overview["months"],
        "definitions": [
            {
                "id": item["definition"].pk,
                "name": item["definition"].name,
                "kind": item["definition"].kind,
                "in_words": definition_in_words(item["definition"]),
                "deployment": item["definition"].deployment.name if item["definition"].deployment else None,
                "row_filter": item["definition"].row_filter,
                "value_per_row": item["definition"].value_per_row,
                "unit": item["definition"].unit,
                "period": item["definition"].period,
                "description": item["definition"].description,
                "last_computed_at": (item["definition"].details or {}).get("last_computed_at"),
                "last_error": item["last_error"],
                "total": item["total"],
                "measurements": [_measurement(m) for m in item["measurements"]],
            }
            for item in overview["definitions"]
        ],
    }


@router.post(
    _UC + "/{definition_id}/measurements",
    response=responses({200: PushOut, 201: PushOut}, 403, 404, 422),
    operation_id="governance_value_push",
    summary="Push the value of one period",
)
def governance_value_push(request: HttpRequest, slug: str, definition_id: int, payload: MeasurementIn) -> Any:
    """Store the value of one period of a ``pushed`` value definition, e.g.
    ``{"period": "2026-03", "value": 1250.5}``. Sending the same period again replaces its value
    (answers 200 instead of 201), so a script may safely resend. Governance leads and the use
    case's business owner (with their API token)."""
    use_case = get_use_case(request.user, slug, edit=True)
    definition = _definition(use_case, definition_id)
    measurement, created = push_measurement(
        definition,
        period=payload.period,
        value=payload.value,
        rows=payload.rows,
        note=payload.note,
        actor=request.user,
        request=request,
    )
    return Status(201 if created else 200, {"created": created, "measurement": _measurement(measurement)})


@router.post(
    _UC + "/{definition_id}/compute",
    response=responses({200: ComputeOut}, 403, 404, 409, 422),
    operation_id="governance_value_compute",
    summary="Compute realised value from the prediction log now",
)
def governance_value_compute(request: HttpRequest, slug: str, definition_id: int) -> Any:
    """Recompute every period of a ``prediction_log`` definition from its deployment's log and
    feedback, replacing the computed measurements. A definition that cannot be computed (bad
    formula, deleted deployment, empty log) answers 422 with ``details.reason`` (leads and owner)."""
    use_case = get_use_case(request.user, slug, edit=True)
    definition = _definition(use_case, definition_id)
    try:
        result = compute_definition(definition, actor=request.user, request=request)
    except RealisedValueError as exc:
        status = 409 if exc.code == "not_computed" else 422
        code = ErrorCode.CONFLICT if status == 409 else ErrorCode.VALIDATION_ERROR
        return Status(
            status,
            error_body(code, exc.message, {"reason": exc.code, "field": exc.field, **exc.details}),
        )
    return result.to_dict()


@router.get(
    "/governance/tower",
    response=responses({200: TowerOut}, 403),
    operation_id="governance_tower",
    summary="The control tower's figures",
)
def governance_tower(request: HttpRequest) -> Any:
    """Counts and value by stage and business unit, time to production, production health and
    overdue reviews (portfolio viewers and governance leads)."""
    if not is_portfolio_viewer(request.user):
        raise PermissionDenied("The control tower is for portfolio viewers and governance leads.")
    use_cases = list(UseCase.objects.select_related("stage").prefetch_related("projects"))
    f = tower_figures(use_cases)
    overdue = [
        {
            "kind": "signoff",
            "project": r.project.slug,
            "model": r.model_version.registered_model.name,
            "version": r.model_version.version,
            "alias": r.alias,
            "since": r.due_at,
        }
        for r in f["overdue"]["signoffs"]
    ] + [
        {
            "kind": "promotion",
            "project": r.project.slug,
            "model": r.registered_model.name,
            "version": r.candidate_version,
            "alias": r.alias,
            "since": r.created_at,
        }
        for r in f["overdue"]["promotions"]
    ]
    return {
        "currency": f["currency"],
        "total": _group(f["total"]),
        "in_production": f["in_production"],
        "by_stage": [_group(g) for g in f["by_stage"]],
        "by_unit": [_group(g) for g in f["by_unit"]],
        "median_days_to_production": f["median_days_to_production"],
        "time_to_production": [
            {"use_case": r["use_case"].slug, "days": r["days"]} for r in f["time_to_production"]
        ],
        "health": [
            {
                "use_case": h.use_case.slug,
                "project": h.deployment.project.slug,
                "deployment": h.deployment.name,
                "health": h.health,
                "open_alerts": h.open_alerts,
                "monitors": h.monitors,
            }
            for h in f["health"]
        ],
        "overdue": overdue,
    }
