"""The MLflow tracking operations under ``api/2.0/mlflow/`` (and ``ajax-api/2.0/mlflow/``).

Names are MLflow's operation names in snake case, in the ``mlflow`` namespace (e.g.
``mlflow:experiments_create``); each has a row in ``modelworks.tracking.testing.TRACKING_MLFLOW_ROUTES``.
"""

from __future__ import annotations

from django.urls import path

from modelworks.tracking.rest import experiments, runs, search

urlpatterns = [
    path("experiments/create", experiments.create, name="experiments_create"),
    path("experiments/get", experiments.get, name="experiments_get"),
    path("experiments/get-by-name", experiments.get_by_name, name="experiments_get_by_name"),
    path("experiments/search", experiments.search, name="experiments_search"),
    path("experiments/update", experiments.update, name="experiments_update"),
    path("experiments/delete", experiments.delete, name="experiments_delete"),
    path("experiments/restore", experiments.restore, name="experiments_restore"),
    path("experiments/set-experiment-tag", experiments.set_tag, name="experiments_set_tag"),
    path("experiments/delete-experiment-tag", experiments.delete_tag, name="experiments_delete_tag"),
    path("runs/create", runs.create, name="runs_create"),
    path("runs/update", runs.update, name="runs_update"),
    path("runs/get", runs.get, name="runs_get"),
    path("runs/delete", runs.delete, name="runs_delete"),
    path("runs/restore", runs.restore, name="runs_restore"),
    path("runs/set-tag", runs.set_tag, name="runs_set_tag"),
    path("runs/delete-tag", runs.delete_tag, name="runs_delete_tag"),
    path("runs/log-metric", runs.log_metric, name="runs_log_metric"),
    path("runs/log-parameter", runs.log_param, name="runs_log_parameter"),
    path("runs/log-batch", runs.log_batch, name="runs_log_batch"),
    path("runs/log-inputs", runs.log_inputs, name="runs_log_inputs"),
    path("runs/outputs", runs.log_outputs, name="runs_log_outputs"),
    path("runs/log-model", runs.log_model, name="runs_log_model"),
    path("runs/search", search.search_runs, name="runs_search"),
    path("metrics/get-history", search.get_metric_history, name="metrics_get_history"),
]
