"""The pages of experiment tracking (namespace ``tracking``)."""

from modelworks.tracking.views.experiments import ExperimentListView, ExperimentView
from modelworks.tracking.views.runs import CompareView, RunView

__all__ = ["CompareView", "ExperimentListView", "ExperimentView", "RunView"]
