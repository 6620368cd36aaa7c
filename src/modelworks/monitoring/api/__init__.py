"""The monitoring REST API, one module per topic; ``modelworks.config.api`` mounts ``router``."""

from __future__ import annotations

from ninja import Router

from modelworks.monitoring.api import backtests, monitors

__all__ = ["router"]

router = Router()
router.add_router("", monitors.router)
router.add_router("", backtests.router)
