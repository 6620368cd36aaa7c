"""The MLflow tracking REST API (experiments, runs, logging, search), mounted by ``tracking.mlflow_urls``."""
