"""The hyper-parameter search: Optuna's TPE sampler under a wall-clock budget.

Why Optuna rather than FLAML: define-by-run search spaces keep each algorithm's space next to its
defaults (``algorithms.py``), ``enqueue_trial`` warm-starts every algorithm with known-good settings,
per-fold intermediate scores feed its median pruner, and the ask-and-tell interface lets this module
decide before each trial whether it can still finish within the budget. FLAML is the benchmark peer.

How a search runs (:func:`run_search`):

1. The spec is checked (algorithms, metric, columns) and :func:`check_training_data` must report no
   blocking error. Rows without a target (and, for a time split, without a time) are left out.
2. A holdout is set aside: a stratified random ``holdout_fraction`` of the rows for K-fold validation,
   the latest ``holdout_fraction`` by time for time-based validation.
3. Trials run one after the other on the rest: each algorithm's defaults first, then TPE proposals.
   Each trial is scored by K-fold cross-validation (stratified for classifiers), or for time-based
   validation by expanding-window folds over the rows sorted by time (every fold trains on the past
   and validates on the following slice). Before launching a trial the search estimates its cost from
   earlier fits and skips it when it would not end in time; it keeps time aside for the final refits.
4. The best trial is refitted on the training part and evaluated on the holdout, then refitted on
   every row (training part and holdout): that last fit is the returned model.
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

from modelworks.engine.automl.algorithms import (
    ALGORITHMS,
    AlgorithmInfo,
    SearchContext,
    default_n_jobs,
    get_algorithm,
)
from modelworks.engine.automl.checks import check_training_data
from modelworks.engine.automl.errors import (
    AllTrialsFailedError,
    ColumnNotFoundError,
    TrainingCancelled,
    TrainingDataError,
    UnknownMetricError,
)
from modelworks.engine.automl.features import column_kind
from modelworks.engine.automl.pipeline import build_pipeline
from modelworks.engine.automl.types import SearchResult, TrainingSpec, TrialResult, TrialStatus
from modelworks.engine.errors import did_you_mean

if TYPE_CHECKING:
    import optuna

    from modelworks.engine.automl.evaluation import Evaluation

__all__ = ["Split", "run_search", "split_rows"]

#: Seconds always kept for the final refits, on top of the estimate from the best trial's fits.
FINAL_MARGIN_S = 0.3
#: Estimates are multiplied by this before being compared to the time left.
SAFETY = 1.3
#: The order in which each algorithm's defaults are tried.
WARM_START_ORDER = ("linear", "lightgbm", "xgboost", "random_forest")
#: Consecutive proposals skipped for lack of time before the search stops.
MAX_SKIPS = 3


@dataclass(frozen=True)
class Split:
    """Row positions of the prepared table: the training part, its folds and the holdout."""

    train: np.ndarray[Any, np.dtype[np.intp]]
    holdout: np.ndarray[Any, np.dtype[np.intp]]
    #: (fit, validate) positions, both inside ``train`` (positions in the whole table).
    folds: tuple[tuple[np.ndarray[Any, np.dtype[np.intp]], np.ndarray[Any, np.dtype[np.intp]]], ...]


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


def _prepare_rows(
    df: pd.DataFrame, spec: TrainingSpec
) -> tuple[pd.DataFrame, np.ndarray[Any, Any], pd.Series | None]:
    """The feature columns, the target and (time split) the parsed times, for rows that can be used."""
    keep = df[spec.target].notna()
    times: pd.Series | None = None
    time_column = spec.validation.time_column if spec.validation.kind == "time" else None
    if time_column is not None:
        times = _parse_times(df[time_column])
        keep &= times.notna()
    used = [f.column for f in spec.used_features]
    X = df.loc[keep, used].reset_index(drop=True)
    target = df.loc[keep, spec.target].reset_index(drop=True)
    if spec.task == "regression":
        y = pd.to_numeric(target, errors="coerce").astype("float64").to_numpy()
    elif column_kind(target) == "string":
        y = target.astype(str).to_numpy(dtype=object)
    else:
        y = target.to_numpy()
    if times is not None:
        times = times[keep].reset_index(drop=True)
    return X, y, times


def _parse_times(series: pd.Series) -> pd.Series:
    kind = column_kind(series)
    if kind == "datetime":
        return series
    if kind == "number":
        return pd.to_numeric(series, errors="coerce")
    return pd.to_datetime(
        series.astype(object).where(series.notna(), None), errors="coerce", format="ISO8601", utc=True
    )


def split_rows(y: np.ndarray[Any, Any], spec: TrainingSpec, times: pd.Series | None = None) -> Split:
    """Cut the rows into a training part (with its validation folds) and a holdout.

    Args:
        y: The target of every usable row.
        spec: Gives the task, the validation and the seed.
        times: For time-based validation: the time of each row.

    Returns:
        Positions into ``y``: see :class:`Split`.
    """
    from sklearn.model_selection import (  # type: ignore[import-untyped]
        KFold,
        StratifiedKFold,
        TimeSeriesSplit,
        train_test_split,
    )

    n = len(y)
    validation = spec.validation
    positions = np.arange(n)
    holdout_size = math.floor(n * validation.holdout_fraction)
    classify = spec.task != "regression"
    if validation.kind == "time":
        assert times is not None
        order = np.argsort(times.to_numpy(), kind="stable")
        train, holdout = order[: n - holdout_size], order[n - holdout_size :]
        splits = min(validation.folds, max(2, len(train) // 4))
        folds = tuple(
            (train[fit], train[check]) for fit, check in TimeSeriesSplit(n_splits=splits).split(train)
        )
        return Split(train=train, holdout=holdout, folds=folds)
    labels = np.asarray([str(v) for v in y]) if classify else None
    if holdout_size > 0:
        stratify = labels if labels is not None and _min_count(labels) >= 2 else None
        train, holdout = train_test_split(
            positions, test_size=holdout_size, random_state=spec.seed, shuffle=True, stratify=stratify
        )
        train, holdout = np.sort(train), np.sort(holdout)
    else:
        train, holdout = positions, positions[:0]
    if classify:
        assert labels is not None
        splits = max(2, min(validation.folds, _min_count(labels[train])))
        splitter: Any = StratifiedKFold(n_splits=splits, shuffle=True, random_state=spec.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pairs = list(splitter.split(train, labels[train]))
    else:
        splitter = KFold(n_splits=min(validation.folds, len(train)), shuffle=True, random_state=spec.seed)
        pairs = list(splitter.split(train))
    folds = tuple((train[fit], train[check]) for fit, check in pairs)
    return Split(train=train, holdout=holdout, folds=folds)


def _min_count(labels: np.ndarray[Any, Any]) -> int:
    _, counts = np.unique(labels, return_counts=True)
    return int(counts.min()) if len(counts) else 0


def _check_spec(df: pd.DataFrame, spec: TrainingSpec) -> None:
    from modelworks.engine.automl.evaluation import METRICS

    for algorithm in spec.algorithms:
        get_algorithm(algorithm, spec.task)
    info = METRICS.get(spec.metric)
    if info is None:
        raise UnknownMetricError(
            f"Unknown metric {spec.metric!r}{did_you_mean(spec.metric, METRICS) or '.'} "
            f"Metrics for {spec.task}: {', '.join(m for m, i in METRICS.items() if spec.task in i.tasks)}.",
            metric=spec.metric,
        )
    if spec.task not in info.tasks:
        raise UnknownMetricError(
            f"{info.label} does not measure a {spec.task} model; pick one of "
            f"{', '.join(m for m, i in METRICS.items() if spec.task in i.tasks)}.",
            metric=spec.metric,
        )
    columns = [str(c) for c in df.columns]
    roles: list[tuple[str, str | None]] = [
        ("target", spec.target),
        ("time column", spec.validation.time_column),
    ]
    roles += [("feature", f.column) for f in spec.used_features]
    for role, name in roles:
        if name is not None and name not in columns:
            raise ColumnNotFoundError(
                f"The {role} {name!r} is not a column of the table{did_you_mean(name, columns)}",
                column=name,
            )


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


def run_search(
    df: pd.DataFrame,
    spec: TrainingSpec,
    *,
    on_trial: Callable[[TrialResult], None] | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> SearchResult:
    """Search the algorithms and their hyper-parameters for the best model within the time budget.

    Args:
        df: The training table (the target and the feature columns; other columns are ignored).
        spec: What to train: task, target, features, algorithms, budget, validation, metric, seed.
        on_trial: Called after every trial (complete, failed or pruned), e.g. to log it as a run.
        progress: Called with (fraction done 0…1, a sentence for the user).
        cancelled: Polled between folds; when it returns ``True`` the search stops.

    Returns:
        The :class:`SearchResult`. ``model`` is the best candidate refitted on EVERY usable row
        (training part and holdout); ``holdout`` evaluates the same candidate fitted on the training
        part only, so it is an honest (slightly pessimistic) estimate of the returned model. Same data,
        same spec and the same number of trials (``max_trials`` with a generous budget) give the same
        trials and the same model.

    Raises:
        InvalidSpecError: An unknown algorithm or metric, or a column that is not in ``df``.
        TrainingDataError: :func:`check_training_data` found a blocking problem
            (``details["warnings"]`` lists them).
        AllTrialsFailedError: No trial finished (each failed, or the budget was too small).
        TrainingCancelled: ``cancelled()`` returned ``True``.
    """
    import optuna

    started = time.monotonic()
    deadline = started + float(spec.time_budget_s)
    _check_spec(df, spec)
    blocking = [w for w in check_training_data(df, spec) if w.blocking]
    if blocking:
        more = f" ({len(blocking) - 1} more problem(s) listed below.)" if len(blocking) > 1 else ""
        raise TrainingDataError(
            f"{blocking[0].message} {blocking[0].hint}{more}",
            warnings=[w.to_dict() for w in blocking],
        )
    X, y, times = _prepare_rows(df, spec)
    split = split_rows(y, spec, times)
    search = _Search(spec, X, y, split, deadline, on_trial, progress, cancelled)
    search.report(0.0, f"Searching {len(spec.algorithms)} algorithm(s) on {len(split.train)} rows")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=spec.seed, n_startup_trials=max(4, len(spec.algorithms))),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=max(4, len(spec.algorithms)), n_warmup_steps=1),
    )
    algorithms = list(dict.fromkeys(spec.algorithms))
    # Cheapest and most often best first, so a short budget still compares the strong candidates.
    for name in sorted(algorithms, key=WARM_START_ORDER.index):
        defaults = {f"{name}.{key}": value for key, value in ALGORITHMS[name].defaults.items()}
        study.enqueue_trial({"algorithm": name, **defaults}, skip_if_exists=False)

    skips = 0
    while True:
        search.check_cancelled()
        if spec.max_trials is not None and len(search.trials) >= spec.max_trials:
            break
        available = search.left() - search.reserve()
        if available <= 0 and search.trials_complete():
            break
        if available <= 0 and search.left() <= 0:
            break
        trial = study.ask()
        name = trial.suggest_categorical("algorithm", algorithms)
        info = ALGORITHMS[name]
        params = info.space(trial, search.context)
        fit_s = search.costs.fit_seconds(info, params)
        if fit_s is not None and search.trials_complete():
            expected = fit_s * len(split.folds) * SAFETY
            if expected > available:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                skips += 1
                if skips >= MAX_SKIPS:
                    break
                continue
        skips = 0
        result = search.run_trial(trial, info, params, len(search.trials))
        if result.status == "complete":
            study.tell(trial, result.score)
            best = max(
                (t for t in search.trials if t.status == "complete"), key=lambda t: t.score, default=None
            )
            if best is None or result.score > best.score:
                search.best_fit_s = search.costs.fit_seconds(info, params) or 0.0
        elif result.status == "pruned":
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        search.trials.append(result)
        if on_trial is not None:
            on_trial(result)
        search.report(search.elapsed_fraction(), _trial_sentence(result, search))

    return _finish(search, df, started)


def _trial_sentence(result: TrialResult, search: _Search) -> str:
    label = ALGORITHMS[result.algorithm].label
    if result.status == "complete":
        value = result.score if search.metric.greater_is_better else -result.score
        return f"Trial {result.number + 1}: {label} scored {search.metric.label} {value:.4f}"
    if result.status == "pruned":
        return f"Trial {result.number + 1}: {label} {result.error}"
    return f"Trial {result.number + 1}: {label} failed ({result.error})"


def _finish(search: _Search, df: pd.DataFrame, started: float) -> SearchResult:
    spec = search.spec
    complete = [t for t in search.trials if t.status == "complete"]
    if not complete:
        if not search.trials:
            raise AllTrialsFailedError(
                f"The time budget of {spec.time_budget_s:g} s ended before the first model was trained. "
                "Give the search more time.",
                trials=0,
            )
        first_error = next((t.error for t in search.trials if t.error), "no reason given")
        raise AllTrialsFailedError(
            f"None of the {len(search.trials)} candidate models could be trained; the first error was: "
            f"{first_error}. Check the feature handling of the columns named in the error, or try another "
            "algorithm.",
            trials=len(search.trials),
            errors=[t.error for t in search.trials],
        )
    # Ties go to the earlier trial: defaults come first and are the simplest.
    best = max(complete, key=lambda t: (t.score, -t.number))
    info = ALGORITHMS[best.algorithm]
    split = search.split
    holdout: Evaluation | None = None
    if len(split.holdout):
        search.report(0.96, "Checking the best model on the holdout rows")
        model = search.fit(info, best.params, split.train)
        holdout = search.evaluate(split.holdout, *search.predict(model, split.holdout))
    search.report(0.98, "Training the best model on every row")
    rows = np.arange(len(search.y))
    model = search.fit(info, best.params, rows)
    classes = None if search.classes is None else tuple(str(c) for c in model.classes_)
    search.report(1.0, "Done")
    return SearchResult(
        spec=spec,
        trials=tuple(search.trials),
        best=best,
        model=model,
        holdout=holdout,
        classes=classes,
        duration_s=time.monotonic() - started,
    )
