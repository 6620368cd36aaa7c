"""Real models for the scoring tests, trained once per session on small synthetic tables and saved as
MLflow model folders: a Lab pipeline (mixed column kinds), LightGBM and XGBoost boosters, plain
scikit-learn estimators (cloudpickle and skops)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest
from scoring_tables import FEATURES, flights_table, numeric_table


def _quiet() -> None:
    import mlflow  # noqa: F401

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="mlflow")


@pytest.fixture(scope="session")
def models_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _quiet()
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def lab_dir(models_root: Path) -> Path:
    """A Lab pipeline (ColumnTransformer + LightGBM) saved with the Lab's own ``save_model``."""
    from modelworks.engine.automl.features import propose_features
    from modelworks.engine.automl.persist import save_model
    from modelworks.engine.automl.pipeline import build_pipeline

    frame = flights_table()
    train = frame.drop(columns=["flight_id"])
    task, features = propose_features(train, "late")
    pipeline = build_pipeline(features, "lightgbm", {"n_estimators": 20}, task, n_jobs=1)
    pipeline.fit(train.drop(columns="late"), train["late"])
    return save_model(
        pipeline,
        models_root / "lab",
        input_example=train.drop(columns="late"),
        task=task,
        target="late",
        classes=[str(c) for c in pipeline.classes_],
        features=features,
    )


@pytest.fixture(scope="session")
def lgb_dir(models_root: Path) -> Path:
    """A native LightGBM binary booster saved with ``mlflow.lightgbm.save_model``."""
    import lightgbm as lgb
    import mlflow.lightgbm
    from mlflow.models import infer_signature

    frame = numeric_table()
    X = frame[FEATURES]
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_threads": 1}, lgb.Dataset(X, frame.label), 20
    )
    path = models_root / "lgb"
    mlflow.lightgbm.save_model(
        booster,
        str(path),
        signature=infer_signature(X, booster.predict(X)),
        input_example=X.head(3),
        pip_requirements=[],
    )
    return path


@pytest.fixture(scope="session")
def lgb_multi_dir(models_root: Path) -> Path:
    import lightgbm as lgb
    import mlflow.lightgbm
    from mlflow.models import infer_signature

    frame = numeric_table()
    X = frame[FEATURES]
    params = {"objective": "multiclass", "num_class": 3, "verbose": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(X, frame.level), 15)
    path = models_root / "lgb_multi"
    mlflow.lightgbm.save_model(booster, str(path), signature=infer_signature(X), pip_requirements=[])
    return path


@pytest.fixture(scope="session")
def lgb_regression_dir(models_root: Path) -> Path:
    """A LightGBM regressor through the sklearn API (``LGBMRegressor``), no signature."""
    import lightgbm as lgb
    import mlflow.lightgbm

    frame = numeric_table()
    model = lgb.LGBMRegressor(n_estimators=20, verbose=-1, n_jobs=1).fit(frame[FEATURES], frame.amount)
    path = models_root / "lgb_regression"
    mlflow.lightgbm.save_model(model, str(path), pip_requirements=[])
    return path


@pytest.fixture(scope="session")
def xgb_dir(models_root: Path) -> Path:
    """A native XGBoost binary booster (ubj) saved with ``mlflow.xgboost.save_model``."""
    import mlflow.xgboost
    import xgboost as xgb
    from mlflow.models import infer_signature

    frame = numeric_table()
    X = frame[FEATURES]
    booster = xgb.train({"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(X, frame.label), 15)
    path = models_root / "xgb"
    mlflow.xgboost.save_model(
        booster, str(path), signature=infer_signature(X), input_example=X.head(2), pip_requirements=[]
    )
    return path


@pytest.fixture(scope="session")
def xgb_multi_dir(models_root: Path) -> Path:
    import mlflow.xgboost
    import xgboost as xgb
    from mlflow.models import infer_signature

    frame = numeric_table()
    X = frame[FEATURES]
    params = {"objective": "multi:softprob", "num_class": 3, "nthread": 1}
    booster = xgb.train(params, xgb.DMatrix(X, frame.level), 10)
    path = models_root / "xgb_multi"
    mlflow.xgboost.save_model(
        booster, str(path), signature=infer_signature(X), model_format="json", pip_requirements=[]
    )
    return path


@pytest.fixture(scope="session")
def sklearn_dir(models_root: Path) -> Path:
    """A plain LogisticRegression fitted on a DataFrame, cloudpickled by ``mlflow.sklearn``."""
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    frame = numeric_table()
    X = frame[FEATURES]
    model = LogisticRegression().fit(X, frame.label.map({0: "no", 1: "yes"}))
    path = models_root / "sklearn"
    mlflow.sklearn.save_model(
        model, str(path), signature=infer_signature(X), input_example=X.head(3), pip_requirements=[]
    )
    return path


@pytest.fixture(scope="session")
def skops_dir(models_root: Path) -> Path:
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.linear_model import Ridge

    frame = numeric_table()
    X = frame[FEATURES]
    model = Ridge().fit(X, frame.amount)
    path = models_root / "skops"
    mlflow.sklearn.save_model(
        model, str(path), signature=infer_signature(X), serialization_format="skops", pip_requirements=[]
    )
    return path
