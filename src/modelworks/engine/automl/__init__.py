"""AutoML for the Lab: propose feature handling, check the data, search models under a time budget."""

from __future__ import annotations

from modelworks.engine.automl.errors import (
    AllTrialsFailedError,
    AutoMLError,
    ColumnNotFoundError,
    InvalidSpecError,
    ModelSaveError,
    TrainingCancelled,
    TrainingDataError,
    UnknownAlgorithmError,
    UnknownMetricError,
)
from modelworks.engine.automl.types import (
    FeatureHandling,
    LabWarning,
    SearchResult,
    Task,
    TrainingSpec,
    TrialResult,
    Validation,
)

__all__ = [
    "AllTrialsFailedError",
    "AutoMLError",
    "ColumnNotFoundError",
    "FeatureHandling",
    "InvalidSpecError",
    "LabWarning",
    "ModelSaveError",
    "SearchResult",
    "Task",
    "TrainingCancelled",
    "TrainingDataError",
    "TrainingSpec",
    "TrialResult",
    "UnknownAlgorithmError",
    "UnknownMetricError",
    "Validation",
]
