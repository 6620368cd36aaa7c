"""Experiment tracking compatible with MLflow's REST API, on Modelworks' own database and storage.

The unmodified ``mlflow`` client works against ``MLFLOW_TRACKING_URI=http://host:port/mlflow/<project>``:
experiments, runs, params, metrics, tags, dataset inputs and proxied artifacts. Everything belongs to
the project named in the address and follows its permissions. See ``docs/user-guide.md``.
"""
