"""``GET api/3.0/mlflow/server-info``: what this server supports, asked by the client before artifact
transfers. Multipart uploads are served by the artifact proxy (parts come back to this server);
multipart (presigned) downloads are not: downloads stream through the proxy."""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Role
from modelworks.tracking.protocol import MlflowCall, mlflow_endpoint


@mlflow_endpoint(Role.READER, methods=("GET",))
def server_info(call: MlflowCall) -> dict[str, Any]:
    return {
        "store_type": None,
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": True,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    }
