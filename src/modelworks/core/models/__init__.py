"""Core models. Each module holds one topic; import from here."""

from __future__ import annotations

from modelworks.core.models.audit import AuditEvent, AuditEventQuerySet
from modelworks.core.models.base import ProjectScopedModel, ProjectScopedQuerySet, TimestampedModel
from modelworks.core.models.jobs import Job, JobLogLine, JobQuerySet, JobState, Worker
from modelworks.core.models.projects import Project, ProjectMembership, ProjectQuerySet, Role
from modelworks.core.models.tokens import ApiToken
from modelworks.core.models.users import User

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditEventQuerySet",
    "Job",
    "JobLogLine",
    "JobQuerySet",
    "JobState",
    "Project",
    "ProjectMembership",
    "ProjectQuerySet",
    "ProjectScopedModel",
    "ProjectScopedQuerySet",
    "Role",
    "TimestampedModel",
    "User",
    "Worker",
]
