"""Why a Lab model predicts what it predicts, in terms of the user's own columns.

Every function takes a fitted Lab pipeline, ``Pipeline([("prepare", ColumnTransformer), ("model",
estimator)])``, and a pandas DataFrame with the ORIGINAL column names. Explanations are always given per
original column: a one-hot encoded ``city`` or a TF-IDF ``comment`` counts once, never per encoded
column.

* :func:`permutation_importance`: how much the score drops when a column's values are shuffled (any
  model; the raw column is shuffled, before the pipeline's preparation).
* :func:`shap_importance`: mean absolute SHAP value per column for tree models (random forest,
  LightGBM, XGBoost, via ``shap.TreeExplainer``) and exact linear contributions for linear models;
  other models get a result with ``available=False`` and the reason.
* :func:`partial_dependence`: the average prediction as one column varies (quantile grid for numbers
  and dates, the most frequent values for categories).
* :func:`explain_rows` / :func:`what_if`: the prediction of single rows with each column's
  contribution, sorted by size; ``method`` says how they were computed.

Layout: ``results`` (the returned types, :class:`ExplainError`), ``model`` (the pipeline taken apart),
``contributions`` (tree SHAP and exact linear contributions), ``importance``, ``dependence`` and ``rows``.
"""

from __future__ import annotations

from modelworks.engine.automl.explain.dependence import partial_dependence
from modelworks.engine.automl.explain.importance import permutation_importance, shap_importance
from modelworks.engine.automl.explain.results import (
    ColumnImportance,
    ColumnShap,
    Contribution,
    ExplainError,
    PartialDependence,
    RowExplanation,
    ShapImportance,
)
from modelworks.engine.automl.explain.results import ExplainMethod as ExplainMethod
from modelworks.engine.automl.explain.rows import explain_rows, what_if

__all__ = [
    "ColumnImportance",
    "ColumnShap",
    "Contribution",
    "ExplainError",
    "PartialDependence",
    "RowExplanation",
    "ShapImportance",
    "explain_rows",
    "partial_dependence",
    "permutation_importance",
    "shap_importance",
    "what_if",
]
