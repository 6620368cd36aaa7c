"""Pages of the deployments app."""

from __future__ import annotations

from modelworks.deployments.views.deployments import (
    DeploymentCreateView,
    DeploymentDeleteView,
    DeploymentDetailView,
    DeploymentEditView,
    DeploymentListView,
    DeploymentPauseView,
    DeploymentResumeView,
)
from modelworks.deployments.views.tokens import TokenCreateView, TokenRevokeView
from modelworks.deployments.views.traffic import TrafficView

__all__ = [
    "DeploymentCreateView",
    "DeploymentDeleteView",
    "DeploymentDetailView",
    "DeploymentEditView",
    "DeploymentListView",
    "DeploymentPauseView",
    "DeploymentResumeView",
    "TokenCreateView",
    "TokenRevokeView",
    "TrafficView",
]
