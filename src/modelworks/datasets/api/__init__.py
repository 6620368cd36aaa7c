"""The datasets REST API, one module per topic; ``modelworks.config.api`` mounts ``router``."""

from __future__ import annotations

from ninja import Router

from modelworks.datasets.api import data, datasets, imports, quality

__all__ = ["router"]

router = Router()
# The upload and import routes come before ``/datasets/{dataset_id}`` so their fixed paths win.
router.add_router("", imports.router)
router.add_router("", datasets.router)
router.add_router("", data.router)
router.add_router("", quality.router)
