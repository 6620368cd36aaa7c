"""Models of the flows app."""

from __future__ import annotations

__all__: list[str] = []
