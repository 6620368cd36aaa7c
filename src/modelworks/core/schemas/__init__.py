"""API schemas of the core app, one module per topic. Import from here."""

from __future__ import annotations

from modelworks.core.schemas.audit import AuditEventOut, AuditFilter, ProjectAuditFilter
from modelworks.core.schemas.base import ErrorOut, InputSchema, ProjectScopedOut, TimestampedOut, UserRef
from modelworks.core.schemas.jobs import JobIn, JobLogLineOut, JobOut, JobStateName
from modelworks.core.schemas.projects import (
    GroupRef,
    MembershipIn,
    MembershipOut,
    MembershipPatch,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
)
from modelworks.core.schemas.tokens import TokenCreatedOut, TokenIn, TokenOut
from modelworks.core.schemas.users import (
    GroupDetailOut,
    GroupIn,
    GroupMemberIn,
    GroupOut,
    MeOut,
    UserAccountOut,
    UserIn,
    UserOut,
)

__all__ = [
    "AuditEventOut",
    "AuditFilter",
    "ErrorOut",
    "GroupDetailOut",
    "GroupIn",
    "GroupMemberIn",
    "GroupOut",
    "GroupRef",
    "InputSchema",
    "JobIn",
    "JobLogLineOut",
    "JobOut",
    "JobStateName",
    "MeOut",
    "MembershipIn",
    "MembershipOut",
    "MembershipPatch",
    "ProjectAuditFilter",
    "ProjectIn",
    "ProjectOut",
    "ProjectPatch",
    "ProjectScopedOut",
    "TimestampedOut",
    "TokenCreatedOut",
    "TokenIn",
    "TokenOut",
    "UserAccountOut",
    "UserIn",
    "UserOut",
    "UserRef",
]
