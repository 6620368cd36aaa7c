"""propose_features: the task guess and one handling per column, each with a plain reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from training_tables import breast_cancer, mixed, penguins, time_series, wine

from modelworks.engine.automl.errors import ColumnNotFoundError, TrainingDataError
from modelworks.engine.automl.features import infer_task, propose_features


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["yes", "no", "yes", None], "binary"),
        ([True, False, True], "binary"),
        ([0, 1, 1, 0], "binary"),
        (["a", "b", "c", "a"], "multiclass"),
        ([1, 2, 3, 4, 5, 3], "multiclass"),
        ([1.0, 2.0, 3.0, np.nan], "multiclass"),
        ([0.5, 1.25, 3.0, 7.5], "regression"),
        (list(range(100)), "regression"),
    ],
)
def test_infer_task(values: list[object], task: str) -> None:
    assert infer_task(pd.Series(values, name="y")) == task


def test_mixed_table_gets_a_handling_and_a_reason_per_column() -> None:
    frame = mixed()
    task, features = propose_features(frame, "churn")
    assert task == "binary"
    assert [f.column for f in features] == list(frame.columns)
    by_column = {f.column: f for f in features}
    expected = {
        "customer_id": ("drop", "identifier"),
        "row": ("drop", "consecutive integers"),
        "tenure": ("numeric", "median"),
        "plan": ("categorical", "3 values"),
        "city": ("categorical", "40 values"),
        "autopay": ("categorical", "yes/no"),
        "seats": ("numeric", "median"),
        "signed_up": ("date", "year, month"),
        "complaint": ("text", "TF-IDF"),
        "country": ("drop", "constant"),
        "fax": ("drop", "nearly empty"),
        "cancel_reason": ("drop", "leaks the target: alone it scores AUC 1.000"),
        "churn": ("drop", "the target"),
    }
    for column, (kind, reason) in expected.items():
        assert by_column[column].kind == kind, column
        assert reason in by_column[column].reason, (column, by_column[column].reason)
    assert by_column["plan"].encode == "onehot"
    assert by_column["city"].encode == "ordinal"
    assert by_column["tenure"].impute == "median" and by_column["tenure"].scale


def test_real_datasets_keep_their_measurements() -> None:
    for frame, target, task in [
        (breast_cancer(), "target", "binary"),
        (wine(), "target", "multiclass"),
        (penguins(), "species", "multiclass"),
    ]:
        inferred, features = propose_features(frame, target)
        assert inferred == task
        dropped = [f.column for f in features if f.kind == "drop"]
        assert dropped == [target], dropped


def test_regression_leak_and_time_column() -> None:
    frame = time_series()
    frame["sales_in_thousands"] = frame["sales"] / 1000
    task, features = propose_features(frame, "sales", time_column="when")
    by_column = {f.column: f for f in features}
    assert task == "regression"
    assert by_column["sales_in_thousands"].kind == "drop"
    assert "R² 1.000" in by_column["sales_in_thousands"].reason
    assert by_column["when"].kind == "date" and "time column" in by_column["when"].reason


def test_given_task_is_kept() -> None:
    task, _ = propose_features(wine(), "target", "regression")
    assert task == "regression"


@pytest.mark.parametrize(
    ("target", "time_column", "error", "match"),
    [
        (
            "Species",
            None,
            ColumnNotFoundError,
            "target 'Species' is not a column of the table; did you mean 'species'",
        ),
        ("species", "date", ColumnNotFoundError, "time column 'date' is not a column"),
        ("empty", None, TrainingDataError, "target column 'empty' is empty"),
    ],
)
def test_bad_inputs(target: str, time_column: str | None, error: type[Exception], match: str) -> None:
    frame = penguins()
    frame["empty"] = None
    with pytest.raises(error, match=match):
        propose_features(frame, target, time_column=time_column)
