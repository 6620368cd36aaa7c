"""Metrics and curves of ``engine.automl.evaluation`` against scikit-learn on real fitted models."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from explain_models import binary_case, multiclass_case, regression_case
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

from modelworks.engine.automl.errors import UnknownMetricError
from modelworks.engine.automl.evaluation import (
    METRICS,
    Evaluation,
    EvaluationError,
    MetricUnavailableError,
    default_metric,
    evaluate,
    score_for_search,
)


def _strict_json(value: Any) -> Any:
    """A JSON round trip that refuses NaN and infinity, as the API's JSON encoder would."""
    return json.loads(json.dumps(value, allow_nan=False))


def test_binary_metrics_equal_sklearn() -> None:
    case = binary_case()
    model = case.models["linear"]
    proba = model.predict_proba(case.frame)
    predicted = model.predict(case.frame)
    classes = list(model.classes_)
    positive = classes[1]
    result = evaluate("binary", case.target, predicted, proba, classes)
    truth = case.target.to_numpy()
    expected = {
        "roc_auc": skm.roc_auc_score(truth == positive, proba[:, 1]),
        "pr_auc": skm.average_precision_score(truth, proba[:, 1], pos_label=positive),
        "log_loss": skm.log_loss(truth, proba, labels=classes),
        "accuracy": skm.accuracy_score(truth, predicted),
        "balanced_accuracy": skm.balanced_accuracy_score(truth, predicted),
        "f1": skm.f1_score(truth, predicted, pos_label=positive),
        "precision": skm.precision_score(truth, predicted, pos_label=positive),
        "recall": skm.recall_score(truth, predicted, pos_label=positive),
    }
    assert result.metrics == pytest.approx(expected, rel=1e-12)
    assert result.omitted == {} and result.rows == len(truth)
    matrix = skm.confusion_matrix(truth, predicted, labels=classes)
    assert result.curves["confusion_matrix"] == {"labels": classes, "counts": matrix.tolist()}


def test_multiclass_metrics_equal_sklearn_macro_averages() -> None:
    case = multiclass_case()
    model = case.models["random_forest"]
    proba, predicted, classes = (
        model.predict_proba(case.frame),
        model.predict(case.frame),
        list(model.classes_),
    )
    truth = case.target.to_numpy()
    result = evaluate("multiclass", truth, predicted, proba, classes)
    expected = {
        "roc_auc": skm.roc_auc_score(truth, proba, multi_class="ovr", average="macro", labels=classes),
        "pr_auc": skm.average_precision_score(label_binarize(truth, classes=classes), proba, average="macro"),
        "log_loss": skm.log_loss(truth, proba, labels=classes),
        "accuracy": skm.accuracy_score(truth, predicted),
        "balanced_accuracy": skm.balanced_accuracy_score(truth, predicted),
        "f1": skm.f1_score(truth, predicted, average="macro"),
        "precision": skm.precision_score(truth, predicted, average="macro"),
        "recall": skm.recall_score(truth, predicted, average="macro"),
    }
    assert result.metrics == pytest.approx(expected, rel=1e-12)
    assert [curve["name"] for curve in result.curves["roc"]] == classes
    assert "calibration" not in result.curves  # binary only


def test_regression_metrics_equal_sklearn() -> None:
    case = regression_case()
    predicted = case.models["random_forest"].predict(case.frame)
    truth = case.target.to_numpy()
    result = evaluate("regression", truth, predicted)
    assert result.metrics == pytest.approx(
        {
            "rmse": skm.root_mean_squared_error(truth, predicted),
            "mae": skm.mean_absolute_error(truth, predicted),
            "r2": skm.r2_score(truth, predicted),
            "mape": skm.mean_absolute_percentage_error(truth, predicted),
        },
        rel=1e-12,
    )


@pytest.mark.parametrize(
    ("case", "algorithm"),
    [(binary_case, "xgboost"), (multiclass_case, "random_forest"), (regression_case, "lightgbm")],
    ids=["binary", "multiclass", "regression"],
)
def test_score_for_search_equals_the_sklearn_scorer_of_every_metric(case: Any, algorithm: str) -> None:
    """Same number as ``get_scorer(METRICS[m].scorer_for(task))``, which also checks ``greater_is_better``.

    (Models without ``decision_function``: sklearn's ranking scorers would prefer it to probabilities.)
    """
    data = case()
    model = data.models[algorithm]
    target = data.target
    if algorithm == "xgboost":  # the only binary model fitted on 0/1, what sklearn's binary scorers expect
        target = target.map({"malignant": 0, "benign": 1})
    is_classifier = data.task != "regression"
    proba = model.predict_proba(data.frame) if is_classifier else None
    predicted = model.predict(data.frame)
    classes = list(model.classes_) if is_classifier else None
    checked = 0
    for name, info in METRICS.items():
        if data.task not in info.tasks:
            continue
        ours = score_for_search(name, data.task, target, predicted, proba, classes)
        theirs = skm.get_scorer(info.scorer_for(data.task))(model, data.frame, target)
        assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-12), name  # XGBoost gives float32
        checked += 1
    assert checked == (4 if data.task == "regression" else 8)


