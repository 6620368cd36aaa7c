""":func:`run_search`, the entry point: checks the spec, splits the rows, warm-starts every algorithm
with its defaults (``WARM_START_ORDER``), then asks TPE for proposals until the budget, a cancel or
``MAX_SKIPS`` skips in a row ends the search, and returns the refitted best model as a
:class:`SearchResult`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from modelworks.engine.automl.algorithms import ALGORITHMS, get_algorithm
from modelworks.engine.automl.checks import check_training_data
from modelworks.engine.automl.errors import (
    AllTrialsFailedError,
    ColumnNotFoundError,
    TrainingDataError,
    UnknownMetricError,
)
from modelworks.engine.automl.search.splits import _prepare_rows, split_rows
from modelworks.engine.automl.search.trials import SAFETY, _Search
from modelworks.engine.automl.types import SearchResult, TrainingSpec, TrialResult
from modelworks.engine.errors import did_you_mean

if TYPE_CHECKING:
    from modelworks.engine.automl.evaluation import Evaluation


#: The order in which each algorithm's defaults are tried.
WARM_START_ORDER = ("linear", "lightgbm", "xgboost", "random_forest")
#: Consecutive proposals skipped for lack of time before the search stops.
MAX_SKIPS = 3


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
