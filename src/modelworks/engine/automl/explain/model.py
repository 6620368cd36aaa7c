"""The fitted Lab pipeline taken apart for explaining: its preparation step, estimator, classes and the
original column behind each transformed feature, plus the row sampling and argument checks every
explanation shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import is_classifier  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]

from modelworks.engine.automl.explain.results import ExplainError
from modelworks.engine.automl.pipeline import feature_origins as lab_feature_origins
from modelworks.engine.automl.types import Task
from modelworks.engine.errors import did_you_mean

_KINDS = ("numeric", "categorical", "text", "date")


# ---------------------------------------------------------------------------------------------------------
# The model's parts


@dataclass(frozen=True)
class _Model:
    pipeline: Any
    prepare: Any  # the fitted ColumnTransformer
    estimator: Any
    task: Task
    classes: list[str]  # as strings; empty for regression
    raw_classes: list[Any]
    inputs: list[str]  # every column the ColumnTransformer was fitted on
    columns: list[str]  # the original columns that feed the model, in order
    origins: list[str]  # original column of each transformed feature
    kinds: dict[str, str]

    @property
    def name(self) -> str:
        return type(self.estimator).__name__

    def check_frame(self, frame: Any, what: str) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            raise ExplainError(f"{what} must be a table (a pandas DataFrame), got {type(frame).__name__}.")
        missing = [c for c in self.inputs if c not in frame.columns]
        if missing:
            raise ExplainError(
                f"{what} lacks the column {missing[0]!r} the model was trained on"
                f"{did_you_mean(missing[0], [str(c) for c in frame.columns])}",
                column=missing[0],
            )
        if len(frame) == 0:
            raise ExplainError(f"{what} has no rows.")
        return frame

    def scores(self, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
        """(n, k) outputs: class probabilities for classifiers, (n, 1) predictions for regression."""
        if self.task == "regression":
            return np.asarray(self.pipeline.predict(frame), dtype=np.float64).reshape(-1, 1)
        return np.asarray(self.pipeline.predict_proba(frame), dtype=np.float64)

    def transform(self, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
        matrix = self.prepare.transform(frame)
        if hasattr(matrix, "toarray"):
            matrix = matrix.toarray()
        return np.asarray(matrix, dtype=np.float64)

    def prediction_of(self, scores: np.ndarray[Any, Any]) -> tuple[Any, dict[str, float] | None]:
        if self.task == "regression":
            return float(scores[0]), None
        probabilities = {c: float(p) for c, p in zip(self.classes, scores, strict=True)}
        return self.classes[int(np.argmax(scores))], probabilities

    def sum_by_column(self, values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """(n, p, k) contributions of transformed features → (n, C, k) per original column."""
        membership = np.zeros((len(self.origins), len(self.columns)))
        index = {c: i for i, c in enumerate(self.columns)}
        for feature, origin in enumerate(self.origins):
            membership[feature, index[origin]] = 1.0
        summed: np.ndarray[Any, Any] = np.einsum("npk,pc->nck", values, membership)
        return summed


def _model(pipeline: Any) -> _Model:
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) < 2:
        raise ExplainError(
            "Explanations need a Lab model: a fitted pipeline of a 'prepare' step and a 'model' step, "
            f"got {type(pipeline).__name__}."
        )
    prepare, estimator = steps[0][1], steps[-1][1]
    if len(steps) != 2 or not hasattr(prepare, "transformers_") or not hasattr(prepare, "output_indices_"):
        raise ExplainError(
            "Explanations need a fitted Lab pipeline whose first step is a fitted ColumnTransformer and "
            "whose second and last step is the model; train the model in the Lab (or fit the pipeline) first."
        )
    inputs = [str(c) for c in getattr(prepare, "feature_names_in_", [])]
    if not inputs:
        raise ExplainError("The model's preparation step was fitted without column names; fit it on a table.")
    origins, kinds = _feature_origins(prepare, inputs)
    columns = list(dict.fromkeys(origins))
    if is_classifier(pipeline):
        raw_classes = list(getattr(pipeline, "classes_", []))
        task: Task = "binary" if len(raw_classes) == 2 else "multiclass"
    else:
        raw_classes, task = [], "regression"
    return _Model(
        pipeline,
        prepare,
        estimator,
        task,
        [str(c) for c in raw_classes],
        raw_classes,
        inputs,
        columns,
        origins,
        kinds,
    )


def _feature_origins(prepare: Any, inputs: list[str]) -> tuple[list[str], dict[str, str]]:
    """The original column of each output column of a fitted ColumnTransformer, and each column's kind.

    Lab pipelines are mapped by :func:`pipeline.feature_origins`, which follows their own steps; any
    other ColumnTransformer by the output names of each of its transformers.
    """
    total = max((s.stop for s in prepare.output_indices_.values()), default=0)
    entries = []
    kinds: dict[str, str] = {}
    for name, transformer, selection in prepare.transformers_:
        where = prepare.output_indices_.get(name, slice(0, 0))
        if where.stop == where.start or (isinstance(transformer, str) and transformer == "drop"):
            continue
        columns = _selected_columns(selection, inputs)
        kind = str(name).rsplit("_", 1)[0] if str(name) not in _KINDS else str(name)
        for column in columns:
            kinds[column] = kind if kind in _KINDS else kinds.get(column, "other")
        entries.append((str(name), transformer, columns, where))
    try:
        shared = [str(o) for o in lab_feature_origins(Pipeline([("prepare", prepare)]))]
    except Exception:  # not built by pipeline.build_prepare: map by output names below
        shared = []
    if len(shared) == total and all(shared):
        return shared, kinds
    origins: list[str | None] = [None] * total
    for name, transformer, columns, where in entries:
        origins[where] = _output_origins(name, transformer, columns, where.stop - where.start)
    if any(o is None for o in origins):
        raise ExplainError("Could not tell which column every prepared feature of the model comes from.")
    return [str(o) for o in origins], kinds


def _selected_columns(selection: Any, inputs: list[str]) -> list[str]:
    if isinstance(selection, str):
        return [selection]
    if isinstance(selection, slice):
        return inputs[selection]
    values = list(np.asarray(selection).reshape(-1))
    if values and isinstance(values[0], np.bool_ | bool):
        return [c for c, keep in zip(inputs, values, strict=True) if keep]
    if values and isinstance(values[0], np.integer | int):
        return [inputs[int(i)] for i in values]
    return [str(v) for v in values]


def _output_origins(name: str, transformer: Any, columns: list[str], width: int) -> list[str | None]:
    if len(columns) == 1:
        return [columns[0]] * width
    if isinstance(transformer, str) and transformer == "passthrough":
        return list(columns) if len(columns) == width else [None] * width
    try:
        names = [str(n) for n in transformer.get_feature_names_out(columns)]
    except (AttributeError, ValueError, TypeError):
        names = []
    matched = [_match_name(n, columns) for n in names] if len(names) == width else []
    if matched and all(m is not None for m in matched):
        return list(matched)
    if width == len(columns):
        return list(columns)
    raise ExplainError(
        f"Could not tell which of the columns {', '.join(columns[:5])} each feature of the model's "
        f"{name!r} step comes from; give that step a get_feature_names_out that keeps the column names.",
        step=name,
    )


def _match_name(feature: str, columns: list[str]) -> str | None:
    """``city_Paris`` → ``city``; ``missingindicator_age`` → ``age``; the longest column name wins."""
    best: str | None = None
    for column in columns:
        if feature == column:
            return column
        if feature.startswith(column + "_") or feature.endswith("_" + column):
            if best is None or len(column) > len(best):
                best = column
    return best


def _sample(frame: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    if len(frame) <= limit:
        return frame.reset_index(drop=True)
    rows = np.sort(np.random.default_rng(seed).choice(len(frame), size=limit, replace=False))
    return frame.iloc[rows].reset_index(drop=True)


def _check_positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ExplainError(f"{name} must be a whole number of at least 1, got {value!r}.")
    return value
