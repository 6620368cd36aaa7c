"""The errors of the scoring engine: a bad model folder, a bad request body, a failed batch run.

Every class carries a stable ``code`` (the serving API puts it in its error body) and a message for
people: what is wrong, where (column, row, file) and how to fix it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from modelworks.engine.errors import EngineError

__all__ = ["INPUT_ERROR_CODES", "BatchScoringError", "ModelLoadError", "ScoringError", "ScoringInputError"]

#: Every ``ScoringInputError.code``; all of them are client errors (HTTP 4xx), ``too_many_rows`` is the
#: only one that a client fixes by splitting the batch rather than by correcting its data.
INPUT_ERROR_CODES = frozenset(
    {
        "invalid_json",
        "not_utf8",
        "too_deep",
        "too_many_rows",
        "empty",
        "missing_column",
        "missing_value",
        "wrong_type",
        "not_finite",
        "bad_shape",
        "unknown_format",
    }
)


class ScoringError(EngineError):
    """Root of the scoring engine's errors."""

    code: ClassVar[str] = "scoring_error"


class ModelLoadError(ScoringError):
    """The model folder cannot be loaded: no ``MLmodel``, an unknown flavor, untrusted types…"""

    code: ClassVar[str] = "model_load_error"


class ScoringInputError(ScoringError):
    """The rows sent for scoring do not fit the model's signature (or are not readable at all).

    Unlike the other engine errors, ``code`` is per instance: one of :data:`INPUT_ERROR_CODES`.
    ``column`` and ``row`` (0-based) say where the problem is, when it has a place.
    """

    def __init__(
        self, code: str, message: str, /, *, column: str | None = None, row: int | None = None, **details: Any
    ) -> None:
        super().__init__(message, column=column, row=row, **details)
        self.code = code  # type: ignore[misc]  # per instance on purpose (see the docstring)
        self.column = column
        self.row = row


class BatchScoringError(ScoringError):
    """A batch scoring run failed, timed out or was cancelled; ``reason`` says which."""

    code: ClassVar[str] = "batch_scoring_error"

    def __init__(self, message: str, /, *, reason: str = "failed", **details: Any) -> None:
        super().__init__(message, reason=reason, **details)
        self.reason = reason
