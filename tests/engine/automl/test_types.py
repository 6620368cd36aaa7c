"""The shared Lab types: JSON round trips and the invariants their constructors enforce."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from modelworks.engine.automl.errors import InvalidSpecError
from modelworks.engine.automl.types import (
    FeatureHandling,
    LabWarning,
    TrainingSpec,
    TrialResult,
    Validation,
)

FEATURES = (
    FeatureHandling("age", "numeric", impute="median", scale=True, reason="number"),
    FeatureHandling("plan", "categorical", impute="constant", encode="onehot", reason="category"),
    FeatureHandling("id", "drop", reason="identifier"),
)


def spec(**changes: Any) -> TrainingSpec:
    values: dict[str, Any] = {
        "task": "binary",
        "target": "churn",
        "features": FEATURES,
        "algorithms": ("lightgbm", "linear"),
        "time_budget_s": 30.0,
        "validation": Validation("time", folds=4, time_column="when", holdout_fraction=0.25),
        "metric": "roc_auc",
        "seed": 7,
        "max_trials": 12,
    }
    values.update(changes)
    return TrainingSpec(**values)


def test_spec_round_trips_through_json() -> None:
    original = spec()
    data = json.loads(json.dumps(original.to_dict()))
    assert TrainingSpec.from_dict(data) == original
    assert [f.column for f in original.used_features] == ["age", "plan"]


def test_trial_round_trips_and_failed_score_is_json_null() -> None:
    failed = TrialResult(3, "xgboost", {"max_depth": 4}, {}, -math.inf, 0.5, "failed", "boom")
    data = json.loads(json.dumps(failed.to_dict()))
    assert data["score"] is None
    assert TrialResult.from_dict(data) == failed
    done = TrialResult(4, "linear", {"C": 0.5, "class_weight": None}, {"roc_auc": 0.9}, 0.9, 1.25)
    assert TrialResult.from_dict(json.loads(json.dumps(done.to_dict()))) == done


def test_warning_round_trips() -> None:
    warning = LabWarning("single_class", "error", "one class", "target", "add rows")
    assert warning.blocking
    assert LabWarning.from_dict(warning.to_dict()) == warning


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: spec(time_budget_s=0), "positive number of seconds"),
        (lambda: spec(time_budget_s=-5), "positive number of seconds"),
        (lambda: spec(time_budget_s=math.nan), "positive number of seconds"),
        (lambda: spec(algorithms=()), "at least one algorithm"),
        (lambda: spec(max_trials=0), "at least 1"),
        (lambda: spec(task="ranking"), "task 'ranking' is not one of"),
        (lambda: spec(target=""), "column to predict"),
        (lambda: spec(features=(FEATURES[0], FEATURES[0])), "more than one feature handling"),
        (lambda: Validation(folds=1), "between 2 and 20 folds"),
        (lambda: Validation(holdout_fraction=0.9), "between 0 and 0.5"),
        (lambda: Validation("time"), "needs a time column"),
        (lambda: FeatureHandling("x", "image"), "feature kind 'image'"),  # type: ignore[arg-type]
        (lambda: FeatureHandling("x", "numeric", impute="zero"), "imputation of column 'x'"),  # type: ignore[arg-type]
        (lambda: FeatureHandling("", "numeric"), "non-empty column name"),
        (lambda: FeatureHandling.from_dict({"column": "x"}), "missing the field 'kind'"),
        (lambda: TrainingSpec.from_dict({"task": "binary"}), "missing the field 'features'"),
        (
            lambda: TrainingSpec.from_dict({**spec().to_dict(), "algorithms": "lightgbm"}),
            "must be a list of names",
        ),
        (
            lambda: LabWarning.from_dict({"code": "x", "severity": "fatal", "message": "m"}),
            "severity 'fatal'",
        ),
    ],
)
def test_invalid_values_are_refused(build: Any, match: str) -> None:
    with pytest.raises(InvalidSpecError, match=match):
        build()
