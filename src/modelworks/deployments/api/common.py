"""Lookups shared by the deployments API operations, with the one permission model (404 / 403)."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from modelworks.core.models import Project, Role
from modelworks.core.permissions import get_project
from modelworks.deployments.models import Deployment, EndpointToken

__all__ = ["get_deployment", "get_token"]


def get_deployment(user: Any, slug: str, name: str, needed: Role = Role.READER) -> tuple[Project, Deployment]:
    """Deployment ``name`` of project ``slug`` if the caller holds ``needed`` there."""
    project, _ = get_project(user, slug, needed)
    deployment = (
        Deployment.objects.filter(project=project, name=name).select_related("project", "created_by").first()
    )
    if deployment is None:
        raise Http404(f"No deployment '{name[:80]}' in project '{slug}'.")
    return project, deployment


def get_token(deployment: Deployment, token_id: int) -> EndpointToken:
    token = deployment.tokens.select_related("created_by").filter(pk=token_id).first()
    if token is None:
        raise Http404(f"Deployment '{deployment.name}' has no token {token_id}.")
    return token