def test_curves_are_small_json_and_calibration_counts_every_row() -> None:
    case = binary_case()
    model = case.models["random_forest"]
    result = evaluate(
        "binary", case.target, model.predict(case.frame), model.predict_proba(case.frame), model.classes_
    )
    for kind in ("roc", "pr"):
        (curve,) = result.curves[kind]
        assert curve["name"] == str(model.classes_[1])
        assert 2 <= len(curve["points"]) <= 200
        xs = [x for x, _ in curve["points"]]
        assert xs == sorted(xs) and xs[0] == 0 and xs[-1] == 1
    assert result.curves["roc"][0]["auc"] == pytest.approx(result.metrics["roc_auc"])
    calibration = result.curves["calibration"]
    assert sum(calibration["counts"]) == len(case.frame)
    assert len(calibration["points"]) == len(calibration["counts"]) == len(calibration["bins"]) <= 10
    for (mean_predicted, fraction), (lo, hi) in zip(calibration["points"], calibration["bins"], strict=True):
        assert lo <= mean_predicted <= hi and 0 <= fraction <= 1
    payload = _strict_json(result.to_dict())
    assert Evaluation.from_dict(payload) == Evaluation.from_dict(
        _strict_json(Evaluation.from_dict(payload).to_dict())
    )
    assert Evaluation.from_dict(payload).metrics == result.metrics


def test_long_curves_are_downsampled_to_200_points() -> None:
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, 20_000)
    score = np.clip(truth * 0.3 + rng.uniform(size=20_000) * 0.7, 0, 1)
    result = evaluate("binary", truth, None, score, [0, 1])
    assert len(skm.roc_curve(truth, score)[0]) > 1000  # would be long without downsampling
    for kind in ("roc", "pr"):
        points = result.curves[kind][0]["points"]
        assert len(points) <= 200
    assert result.metrics["accuracy"] == pytest.approx(skm.accuracy_score(truth, (score > 0.5).astype(int)))


def test_regression_samples_are_deterministic_and_capped() -> None:
    rng = np.random.default_rng(1)
    truth = rng.normal(100, 10, 2_000)
    predicted = truth + rng.normal(0, 2, 2_000)
    first = evaluate("regression", truth, predicted)
    second = evaluate("regression", truth, predicted)
    residuals = first.curves["residuals"]
    assert residuals == second.curves["residuals"]
    assert residuals["total"] == 2_000 and residuals["sampled"] == len(residuals["points"]) == 500
    for (actual, pred), (pred_again, residual) in zip(
        first.curves["predicted_vs_actual"]["points"], residuals["points"], strict=True
    ):
        assert pred == pred_again and residual == pytest.approx(actual - pred, abs=1e-3)
        distance = np.abs(predicted - pred) + np.abs(truth - actual)  # points are real rows (rounded)
        assert distance.min() < 1e-3


def test_mape_is_omitted_with_a_reason_when_an_actual_value_is_zero() -> None:
    result = evaluate("regression", [0.0, 2.0, 4.0, 8.0], [0.5, 2.5, 3.0, 8.0])
    assert "mape" not in result.metrics
    assert "1 of 4 actual values are zero or near zero" in result.omitted["mape"]
    assert set(result.metrics) == {"rmse", "mae", "r2"}
    with pytest.raises(MetricUnavailableError, match=r"MAPE cannot be computed here: .*near zero"):
        score_for_search("mape", "regression", [0.0, 2.0], [0.5, 2.5])


def test_single_class_truth_omits_auc_instead_of_failing() -> None:
    result = evaluate("binary", ["yes", "yes", "yes"], ["yes", "no", "yes"], [0.9, 0.4, 0.8], ["no", "yes"])
    assert {"roc_auc", "pr_auc"} <= set(result.omitted)
    assert "every actual value is 'yes'" in result.omitted["roc_auc"]
    assert result.metrics["accuracy"] == pytest.approx(2 / 3)
    assert result.curves["roc"] == [] and result.curves["confusion_matrix"]["counts"] == [[0, 0], [1, 2]]
    with pytest.raises(MetricUnavailableError, match="ROC AUC cannot be computed here"):
        score_for_search("roc_auc", "binary", ["yes"] * 3, None, [0.9, 0.4, 0.8], ["no", "yes"])


