"""save_model writes an MLflow model folder that mlflow.pyfunc loads, with or without Modelworks."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
import yaml
from training_tables import penguins, time_series

from modelworks.engine.automl.errors import ModelSaveError
from modelworks.engine.automl.features import propose_features
from modelworks.engine.automl.persist import load_model_info, save_model
from modelworks.engine.automl.pipeline import build_pipeline
from modelworks.engine.automl.search import run_search
from modelworks.engine.automl.types import SearchResult, TrainingSpec, Validation


@pytest.fixture(scope="module")
def penguin_result() -> SearchResult:
    frame = penguins()
    task, features = propose_features(frame, "species")
    spec = TrainingSpec(
        task, "species", features, ("lightgbm",), 30.0, Validation(folds=3), "log_loss", max_trials=1
    )
    return run_search(frame, spec)


def test_search_result_round_trips_through_pyfunc(penguin_result: SearchResult, tmp_path: Path) -> None:
    frame = penguins()
    folder = save_model(penguin_result, tmp_path / "model", input_example=frame)

    mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
    assert {"python_function", "sklearn"} <= set(mlmodel["flavors"])
    inputs = [c["name"] for c in json.loads(mlmodel["signature"]["inputs"])]
    assert set(inputs) == {
        "island",
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
        "sex",
        "year",
    }
    requirements = (folder / "requirements.txt").read_text().splitlines()
    assert f"lightgbm=={version('lightgbm')}" in requirements
    assert f"scikit-learn=={version('scikit-learn')}" in requirements
    assert not any(r.startswith("xgboost") for r in requirements)

    rows = frame.drop(columns="species").iloc[[0, 3, 150, 300, 340]]  # row 3 is all nulls
    loaded = mlflow.pyfunc.load_model(str(folder))
    labels = np.asarray(loaded.predict(rows))
    np.testing.assert_array_equal(labels, penguin_result.model.predict(rows))
    assert set(labels) <= {"Adelie", "Chinstrap", "Gentoo"}
    proba = loaded.get_raw_model().predict_proba(rows)
    np.testing.assert_allclose(proba, penguin_result.model.predict_proba(rows))
    np.testing.assert_allclose(mlflow.sklearn.load_model(str(folder)).predict_proba(rows), proba)

    info = load_model_info(folder)
    assert info["task"] == "multiclass" and info["target"] == "species"
    assert info["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert info["algorithm"] == "lightgbm" and info["params"] == penguin_result.best.params
    assert info["metrics"]["accuracy"] == pytest.approx(penguin_result.holdout.metrics["accuracy"])  # type: ignore[union-attr]
    assert [f["column"] for f in info["features"]] == list(frame.columns)


def test_model_loads_without_modelworks(tmp_path: Path) -> None:
    """The Lab's conversions travel inside the pickle: a plain MLflow environment can score the model."""
    frame = time_series()
    _, features = propose_features(frame, "sales", time_column="when")
    labels = np.where(frame["sales"] > frame["sales"].median(), "high", "low")
    model = build_pipeline(features, "xgboost", {"n_estimators": 30}, "binary").fit(frame, labels)
    folder = save_model(
        model, tmp_path / "model", input_example=frame, task="binary", features=features, target="sales"
    )
    rows = frame.drop(columns="sales").head(6)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    script = textwrap.dedent(
        f"""
        import sys

        class RefuseModelworks:
            def find_spec(self, name, path=None, target=None):
                if name == "modelworks" or name.startswith("modelworks."):
                    raise ImportError("modelworks is not installed here")

        sys.meta_path.insert(0, RefuseModelworks())
        import mlflow.pyfunc, pandas as pd
        rows = pd.read_csv({str(tmp_path / "rows.csv")!r})
        model = mlflow.pyfunc.load_model({str(folder)!r})
        print(",".join(model.predict(rows)))
        print(any(name.startswith("modelworks") for name in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    predicted, imported = done.stdout.strip().splitlines()[-2:]
    assert predicted.split(",") == list(model.predict(rows))
    assert imported == "False"


def test_bad_inputs(penguin_result: SearchResult, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "file.txt").write_text("x")
    with pytest.raises(ModelSaveError, match="already exists and is not empty"):
        save_model(penguin_result, taken, input_example=penguins())
    with pytest.raises(ModelSaveError, match="Say which task"):
        save_model(penguin_result.model, tmp_path / "bare", input_example=penguins())
    with pytest.raises(ModelSaveError, match="lacks the feature column 'island'"):
        save_model(penguin_result, tmp_path / "example", input_example=penguins().drop(columns="island"))
    with pytest.raises(ModelSaveError, match="missing or unreadable"):
        load_model_info(tmp_path)
    assert pd.isna(penguins().iloc[3]["sex"])  # the null row used above is still null
