"""Root URLs: the pages of each app, the REST API under /api/v1, and a health probe."""

from __future__ import annotations

from django.urls import include, path

from modelworks.config.api import api
from modelworks.core.views.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("api/v1/", api.urls),
    # The MLflow-compatible tracking and registry protocol (MLFLOW_TRACKING_URI=.../mlflow/<project>).
    path("mlflow/<slug:project>/", include("modelworks.tracking.mlflow_urls")),
    path("", include("modelworks.catalog.urls")),
    path("", include("modelworks.connections.urls")),
    path("", include("modelworks.datasets.urls")),
    path("", include("modelworks.flows.urls")),
    path("", include("modelworks.scenarios.urls")),
    path("", include("modelworks.tracking.urls")),
    path("", include("modelworks.registry.urls")),
    path("", include("modelworks.lab.urls")),
    path("", include("modelworks.deployments.urls")),
    path("", include("modelworks.monitoring.urls")),
    path("", include("modelworks.governance.urls")),
    path("", include("modelworks.core.urls")),
]
