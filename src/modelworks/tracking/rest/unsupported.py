"""MLflow operations Modelworks does not serve, answered in MLflow's shape instead of an HTML page.

Every ``api/…`` or ``ajax-api/…`` address under ``/mlflow/<project>/`` that no other view serves
lands here (the last pattern of ``tracking.mlflow_urls``). The answer is 404 ``ENDPOINT_NOT_FOUND``
in MLflow's JSON, which is what the client expects from a server without an operation: it falls back
where it can (e.g. tracing's v3 → v2 endpoints) and otherwise raises a readable ``RestException``
naming the feature, instead of quoting a page of HTML. Callers are authenticated first, like every
other operation, so an outsider learns nothing about the project.
"""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Role
from modelworks.tracking.protocol import MlflowCall, MlflowError, mlflow_endpoint

__all__ = ["not_supported"]

ANY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

# Path segments of MLflow features that are not served, with the feature's plain name.
UNSUPPORTED_FEATURES = (
    ("traces", "MLflow tracing (traces, spans and assessments)"),
    ("webhooks", "Model registry webhooks"),
    ("scorers", "GenAI scorers"),
    ("gateway", "the AI gateway"),
    ("prompts", "the prompt registry"),
    ("datasets", "GenAI evaluation datasets"),
    ("workspaces", "MLflow workspaces (each Modelworks project is its own tracking server)"),
)


def _feature(operation: str) -> str | None:
    segments = operation.split("/")
    for segment, feature in UNSUPPORTED_FEATURES:
        if segment in segments:
            return feature
    return None


@mlflow_endpoint(Role.READER, methods=ANY_METHOD)
def not_supported(call: MlflowCall, operation: str) -> dict[str, Any]:
    """Raise ENDPOINT_NOT_FOUND naming the operation (and the feature, when it is a known one)."""
    feature = _feature(operation)
    what = f"{call.request.method} {operation}"
    if feature is not None:
        message = (
            f"{feature[0].upper()}{feature[1:]} is not supported by Modelworks (the client called "
            f"'{what}'). Experiments, runs, artifacts, logged models and the model registry are; see "
            "'MLflow compatibility' in docs/api.md."
        )
    else:
        message = (
            f"Modelworks does not serve the MLflow operation '{what}'. The supported operations are "
            "listed under 'MLflow compatibility' in docs/api.md."
        )
    raise MlflowError("ENDPOINT_NOT_FOUND", message, status=404)
