"""run_search on real data with real estimators: budgets, folds, time splits, failures, cancellation."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from training_tables import breast_cancer, penguins, time_series, wine

from modelworks.engine.automl.errors import (
    AllTrialsFailedError,
    ColumnNotFoundError,
    InvalidSpecError,
    TrainingCancelled,
    TrainingDataError,
    UnknownAlgorithmError,
    UnknownMetricError,
)
from modelworks.engine.automl.features import propose_features
from modelworks.engine.automl.search import _parse_times, run_search, split_rows
from modelworks.engine.automl.types import FeatureHandling, Task, TrainingSpec, TrialResult, Validation


def make_spec(frame: pd.DataFrame, column: str, task: Task | None = None, **changes: Any) -> TrainingSpec:
    inferred, features = propose_features(frame, column, task, time_column=changes.pop("time_column", None))
    values: dict[str, Any] = {
        "task": inferred,
        "target": column,
        "features": features,
        "algorithms": ("linear", "lightgbm"),
        "time_budget_s": 60.0,
        "metric": {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}[inferred],
        "validation": Validation(folds=3),
    }
    values.update(changes)
    return TrainingSpec(**values)


def test_binary_search_respects_the_budget_and_reports_every_trial() -> None:
    frame = breast_cancer()
    budget = 5.0
    spec = make_spec(
        frame, "target", algorithms=("linear", "lightgbm", "xgboost", "random_forest"), time_budget_s=budget
    )
    seen: list[TrialResult] = []
    progress: list[tuple[float, str]] = []
    started = time.monotonic()
    result = run_search(frame, spec, on_trial=seen.append, progress=lambda f, m: progress.append((f, m)))
    elapsed = time.monotonic() - started

    # Slack for a loaded CI machine: the search stops launching work it cannot finish in time, but a
    # fit already running on a starved core cannot be interrupted.
    assert elapsed <= budget + 2.5, f"a {budget} s budget took {elapsed:.1f} s"
    assert result.duration_s <= elapsed
    assert list(result.trials) == seen and len(seen) >= 2
    assert [t.number for t in seen] == list(range(len(seen)))
    complete = [t for t in seen if t.status == "complete"]
    assert result.best in complete
    assert result.best.score == max(t.score for t in complete)
    assert result.best.scores["roc_auc"] == pytest.approx(result.best.score)
    assert {"accuracy", "log_loss", "f1", "pr_auc"} <= set(result.best.scores)
    # Each algorithm's defaults come first (cheapest first).
    assert [t.algorithm for t in seen[:2]] == ["linear", "lightgbm"]
    assert result.holdout is not None and result.holdout.rows == 113
    assert result.holdout.metrics["roc_auc"] > 0.95
    assert result.classes == ("benign", "malignant")
    assert set(result.model.predict(frame.head(20))) <= {"benign", "malignant"}
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and progress[-1][1] == "Done"
    assert any("scored ROC AUC" in m for _, m in progress)
    as_json = result.to_dict()
    assert as_json["best"]["algorithm"] == result.best.algorithm and "model" not in as_json


def test_multiclass_with_string_labels_and_nulls() -> None:
    frame = penguins()
    spec = make_spec(frame, "species", algorithms=("xgboost", "random_forest"), max_trials=2)
    result = run_search(frame, spec)
    assert len(result.trials) == 2
    assert result.classes == ("Adelie", "Chinstrap", "Gentoo")
    assert result.holdout is not None and result.holdout.metrics["accuracy"] > 0.9
    assert result.model.predict_proba(frame.head(3)).shape == (3, 3)


def test_same_seed_same_trials_other_seed_other_proposals() -> None:
    frame = wine()

    def trials(seed: int) -> list[tuple[str, dict[str, Any], float]]:
        spec = make_spec(frame, "target", max_trials=4, seed=seed)
        return [(t.algorithm, t.params, round(t.score, 10)) for t in run_search(frame, spec).trials]

    first, again, other = trials(1), trials(1), trials(2)
    assert first == again
    params = [(algorithm, p) for algorithm, p, _ in first]
    other_params = [(algorithm, p) for algorithm, p, _ in other]
    assert params[:2] == other_params[:2]  # the defaults (scored on other folds: the seed cuts them)
    assert params[2:] != other_params[2:]  # TPE's proposals follow the seed


def test_time_split_never_trains_on_the_future() -> None:
    frame = time_series()
    spec = make_spec(
        frame,
        "sales",
        time_column="when",
        validation=Validation("time", folds=4, time_column="when", holdout_fraction=0.2),
        time_budget_s=4.0,
    )
    times = _parse_times(frame["when"])
    split = split_rows(frame["sales"].to_numpy(), spec, times)
    moments = times.to_numpy()
    assert len(split.holdout) == 80
    assert moments[split.holdout].min() > moments[split.train].max()
    sizes = []
    for fit, check in split.folds:
        assert moments[fit].max() < moments[check].min()
        sizes.append(len(fit))
    assert len(sizes) == 4 and sizes == sorted(sizes)

    result = run_search(frame, spec)
    assert result.holdout is not None and result.holdout.rows == 80
    assert result.holdout.metrics["r2"] > 0.5
    assert result.classes is None


def test_kfold_holdout_is_stratified() -> None:
    frame = breast_cancer()
    spec = make_spec(frame, "target")
    y = frame["target"].to_numpy()
    split = split_rows(y, spec)
    share = (y[split.holdout] == "malignant").mean()
    assert abs(share - (y == "malignant").mean()) < 0.01
    assert not set(split.holdout) & set(split.train)
    assert len(split.folds) == 3


def test_a_failing_candidate_is_recorded_not_fatal() -> None:
    frame = breast_cancer()
    frame["huge"] = np.random.default_rng(0).normal(size=len(frame)) * 1e300  # overflows when scaled
    spec = make_spec(frame, "target", max_trials=2)
    result = run_search(frame, spec)
    linear, lightgbm = result.trials
    assert linear.status == "failed" and linear.error == "ValueError: Input X contains NaN."
    assert math.isinf(linear.score)
    assert lightgbm.status == "complete" and result.best == lightgbm

    with pytest.raises(
        AllTrialsFailedError,
        match=r"None of the 2 candidate models could be trained; the first error was: ValueError: Input X contains NaN\.",
    ):
        run_search(frame, make_spec(frame, "target", algorithms=("linear",), max_trials=2))


def test_cancel_stops_the_search() -> None:
    frame = wine()
    polls = iter(range(100))
    with pytest.raises(TrainingCancelled, match="cancelled after 1 trials"):
        run_search(frame, make_spec(frame, "target"), cancelled=lambda: next(polls) > 3)


def _bad(
    change: Callable[[pd.DataFrame], tuple[pd.DataFrame, TrainingSpec]],
) -> Callable[[], tuple[pd.DataFrame, TrainingSpec]]:
    return lambda: change(penguins())


def _with(frame: pd.DataFrame, **changes: Any) -> tuple[pd.DataFrame, TrainingSpec]:
    return frame, make_spec(penguins(), "species", **changes)


def _target_all_null(frame: pd.DataFrame) -> tuple[pd.DataFrame, TrainingSpec]:
    frame["species"] = None
    return _with(frame)


def _single_class(frame: pd.DataFrame) -> tuple[pd.DataFrame, TrainingSpec]:
    frame["species"] = "Gentoo"
    return _with(frame)


@pytest.mark.parametrize(
    ("case", "error", "match"),
    [
        (
            _bad(lambda f: _with(f, target="Species")),
            ColumnNotFoundError,
            "target 'Species' is not a column of the table; did you mean 'species'",
        ),
        (_bad(_target_all_null), TrainingDataError, "target 'species' is empty"),
        (_bad(_single_class), TrainingDataError, "single class \\('Gentoo'\\).*Add rows"),
        (
            _bad(lambda f: _with(f, algorithms=("lightgbm", "catbust"))),
            UnknownAlgorithmError,
            "Unknown algorithm 'catbust'",
        ),
        (_bad(lambda f: _with(f, metric="auc")), UnknownMetricError, "Unknown metric 'auc'"),
        (
            _bad(lambda f: _with(f, metric="rmse")),
            UnknownMetricError,
            "RMSE does not measure a multiclass model",
        ),
        (
            _bad(lambda f: _with(f, validation=Validation("time", time_column="date"))),
            ColumnNotFoundError,
            "time column 'date' is not a column",
        ),
        (
            _bad(lambda f: (f.drop(columns=["island"]), make_spec(penguins(), "species"))),
            ColumnNotFoundError,
            "feature 'island' is not a column",
        ),
        (
            _bad(lambda f: _with(f, features=(FeatureHandling("island", "drop"),))),
            TrainingDataError,
            "No column is left to learn from",
        ),
    ],
)
def test_bad_inputs(
    case: Callable[[], tuple[pd.DataFrame, TrainingSpec]], error: type[Exception], match: str
) -> None:
    frame, spec = case()
    with pytest.raises(error, match=match):
        run_search(frame, spec)


@pytest.mark.parametrize("budget", [0, -1.0])
def test_budget_must_be_positive(budget: float) -> None:
    with pytest.raises(InvalidSpecError, match="time budget must be a positive number of seconds"):
        make_spec(penguins(), "species", time_budget_s=budget)
