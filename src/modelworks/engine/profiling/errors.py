"""Errors of the profiling package."""

from __future__ import annotations

from modelworks.engine.errors import EngineError

__all__ = ["ProfilingError"]


class ProfilingError(EngineError):
    """A profile could not be computed (the version is unreadable, or the computation timed out)."""

    code = "profiling_error"
