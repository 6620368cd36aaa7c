"""The scenarios REST API, one module per topic; ``modelworks.config.api`` mounts ``router``."""

from __future__ import annotations

from ninja import Router

from modelworks.scenarios.api import runs, scenarios

__all__ = ["router"]

router = Router()
router.add_router("", scenarios.router)
router.add_router("", runs.router)
