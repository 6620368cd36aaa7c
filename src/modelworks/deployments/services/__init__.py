"""Deployment writes shared by the pages and the API: atomic, audited, and announced to the scoring
service through the routing revision (``modelworks.deployments.runtime``).

Views and API routes check permissions first (``modelworks.core.permissions``), then call these.
"""

from __future__ import annotations

from modelworks.deployments.services.deployments import (
    TargetSpec,
    clean_name,
    create_deployment,
    delete_deployment,
    deployments_using,
    pause_deployment,
    resume_deployment,
    update_deployment,
)
from modelworks.deployments.services.feedback import MAX_FEEDBACK_ROWS, FeedbackResult, record_feedback
from modelworks.deployments.services.tokens import issue_token, revoke_token

__all__ = [
    "MAX_FEEDBACK_ROWS",
    "FeedbackResult",
    "TargetSpec",
    "clean_name",
    "create_deployment",
    "delete_deployment",
    "deployments_using",
    "issue_token",
    "pause_deployment",
    "record_feedback",
    "resume_deployment",
    "revoke_token",
    "update_deployment",
]
