"""Lookups shared by the Lab's API operations, with the one permission model (404 / 403)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from ninja.responses import Status

from modelworks.core.api.errors import ErrorCode, error_body
from modelworks.core.models import Project, Role
from modelworks.core.permissions import get_project
from modelworks.lab.models import Analysis, TrainingSession
from modelworks.lab.services import reconcile_session

__all__ = ["conflict", "get_analysis", "get_session"]


def get_analysis(
    user: Any, slug: str, analysis_id: int, needed: Role = Role.READER
) -> tuple[Project, Analysis]:
    """Analysis ``analysis_id`` of project ``slug`` if the caller holds ``needed`` there."""
    project, _ = get_project(user, slug, needed)
    analysis = (
        Analysis.objects.filter(project=project, pk=analysis_id)
        .select_related("project", "dataset", "created_by")
        .first()
    )
    if analysis is None:
        raise Http404(f"No analysis {analysis_id} in project '{slug}'.")
    return project, analysis


def get_session(analysis: Analysis, number: int) -> TrainingSession:
    session = (
        analysis.sessions.select_related("analysis__project", "job", "dataset_version", "created_by")
        .filter(number=number)
        .first()
    )
    if session is None:
        raise Http404(f"'{analysis.name}' has no training {number}.")
    return reconcile_session(session)


def conflict(message: str) -> Status:
    return Status(409, error_body(ErrorCode.CONFLICT, message))
