"""check_training_data: each problem gives a warning with a why and a what-to-do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from training_tables import breast_cancer, mixed, penguins, time_series

from modelworks.engine.automl.checks import check_training_data
from modelworks.engine.automl.features import propose_features
from modelworks.engine.automl.types import FeatureHandling, LabWarning, Task, TrainingSpec, Validation


def make_spec(frame: pd.DataFrame, target: str, task: Task | None = None, **changes: Any) -> TrainingSpec:
    inferred, features = propose_features(frame, target, task)
    values: dict[str, Any] = {
        "task": inferred,
        "target": target,
        "features": features,
        "algorithms": ("lightgbm",),
        "time_budget_s": 10.0,
        "metric": "rmse" if inferred == "regression" else "roc_auc",
    }
    values.update(changes)
    return TrainingSpec(**values)


def keep_all(frame: pd.DataFrame, target: str) -> tuple[FeatureHandling, ...]:
    """Every column kept as a plain feature: what a user who overrides the proposal gets."""
    return tuple(
        FeatureHandling(c, "numeric", "median")
        if pd.api.types.is_numeric_dtype(frame[c])
        else FeatureHandling(c, "categorical", "constant", "ordinal")
        for c in frame.columns
        if c != target
    )


def codes(warnings: tuple[LabWarning, ...]) -> dict[str, LabWarning]:
    return {w.code: w for w in warnings}


def test_clean_data_gives_no_warning() -> None:
    frame = breast_cancer()
    assert check_training_data(frame, make_spec(frame, "target")) == ()


def case_target_empty() -> tuple[pd.DataFrame, TrainingSpec]:
    frame = penguins()
    frame["label"] = None
    spec = TrainingSpec(
        "multiclass", "label", keep_all(frame, "label"), ("lightgbm",), 10.0, metric="log_loss"
    )
    return frame, spec


def case_single_class() -> tuple[pd.DataFrame, TrainingSpec]:
    frame = penguins()
    frame["species"] = "Adelie"
    return frame, make_spec(penguins(), "species", task="binary")


def case_not_binary() -> tuple[pd.DataFrame, TrainingSpec]:
    return penguins(), make_spec(penguins(), "species", task="binary")


def case_rare_classes() -> tuple[pd.DataFrame, TrainingSpec]:
    frame = penguins()
    frame.loc[0, "species"] = "Emperor"
    frame.loc[1:3, "species"] = "Macaroni"
    return frame, make_spec(frame, "species")


def case_regression_on_labels() -> tuple[pd.DataFrame, TrainingSpec]:
    return penguins(), make_spec(penguins(), "species", task="regression", metric="rmse")


def case_too_few_rows() -> tuple[pd.DataFrame, TrainingSpec]:
    frame = breast_cancer().head(8)
    frame.loc[:3, "target"] = "benign"
    frame.loc[4:, "target"] = "malignant"
    return frame, make_spec(breast_cancer(), "target")


def case_more_columns_than_rows() -> tuple[pd.DataFrame, TrainingSpec]:
    frame = breast_cancer().groupby("target").head(12).reset_index(drop=True)
    return frame, make_spec(breast_cancer(), "target", validation=Validation(folds=3))


def case_leak_and_id_kept() -> tuple[pd.DataFrame, TrainingSpec]:
    frame = mixed()
    return frame, make_spec(frame, "churn", features=keep_all(frame, "churn"))


def case_time_column_with_random_split() -> tuple[pd.DataFrame, TrainingSpec]:
    frame = time_series()
    return frame, make_spec(frame, "sales")


def case_time_column_unreadable() -> tuple[pd.DataFrame, TrainingSpec]:
    frame = time_series()
    frame.loc[3, "when"] = "last tuesday"
    frame.loc[5, "when"] = None
    return frame, make_spec(frame, "sales", validation=Validation("time", time_column="when"))


def case_unknown_columns() -> tuple[pd.DataFrame, TrainingSpec]:
    frame = penguins()
    spec = make_spec(frame, "species", validation=Validation("time", time_column="date"))
    return frame.drop(columns=["island"]), spec


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (case_target_empty, [("target_empty", "error", "every value is missing", "label")]),
        (case_single_class, [("single_class", "error", "single class ('Adelie')", "species")]),
        (case_not_binary, [("not_binary", "error", "has 3", "species")]),
        (
            case_rare_classes,
            [
                ("class_too_rare", "error", "class 'Emperor' of 'species' has a single row", "species"),
                (
                    "class_rarer_than_folds",
                    "warning",
                    "'Macaroni' of 'species' has 3 rows, fewer than the 5",
                    "species",
                ),
            ],
        ),
        (case_regression_on_labels, [("target_not_numeric", "error", "344 values of the target", "species")]),
        (case_too_few_rows, [("too_few_rows", "error", "Only 8 rows", None)]),
        (
            case_more_columns_than_rows,
            [("more_columns_than_rows", "warning", "(30) than rows with a target (24)", None)],
        ),
        (
            case_leak_and_id_kept,
            [
                (
                    "leaking_feature",
                    "warning",
                    "'cancel_reason' alone predicts the target almost perfectly",
                    "cancel_reason",
                ),
                ("id_like_feature", "warning", "'customer_id' looks like an identifier", "customer_id"),
            ],
        ),
        (
            case_time_column_with_random_split,
            [("time_column_random_split", "warning", "time column ('when')", "when")],
        ),
        (
            case_time_column_unreadable,
            [
                ("time_column_unreadable", "error", "for example 'last tuesday'", "when"),
                ("time_column_missing_values", "warning", "1 rows have no value in the time column", "when"),
            ],
        ),
        (
            case_unknown_columns,
            [
                ("column_not_found", "error", "time column 'date' is not a column", "date"),
                ("column_not_found", "error", "feature 'island' is not a column", "island"),
            ],
        ),
    ],
)
def test_problems_are_reported(
    case: Callable[[], tuple[pd.DataFrame, TrainingSpec]], expected: list[tuple[str, str, str, str | None]]
) -> None:
    frame, spec = case()
    found = check_training_data(frame, spec)
    for code, severity, text, column in expected:
        matches = [w for w in found if w.code == code and text in w.message]
        assert matches, (code, text, [w.to_dict() for w in found])
        warning = matches[0]
        assert warning.severity == severity
        assert warning.column == column
        assert warning.hint, "every warning says what to do"
    severities = [w.severity for w in found]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)


def test_rows_without_target_are_announced() -> None:
    frame = breast_cancer()
    frame.loc[:9, "target"] = np.nan
    found = codes(check_training_data(frame, make_spec(breast_cancer(), "target")))
    assert found["target_missing_values"].severity == "info"
    assert "10 of 569 rows" in found["target_missing_values"].message
