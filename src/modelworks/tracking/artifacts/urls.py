"""Routes of the ``mlflow-artifacts`` protocol, mounted under ``/mlflow/<project>/api/2.0/mlflow-artifacts/``
(and ``ajax-api/...``) by ``modelworks.tracking.mlflow_urls``."""

from __future__ import annotations

from django.urls import path

from modelworks.tracking.artifacts import views

urlpatterns = [
    path("artifacts", views.list_artifacts, name="artifacts_list"),
    path("artifacts/<path:artifact_path>", views.artifact_file, name="artifacts_file"),
    path("mpu/create/<path:artifact_path>", views.create_multipart_upload, name="artifacts_mpu_create"),
    path("mpu/complete/<path:artifact_path>", views.complete_multipart_upload, name="artifacts_mpu_complete"),
    path("mpu/abort/<path:artifact_path>", views.abort_multipart_upload, name="artifacts_mpu_abort"),
    path("mpu/part/<str:upload_id>/<int:part_number>", views.upload_part, name="artifacts_mpu_part"),
]
