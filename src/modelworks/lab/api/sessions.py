"""``/projects/{slug}/lab/analyses/{id}/sessions``: start, follow, cancel trainings; what-if; register."""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.lab import services
from modelworks.lab.api.common import conflict, get_analysis, get_session
from modelworks.lab.models import TrainingSession
from modelworks.lab.schemas import RegisterIn, SessionOut, SessionSummaryOut, WhatIfOut
from modelworks.lab.services import TrainingConflict

router = Router(tags=["lab"])

_SESSIONS = "/projects/{slug}/lab/analyses/{analysis_id}/sessions"
_ONE = _SESSIONS + "/{number}"


@router.post(
    _SESSIONS,
    response=responses({202: SessionOut}, 403, 404, 409, 422),
    operation_id="lab_sessions_create",
    summary="Train an analysis",
)
def lab_sessions_create(request: HttpRequest, slug: str, analysis_id: int) -> Status:
    """Queue a training of the analysis as it is designed now (contributors). 422 when a data check
    blocks it (the message says why and what to do); 409 when it is already training."""
    _, analysis = get_analysis(request.user, slug, analysis_id, Role.CONTRIBUTOR)
    try:
        session = services.start_training(analysis, actor=request.user, request=request)
    except TrainingConflict as exc:
        return conflict(exc.message)
    return Status(202, get_session(analysis, session.number))


@router.get(
    _SESSIONS,
    response=responses({200: list[SessionSummaryOut]}, 404, 422),
    operation_id="lab_sessions_list",
    summary="List an analysis's trainings",
)
@paginate
def lab_sessions_list(request: HttpRequest, slug: str, analysis_id: int) -> QuerySet:
    """Trainings, newest first, with their status and best model (readers)."""
    _, analysis = get_analysis(request.user, slug, analysis_id)
    return analysis.sessions.select_related("job").order_by("-number")


@router.get(
    _ONE,
    response=responses({200: SessionOut}, 404),
    operation_id="lab_sessions_get",
    summary="Get a training: progress, leaderboard, evaluation, explanations",
)
def lab_sessions_get(request: HttpRequest, slug: str, analysis_id: int, number: int) -> TrainingSession:
    """One training: its progress while it runs, then every trial (each a tracked run), the holdout
    metrics and curves, the explanations and where the model is (readers)."""
    _, analysis = get_analysis(request.user, slug, analysis_id)
    return get_session(analysis, number)


@router.post(
    _ONE + "/cancel",
    response=responses({200: SessionOut}, 403, 404, 409),
    operation_id="lab_sessions_cancel",
    summary="Cancel a training",
)
def lab_sessions_cancel(request: HttpRequest, slug: str, analysis_id: int, number: int) -> Any:
    """Stop a queued or running training; no model is kept (contributors). 409 once it has ended."""
    _, analysis = get_analysis(request.user, slug, analysis_id, Role.CONTRIBUTOR)
    session = get_session(analysis, number)
    try:
        services.cancel_training(session, actor=request.user, request=request)
    except TrainingConflict as exc:
        return conflict(exc.message)
    return get_session(analysis, number)


@router.get(
    _ONE + "/what-if",
    response=responses({200: WhatIfOut}, 404, 409, 422),
    operation_id="lab_sessions_what_if",
    summary="Score an edited row (what-if)",
)
def lab_sessions_what_if(request: HttpRequest, slug: str, analysis_id: int, number: int) -> Any:
    """Score one row given as query parameters, one per feature (``?age=42&city=Lyon``; a missing
    parameter is a missing value): the prediction, class probabilities and each column's
    contribution (readers). 409 when the training has no model."""
    _, analysis = get_analysis(request.user, slug, analysis_id)
    session = get_session(analysis, number)
    try:
        return services.score_row(session, request.GET)
    except TrainingConflict as exc:
        return conflict(exc.message)


@router.post(
    _ONE + "/register",
    response=responses({200: SessionOut}, 403, 404, 409, 422),
    operation_id="lab_sessions_register",
    summary="Register a training's model in the model registry",
)
def lab_sessions_register(
    request: HttpRequest, slug: str, analysis_id: int, number: int, payload: RegisterIn
) -> Any:
    """Register the model as a new version of the registered model ``name`` (created when new), with
    the training dataset version, metrics and signature; ``alias`` points at it (contributors)."""
    _, analysis = get_analysis(request.user, slug, analysis_id, Role.CONTRIBUTOR)
    session = get_session(analysis, number)
    try:
        services.register_model(
            session, actor=request.user, name=payload.name, alias=payload.alias, request=request
        )
    except TrainingConflict as exc:
        return conflict(exc.message)
    return get_session(analysis, number)
