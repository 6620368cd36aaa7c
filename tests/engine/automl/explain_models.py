"""Small real models for the evaluation and explanation tests, fitted once per test session.

Every model is the Lab's contract shape, ``Pipeline([("prepare", ColumnTransformer), ("model",
estimator)])``, fitted on a DataFrame with the original column names (numbers, a category, sometimes a
text column), so explanations must sum encoded columns back to the user's columns.

Import the builders (``from explain_models import binary_case``); they are cached, so every test file
shares the same fitted models.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier, XGBRegressor

SEED = 0


@dataclass(frozen=True)
class Case:
    """A table, its target, and fitted pipelines by algorithm name."""

    frame: pd.DataFrame  # feature columns only (plus an unused 'row_id')
    target: pd.Series
    task: str
    models: dict[str, Pipeline]
    classes: list[Any]


def prepare(numeric: list[str], categorical: list[str], text: str | None = None) -> ColumnTransformer:
    """The contract's preparation step: transformers named by kind, unused columns dropped."""
    entries: list[tuple[str, Any, Any]] = [
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        (
            "categorical",
            make_pipeline(
                SimpleImputer(strategy="most_frequent"),
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
            ),
            categorical,
        ),
    ]
    if text:
        entries.append(("text", TfidfVectorizer(max_features=20), text))
    return ColumnTransformer(entries, remainder="drop", sparse_threshold=0.0)


def fit(frame: pd.DataFrame, target: pd.Series, estimator: Any, **columns: Any) -> Pipeline:
    return Pipeline([("prepare", prepare(**columns)), ("model", estimator)]).fit(frame, target)


def _segment(values: np.ndarray) -> np.ndarray:
    """A categorical column derived from a number: three levels by tercile."""
    cuts = np.quantile(values, [1 / 3, 2 / 3])
    return np.asarray(["low", "mid", "high"], dtype=object)[np.digitize(values, cuts)]


@functools.cache
def binary_case() -> Case:
    """Breast cancer: 8 numeric columns, a categorical one derived from 'worst radius', a row id."""
    data = load_breast_cancer(as_frame=True)
    numeric = ["mean radius", "mean texture", "mean smoothness", "mean concavity", "worst area",
               "worst concave points", "worst texture", "radius error"]  # fmt: skip
    frame = data.frame[numeric].copy()
    frame["size band"] = _segment(data.frame["worst radius"].to_numpy())
    frame["row_id"] = np.arange(len(frame))
    target = data.frame["target"].map({0: "malignant", 1: "benign"}).rename("diagnosis")
    columns = {"numeric": numeric, "categorical": ["size band"]}
    models = {
        "linear": fit(frame, target, LogisticRegression(max_iter=2000), **columns),
        "random_forest": fit(
            frame, target, RandomForestClassifier(n_estimators=40, max_depth=5, random_state=SEED), **columns
        ),
        "lightgbm": fit(
            frame, target, LGBMClassifier(n_estimators=40, verbose=-1, random_state=SEED, n_jobs=1), **columns
        ),
        "xgboost": fit(
            frame,
            target.map({"malignant": 0, "benign": 1}),
            XGBClassifier(n_estimators=40, n_jobs=1),
            **columns,
        ),
        "knn": fit(frame, target, KNeighborsClassifier(n_neighbors=15), **columns),
    }
    return Case(frame, target, "binary", models, sorted(target.unique()))


@functools.cache
def multiclass_case() -> Case:
    """Wine: 6 numeric columns and a categorical one; three classes."""
    data = load_wine(as_frame=True)
    numeric = ["alcohol", "malic_acid", "flavanoids", "color_intensity", "proline", "hue"]
    frame = data.frame[numeric].copy()
    frame["ash band"] = _segment(data.frame["ash"].to_numpy())
    target = data.frame["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"}).rename("cultivar")
    columns = {"numeric": numeric, "categorical": ["ash band"]}
    models = {
        "linear": fit(frame, target, LogisticRegression(max_iter=2000), **columns),
        "random_forest": fit(
            frame, target, RandomForestClassifier(n_estimators=40, max_depth=5, random_state=SEED), **columns
        ),
        "lightgbm": fit(
            frame, target, LGBMClassifier(n_estimators=30, verbose=-1, random_state=SEED, n_jobs=1), **columns
        ),
        "xgboost": fit(
            frame,
            target.map({"barbera": 0, "barolo": 1, "grignolino": 2}),
            XGBClassifier(n_estimators=30, n_jobs=1),
            **columns,
        ),
    }
    return Case(frame, target, "multiclass", models, sorted(target.unique()))


