"""The root of every error the engine raises on purpose.

Each engine package has its own hierarchy under :class:`EngineError` (``DatasetError`` in ``io``,
``ExploreError``, ``ProfilingError``, ``QualityError``). Every class carries a stable ``code`` that the
API puts in its error body, and ``details``: structured facts (column, line, sizes…) that a page can
show next to the message. The message itself is a sentence for people: what went wrong, where, and
how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, ClassVar

__all__ = ["EngineError", "did_you_mean", "human_bytes"]


class EngineError(Exception):
    """An expected failure whose message can be shown to the user as is."""

    code: ClassVar[str] = "engine_error"

    def __init__(self, message: str, /, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return self.message


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest candidate, or ``""`` when none is close."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered:
        return f"; did you mean {lowered[name.lower()]!r}?"
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def human_bytes(size: int) -> str:
    """Format a byte count for a message: ``1.5 MiB`` (exact bytes go in ``details``)."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
