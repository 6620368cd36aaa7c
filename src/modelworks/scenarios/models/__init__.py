"""Models of the scenarios app. Import from here."""

from __future__ import annotations

from modelworks.scenarios.models.runs import (
    ACTIVE_STATUSES,
    ENDED_STATUSES,
    RunStatus,
    RunTrigger,
    ScenarioRun,
    ScenarioRunQuerySet,
)
from modelworks.scenarios.models.scenarios import (
    OutcomeFilter,
    RunCondition,
    Scenario,
    ScenarioQuerySet,
    Step,
    StepKind,
    Trigger,
    TriggerKind,
)

__all__ = [
    "ACTIVE_STATUSES",
    "ENDED_STATUSES",
    "OutcomeFilter",
    "RunCondition",
    "RunStatus",
    "RunTrigger",
    "Scenario",
    "ScenarioQuerySet",
    "ScenarioRun",
    "ScenarioRunQuerySet",
    "Step",
    "StepKind",
    "Trigger",
    "TriggerKind",
]
