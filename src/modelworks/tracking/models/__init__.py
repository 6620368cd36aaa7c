"""Models of experiment tracking."""

from modelworks.tracking.models.experiments import Experiment, ExperimentTag, LifecycleStage
from modelworks.tracking.models.runs import (
    LatestMetric,
    Metric,
    Param,
    Run,
    RunInput,
    RunModelLink,
    RunStatus,
    RunTag,
    TrackedDataset,
)

__all__ = [
    "Experiment",
    "ExperimentTag",
    "LatestMetric",
    "LifecycleStage",
    "Metric",
    "Param",
    "Run",
    "RunInput",
    "RunModelLink",
    "RunStatus",
    "RunTag",
    "TrackedDataset",
]
