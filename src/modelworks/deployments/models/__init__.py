"""Models of the deployments app. Import from here."""

from __future__ import annotations

from modelworks.deployments.models.deployments import (
    ENDPOINT_TOKEN_PREFIX,
    Deployment,
    DeploymentMode,
    DeploymentStatus,
    DeploymentTarget,
    EndpointToken,
    Feedback,
    RoutingRevision,
    TargetRole,
    default_max_rows,
    hash_endpoint_token,
)

__all__ = [
    "ENDPOINT_TOKEN_PREFIX",
    "Deployment",
    "DeploymentMode",
    "DeploymentStatus",
    "DeploymentTarget",
    "EndpointToken",
    "Feedback",
    "RoutingRevision",
    "TargetRole",
    "default_max_rows",
    "hash_endpoint_token",
]
