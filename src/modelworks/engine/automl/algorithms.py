"""The algorithms the Lab tries: defaults that are good first guesses, and Optuna search spaces.

Each :class:`AlgorithmInfo` says which tasks it serves, its known-good defaults (tried first, before
any tuned candidate) and a define-by-run search space. Class imbalance is a searched choice (``class
weight: balanced`` or, for XGBoost on two classes, ``scale_pos_weight``) rather than always on:
re-weighting helps recall on the rare class but can hurt probability quality (log loss), and the
metric decides.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from modelworks.engine.automl.errors import UnknownAlgorithmError
from modelworks.engine.automl.types import Task
from modelworks.engine.errors import did_you_mean

if TYPE_CHECKING:
    import optuna

__all__ = [
    "ALGORITHMS",
    "AlgorithmInfo",
    "SearchContext",
    "default_n_jobs",
    "get_algorithm",
]


#: Below this many rows a fit uses one thread: thread start-up and, on a busy machine, OpenMP's
#: spinning threads cost more than they save (LightGBM was 10-20 times slower with 2 threads on 2 shared
#: cores for a few hundred rows).
SINGLE_THREAD_ROWS = 50_000


def default_n_jobs(n_rows: int | None = None) -> int:
    """Threads for one model fit: 1 for small tables, else the usable cores (at most 4)."""
    if n_rows is not None and n_rows < SINGLE_THREAD_ROWS:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


@dataclass(frozen=True)
class SearchContext:
    """Facts about the training rows that shape a search space."""

    task: Task
    n_rows: int
    n_classes: int = 0
    #: Rows of the most frequent class per row of the rarest (1.0 when balanced or regression).
    imbalance: float = 1.0


SpaceFunction = Callable[["optuna.Trial", SearchContext], dict[str, Any]]


@dataclass(frozen=True)
class AlgorithmInfo:
    """One algorithm of the Lab.

    Attributes:
        name: The key in :data:`ALGORITHMS`.
        label: The name shown to users.
        description: One sentence for the Lab's picker.
        tasks: The tasks it can learn.
        linear: Needs scaled numbers, imputed values and one-hot categories.
        defaults: Optuna parameter values tried first (keys as in the search space, without prefix).
        space: ``space(trial, context) -> estimator params``, asking Optuna for values named
            ``<name>.<param>``.
        make: ``make(task, params, seed, n_jobs) -> estimator``.
        size_param: The parameter that scales the fit time (number of trees), for time estimates.
    """

    name: str
    label: str
    description: str
    tasks: frozenset[Task]
    linear: bool
    defaults: Mapping[str, Any]
    space: SpaceFunction
    make: Callable[[Task, Mapping[str, Any], int, int | None], Any]
    size_param: str | None = None

    def supports(self, task: Task) -> bool:
        return task in self.tasks


# --- linear -------------------------------------------------------------------------------------------


def _linear_space(trial: optuna.Trial, ctx: SearchContext) -> dict[str, Any]:
    if ctx.task == "regression":
        return {"alpha": trial.suggest_float("linear.alpha", 1e-3, 1e3, log=True)}
    return {
        "C": trial.suggest_float("linear.C", 1e-3, 1e2, log=True),
        "class_weight": trial.suggest_categorical("linear.class_weight", [None, "balanced"]),
    }


def _make_linear(task: Task, params: Mapping[str, Any], seed: int, n_jobs: int | None) -> Any:
    from sklearn.linear_model import LogisticRegression, Ridge  # type: ignore[import-untyped]

    if task == "regression":
        return Ridge(alpha=float(params.get("alpha", 1.0)), random_state=seed)
    return LogisticRegression(
        C=float(params.get("C", 1.0)),
        class_weight=params.get("class_weight"),
        max_iter=2_000,
        random_state=seed,
    )


# --- random forest ------------------------------------------------------------------------------------


def _forest_space(trial: optuna.Trial, ctx: SearchContext) -> dict[str, Any]:
    params: dict[str, Any] = {
        "n_estimators": trial.suggest_int("random_forest.n_estimators", 50, 500, log=True),
        "max_depth": trial.suggest_categorical("random_forest.max_depth", [None, 4, 8, 16, 32]),
        "min_samples_leaf": trial.suggest_int("random_forest.min_samples_leaf", 1, 20, log=True),
        "max_features": trial.suggest_categorical("random_forest.max_features", ["sqrt", 0.3, 0.6, 1.0]),
    }
    if ctx.task != "regression":
        params["class_weight"] = trial.suggest_categorical(
            "random_forest.class_weight", [None, "balanced", "balanced_subsample"]
        )
    return params


def _make_forest(task: Task, params: Mapping[str, Any], seed: int, n_jobs: int | None) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # type: ignore[import-untyped]

    common: dict[str, Any] = {
        "n_estimators": int(params.get("n_estimators", 200)),
        "max_depth": params.get("max_depth"),
        "min_samples_leaf": int(params.get("min_samples_leaf", 1)),
        "max_features": params.get("max_features", "sqrt"),
        "random_state": seed,
        "n_jobs": n_jobs or default_n_jobs(),
    }
    if task == "regression":
        return RandomForestRegressor(**common)
    return RandomForestClassifier(class_weight=params.get("class_weight"), **common)


# --- LightGBM -----------------------------------------------------------------------------------------


def _lightgbm_space(trial: optuna.Trial, ctx: SearchContext) -> dict[str, Any]:
    params: dict[str, Any] = {
        "n_estimators": trial.suggest_int("lightgbm.n_estimators", 50, 1000, log=True),
        "learning_rate": trial.suggest_float("lightgbm.learning_rate", 0.01, 0.3, log=True),
        "num_leaves": trial.suggest_int("lightgbm.num_leaves", 4, 128, log=True),
        "min_child_samples": trial.suggest_int("lightgbm.min_child_samples", 2, 100, log=True),
        "subsample": trial.suggest_float("lightgbm.subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("lightgbm.colsample_bytree", 0.3, 1.0),
        "reg_lambda": trial.suggest_float("lightgbm.reg_lambda", 1e-3, 10.0, log=True),
    }
    if ctx.task != "regression":
        params["class_weight"] = trial.suggest_categorical("lightgbm.class_weight", [None, "balanced"])
    return params


def _make_lightgbm(task: Task, params: Mapping[str, Any], seed: int, n_jobs: int | None) -> Any:
    from lightgbm import LGBMClassifier, LGBMRegressor

    common: dict[str, Any] = {
        "n_estimators": int(params.get("n_estimators", 200)),
        "learning_rate": float(params.get("learning_rate", 0.05)),
        "num_leaves": int(params.get("num_leaves", 31)),
        "min_child_samples": int(params.get("min_child_samples", 20)),
        "subsample": float(params.get("subsample", 1.0)),
        "subsample_freq": 1,
        "colsample_bytree": float(params.get("colsample_bytree", 1.0)),
        "reg_lambda": float(params.get("reg_lambda", 1e-3)),
        "random_state": seed,
        "n_jobs": n_jobs or default_n_jobs(),
        "verbose": -1,
    }
    if task == "regression":
        return LGBMRegressor(**common)
    return LGBMClassifier(class_weight=params.get("class_weight"), **common)


# --- XGBoost ------------------------------------------------------------------------------------------


def _xgboost_space(trial: optuna.Trial, ctx: SearchContext) -> dict[str, Any]:
    params: dict[str, Any] = {
        "n_estimators": trial.suggest_int("xgboost.n_estimators", 50, 1000, log=True),
        "learning_rate": trial.suggest_float("xgboost.learning_rate", 0.01, 0.3, log=True),
        "max_depth": trial.suggest_int("xgboost.max_depth", 2, 10),
        "min_child_weight": trial.suggest_float("xgboost.min_child_weight", 0.5, 20.0, log=True),
        "subsample": trial.suggest_float("xgboost.subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("xgboost.colsample_bytree", 0.3, 1.0),
        "reg_lambda": trial.suggest_float("xgboost.reg_lambda", 1e-3, 10.0, log=True),
    }
    if ctx.task == "binary" and ctx.imbalance >= 1.5:
        balanced = trial.suggest_categorical("xgboost.balanced", [False, True])
        params["scale_pos_weight"] = round(ctx.imbalance, 4) if balanced else 1.0
    return params


def _make_xgboost(task: Task, params: Mapping[str, Any], seed: int, n_jobs: int | None) -> Any:
    from xgboost import XGBRegressor

    common: dict[str, Any] = {
        "n_estimators": int(params.get("n_estimators", 200)),
        "learning_rate": float(params.get("learning_rate", 0.1)),
        "max_depth": int(params.get("max_depth", 6)),
        "min_child_weight": float(params.get("min_child_weight", 1.0)),
        "subsample": float(params.get("subsample", 1.0)),
        "colsample_bytree": float(params.get("colsample_bytree", 1.0)),
        "reg_lambda": float(params.get("reg_lambda", 1.0)),
        "tree_method": "hist",
        "random_state": seed,
        "n_jobs": n_jobs or default_n_jobs(),
        "verbosity": 0,
    }
    if task == "regression":
        return XGBRegressor(**common)
    if task == "binary" and "scale_pos_weight" in params:
        common["scale_pos_weight"] = float(params["scale_pos_weight"])
    from modelworks.engine.automl.xgb_labels import LabelledXGBClassifier

    return LabelledXGBClassifier(**common)


_CLASSIFY_AND_REGRESS: frozenset[Task] = frozenset({"binary", "multiclass", "regression"})

ALGORITHMS: Mapping[str, AlgorithmInfo] = MappingProxyType(
    {
        "linear": AlgorithmInfo(
            name="linear",
            label="Linear / logistic regression",
            description="Fast and easy to read; a straight-line effect per column (Ridge or logistic).",
            tasks=_CLASSIFY_AND_REGRESS,
            linear=True,
            defaults={"C": 1.0, "class_weight": None, "alpha": 1.0},
            space=_linear_space,
            make=_make_linear,
        ),
        "random_forest": AlgorithmInfo(
            name="random_forest",
            label="Random forest",
            description="Many decision trees voting; robust with little tuning.",
            tasks=_CLASSIFY_AND_REGRESS,
            linear=False,
            defaults={
                "n_estimators": 200,
                "max_depth": None,
                "min_samples_leaf": 1,
                "max_features": "sqrt",
                "class_weight": None,
            },
            space=_forest_space,
            make=_make_forest,
            size_param="n_estimators",
        ),
        "lightgbm": AlgorithmInfo(
            name="lightgbm",
            label="LightGBM",
            description="Gradient-boosted trees; usually the most accurate on tables.",
            tasks=_CLASSIFY_AND_REGRESS,
            linear=False,
            defaults={
                "n_estimators": 200,
                "learning_rate": 0.05,
                "num_leaves": 31,
                "min_child_samples": 20,
                "subsample": 1.0,
                "colsample_bytree": 1.0,
                "reg_lambda": 1e-3,
                "class_weight": None,
            },
            space=_lightgbm_space,
            make=_make_lightgbm,
            size_param="n_estimators",
        ),
        "xgboost": AlgorithmInfo(
            name="xgboost",
            label="XGBoost",
            description="Gradient-boosted trees with strong regularisation.",
            tasks=_CLASSIFY_AND_REGRESS,
            linear=False,
            defaults={
                "n_estimators": 200,
                "learning_rate": 0.1,
                "max_depth": 6,
                "min_child_weight": 1.0,
                "subsample": 1.0,
                "colsample_bytree": 1.0,
                "reg_lambda": 1.0,
                "balanced": False,
            },
            space=_xgboost_space,
            make=_make_xgboost,
            size_param="n_estimators",
        ),
    }
)


def get_algorithm(name: str, task: Task) -> AlgorithmInfo:
    """The algorithm called ``name``, checked against ``task``.

    Raises:
        UnknownAlgorithmError: No such algorithm, or it cannot learn ``task``.
    """
    info = ALGORITHMS.get(name)
    if info is None:
        known = ", ".join(sorted(ALGORITHMS))
        raise UnknownAlgorithmError(
            f"Unknown algorithm {name!r}{did_you_mean(name, ALGORITHMS) or '.'} Known algorithms: {known}.",
            algorithm=name,
        )
    if not info.supports(task):
        raise UnknownAlgorithmError(
            f"{info.label} cannot learn a {task} task; pick one of "
            + ", ".join(a for a, i in ALGORITHMS.items() if i.supports(task)),
            algorithm=name,
        )
    return info
