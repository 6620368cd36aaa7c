"""Reading an MLflow model folder: the ``MLmodel`` file, the Lab's ``modelworks.json``, the most
specific flavor's adapter (LightGBM, XGBoost, scikit-learn pickle or skops limited to
:data:`TRUSTED_PREFIXES`, then ``python_function``), the input example and the warm-up body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from modelworks.engine.scoring.adapters import (
    Adapter,
    LightGBMAdapter,
    PyfuncAdapter,
    SklearnAdapter,
    XGBoostAdapter,
)
from modelworks.engine.scoring.errors import ModelLoadError
from modelworks.engine.scoring.schema import InputSchema

#: Types a skops file may name: the model libraries and the Lab's own steps (never "trust all").
TRUSTED_PREFIXES = (
    "sklearn.",
    "lightgbm.",
    "xgboost.",
    "numpy.",
    "scipy.",
    "collections.",
    "builtins.",
    "modelworks.engine.automl.",
)
_FLAVORS = ("lightgbm", "xgboost", "sklearn", "python_function")


def _read_mlmodel(model_dir: Path) -> dict[str, Any]:
    import yaml

    file = model_dir / "MLmodel"
    if not model_dir.is_dir():
        raise ModelLoadError(f"The model folder {model_dir} does not exist; was the model version deleted?")
    if not file.is_file():
        raise ModelLoadError(
            f"The folder {model_dir.name!r} has no MLmodel file, so it is not an MLflow model; register a "
            "model saved with mlflow.<flavor>.save_model or log_model."
        )
    try:
        meta = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelLoadError(f"The MLmodel file of {model_dir.name!r} is not readable YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise ModelLoadError(f"The MLmodel file of {model_dir.name!r} is not an MLflow model description.")
    return meta


def _lab_info(model_dir: Path) -> dict[str, Any]:
    """``modelworks.json`` of a Lab model (task, classes), or ``{}``."""
    file = model_dir / "modelworks.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _inside(model_dir: Path, relative: Any, what: str) -> Path:
    if not isinstance(relative, str) or not relative:
        raise ModelLoadError(f"The MLmodel file of {model_dir.name!r} does not name its {what} file.")
    path = (model_dir / relative).resolve()
    if not path.is_relative_to(model_dir.resolve()):
        raise ModelLoadError(
            f"The MLmodel file of {model_dir.name!r} points to a {what} file outside the model folder "
            f"({relative!r}); the scoring service only reads files inside the folder.",
        )
    if not path.exists():
        raise ModelLoadError(
            f"The {what} file {relative!r} is missing from the model folder {model_dir.name!r}."
        )
    return path


def _load_skops(path: Path) -> Any:
    import skops.io  # type: ignore[import-untyped]

    untrusted = skops.io.get_untrusted_types(file=str(path))
    refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise ModelLoadError(
            f"The model file names types that are not trusted: {', '.join(refused[:5])}. Only "
            "scikit-learn, LightGBM, XGBoost, NumPy and SciPy types are loaded from skops files.",
            refused=refused[:20],
        )
    return skops.io.load(str(path), trusted=untrusted)


def _quiet_mlflow() -> None:
    import mlflow  # noqa: F401  (importing MLflow configures its loggers: set the level afterwards)

    logging.getLogger("mlflow").setLevel(logging.ERROR)


def _load_adapter(
    model_dir: Path,
    flavor: str,
    config: dict[str, Any],
    info: dict[str, Any],
    schema: InputSchema | None,
    meta: dict[str, Any],
) -> Adapter:
    task = info.get("task")
    if flavor == "lightgbm":
        path = _inside(model_dir, config.get("data", "model.lgb"), "LightGBM model")
        model_class = str(config.get("model_class", "lightgbm.basic.Booster"))
        if model_class == "lightgbm.basic.Booster":
            import lightgbm as lgb

            return LightGBMAdapter(lgb.Booster(model_file=str(path)))
        if not model_class.startswith("lightgbm."):
            raise ModelLoadError(
                f"The LightGBM flavor names the class {model_class!r}, which is not LightGBM's."
            )
        estimator = _load_sklearn_file(path, config)
        return _unwrap(estimator, info)
    if flavor == "xgboost":
        path = _inside(model_dir, config.get("data", "model.xgb"), "XGBoost model")
        model_class = str(config.get("model_class", "xgboost.core.Booster"))
        if not model_class.startswith("xgboost."):
            raise ModelLoadError(
                f"The XGBoost flavor names the class {model_class!r}, which is not XGBoost's."
            )
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(str(path))
        return XGBoostAdapter(booster)
    if flavor == "sklearn":
        path = _inside(model_dir, config.get("pickled_model", "model.pkl"), "scikit-learn model")
        if config.get("serialization_format") == "skops":
            estimator = _load_skops(path)
        else:
            _quiet_mlflow()
            import mlflow.sklearn

            estimator = mlflow.sklearn.load_model(str(model_dir))
        return _unwrap(estimator, info)
    _quiet_mlflow()
    import mlflow.pyfunc

    return PyfuncAdapter(
        mlflow.pyfunc.load_model(str(model_dir)), task=task if isinstance(task, str) else None
    )


def _load_sklearn_file(path: Path, config: dict[str, Any]) -> Any:
    if config.get("serialization_format") == "skops":
        return _load_skops(path)
    import cloudpickle  # type: ignore[import-untyped]

    with path.open("rb") as handle:
        return cloudpickle.load(handle)


def _unwrap(estimator: Any, info: dict[str, Any]) -> Adapter:
    """The booster inside a bare LightGBM/XGBoost sklearn estimator (fast path, exact SHAP), else sklearn."""
    classes = getattr(estimator, "classes_", None)
    raw = list(np.asarray(classes).tolist()) if classes is not None else None
    module = type(estimator).__module__
    if module.startswith("lightgbm.") and hasattr(estimator, "booster_"):
        return LightGBMAdapter(estimator.booster_, raw)
    if module.startswith("xgboost.") and hasattr(estimator, "get_booster"):
        return XGBoostAdapter(estimator.get_booster(), raw)
    task = info.get("task")
    info_classes = info.get("classes")
    return SklearnAdapter(
        estimator,
        task=task if isinstance(task, str) else None,
        classes=list(info_classes) if isinstance(info_classes, list) else None,
    )


def _input_example(model_dir: Path, meta: dict[str, Any]) -> bytes | None:
    """The folder's input example as a ``dataframe_split`` body (or ``None``)."""
    saved = meta.get("saved_input_example_info")
    if not isinstance(saved, dict) or saved.get("type") != "dataframe":
        return None
    try:
        path = _inside(model_dir, saved.get("artifact_path", "input_example.json"), "input example")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ModelLoadError, OSError, ValueError):
        return None
    if saved.get("pandas_orient", "split") == "split" and isinstance(data, dict):
        return json.dumps({"dataframe_split": data}).encode()
    if isinstance(data, list):
        return json.dumps({"dataframe_records": data}).encode()
    return None


def _zeros_body(order: Sequence[str]) -> bytes:
    return json.dumps({"records": [dict.fromkeys(order, 0.0), dict.fromkeys(order, 1.0)]}).encode()
