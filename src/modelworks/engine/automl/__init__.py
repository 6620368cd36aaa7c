"""AutoML for the Lab: propose feature handling, check the data, search models under a time budget.

Public API:

* ``propose_features(df, target, task=None, *, time_column=None) -> (task, features)``
* ``check_training_data(df, spec) -> tuple[LabWarning, ...]``
* ``ALGORITHMS``: ``linear``, ``random_forest``, ``lightgbm``, ``xgboost``
* ``build_pipeline(features, algorithm, params, task)`` and ``feature_origins(pipeline)``
* ``run_search(df, spec, *, on_trial, progress, cancelled) -> SearchResult``
* ``save_model(result_or_pipeline, path, *, input_example, ...)``: an MLflow model folder
* the shared types (``types``) and errors (``errors``); metrics (``evaluation``: ``evaluate``,
  ``METRICS``), explanations (``explain``) and SVG charts (``charts``)

The names are loaded on first use (PEP 562 ``__getattr__``): the web server imports the Lab's pages,
which only need ``types`` and ``charts``, and must not pay for scikit-learn, SciPy, XGBoost and
Optuna (about 2.5 s and 170 MB) at start-up. The training job and the tests import them on demand.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelworks.engine.automl.algorithms import ALGORITHMS, AlgorithmInfo
    from modelworks.engine.automl.checks import check_training_data
    from modelworks.engine.automl.errors import (
        AllTrialsFailedError,
        AutoMLError,
        ColumnNotFoundError,
        InvalidSpecError,
        ModelSaveError,
        TrainingCancelled,
        TrainingDataError,
        UnknownAlgorithmError,
        UnknownMetricError,
    )
    from modelworks.engine.automl.evaluation import METRICS, Evaluation, default_metric, evaluate
    from modelworks.engine.automl.features import propose_features
    from modelworks.engine.automl.persist import load_model_info, save_model
    from modelworks.engine.automl.pipeline import build_pipeline, feature_origins
    from modelworks.engine.automl.search import run_search
    from modelworks.engine.automl.types import (
        FeatureHandling,
        LabWarning,
        SearchResult,
        Task,
        TrainingSpec,
        TrialResult,
        Validation,
    )

_HOME = {
    "ALGORITHMS": "algorithms",
    "AlgorithmInfo": "algorithms",
    "check_training_data": "checks",
    "AllTrialsFailedError": "errors",
    "AutoMLError": "errors",
    "ColumnNotFoundError": "errors",
    "InvalidSpecError": "errors",
    "ModelSaveError": "errors",
    "TrainingCancelled": "errors",
    "TrainingDataError": "errors",
    "UnknownAlgorithmError": "errors",
    "UnknownMetricError": "errors",
    "METRICS": "evaluation",
    "Evaluation": "evaluation",
    "default_metric": "evaluation",
    "evaluate": "evaluation",
    "propose_features": "features",
    "load_model_info": "persist",
    "save_model": "persist",
    "build_pipeline": "pipeline",
    "feature_origins": "pipeline",
    "run_search": "search",
    "FeatureHandling": "types",
    "LabWarning": "types",
    "SearchResult": "types",
    "Task": "types",
    "TrainingSpec": "types",
    "TrialResult": "types",
    "Validation": "types",
}

__all__ = [
    "ALGORITHMS",
    "METRICS",
    "AlgorithmInfo",
    "AllTrialsFailedError",
    "AutoMLError",
    "ColumnNotFoundError",
    "Evaluation",
    "FeatureHandling",
    "InvalidSpecError",
    "LabWarning",
    "ModelSaveError",
    "SearchResult",
    "Task",
    "TrainingCancelled",
    "TrainingDataError",
    "TrainingSpec",
    "TrialResult",
    "UnknownAlgorithmError",
    "UnknownMetricError",
    "Validation",
    "build_pipeline",
    "check_training_data",
    "default_metric",
    "evaluate",
    "feature_origins",
    "load_model_info",
    "propose_features",
    "run_search",
    "save_model",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
