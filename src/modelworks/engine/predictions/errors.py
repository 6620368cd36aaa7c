"""Errors of the prediction log."""

from __future__ import annotations

from modelworks.engine.errors import EngineError

__all__ = [
    "InvalidSourceError",
    "PredictionLogClosedError",
    "PredictionLogError",
    "PredictionRowsError",
    "UnknownPredictionColumnError",
]


class PredictionLogError(EngineError):
    """Base of the errors of ``modelworks.engine.predictions``."""

    code = "prediction_log_error"


class InvalidSourceError(PredictionLogError):
    """A source name that cannot name a folder of the log (e.g. holds a slash)."""

    code = "invalid_prediction_source"


class PredictionRowsError(PredictionLogError):
    """The rows given to :meth:`PredictionLogWriter.append` do not line up."""

    code = "invalid_prediction_rows"


class PredictionLogClosedError(PredictionLogError):
    """Rows were appended to a writer after :meth:`PredictionLogWriter.close`."""

    code = "prediction_log_closed"


class UnknownPredictionColumnError(PredictionLogError):
    """:func:`read_predictions` was asked for a column no segment of the log holds."""

    code = "unknown_prediction_column"