def test_multiclass_auc_averages_the_classes_present_and_says_so() -> None:
    truth = ["a", "a", "b", "b"]
    proba = np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.2, 0.7, 0.1], [0.4, 0.5, 0.1]])
    result = evaluate("multiclass", truth, None, proba, ["a", "b", "c"])
    per_class = [skm.roc_auc_score(np.array(truth) == c, proba[:, i]) for i, c in enumerate("ab")]
    assert result.metrics["roc_auc"] == pytest.approx(np.mean(per_class))
    assert "2 of 3 classes" in result.notes["roc_auc"] and "'c'" in result.notes["roc_auc"]


def test_labels_only_classifiers_get_the_label_metrics() -> None:
    result = evaluate("binary", [0, 1, 1, 0], [0, 1, 0, 0], None, [0, 1])
    assert set(result.metrics) == {"accuracy", "balanced_accuracy", "f1", "precision", "recall"}
    assert result.omitted["log_loss"].startswith("needs predicted probabilities")
    assert "roc" not in result.curves


def test_one_probability_column_is_read_as_the_positive_class() -> None:
    truth, score = [0, 1, 1, 0, 1], np.array([0.2, 0.9, 0.6, 0.4, 0.3])
    one = evaluate("binary", truth, None, score, [0, 1])
    two = evaluate("binary", truth, None, np.column_stack([1 - score, score]), [0, 1])
    assert one.metrics == two.metrics and one.metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(truth, score)
    )


def test_default_metrics_fit_their_task() -> None:
    for task in ("binary", "multiclass", "regression"):
        assert task in METRICS[default_metric(task)].tasks


@pytest.mark.parametrize(
    ("task", "y_true", "y_pred", "y_proba", "classes", "error", "match"),
    [
        ("binary", [0, 1, 1], [0, 1], None, [0, 1], EvaluationError, "3 rows but the predictions has 2"),
        ("binary", [0, 1], None, [[0.5, 0.5]], [0, 1], EvaluationError, "2 rows but the probabilities has 1"),
        ("ranking", [0, 1], [0, 1], None, [0, 1], EvaluationError, "Task 'ranking' is not one of"),
        ("binary", [0, 1, 2], [0, 1, 2], None, [0, 1, 2], EvaluationError, "exactly two classes, got 3"),
        ("binary", [0, 1, 7], [0, 1, 1], None, [0, 1], EvaluationError, "contain '7', which is not one of"),
        ("binary", [0, 1], None, [[0.1, 0.2, 0.7]] * 2, [0, 1], EvaluationError, "one column per class"),
        (
            "multiclass",
            [0, 1],
            None,
            [[0.5, np.nan, 0.5]] * 2,
            [0, 1, 2],
            EvaluationError,
            "missing or infinite",
        ),
        ("binary", [0, 1], None, None, [0, 1], EvaluationError, "labels, the probabilities, or both"),
        ("binary", [0, 1], [0, 1], None, None, EvaluationError, "needs the class labels"),
        ("binary", [0, 1], [0, 1], None, ["a", "a"], EvaluationError, "must be distinct"),
        ("regression", [1.0, np.nan], [1.0, 2.0], None, None, EvaluationError, "missing or infinite values"),
        ("regression", ["a", "b"], [1.0, 2.0], None, None, EvaluationError, "must be numbers"),
        ("regression", [], [], None, None, EvaluationError, "no rows to evaluate"),
        ("regression", [1.0], None, None, None, EvaluationError, "needs the predicted values"),
        ("regression", [[1.0, 2.0], [3.0, 4.0]], [1, 2], None, None, EvaluationError, "one value per row"),
    ],
)
def test_bad_inputs_are_refused_with_a_clear_message(
    task: Any, y_true: Any, y_pred: Any, y_proba: Any, classes: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        evaluate(task, y_true, y_pred, y_proba, classes)


@pytest.mark.parametrize(
    ("metric", "task", "match"),
    [
        ("auc", "binary", "Unknown metric 'auc'.*Metrics for a binary task: roc_auc"),
        ("rmse", "binary", r"RMSE \('rmse'\) does not apply to a binary task"),
        ("roc_auc", "regression", "does not apply to a regression task; pick one of: rmse"),
        ("R2", "regression", "did you mean 'r2'"),
    ],
)
def test_score_for_search_refuses_unknown_or_misplaced_metrics(metric: str, task: Any, match: str) -> None:
    with pytest.raises(UnknownMetricError, match=match):
        score_for_search(metric, task, [0, 1], [0, 1], None, [0, 1])


def test_losses_are_negated_for_the_search() -> None:
    truth, predicted = [1.0, 2.0, 3.0], [1.5, 2.0, 2.0]
    assert score_for_search("rmse", "regression", truth, predicted) == pytest.approx(
        -skm.root_mean_squared_error(truth, predicted)
    )
    assert score_for_search("r2", "regression", truth, predicted) == pytest.approx(
        skm.r2_score(truth, predicted)
    )
