"""Models of the scenarios app."""

from __future__ import annotations

__all__: list[str] = []
