"""The running search: :class:`_Search` holds the Optuna study, runs and scores one trial by
cross-validation, estimates each trial's cost from earlier fits (``SAFETY``, ``FINAL_MARGIN_S``) so
that it is skipped when it cannot end within the budget, and refits the best one.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from modelworks.engine.automl.algorithms import AlgorithmInfo, SearchContext, default_n_jobs
from modelworks.engine.automl.errors import TrainingCancelled
from modelworks.engine.automl.pipeline import build_pipeline
from modelworks.engine.automl.search.splits import Split
from modelworks.engine.automl.types import TrainingSpec, TrialResult, TrialStatus

if TYPE_CHECKING:
    import optuna

    from modelworks.engine.automl.evaluation import Evaluation


#: Seconds always kept for the final refits, on top of the estimate from the best trial's fits.
FINAL_MARGIN_S = 0.3
#: Estimates are multiplied by this before being compared to the time left.
SAFETY = 1.3


@dataclass
class _Costs:
    """Observed fit times, to predict the next ones."""

    per_unit: dict[str, list[float]] = field(default_factory=dict)

    def record(self, info: AlgorithmInfo, params: dict[str, Any], seconds: float) -> None:
        self.per_unit.setdefault(info.name, []).append(seconds / _size(info, params))

    def fit_seconds(self, info: AlgorithmInfo, params: dict[str, Any]) -> float | None:
        seen = self.per_unit.get(info.name)
        if not seen:
            return None
        return float(np.median(seen[-8:])) * _size(info, params)


def _size(info: AlgorithmInfo, params: dict[str, Any]) -> float:
    if info.size_param is None:
        return 1.0
    return max(1.0, float(params.get(info.size_param, 100)))


class _Search:
    """The state of one running search (kept out of ``run_search`` to keep each step readable)."""

    def __init__(
        self,
        spec: TrainingSpec,
        X: pd.DataFrame,
        y: np.ndarray[Any, Any],
        split: Split,
        deadline: float,
        on_trial: Callable[[TrialResult], None] | None,
        progress: Callable[[float, str], None] | None,
        cancelled: Callable[[], bool] | None,
    ) -> None:
        from modelworks.engine.automl.evaluation import METRICS

        self.spec = spec
        self.X = X
        self.y = y
        self.split = split
        self.deadline = deadline
        self.start = time.monotonic()
        self.on_trial = on_trial
        self.progress = progress
        self.cancelled = cancelled
        self.metric = METRICS[spec.metric]
        self.costs = _Costs()
        self.trials: list[TrialResult] = []
        self.best_fit_s: float = 0.0
        self.classes: list[Any] | None = (
            None if spec.task == "regression" else sorted(set(y.tolist()), key=lambda v: (str(type(v)), v))
        )
        counts = pd.Series([str(v) for v in y]).value_counts() if self.classes is not None else None
        self.context = SearchContext(
            task=spec.task,
            n_rows=len(split.train),
            n_classes=0 if counts is None else len(counts),
            imbalance=1.0 if counts is None else float(counts.max() / counts.min()),
        )
        fold_rows = np.mean([len(fit) for fit, _ in split.folds]) if split.folds else 1.0
        # A refit on every row costs about this many times a fold's fit.
        self.refit_ratio = len(y) / max(1.0, float(fold_rows))
        # One thread per fit on small tables, for the estimator and for BLAS/OpenMP underneath: on a
        # busy 2-core machine spinning threads made a 20 ms logistic regression take 300 ms.
        self.n_jobs = default_n_jobs(len(y))

    # --- time -------------------------------------------------------------------------------------

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def reserve(self) -> float:
        """Seconds to keep for the final refits (training part, then every row)."""
        refits = 2 if len(self.split.holdout) else 1
        return self.best_fit_s * self.refit_ratio * refits * SAFETY + FINAL_MARGIN_S

    def check_cancelled(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise TrainingCancelled(
                f"Training was cancelled after {len(self.trials)} trials; nothing was saved.",
                trials=len(self.trials),
            )

    def report(self, fraction: float, message: str) -> None:
        if self.progress is not None:
            self.progress(min(1.0, max(0.0, fraction)), message)

    def elapsed_fraction(self) -> float:
        total = self.deadline - self.start
        return 0.95 * (time.monotonic() - self.start) / total if total > 0 else 0.95

    # --- one trial --------------------------------------------------------------------------------

    def fit(self, info: AlgorithmInfo, params: dict[str, Any], rows: np.ndarray[Any, Any]) -> Any:
        pipeline = build_pipeline(
            self.spec.features, info.name, params, self.spec.task, seed=self.spec.seed, n_jobs=self.n_jobs
        )
        with warnings.catch_warnings(), threadpool_limits(limits=self.n_jobs):
            warnings.simplefilter("ignore")
            pipeline.fit(self.X.iloc[rows], self.y[rows])
        return pipeline

    def predict(self, pipeline: Any, rows: np.ndarray[Any, Any]) -> tuple[Any, np.ndarray[Any, Any] | None]:
        """Predicted values and (classifiers) probabilities with one column per class of the task."""
        X = self.X.iloc[rows]
        with warnings.catch_warnings(), threadpool_limits(limits=self.n_jobs):
            warnings.simplefilter("ignore")
            predicted = np.asarray(pipeline.predict(X))
            if self.classes is None:
                return predicted, None
            fitted = np.asarray(pipeline.predict_proba(X), dtype=np.float64)
        # A fold may miss a rare class: its column stays at probability 0.
        proba = np.zeros((len(rows), len(self.classes)))
        known = {str(c): i for i, c in enumerate(self.classes)}
        for column, label in enumerate(pipeline.classes_):
            proba[:, known[str(label)]] = fitted[:, column]
        # float32 probabilities (XGBoost) sum to 1 only within float32 precision.
        totals = proba.sum(axis=1, keepdims=True)
        proba = np.divide(proba, totals, out=np.full_like(proba, 1.0 / proba.shape[1]), where=totals > 0)
        return predicted, proba

    def evaluate(
        self, rows: np.ndarray[Any, Any], predicted: Any, proba: np.ndarray[Any, Any] | None
    ) -> Evaluation:
        from modelworks.engine.automl.evaluation import evaluate

        classes = None if self.classes is None else [str(c) for c in self.classes]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return evaluate(self.spec.task, self.y[rows], predicted, proba, classes)

    def fold_score(
        self, rows: np.ndarray[Any, Any], predicted: Any, proba: np.ndarray[Any, Any] | None
    ) -> float | None:
        """The optimised metric on one fold, higher is better; ``None`` when it cannot be computed."""
        from modelworks.engine.automl.evaluation import MetricUnavailableError, score_for_search

        classes = None if self.classes is None else [str(c) for c in self.classes]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = score_for_search(
                    self.spec.metric, self.spec.task, self.y[rows], predicted, proba, classes
                )
        except MetricUnavailableError:
            return None
        return value if math.isfinite(value) else None

    def run_trial(
        self, trial: optuna.Trial, info: AlgorithmInfo, params: dict[str, Any], number: int
    ) -> TrialResult:
        """Fit and score one candidate on every fold.

        Per-fold scores of the optimised metric feed the pruner; the trial's ``scores`` (and its
        ``score``) are computed once on the out-of-fold predictions pooled over the folds, which costs
        one evaluation per trial instead of one per fold.
        """
        started = time.monotonic()
        fold_scores: list[float] = []
        pooled_rows: list[np.ndarray[Any, Any]] = []
        pooled_predicted: list[Any] = []
        pooled_proba: list[np.ndarray[Any, Any]] = []
        status: TrialStatus = "complete"
        error: str | None = None
        for index, (fit_rows, check_rows) in enumerate(self.split.folds):
            self.check_cancelled()
            if self.classes is not None and len({str(v) for v in self.y[fit_rows]}) < 2:
                continue  # an early time slice with one class cannot train a classifier
            if index and self.trials_complete():
                expected = (time.monotonic() - started) / index
                if time.monotonic() + expected * SAFETY > self.deadline - self.reserve():
                    status, error = "pruned", "stopped: the time budget ran out"
                    break
            fit_started = time.monotonic()
            try:
                pipeline = self.fit(info, params, fit_rows)
                self.costs.record(info, params, time.monotonic() - fit_started)
                predicted, proba = self.predict(pipeline, check_rows)
            except Exception as exc:  # any estimator failure fails this trial only (recorded, not fatal)
                # The first line says what went wrong; the rest is the library's advice to programmers.
                first_line = (str(exc).strip().splitlines() or [""])[0]
                status, error = "failed", f"{type(exc).__name__}: {first_line}"[:300]
                break
            pooled_rows.append(check_rows)
            pooled_predicted.append(predicted)
            if proba is not None:
                pooled_proba.append(proba)
            value = self.fold_score(check_rows, predicted, proba)
            if value is not None:
                fold_scores.append(value)
                trial.report(float(np.mean(fold_scores)), index)
                if trial.should_prune():
                    status, error = "pruned", "stopped early: clearly worse than the trials before it"
                    break
        scores: dict[str, float] = {}
        score = -math.inf
        if status == "complete":
            if not pooled_rows:
                status, error = "failed", "no validation fold could be used (each had a single class)"
            else:
                rows = np.concatenate(pooled_rows)
                evaluation = self.evaluate(
                    rows,
                    np.concatenate(pooled_predicted),
                    np.concatenate(pooled_proba) if pooled_proba else None,
                )
                scores = {k: float(v) for k, v in evaluation.metrics.items()}
                value = scores.get(self.spec.metric)
                if value is None or not math.isfinite(value):
                    reason = evaluation.omitted.get(self.spec.metric, "no value")
                    status, error = "failed", f"{self.metric.label} could not be computed: {reason}"
                else:
                    score = value if self.metric.greater_is_better else -value
        return TrialResult(
            number=number,
            algorithm=info.name,
            params=_json_params(params),
            scores=scores,
            score=score,
            duration_s=round(time.monotonic() - started, 4),
            status=status,
            error=error,
        )

    def trials_complete(self) -> bool:
        return any(t.status == "complete" for t in self.trials)


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, np.generic):
            value = value.item()
        clean[key] = value
    return clean
