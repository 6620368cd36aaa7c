"""The flows REST API, one module per topic; ``modelworks.config.api`` mounts ``router``."""

from __future__ import annotations

from ninja import Router

from modelworks.flows.api import builds, bundles, flow, history, recipes

__all__ = ["router"]

router = Router()
router.add_router("", recipes.router)
router.add_router("", flow.router)
router.add_router("", builds.router)
router.add_router("", history.router)
router.add_router("", bundles.router)
