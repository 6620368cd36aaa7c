"""The model registry: MLflow 3 logged models, registered models, versions, aliases with history,
model cards and lineage. Also served through the MLflow-compatible protocol of ``modelworks.tracking``.
"""
