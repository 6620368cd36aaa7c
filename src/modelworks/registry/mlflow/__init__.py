"""The registry's part of the MLflow protocol: logged models, registered models, versions, aliases."""
