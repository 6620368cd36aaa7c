"""The monitoring REST API; ``modelworks.config.api`` mounts ``router``."""

from __future__ import annotations

from ninja import Router

__all__ = ["router"]

router = Router()