@functools.cache
def regression_case() -> Case:
    """Diabetes progression: 6 numeric columns and the categorical 'sex'."""
    data = load_diabetes(as_frame=True, scaled=False)
    numeric = ["age", "bmi", "bp", "s1", "s3", "s5"]
    frame = data.frame[numeric].copy()
    frame["sex"] = data.frame["sex"].map({1.0: "F", 2.0: "M"})
    target = data.frame["target"].rename("progression")
    columns = {"numeric": numeric, "categorical": ["sex"]}
    models = {
        "linear": fit(frame, target, Ridge(alpha=1.0), **columns),
        "random_forest": fit(
            frame, target, RandomForestRegressor(n_estimators=40, max_depth=6, random_state=SEED), **columns
        ),
        "lightgbm": fit(
            frame, target, LGBMRegressor(n_estimators=40, verbose=-1, random_state=SEED, n_jobs=1), **columns
        ),
        "xgboost": fit(frame, target, XGBRegressor(n_estimators=40, n_jobs=1), **columns),
        "knn": fit(frame, target, KNeighborsRegressor(n_neighbors=10), **columns),
    }
    return Case(frame, target, "regression", models, [])


@functools.cache
def planted_case() -> Case:
    """A regression where 'signal' drives the target (monotone, increasing) and the rest is noise.

    'city' (one-hot, 4 levels) and a free-text 'note' carry no information; 'signal' explains almost all.
    """
    rng = np.random.default_rng(SEED)
    n = 600
    signal = rng.uniform(-3, 3, n)
    frame = pd.DataFrame(
        {
            "signal": signal,
            "noise_a": rng.normal(size=n),
            "noise_b": rng.normal(size=n),
            "city": rng.choice(["Paris", "Lyon", "Nice", "Lille"], n),
            "note": rng.choice(["good service", "late delivery", "fine", "call back later"], n),
        }
    )
    target = pd.Series(2.0 * signal + 0.5 * np.tanh(signal) + rng.normal(scale=0.2, size=n), name="y")
    columns = {"numeric": ["signal", "noise_a", "noise_b"], "categorical": ["city"], "text": "note"}
    models = {
        "linear": fit(frame, target, Ridge(alpha=0.1), **columns),
        "random_forest": fit(
            frame, target, RandomForestRegressor(n_estimators=40, max_depth=6, random_state=SEED), **columns
        ),
        "lightgbm": fit(
            frame, target, LGBMRegressor(n_estimators=60, verbose=-1, random_state=SEED, n_jobs=1), **columns
        ),
    }
    return Case(frame, target, "regression", models, [])


@functools.cache
def planted_binary_case() -> Case:
    """A binary task decided by 'signal' (with a little noise); 'noise' and 'colour' are irrelevant."""
    rng = np.random.default_rng(SEED + 1)
    n = 600
    signal = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "signal": signal,
            "noise": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], n),
        }
    )
    target = pd.Series(np.where(signal + rng.normal(scale=0.3, size=n) > 0, "yes", "no"), name="bought")
    columns = {"numeric": ["signal", "noise"], "categorical": ["colour"]}
    models = {
        "random_forest": fit(
            frame, target, RandomForestClassifier(n_estimators=40, max_depth=5, random_state=SEED), **columns
        ),
        "linear": fit(frame, target, LogisticRegression(max_iter=1000), **columns),
    }
    return Case(frame, target, "binary", models, ["no", "yes"])
