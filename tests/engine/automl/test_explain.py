"""Explanations of real fitted Lab pipelines: they must add up, rank planted signals first, and speak
in the user's original columns."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from explain_models import (
    Case,
    binary_case,
    multiclass_case,
    planted_binary_case,
    planted_case,
    regression_case,
)
from scipy.special import logit
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline

from modelworks.engine.automl.errors import UnknownMetricError
from modelworks.engine.automl.explain import (
    ExplainError,
    explain_rows,
    partial_dependence,
    permutation_importance,
    shap_importance,
    what_if,
)
from modelworks.engine.automl.pipeline import build_pipeline
from modelworks.engine.automl.types import FeatureHandling

CASES = {"binary": binary_case, "multiclass": multiclass_case, "regression": regression_case}


def _used_columns(case: Case) -> set[str]:
    return set(case.frame.columns) - {"row_id"}


def _model_output(case: Case, algorithm: str, rows: pd.DataFrame, row_class: list[int]) -> np.ndarray:
    """What exact contributions must add up to, computed independently of the explainer."""
    model = case.models[algorithm]
    estimator = model.named_steps["model"]
    matrix = model.named_steps["prepare"].transform(rows)
    if case.task == "regression":
        return model.predict(rows)
    index = np.arange(len(rows)), np.asarray(row_class or [1] * len(rows), dtype=int)
    if algorithm == "random_forest":  # a forest's SHAP values explain probabilities
        return model.predict_proba(rows)[index]
    if algorithm == "linear":
        scores = estimator.decision_function(matrix)
        return scores if scores.ndim == 1 else scores[index]
    if algorithm == "lightgbm":
        raw = estimator.predict(matrix, raw_score=True)
    else:
        raw = estimator.predict(matrix, output_margin=True)
    return raw if raw.ndim == 1 else raw[index]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("algorithm", ["random_forest", "lightgbm", "xgboost", "linear"])
def test_exact_contributions_add_up_to_the_model_output(task: str, algorithm: str) -> None:
    case = CASES[task]()
    rows = case.frame.iloc[::37]
    explanations = explain_rows(case.models[algorithm], rows, background=case.frame)
    model = case.models[algorithm]
    predicted = model.predict(rows)
    row_class = [list(model.classes_).index(p) for p in predicted] if task == "multiclass" else []
    expected = _model_output(case, algorithm, rows, row_class)
    assert len(explanations) == len(rows)
    for explanation, target, label in zip(explanations, expected, predicted, strict=True):
        assert explanation.method == ("linear_exact" if algorithm == "linear" else "tree_shap")
        total = explanation.base_value + sum(c.contribution for c in explanation.contributions)
        assert total == pytest.approx(target, abs=1e-4)
        assert {c.column for c in explanation.contributions} == _used_columns(case)
        sizes = [abs(c.contribution) for c in explanation.contributions]
        assert sizes == sorted(sizes, reverse=True)
        assert explanation.prediction == (str(label) if task != "regression" else pytest.approx(label))
        if task != "regression":
            assert sum(explanation.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
            explained = str(label) if task == "multiclass" else str(model.classes_[1])
            assert explanation.output.endswith(f"of {explained!r}")
    json.dumps([e.to_dict() for e in explanations], allow_nan=False)


def test_row_values_are_the_original_values() -> None:
    case = binary_case()
    row = case.frame.iloc[[5]]
    (explanation,) = explain_rows(case.models["lightgbm"], row, case.frame)
    values = {c.column: c.value for c in explanation.contributions}
    assert values["size band"] == row["size band"].iloc[0]
    assert values["mean radius"] == pytest.approx(row["mean radius"].iloc[0])


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_other_models_get_a_labelled_approximation(task: str) -> None:
    case = CASES[task]()
    model = case.models["knn"]
    if task == "binary":  # rows the model is unsure about: one column can tip them
        unsure = np.abs(model.predict_proba(case.frame)[:, 1] - 0.5) < 0.3
        rows = case.frame[unsure].iloc[:4]
    else:
        rows = case.frame.iloc[:4]
    explanations = explain_rows(model, rows, case.frame)
    for explanation in explanations:
        assert explanation.method == "background_substitution"
        assert {c.column for c in explanation.contributions} == _used_columns(case)
        sizes = [abs(c.contribution) for c in explanation.contributions]
        assert sizes == sorted(sizes, reverse=True) and max(sizes) > 0
    shap = shap_importance(case.models["knn"], case.frame)
    assert not shap.available and shap.importances == []
    assert "not available for KNeighbors" in (shap.reason or "")


@pytest.mark.parametrize("algorithm", ["random_forest", "lightgbm", "linear"])
def test_shap_importance_ranks_the_planted_signal_first_and_speaks_in_original_columns(
    algorithm: str,
) -> None:
    case = planted_case()
    result = shap_importance(case.models[algorithm], case.frame)
    assert result.available and result.rows == len(case.frame)
    columns = [c for c, _ in result.importances]
    # The text column 'note' (TF-IDF) and the one-hot 'city' each come back as one column.
    assert sorted(columns) == sorted(case.frame.columns)
    assert columns[0] == "signal"
    assert result.importances[0].mean_abs > 10 * result.importances[1].mean_abs
    json.dumps(result.to_dict(), allow_nan=False)


def test_multiclass_shap_importance_adds_every_class() -> None:
    case = multiclass_case()
    result = shap_importance(case.models["random_forest"], case.frame, max_rows=60)
    assert result.rows == 60 and result.method == "tree_shap"
    explanation = explain_rows(case.models["random_forest"], case.frame.iloc[:1], case.frame)[0]
    assert explanation.output.startswith("probability of")
    assert {c for c, _ in result.importances} == _used_columns(case)


@pytest.mark.parametrize("algorithm", ["lightgbm", "linear"])
def test_permutation_importance_finds_the_planted_signal(algorithm: str) -> None:
    case = planted_case()
    result = permutation_importance(
        case.models[algorithm], case.frame, case.target, "regression", metric="rmse"
    )
    assert result[0].column == "signal"
    assert sorted(r.column for r in result) == sorted(case.frame.columns)
    signal, rest = result[0], result[1:]
    assert signal.importance > 2.0  # shuffling it costs at least two units of RMSE (the slope is 2)
    assert all(abs(r.importance) < 0.2 for r in rest)
    assert all(r.std >= 0 for r in result)


def test_permutation_importance_for_a_classifier_is_deterministic_and_samples() -> None:
    case = planted_binary_case()
    model = case.models["random_forest"]
    first = permutation_importance(
        model, case.frame, case.target, metric="log_loss", repeats=3, seed=4, max_rows=300
    )
    again = permutation_importance(
        model, case.frame, case.target, metric="log_loss", repeats=3, seed=4, max_rows=300
    )
    assert first == again
    assert first[0].column == "signal" and first[0].importance > 0.2
    auc = permutation_importance(model, case.frame, case.target, metric="roc_auc", repeats=2)
    assert auc[0].column == "signal" and 0.2 < auc[0].importance <= 0.5


def test_partial_dependence_of_a_monotone_relation_is_monotone() -> None:
    case = planted_case()
    for algorithm in ("linear", "random_forest", "lightgbm"):
        result = partial_dependence(case.models[algorithm], case.frame, "signal", grid=15)
        assert result.kind == "numeric" and result.output == "prediction"
        values, averages = result.values, result.averages["prediction"]
        assert values == sorted(values) and 2 <= len(values) <= 15
        quantiles = np.quantile(case.frame["signal"], [0.05, 0.95])
        assert values[0] == pytest.approx(quantiles[0]) and values[-1] == pytest.approx(quantiles[1])
        steps = np.diff(averages)
        assert (steps > -0.05).all(), algorithm  # trees may wobble a little, never turn back
        assert averages[-1] - averages[0] > 8  # 2 x (2.7 - -2.7), roughly


def test_partial_dependence_of_categories_and_classes() -> None:
    case = multiclass_case()
    result = partial_dependence(case.models["random_forest"], case.frame, "ash band", grid=2)
    assert result.kind == "categorical" and len(result.values) == 2
    assert set(result.values) <= {"low", "mid", "high"}
    assert set(result.averages) == {"barbera", "barolo", "grignolino"}
    totals = np.sum([result.averages[c] for c in result.averages], axis=0)
    assert totals == pytest.approx([1.0, 1.0])
    binary = partial_dependence(binary_case().models["xgboost"], binary_case().frame, "worst area")
    assert list(binary.averages) == ["1"] and binary.output == "probability of '1'"
    json.dumps(binary.to_dict(), allow_nan=False)


def test_what_if_scores_an_edited_row() -> None:
    case = regression_case()
    model = case.models["linear"]
    row = case.frame.iloc[0].to_dict()
    original = what_if(model, row, case.frame)
    assert original.prediction == pytest.approx(model.predict(case.frame.iloc[[0]])[0])
    edited = what_if(
        model, {**row, "bmi": str(row["bmi"] + 5), "sex": "F" if row["sex"] == "M" else "M"}, case.frame
    )
    coefficient_effect = edited.prediction - original.prediction
    assert coefficient_effect != pytest.approx(0.0)
    contributions = {c.column: c for c in edited.contributions}
    assert contributions["bmi"].value == pytest.approx(row["bmi"] + 5)
    assert edited.method == "linear_exact"


def test_what_if_accepts_a_missing_value_where_the_pipeline_imputes() -> None:
    case = binary_case()
    row = {**case.frame.iloc[3].to_dict(), "mean texture": None}
    result = what_if(case.models["random_forest"], row, case.frame)
    assert {c.column: c.value for c in result.contributions}["mean texture"] is None
    assert sum(result.probabilities.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"bmii": 3.0}, r"Column 'bmii' is not an input of the model; did you mean 'bmi'\?"),
        ({"bmi": "heavy"}, "Column 'bmi' expects a number, got 'heavy'"),
        ({"bmi": True}, "Column 'bmi' expects a number, got True"),
        ({"bmi": float("inf")}, "Column 'bmi' expects a finite number"),
        ({"sex": ["F", "M"]}, "Column 'sex' expects a single value"),
        ({"age": 40.5}, "Column 'age' expects a whole number, got 40.5"),
        ({"age": None}, "Column 'age' had no missing values in training and needs a value"),
    ],
)
def test_what_if_bad_rows_name_the_column(change: dict[str, Any], match: str) -> None:
    case = regression_case()
    frame = case.frame.astype({"age": "int64"})
    row = {**frame.iloc[0].to_dict(), **change}
    with pytest.raises(ExplainError, match=match):
        what_if(case.models["linear"], row, frame)


def test_what_if_needs_every_used_column() -> None:
    case = regression_case()
    row = case.frame.iloc[0].to_dict()
    del row["s5"]
    with pytest.raises(ExplainError, match="The row has no value for column 's5'"):
        what_if(case.models["linear"], row, case.frame)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda m, f, y: shap_importance(object(), f), "Explanations need a Lab model"),
        (lambda m, f, y: shap_importance(m, f.drop(columns=["bmi"])), "lacks the column 'bmi'"),
        (lambda m, f, y: shap_importance(m, f.to_numpy()), "must be a table"),
        (lambda m, f, y: shap_importance(m, f.iloc[:0]), "has no rows"),
        (
            lambda m, f, y: permutation_importance(m, f, y[:10]),
            "The target has 10 values but there are 442 rows",
        ),
        (
            lambda m, f, y: permutation_importance(m, f, y, "binary"),
            "is a regression model, not a binary one",
        ),
        (lambda m, f, y: permutation_importance(m, f, y, repeats=0), "repeats must be a whole number"),
        (lambda m, f, y: partial_dependence(m, f, "BMI"), r"does not feed the model; did you mean 'bmi'\?"),
        (lambda m, f, y: partial_dependence(m, f, "bmi", grid=0), "grid must be a whole number"),
        (
            lambda m, f, y: partial_dependence(m, f.assign(bmi=np.nan), "bmi"),
            "'bmi' has no values in these rows",
        ),
        (lambda m, f, y: explain_rows(m, f.iloc[:2], f.iloc[:0]), "The background rows has no rows"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(call: Any, match: str) -> None:
    case = regression_case()
    with pytest.raises(ExplainError, match=match):
        call(case.models["random_forest"], case.frame, case.target.to_numpy())


def test_text_columns_have_no_partial_dependence() -> None:
    case = planted_case()
    with pytest.raises(ExplainError, match="not available for the text column 'note'"):
        partial_dependence(case.models["linear"], case.frame, "note")


@pytest.mark.parametrize("algorithm", ["xgboost", "random_forest", "linear"])
def test_lab_pipelines_are_explained_in_their_original_columns(algorithm: str) -> None:
    """The pipelines ``pipeline.build_pipeline`` makes (the Lab's own steps, labelled XGBoost…)."""
    rng = np.random.default_rng(7)
    n = 300
    frame = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 50.0, n),
            "plan_type": rng.choice(["basic", "pro", "team"], n),
            "signed_up": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "customer_id": np.arange(n),
        }
    )
    target = np.where(frame["amount"] + rng.normal(0, 20, n) > 100, "churn", "stay")
    features = (
        FeatureHandling("amount", "numeric", impute="median", scale=True),
        FeatureHandling("plan_type", "categorical", impute="most_frequent", encode="onehot"),
        FeatureHandling("signed_up", "date"),
        FeatureHandling("customer_id", "drop"),
    )
    model = build_pipeline(features, algorithm, {}, "binary").fit(frame, target)
    explanation = explain_rows(model, frame.iloc[:5], frame)
    assert {c.column for c in explanation[0].contributions} == {"amount", "plan_type", "signed_up"}
    proba = model.predict_proba(frame.iloc[:5])[:, 1]
    expected = proba if algorithm == "random_forest" else logit(proba)
    totals = [e.base_value + sum(c.contribution for c in e.contributions) for e in explanation]
    assert totals == pytest.approx(expected, abs=1e-3)
    importance = shap_importance(model, frame)
    assert importance.available and importance.importances[0].column == "amount"
    dates = partial_dependence(model, frame, "signed_up", grid=5)
    assert dates.kind == "date" and all(isinstance(v, str) and v.startswith("2024-") for v in dates.values)
    result = what_if(model, {"amount": "250", "plan_type": "pro", "signed_up": "2024-06-01"}, frame)
    assert result.prediction == "churn"


