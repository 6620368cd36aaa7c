"""ScoringModel.predict: the same answers as the libraries themselves, probabilities, explanations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scoring_tables import FEATURES, flights_table, numeric_table

from modelworks.engine.scoring import ScoringModel


def _body(frame: pd.DataFrame) -> bytes:
    return json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}).encode()


def test_lightgbm_binary_matches_the_booster(lgb_dir: Path) -> None:
    import lightgbm as lgb

    X = numeric_table(40, seed=5)[FEATURES]
    model = ScoringModel.load(lgb_dir)
    result = model.predict(model.parse(_body(X), max_rows=100), explain=True)
    expected = lgb.Booster(model_file=str(lgb_dir / "model.lgb")).predict(X.to_numpy())
    positive = [p["1"] for p in result.probabilities or []]
    np.testing.assert_allclose(positive, expected, rtol=1e-12)
    assert result.predictions == [int(p > 0.5) for p in expected]
    assert all(abs(sum(p.values()) - 1) < 1e-12 for p in result.probabilities or [])
    # Tree SHAP: the contributions plus the base value give the log-odds of each row.
    margins = lgb.Booster(model_file=str(lgb_dir / "model.lgb")).predict(X.to_numpy(), raw_score=True)
    for explanation, margin in zip(result.explanations or [], margins, strict=True):
        assert explanation["available"] and explanation["method"] == "tree_shap"
        assert set(explanation["contributions"]) == set(FEATURES)
        total = explanation["base_value"] + sum(explanation["contributions"].values())
        assert total == pytest.approx(margin, abs=1e-9)
        sizes = [abs(v) for v in explanation["contributions"].values()]
        assert sizes == sorted(sizes, reverse=True)


def test_lightgbm_multiclass(lgb_multi_dir: Path) -> None:
    import lightgbm as lgb

    X = numeric_table(30, seed=6)[FEATURES]
    model = ScoringModel.load(lgb_multi_dir)
    result = model.predict(model.parse(_body(X), max_rows=100), explain=True)
    booster = lgb.Booster(model_file=str(lgb_multi_dir / "model.lgb"))
    proba = booster.predict(X.to_numpy())
    np.testing.assert_allclose([[p[c] for c in ("0", "1", "2")] for p in result.probabilities or []], proba)
    assert result.predictions == proba.argmax(axis=1).tolist()
    raw = booster.predict(X.to_numpy(), raw_score=True)
    for r, explanation in enumerate(result.explanations or []):
        winner = int(proba[r].argmax())
        assert f"class '{winner}'" in explanation["output"]
        total = explanation["base_value"] + sum(explanation["contributions"].values())
        assert total == pytest.approx(raw[r, winner], abs=1e-9)


def test_lightgbm_sklearn_regressor_without_signature(lgb_regression_dir: Path) -> None:
    import mlflow.lightgbm

    X = numeric_table(20, seed=7)[FEATURES]
    model = ScoringModel.load(lgb_regression_dir)
    result = model.predict(model.parse(_body(X), max_rows=100), explain=True)
    expected = mlflow.lightgbm.load_model(str(lgb_regression_dir)).predict(X)
    np.testing.assert_allclose(result.predictions, expected)
    assert result.probabilities is None
    for explanation, value in zip(result.explanations or [], expected, strict=True):
        assert explanation["base_value"] + sum(explanation["contributions"].values()) == pytest.approx(value)


def test_xgboost_binary_and_multiclass(xgb_dir: Path, xgb_multi_dir: Path) -> None:
    import xgboost as xgb

    X = numeric_table(25, seed=8)[FEATURES]
    for folder, data in ((xgb_dir, "model.ubj"), (xgb_multi_dir, "model.json")):
        booster = xgb.Booster()
        booster.load_model(str(folder / data))
        model = ScoringModel.load(folder)
        result = model.predict(model.parse(_body(X), max_rows=100), explain=True)
        proba = booster.predict(xgb.DMatrix(X))
        margins = booster.predict(xgb.DMatrix(X), output_margin=True)
        got = np.array([[p[c] for c in model.classes or ()] for p in result.probabilities or []])
        if model.task == "binary":
            np.testing.assert_allclose(got[:, 1], proba, rtol=1e-5)
            margins = margins.reshape(-1, 1)
        else:
            np.testing.assert_allclose(got, proba, rtol=1e-5)
        assert result.predictions == got.argmax(axis=1).tolist()
        for r, explanation in enumerate(result.explanations or []):
            k = 0 if model.task == "binary" else int(got[r].argmax())
            total = explanation["base_value"] + sum(explanation["contributions"].values())
            assert total == pytest.approx(float(margins[r, k]), abs=1e-4)


def test_plain_sklearn_on_the_fast_path(sklearn_dir: Path, skops_dir: Path) -> None:
    import mlflow.sklearn

    X = numeric_table(15, seed=9)[FEATURES]
    model = ScoringModel.load(sklearn_dir)
    batch = model.parse(_body(X), max_rows=100)
    assert batch.matrix is not None
    result = model.predict(batch, explain=True)
    estimator = mlflow.sklearn.load_model(str(sklearn_dir))
    assert result.predictions == estimator.predict(X).tolist()
    np.testing.assert_allclose(
        [[p["no"], p["yes"]] for p in result.probabilities or []], estimator.predict_proba(X)
    )
    assert result.explanations is not None
    assert result.explanations[0] == {
        "available": False,
        "reason": "Per-row explanations are available for Lab models and LightGBM/XGBoost boosters; "
        "this scikit-learn model is neither.",
    }
    regression = ScoringModel.load(skops_dir)
    values = regression.predict(regression.parse(_body(X), max_rows=100)).predictions
    assert all(isinstance(v, float) for v in values) and len(values) == 15


def test_lab_pipeline_predictions_and_explanations(lab_dir: Path) -> None:
    import mlflow.sklearn

    frame = flights_table(12, seed=3)
    rows = frame.drop(columns=["late"])
    body = json.dumps({"records": json.loads(rows.to_json(orient="records", date_format="iso"))}).encode()
    model = ScoringModel.load(lab_dir)
    batch = model.parse(body, max_rows=100, id_column="flight_id")
    assert batch.ids == rows["flight_id"].tolist()
    result = model.predict(batch, explain=True)
    pipeline = mlflow.sklearn.load_model(str(lab_dir))
    features = rows.drop(columns="flight_id")
    assert result.predictions == pipeline.predict(features).tolist()
    np.testing.assert_allclose(
        [[p["late"], p["on_time"]] for p in result.probabilities or []], pipeline.predict_proba(features)
    )
    first = (result.explanations or [])[0]
    assert first["available"] is True
    assert set(first["contributions"]) == {"distance", "carrier", "hour", "day"}
    rows_out = result.to_rows()
    assert rows_out[0]["prediction"] == result.predictions[0]
    assert set(rows_out[0]) == {"prediction", "probabilities", "explanation"}


def test_explanations_not_asked(lgb_dir: Path) -> None:
    model = ScoringModel.load(lgb_dir)
    result = model.predict(model.parse(_body(numeric_table(2)[FEATURES]), max_rows=5))
    assert result.explanations is None
    assert set(result.to_rows()[0]) == {"prediction", "probabilities"}


@pytest.mark.parametrize(
    ("rows", "cores", "threads"),
    [
        (1, 2, 1),
        (300, 2, 1),
        (511, 8, 1),
        (512, 8, 2),
        (1000, 2, 2),
        (1000, 8, 3),
        (100_000, 4, 4),
        (0, 4, 1),
    ],
)
def test_threads_follow_the_batch_size(
    monkeypatch: pytest.MonkeyPatch, rows: int, cores: int, threads: int
) -> None:
    from modelworks.engine.scoring import adapters

    monkeypatch.setattr(adapters, "_CORES", cores)
    assert adapters.threads_for(rows) == threads
