"""Save a trained model as an MLflow model folder that any MLflow tool can load.

The folder holds the ``MLmodel`` file (``python_function`` and ``sklearn`` flavors), the pickled
pipeline, the signature inferred from the input example, the input example itself, the pinned
``requirements.txt`` / ``conda.yaml`` / ``python_env.yaml``, and ``modelworks.json`` (task, target,
classes, feature handling, metrics) for the Lab and the registry.

The pipeline is written with cloudpickle and the Lab's own code (the column conversions of
``pipeline.py`` and ``LabelledXGBClassifier``) is pickled *by value*, so loading the model needs
scikit-learn, pandas and the boosting library, but not Modelworks.

Loading:

* ``mlflow.pyfunc.load_model(path).predict(df)`` returns predicted labels (classifiers) or numbers;
* probabilities: ``mlflow.sklearn.load_model(path).predict_proba(df)``, or
  ``mlflow.pyfunc.load_model(path).get_raw_model().predict_proba(df)``; the columns follow
  ``classes`` in ``modelworks.json``.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from modelworks.engine.automl.errors import ModelSaveError
from modelworks.engine.automl.types import FeatureHandling, SearchResult, Task

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]

__all__ = ["MODELWORKS_FILE", "load_model_info", "model_requirements", "save_model"]

#: The Lab's description of the model, next to ``MLmodel``.
MODELWORKS_FILE = "modelworks.json"
#: Rows of the input example kept in the folder.
EXAMPLE_ROWS = 5
#: Rows of the input example the signature is inferred from.
SIGNATURE_ROWS = 1_000

_ALWAYS = ("scikit-learn", "numpy", "pandas", "scipy", "cloudpickle", "threadpoolctl")
_ESTIMATOR_PACKAGES = {"lightgbm": "lightgbm", "xgboost": "xgboost"}


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def model_requirements(pipeline: Any) -> list[str]:
    """Pinned pip requirements to load ``pipeline``: the installed versions of what it uses."""
    packages = list(_ALWAYS)
    module = type(pipeline.named_steps["model"]).__mro__
    for cls in module:
        root = cls.__module__.split(".")[0]
        if root in _ESTIMATOR_PACKAGES and _ESTIMATOR_PACKAGES[root] not in packages:
            packages.append(_ESTIMATOR_PACKAGES[root])
    # mlflow itself: the full package when installed, else the skinny one the platform depends on.
    mlflow_package = "mlflow" if _version("mlflow") else "mlflow-skinny"
    pinned = [f"{mlflow_package}=={_version(mlflow_package)}"] if _version(mlflow_package) else []
    for package in packages:
        version = _version(package)
        pinned.append(f"{package}=={version}" if version else package)
    return pinned


def _json_metrics(metrics: Mapping[str, float] | None) -> dict[str, float | None]:
    return {str(k): (float(v) if math.isfinite(float(v)) else None) for k, v in (metrics or {}).items()}


def save_model(
    model: SearchResult | Pipeline,
    path: Path,
    *,
    input_example: pd.DataFrame,
    task: Task | None = None,
    target: str | None = None,
    classes: Sequence[str] | None = None,
    features: Sequence[FeatureHandling] | None = None,
    metrics: Mapping[str, float] | None = None,
) -> Path:
    """Write ``model`` as an MLflow model folder at ``path``.

    Args:
        model: A :class:`SearchResult` (its ``model``, task, target, classes, features and holdout
            metrics are used) or a fitted pipeline from :func:`build_pipeline`.
        path: The folder to create; it must not exist or be empty.
        input_example: Rows of the training table: the signature is inferred from the first 1,000
            (a column with a null among them accepts nulls) and the first 5 are kept as the example.
            Columns the model does not use are left out.
        task, target, classes, features, metrics: For a bare pipeline, what ``modelworks.json``
            records; for a :class:`SearchResult` they override what it holds.

    Returns:
        ``path``.

    Raises:
        ModelSaveError: ``path`` is a non-empty folder or a file, or MLflow could not write the model.
    """

    from modelworks.engine.automl import algorithms, xgb_labels
    from modelworks.engine.automl import pipeline as pipeline_module

    if isinstance(model, SearchResult):
        fitted = model.model
        task = task or model.spec.task
        target = target or model.spec.target
        classes = classes if classes is not None else model.classes
        features = features if features is not None else model.spec.features
        if metrics is None:
            metrics = model.holdout.metrics if model.holdout is not None else model.best.scores
        algorithm: str | None = model.best.algorithm
        params: dict[str, Any] = dict(model.best.params)
    else:
        fitted = model
        algorithm, params = None, {}
    if task is None:
        raise ModelSaveError("Say which task the model solves (binary, multiclass or regression).")
    path = Path(path)
    if path.is_file() or (path.is_dir() and any(path.iterdir())):
        raise ModelSaveError(
            f"Cannot save the model to {path}: it already exists and is not empty. "
            "Pick a new folder for each model.",
            path=str(path),
        )
    if path.is_dir():
        path.rmdir()  # MLflow creates the folder itself

    used = [f.column for f in (features or ()) if f.used and f.column != target]
    example = input_example.head(EXAMPLE_ROWS)
    if used:
        missing = [c for c in used if c not in example.columns]
        if missing:
            raise ModelSaveError(
                f"The input example lacks the feature column {missing[0]!r}; pass rows of the training table.",
                column=missing[0],
            )
        example = example[used]
    example = example.reset_index(drop=True)
    # The signature comes from many rows: a column with nulls anywhere in them is marked optional
    # (from 5 rows it would be "required" and MLflow would refuse a null at prediction time).
    sample = input_example.head(SIGNATURE_ROWS)[list(example.columns)]

    # MLflow logs cautions on every save (pickled models; integer columns without missing values in the
    # sample). Modelworks only unpickles models in worker processes and the what-if child process (see
    # docs/install.md), and the Lab's pages say how columns are handled: they are noise in a job's log.
    import mlflow.sklearn  # noqa: F401  (first: importing MLflow configures its loggers, resetting their level)

    mlflow_logger = logging.getLogger("mlflow")
    previous_level = mlflow_logger.level
    mlflow_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _write_mlflow_model(fitted, path, sample, example, (pipeline_module, algorithms, xgb_labels))
    except ModelSaveError:
        raise
    except Exception as exc:  # MLflow raises many types; the user needs one message.
        raise ModelSaveError(f"MLflow could not save the model to {path}: {exc}", path=str(path)) from exc
    finally:
        mlflow_logger.setLevel(previous_level)

    info = {
        "format": 1,
        "task": task,
        "target": target,
        "classes": None if classes is None else [str(c) for c in classes],
        "features": [f.to_dict() for f in (features or ())],
        "metrics": _json_metrics(metrics),
        "algorithm": algorithm,
        "params": params,
        "predict": "labels" if task != "regression" else "numbers",
        "predict_proba": "mlflow.sklearn.load_model(path).predict_proba(df); columns follow 'classes'"
        if task != "regression"
        else None,
    }
    (path / MODELWORKS_FILE).write_text(json.dumps(info, indent=2, default=str), encoding="utf-8")
    return path


def load_model_info(path: Path) -> dict[str, Any]:
    """The content of ``modelworks.json`` in a saved model folder.

    Raises:
        ModelSaveError: The folder has no readable ``modelworks.json``.
    """
    file = Path(path) / MODELWORKS_FILE
    try:
        data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelSaveError(
            f"{file} is missing or unreadable: was this folder written by Modelworks?", path=str(file)
        ) from exc
    return data


def _write_mlflow_model(
    fitted: Any, path: Path, sample: pd.DataFrame, example: pd.DataFrame, by_value: Sequence[Any]
) -> None:
    """``mlflow.sklearn.save_model`` with the signature inferred from ``sample``; ``by_value`` are the
    Modelworks modules pickled with the model, so loading it does not need Modelworks installed."""
    import cloudpickle  # type: ignore[import-untyped]
    import mlflow.sklearn
    from mlflow.models import infer_signature

    signature = infer_signature(sample, fitted.predict(sample))
    for module in by_value:
        cloudpickle.register_pickle_by_value(module)
    try:
        mlflow.sklearn.save_model(
            fitted,
            str(path),
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            signature=signature,
            input_example=example,
            pip_requirements=model_requirements(fitted),
        )
    finally:
        for module in by_value:
            cloudpickle.unregister_pickle_by_value(module)
