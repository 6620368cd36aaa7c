"""Pages of the Lab (see ``modelworks.lab.urls``)."""

from __future__ import annotations

from modelworks.lab.views.analyses import (
    AnalysisDeleteView,
    AnalysisDesignView,
    AnalysisListView,
    AnalysisTrainView,
    ColumnChoicesView,
)
from modelworks.lab.views.sessions import (
    SessionCancelView,
    SessionLiveView,
    SessionRegisterView,
    SessionView,
    WhatIfView,
)

__all__ = [
    "AnalysisDeleteView",
    "AnalysisDesignView",
    "AnalysisListView",
    "AnalysisTrainView",
    "ColumnChoicesView",
    "SessionCancelView",
    "SessionLiveView",
    "SessionRegisterView",
    "SessionView",
    "WhatIfView",
]
