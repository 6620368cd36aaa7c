"""Models of the deployments app. Import from here."""

from __future__ import annotations

__all__: list[str] = []
