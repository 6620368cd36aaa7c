"""Models of the Lab. Import from here."""

from __future__ import annotations

from modelworks.lab.models.analyses import (
    ACTIVE_SESSION_STATUSES,
    Analysis,
    SessionStatus,
    TaskKind,
    TrainingSession,
    TrainingSessionQuerySet,
)

__all__ = [
    "ACTIVE_SESSION_STATUSES",
    "Analysis",
    "SessionStatus",
    "TaskKind",
    "TrainingSession",
    "TrainingSessionQuerySet",
]
