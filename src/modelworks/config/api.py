"""The REST API: one NinjaAPI under /api/v1 that mounts each app's router."""

from __future__ import annotations

from ninja import NinjaAPI

import modelworks

api = NinjaAPI(
    title="Modelworks API",
    version=modelworks.__version__,
    description="REST API of Modelworks. Authenticate with `Authorization: Bearer <token>`.",
    urls_namespace="api",
)
