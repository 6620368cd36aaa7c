"""Models of the monitoring app. Import from here."""

from __future__ import annotations

__all__: list[str] = []
