"""Exact per-column contributions: tree SHAP for random forest, LightGBM and XGBoost, and the exact
linear decomposition for linear models, summed from transformed features back to original columns.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from modelworks.engine.automl.explain.model import _Model
from modelworks.engine.automl.explain.results import ExplainMethod

# ---------------------------------------------------------------------------------------------------------
# Exact contributions (tree SHAP, linear)

_TREE_CLASSES = (
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
)


def _exact_method(parts: _Model) -> ExplainMethod | None:
    # Look at the base classes too: the Lab wraps XGBClassifier to keep the class labels.
    bases = [(c.__module__, c.__name__) for c in type(parts.estimator).__mro__]
    if any(
        m.startswith(("lightgbm", "xgboost")) or (m.startswith("sklearn.") and n in _TREE_CLASSES)
        for m, n in bases
    ):
        return "tree_shap"
    if any(m.startswith("sklearn.linear_model") for m, _ in bases) and hasattr(parts.estimator, "coef_"):
        return "linear_exact"
    return None


def _exact_contributions(
    parts: _Model, method: ExplainMethod, frame: pd.DataFrame, background: pd.DataFrame
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], str] | None:
    """(n, C, k) contributions per original column, (k,) base values, and what they add up to.

    k is 1 for regression and binary tasks (the positive class) and the number of classes otherwise.
    """
    matrix = parts.transform(frame)
    if method == "linear_exact":
        coef = np.atleast_2d(np.asarray(parts.estimator.coef_, dtype=np.float64))
        intercept = np.atleast_1d(np.asarray(parts.estimator.intercept_, dtype=np.float64))
        mean = parts.transform(background).mean(axis=0)
        values = (matrix - mean)[:, :, None] * coef.T[None, :, :]
        base = intercept + coef @ mean
        output = _output_label(parts, scale="log-odds" if parts.task != "regression" else "")
        return parts.sum_by_column(values), base, output
    try:
        with warnings.catch_warnings():
            # A slow import, only when a tree is explained; it warns about matplotlib deprecations.
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            import shap  # type: ignore[import-untyped]

        explainer = shap.TreeExplainer(parts.estimator)
        with warnings.catch_warnings():
            # shap warns on every LightGBM binary model that its output format once changed.
            warnings.simplefilter("ignore", UserWarning)
            raw = explainer.shap_values(matrix, check_additivity=False)
    except Exception:  # shap raises bare Exceptions for models it does not support
        return None
    values = np.stack(raw, axis=-1) if isinstance(raw, list) else np.asarray(raw, dtype=np.float64)
    if values.ndim == 2:
        values = values[:, :, None]
    base = np.atleast_1d(np.asarray(explainer.expected_value, dtype=np.float64))
    # sklearn's forests explain probabilities; boosted trees explain their raw (log-odds) margin.
    probability = not any(
        c.__module__.startswith(("lightgbm", "xgboost")) for c in type(parts.estimator).__mro__
    )
    if parts.task == "binary" and values.shape[2] == 2:
        values, base = values[:, :, 1:], base[1:]
    scale = "probability" if probability else "log-odds"
    output = _output_label(parts, scale="" if parts.task == "regression" else scale)
    return parts.sum_by_column(values), base, output


def _output_label(parts: _Model, *, scale: str) -> str:
    if parts.task == "regression":
        return "prediction"
    if parts.task == "binary":
        return f"{scale} of {parts.classes[1]!r}"
    return f"{scale} of each class" if scale == "probability" else "raw score (before softmax) of each class"
