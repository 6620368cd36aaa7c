"""The registry's MLflow endpoints, included under ``/mlflow/<project>/api/2.0/mlflow/`` and
``ajax-api/2.0/mlflow/`` by ``modelworks.tracking.mlflow_urls`` (namespace ``mlflow``)."""

from __future__ import annotations

from django.urls import path

from modelworks.registry.mlflow import logged_models, model_versions, registered_models

urlpatterns = [
    # MLflow 3 logged models ("search" before "<model_id>", which would match it).
    path("logged-models", logged_models.create, name="logged_models_create"),
    path("logged-models/search", logged_models.search, name="logged_models_search"),
    path("logged-models/<str:model_id>", logged_models.logged_model, name="logged_model"),
    path("logged-models/<str:model_id>/tags", logged_models.logged_model_tags, name="logged_model_tags"),
    path(
        "logged-models/<str:model_id>/tags/<path:tag_key>",
        logged_models.logged_model_tag,
        name="logged_model_tag",
    ),
    path(
        "logged-models/<str:model_id>/params", logged_models.logged_model_params, name="logged_model_params"
    ),
    # Registered models.
    path("registered-models/create", registered_models.create, name="registered_models_create"),
    path("registered-models/get", registered_models.get, name="registered_models_get"),
    path("registered-models/rename", registered_models.rename, name="registered_models_rename"),
    path("registered-models/update", registered_models.update, name="registered_models_update"),
    path("registered-models/delete", registered_models.delete, name="registered_models_delete"),
    path("registered-models/search", registered_models.search, name="registered_models_search"),
    path(
        "registered-models/get-latest-versions",
        registered_models.latest_versions,
        name="registered_models_latest_versions",
    ),
    path("registered-models/set-tag", registered_models.set_tag, name="registered_models_set_tag"),
    path("registered-models/delete-tag", registered_models.delete_tag, name="registered_models_delete_tag"),
    path("registered-models/alias", registered_models.alias, name="registered_models_alias"),
    # Model versions.
    path("model-versions/create", model_versions.create, name="model_versions_create"),
    path("model-versions/get", model_versions.get, name="model_versions_get"),
    path("model-versions/update", model_versions.update, name="model_versions_update"),
    path("model-versions/delete", model_versions.delete, name="model_versions_delete"),
    path("model-versions/search", model_versions.search, name="model_versions_search"),
    path("model-versions/get-download-uri", model_versions.download_uri, name="model_versions_download_uri"),
    path("model-versions/set-tag", model_versions.set_tag, name="model_versions_set_tag"),
    path("model-versions/delete-tag", model_versions.delete_tag, name="model_versions_delete_tag"),
    path(
        "model-versions/transition-stage",
        model_versions.transition_stage,
        name="model_versions_transition_stage",
    ),
]