def test_a_metric_of_another_task_is_refused() -> None:
    case = regression_case()
    with pytest.raises(
        UnknownMetricError, match="ROC AUC \\('roc_auc'\\) does not apply to a regression task"
    ):
        permutation_importance(case.models["linear"], case.frame, case.target, metric="roc_auc")


def test_any_column_transformer_maps_back_to_its_columns() -> None:
    """Missing-value indicators, passthrough columns and integer selections, outside the Lab's builder."""
    rng = np.random.default_rng(2)
    n = 200
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n)})
    frame.loc[::7, "a"] = np.nan
    target = 3 * frame["a"].fillna(0) - frame["c"] + rng.normal(scale=0.1, size=n)
    prepare = ColumnTransformer(
        [("numeric", SimpleImputer(add_indicator=True), ["a", "b"]), ("kept", "passthrough", [2])],
        remainder="drop",
    )
    model = Pipeline([("prepare", prepare), ("model", LinearRegression())]).fit(frame, target)
    assert model.named_steps["prepare"].transform(frame.iloc[:1]).shape[1] == 4  # a, b, a's indicator, c
    rows = explain_rows(model, frame.iloc[:6], frame)
    for explanation, prediction in zip(rows, model.predict(frame.iloc[:6]), strict=True):
        assert {c.column for c in explanation.contributions} == {"a", "b", "c"}
        total = explanation.base_value + sum(c.contribution for c in explanation.contributions)
        assert total == pytest.approx(prediction)
    ranking = [c for c, _ in shap_importance(model, frame).importances]
    assert ranking == ["a", "c", "b"]
