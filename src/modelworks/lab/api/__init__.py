"""The Lab's REST API, one module per topic; ``modelworks.config.api`` mounts ``router``."""

from __future__ import annotations

from ninja import Router

from modelworks.lab.api import analyses, sessions

__all__ = ["router"]

router = Router()
router.add_router("", analyses.router)
router.add_router("", sessions.router)
