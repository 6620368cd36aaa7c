"""build_pipeline and feature_origins on real dtypes: str, category, boolean, Int64, dates, text, nulls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from training_tables import mixed, time_series

from modelworks.engine.automl.algorithms import ALGORITHMS
from modelworks.engine.automl.errors import InvalidSpecError, UnknownAlgorithmError
from modelworks.engine.automl.features import propose_features
from modelworks.engine.automl.pipeline import (
    as_labels,
    as_numbers,
    build_pipeline,
    date_parts,
    feature_origins,
)
from modelworks.engine.automl.types import FeatureHandling


@pytest.fixture(scope="module")
def churn() -> tuple[pd.DataFrame, tuple[FeatureHandling, ...]]:
    frame = mixed()
    _, features = propose_features(frame, "churn")
    return frame, features


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_every_algorithm_fits_and_predicts_mixed_dtypes(
    churn: tuple[pd.DataFrame, tuple[FeatureHandling, ...]], algorithm: str
) -> None:
    frame, features = churn
    pipeline = build_pipeline(features, algorithm, {"n_estimators": 20}, "binary")
    assert [name for name, _ in pipeline.steps] == ["prepare", "model"]
    pipeline.fit(frame, frame["churn"])  # the target and dropped columns are simply ignored

    new = frame.drop(columns=["churn", "customer_id", "fax"]).head(6).copy()
    new.loc[0, "plan"] = "enterprise"  # a category never seen in training
    new["city"] = new["city"].cat.add_categories(["Atlantis"])
    new.loc[1, "city"] = "Atlantis"
    new.loc[2, ["tenure", "seats", "autopay", "signed_up", "complaint"]] = [None, pd.NA, pd.NA, pd.NaT, None]
    new["unrelated"] = 1
    predicted = pipeline.predict(new)
    assert set(predicted) <= {0, 1}
    proba = pipeline.predict_proba(new)
    assert proba.shape == (6, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)

    origins = feature_origins(pipeline)
    width = pipeline.named_steps["prepare"].transform(new).shape[1]
    assert len(origins) == width
    used = {f.column for f in features if f.used}
    assert set(origins) == used
    # year, month, day, weekday, hour, days; linear: days and sine/cosine of month, weekday, hour
    assert origins.count("signed_up") == (7 if algorithm == "linear" else 6)
    assert origins.count("tenure") == 1


def test_prepare_names_groups_by_kind_and_scales_only_for_linear(
    churn: tuple[pd.DataFrame, tuple[FeatureHandling, ...]],
) -> None:
    frame, features = churn
    linear = build_pipeline(features, "linear", {}, "binary").fit(frame, frame["churn"])
    trees = build_pipeline(features, "lightgbm", {"n_estimators": 10}, "binary").fit(frame, frame["churn"])
    names = [name for name, *_ in linear.named_steps["prepare"].transformers_ if name != "remainder"]
    assert {n.split("_")[0] for n in names} == {"numeric", "categorical", "date", "text"}
    numeric = dict((n, t) for n, t, _ in linear.named_steps["prepare"].transformers_)["numeric"]
    assert "scale" in numeric.named_steps
    numeric_trees = dict((n, t) for n, t, _ in trees.named_steps["prepare"].transformers_)["numeric"]
    assert "scale" not in numeric_trees.named_steps
    # A high-cardinality category is ordinal for trees but one-hot (top 30 + infrequent) for linear.
    assert feature_origins(trees).count("city") == 1
    assert 2 < feature_origins(linear).count("city") <= 31


def test_regression_and_multiclass_estimators() -> None:
    frame = time_series()
    _, features = propose_features(frame, "sales", time_column="when")
    for algorithm in ALGORITHMS:
        model = build_pipeline(features, algorithm, {"n_estimators": 20}, "regression").fit(
            frame, frame["sales"]
        )
        assert model.predict(frame.head(3)).dtype.kind == "f"
    labels = np.where(frame["sales"] > frame["sales"].median(), "high", "low")
    labels[:20] = "mid"
    model = build_pipeline(features, "xgboost", {"n_estimators": 20}, "multiclass").fit(frame, labels)
    assert list(model.classes_) == ["high", "low", "mid"]
    assert set(model.predict(frame)) <= {"high", "low", "mid"}


def test_conversions() -> None:
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None, 3], dtype="Int64"),
            "s": pd.Series(["1.5", "n/a", None], dtype="str"),
            "f": [np.inf, -1.0, np.nan],
        }
    )
    np.testing.assert_array_equal(
        as_numbers(frame), [[1.0, 1.5, np.nan], [np.nan, np.nan, -1.0], [3.0, np.nan, np.nan]]
    )
    labels = as_labels(
        pd.DataFrame({"b": pd.array([True, None, False], dtype="boolean"), "x": [1.0, 2.5, None]})
    )
    assert labels[0].tolist() == ["True", "1"]
    assert pd.isna(labels[1, 0]) and labels[1, 1] == "2.5"
    parts = date_parts(pd.DataFrame({"d": ["2024-03-09T14:30:00", "garbage", None]}))
    assert parts[0].tolist() == [2024, 3, 9, 5, 14, 19791.6041666666667]
    assert np.isnan(parts[1:]).all()


@pytest.mark.parametrize(
    ("features", "algorithm", "task", "error", "match"),
    [
        (
            (FeatureHandling("x", "numeric"),),
            "catboost",
            "binary",
            UnknownAlgorithmError,
            "Unknown algorithm 'catboost'",
        ),
        (
            (FeatureHandling("x", "numeric"),),
            "LightGBM",
            "binary",
            UnknownAlgorithmError,
            "did you mean 'lightgbm'",
        ),
        (
            (FeatureHandling("x", "drop"),),
            "linear",
            "binary",
            InvalidSpecError,
            "No column is left to learn from",
        ),
    ],
)
def test_bad_inputs(
    features: tuple[FeatureHandling, ...], algorithm: str, task: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        build_pipeline(features, algorithm, {}, task)  # type: ignore[arg-type]
