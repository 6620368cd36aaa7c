"""The deployments REST API, one module per topic; ``modelworks.config.api`` mounts ``router``."""

from __future__ import annotations

from ninja import Router

from modelworks.deployments.api import deployments, tokens, traffic

__all__ = ["router"]

router = Router()
router.add_router("", deployments.router)
router.add_router("", tokens.router)
router.add_router("", traffic.router)
