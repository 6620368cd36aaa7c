"""The MLflow-compatible protocol, mounted at ``/mlflow/<project>/`` by ``modelworks.config.urls``.

The patterns are in the ``mlflow`` namespace (covered by the MLflow permission suite in
``modelworks.tracking.testing``, not the page suite); each part owns its module:

* ``modelworks.tracking.rest.urls``: experiments, runs, metrics, params, tags, inputs, search;
* ``modelworks.tracking.artifacts.urls``: ``mlflow-artifacts`` upload, download, list, delete, multipart;
* ``modelworks.registry.mlflow_urls``: logged models, registered models, model versions, aliases.

MLflow's web UI calls the same operations under ``ajax-api``; both prefixes are served. Any other
``api/…`` or ``ajax-api/…`` address is answered by ``tracking.rest.unsupported`` (404
``ENDPOINT_NOT_FOUND`` in MLflow's JSON, naming the feature), so it must stay the last pattern.
"""

from __future__ import annotations

from django.urls import include, path, re_path

from modelworks.tracking.rest.server_info import server_info
from modelworks.tracking.rest.unsupported import not_supported

app_name = "mlflow"

urlpatterns = [
    path("api/3.0/mlflow/server-info", server_info, name="server_info"),
    path("api/2.0/mlflow/", include("modelworks.tracking.rest.urls")),
    path("ajax-api/2.0/mlflow/", include("modelworks.tracking.rest.urls")),
    path("api/2.0/mlflow/", include("modelworks.registry.mlflow_urls")),
    path("ajax-api/2.0/mlflow/", include("modelworks.registry.mlflow_urls")),
    path("api/2.0/mlflow-artifacts/", include("modelworks.tracking.artifacts.urls")),
    path("ajax-api/2.0/mlflow-artifacts/", include("modelworks.tracking.artifacts.urls")),
    re_path(r"^(?P<operation>(?:ajax-)?api/.*)$", not_supported, name="not_supported"),
]
