"""Pages of the scenarios app, one module per topic. Import from here."""

from __future__ import annotations

from modelworks.scenarios.views.definitions import (
    StepAddView,
    StepDeleteView,
    StepEditView,
    StepMoveView,
    TriggerAddView,
    TriggerDeleteView,
    TriggerEditView,
    TriggerUpdateView,
)
from modelworks.scenarios.views.runs import RunCancelView, RunHistoryView, RunLiveView, RunView
from modelworks.scenarios.views.scenarios import (
    CronPreviewView,
    ScenarioDeleteView,
    ScenarioListView,
    ScenarioRunNowView,
    ScenarioSettingsView,
    ScenarioView,
)

__all__ = [
    "CronPreviewView",
    "RunCancelView",
    "RunHistoryView",
    "RunLiveView",
    "RunView",
    "ScenarioDeleteView",
    "ScenarioListView",
    "ScenarioRunNowView",
    "ScenarioSettingsView",
    "ScenarioView",
    "StepAddView",
    "StepDeleteView",
    "StepEditView",
    "StepMoveView",
    "TriggerAddView",
    "TriggerDeleteView",
    "TriggerEditView",
    "TriggerUpdateView",
]
