"""Errors of the AutoML package: a training request that cannot be run, or a run that could not finish.

Every message names the thing at fault (column, algorithm, metric…), what was expected and how to fix
it, so the Lab can show it as is to a user who never reads a traceback.
"""

from __future__ import annotations

from modelworks.engine.errors import EngineError

__all__ = [
    "AllTrialsFailedError",
    "AutoMLError",
    "ColumnNotFoundError",
    "InvalidSpecError",
    "ModelSaveError",
    "TrainingCancelled",
    "TrainingDataError",
    "UnknownAlgorithmError",
    "UnknownMetricError",
]


class AutoMLError(EngineError):
    """Base of the errors of ``modelworks.engine.automl``."""

    code = "automl_error"


class InvalidSpecError(AutoMLError):
    """The training request is malformed: a budget ≤ 0, one fold, a holdout of 100%…"""

    code = "invalid_training_spec"


class ColumnNotFoundError(InvalidSpecError):
    """The target, the time column or a feature is not a column of the table."""

    code = "column_not_found"


class UnknownAlgorithmError(InvalidSpecError):
    """An algorithm name that is not in ``ALGORITHMS`` or does not fit the task."""

    code = "unknown_algorithm"


class UnknownMetricError(InvalidSpecError):
    """A metric name that is not known or does not fit the task."""

    code = "unknown_metric"


class TrainingDataError(AutoMLError):
    """The data cannot train a model: target all null, a single class, too few rows…

    ``details["warnings"]`` holds the blocking checks (as dicts) when they come from
    :func:`~modelworks.engine.automl.checks.check_training_data`.
    """

    code = "training_data_error"


class AllTrialsFailedError(AutoMLError):
    """No trial of the search finished: every candidate model failed, or the budget was too small."""

    code = "all_trials_failed"


class TrainingCancelled(AutoMLError):
    """The user cancelled the training."""

    code = "training_cancelled"


class ModelSaveError(AutoMLError):
    """The model could not be written as an MLflow model folder."""

    code = "model_save_error"
