"""The shared vocabulary of the Lab: what to train, how each column is handled, what came out.

Every type is a frozen dataclass that round-trips through JSON with ``to_dict()`` / ``from_dict()``,
so the Lab pages, the API and the training job exchange them as plain dicts. ``from_dict`` checks the
closed vocabularies (kinds, tasks, severities…) because those dicts come from users; the constructors
check the invariants that do not depend on a table (a budget > 0, at least two folds…).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, get_args

from modelworks.engine.automl.errors import InvalidSpecError

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]

    from modelworks.engine.automl.evaluation import Evaluation

__all__ = [
    "Encode",
    "FeatureHandling",
    "FeatureKind",
    "Impute",
    "LabWarning",
    "SearchResult",
    "Severity",
    "Task",
    "TrainingSpec",
    "TrialResult",
    "TrialStatus",
    "Validation",
    "ValidationKind",
]

Task = Literal["binary", "multiclass", "regression"]
FeatureKind = Literal["numeric", "categorical", "text", "date", "drop"]
Impute = Literal["mean", "median", "most_frequent", "constant", "none"]
Encode = Literal["onehot", "ordinal", "none"]
ValidationKind = Literal["kfold", "time"]
Severity = Literal["error", "warning", "info"]
TrialStatus = Literal["complete", "failed", "pruned"]

TASKS: tuple[Task, ...] = get_args(Task)
FEATURE_KINDS: tuple[FeatureKind, ...] = get_args(FeatureKind)
IMPUTES: tuple[Impute, ...] = get_args(Impute)
ENCODES: tuple[Encode, ...] = get_args(Encode)

_L = TypeVar("_L", bound=str)


def _choice(value: Any, allowed: tuple[_L, ...], what: str) -> _L:
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise InvalidSpecError(f"{what} {value!r} is not one of {options}.", field=what, value=value)
    return cast(_L, value)


def _require(data: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in data:
        raise InvalidSpecError(f"{what} is missing the field {key!r}.", field=key)
    return data[key]


@dataclass(frozen=True)
class FeatureHandling:
    """How one column of the table becomes model input.

    Attributes:
        column: The column's name in the table.
        kind: ``numeric``, ``categorical``, ``text`` (TF-IDF), ``date`` (year, month, day, day of week,
            hour) or ``drop`` (not used).
        impute: How missing values are filled (``none`` for kinds that handle them themselves).
        encode: For categoricals: ``onehot`` or ``ordinal``; ``none`` otherwise.
        scale: Standardise the column; the pipeline only does it for linear models.
        reason: The plain-language why, shown next to the choice in the Lab.
    """

    column: str
    kind: FeatureKind
    impute: Impute = "none"
    encode: Encode = "none"
    scale: bool = False
    reason: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.column, str) or not self.column:
            raise InvalidSpecError("A feature needs a non-empty column name.", field="column")
        _choice(self.kind, FEATURE_KINDS, "feature kind")
        _choice(self.impute, IMPUTES, f"imputation of column {self.column!r}:")
        _choice(self.encode, ENCODES, f"encoding of column {self.column!r}:")

    @property
    def used(self) -> bool:
        """Whether the column feeds the model (every kind but ``drop``)."""
        return self.kind != "drop"

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "impute": self.impute,
            "encode": self.encode,
            "scale": self.scale,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureHandling:
        return cls(
            column=str(_require(data, "column", "A feature")),
            kind=_choice(_require(data, "kind", "A feature"), FEATURE_KINDS, "feature kind"),
            impute=_choice(data.get("impute", "none"), IMPUTES, "imputation"),
            encode=_choice(data.get("encode", "none"), ENCODES, "encoding"),
            scale=bool(data.get("scale", False)),
            reason=str(data.get("reason", "")),
        )


@dataclass(frozen=True)
class Validation:
    """How candidate models are scored and how the final holdout is cut.

    ``kfold``: (stratified for classifiers) K-fold cross-validation on the training part; the holdout is
    a random (stratified) ``holdout_fraction`` of the rows. ``time``: rows sorted by ``time_column``,
    expanding-window folds (always train on the past, validate on the next slice), and the holdout is
    the latest ``holdout_fraction`` of the rows.
    """

    kind: ValidationKind = "kfold"
    folds: int = 5
    time_column: str | None = None
    holdout_fraction: float = 0.2

    def __post_init__(self) -> None:
        _choice(self.kind, get_args(ValidationKind), "validation kind")
        if isinstance(self.folds, bool) or not isinstance(self.folds, int) or not 2 <= self.folds <= 20:
            raise InvalidSpecError(
                f"Validation needs between 2 and 20 folds, got {self.folds!r}; 5 is a good default.",
                field="folds",
            )
        fraction = self.holdout_fraction
        if not isinstance(fraction, int | float) or not 0.0 <= float(fraction) <= 0.5:
            raise InvalidSpecError(
                f"The holdout fraction must be between 0 and 0.5, got {fraction!r}; "
                "0.2 keeps a fifth of the rows aside to check the final model.",
                field="holdout_fraction",
            )
        if self.kind == "time" and not self.time_column:
            raise InvalidSpecError(
                "A time-based validation needs a time column: pick the column that says when each row "
                "happened, or choose K-fold validation.",
                field="time_column",
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "folds": self.folds,
            "time_column": self.time_column,
            "holdout_fraction": self.holdout_fraction,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Validation:
        time_column = data.get("time_column")
        return cls(
            kind=_choice(data.get("kind", "kfold"), get_args(ValidationKind), "validation kind"),
            folds=data.get("folds", 5),
            time_column=None if time_column is None else str(time_column),
            holdout_fraction=data.get("holdout_fraction", 0.2),
        )


@dataclass(frozen=True)
class TrainingSpec:
    """Everything a training run needs besides the table.

    Attributes:
        task: ``binary``, ``multiclass`` or ``regression``.
        target: The column to predict.
        features: The handling of each column (columns absent from it are not used).
        algorithms: Names from ``ALGORITHMS`` to try.
        time_budget_s: Wall-clock seconds for the whole search, the final refits included.
        validation: How candidates are scored.
        metric: The metric to optimise (a key of ``evaluation.METRICS`` that fits the task).
        seed: Same seed, same data, same trial count → same models.
        max_trials: Stop after this many trials even if time is left (``None``: only the budget).
    """

    task: Task
    target: str
    features: tuple[FeatureHandling, ...]
    algorithms: tuple[str, ...]
    time_budget_s: float
    validation: Validation = field(default_factory=Validation)
    metric: str = "roc_auc"
    seed: int = 0
    max_trials: int | None = None

    def __post_init__(self) -> None:
        _choice(self.task, TASKS, "task")
        if not isinstance(self.target, str) or not self.target:
            raise InvalidSpecError("Pick the column to predict (the target).", field="target")
        budget = self.time_budget_s
        if not isinstance(budget, int | float) or not math.isfinite(budget) or budget <= 0:
            raise InvalidSpecError(
                f"The time budget must be a positive number of seconds, got {budget!r}; "
                "60 seconds is enough for a first model on a few thousand rows.",
                field="time_budget_s",
            )
        if not self.algorithms:
            raise InvalidSpecError(
                "Pick at least one algorithm to try (for example 'lightgbm').", field="algorithms"
            )
        if self.max_trials is not None and (
            isinstance(self.max_trials, bool) or not isinstance(self.max_trials, int) or self.max_trials < 1
        ):
            raise InvalidSpecError(
                f"The maximum number of trials must be at least 1, got {self.max_trials!r}; "
                "leave it empty to let the time budget decide.",
                field="max_trials",
            )
        columns = [f.column for f in self.features]
        duplicates = sorted({c for c in columns if columns.count(c) > 1})
        if duplicates:
            raise InvalidSpecError(
                f"Column {duplicates[0]!r} has more than one feature handling; keep one.",
                field="features",
                column=duplicates[0],
            )

    @property
    def used_features(self) -> tuple[FeatureHandling, ...]:
        """The features that feed the model (not dropped, not the target)."""
        return tuple(f for f in self.features if f.used and f.column != self.target)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "target": self.target,
            "features": [f.to_dict() for f in self.features],
            "algorithms": list(self.algorithms),
            "time_budget_s": self.time_budget_s,
            "validation": self.validation.to_dict(),
            "metric": self.metric,
            "seed": self.seed,
            "max_trials": self.max_trials,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingSpec:
        features = _require(data, "features", "The training spec")
        algorithms = _require(data, "algorithms", "The training spec")
        if isinstance(algorithms, str) or not isinstance(algorithms, list | tuple):
            raise InvalidSpecError("'algorithms' must be a list of names.", field="algorithms")
        if not isinstance(features, list | tuple):
            raise InvalidSpecError("'features' must be a list of feature handlings.", field="features")
        return cls(
            task=_choice(_require(data, "task", "The training spec"), TASKS, "task"),
            target=str(_require(data, "target", "The training spec")),
            features=tuple(FeatureHandling.from_dict(f) for f in features),
            algorithms=tuple(str(a) for a in algorithms),
            time_budget_s=_require(data, "time_budget_s", "The training spec"),
            validation=Validation.from_dict(data.get("validation") or {}),
            metric=str(data.get("metric", "roc_auc")),
            seed=int(data.get("seed", 0)),
            max_trials=data.get("max_trials"),
        )


@dataclass(frozen=True)
class LabWarning:
    """One finding about the training data, with the why and what to do.

    ``severity == "error"`` blocks training (a single-class target, an all-null target…).
    """

    code: str
    severity: Severity
    message: str
    column: str | None = None
    hint: str = ""

    @property
    def blocking(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "column": self.column,
            "hint": self.hint,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabWarning:
        column = data.get("column")
        return cls(
            code=str(_require(data, "code", "A warning")),
            severity=_choice(_require(data, "severity", "A warning"), get_args(Severity), "severity"),
            message=str(_require(data, "message", "A warning")),
            column=None if column is None else str(column),
            hint=str(data.get("hint", "")),
        )


@dataclass(frozen=True)
class TrialResult:
    """One candidate model scored by cross-validation.

    Attributes:
        number: The trial's number in the search (0-based, in the order trials started).
        algorithm: A key of ``ALGORITHMS``.
        params: The hyper-parameters tried (JSON values).
        scores: Each metric of the task, cross-validated: computed once on the out-of-fold
            predictions pooled over the validation folds (empty for a failed or pruned trial).
        score: The optimised metric from ``scores``, sign-adjusted so that higher is always better
            (``-rmse``…); ``-inf`` for a failed or pruned trial.
        duration_s: Wall-clock seconds the trial took.
        status: ``complete``, ``failed`` (``error`` says why) or ``pruned``.
        error: The failure message for a failed trial.
    """

    number: int
    algorithm: str
    params: dict[str, Any]
    scores: dict[str, float]
    score: float
    duration_s: float
    status: TrialStatus = "complete"
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "algorithm": self.algorithm,
            "params": dict(self.params),
            "scores": {k: _json_float(v) for k, v in self.scores.items()},
            "score": _json_float(self.score),
            "duration_s": self.duration_s,
            "status": self.status,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialResult:
        score = data.get("score")
        error = data.get("error")
        return cls(
            number=int(_require(data, "number", "A trial")),
            algorithm=str(_require(data, "algorithm", "A trial")),
            params=dict(data.get("params") or {}),
            scores={str(k): _from_json_float(v) for k, v in (data.get("scores") or {}).items()},
            score=_from_json_float(score),
            duration_s=float(data.get("duration_s", 0.0)),
            status=_choice(data.get("status", "complete"), get_args(TrialStatus), "trial status"),
            error=None if error is None else str(error),
        )


def _json_float(value: float) -> float | None:
    """JSON has no NaN or infinity: a failed trial's ``-inf`` becomes ``None``."""
    return float(value) if math.isfinite(value) else None


def _from_json_float(value: Any) -> float:
    return -math.inf if value is None else float(value)


@dataclass(frozen=True)
class SearchResult:
    """What :func:`~modelworks.engine.automl.search.run_search` returns.

    Attributes:
        spec: The spec that was run.
        trials: Every trial, in order (failed and pruned ones included).
        best: The trial with the highest ``score``.
        model: The best candidate as an sklearn ``Pipeline`` refitted on every training row (training
            part and holdout together); not part of ``to_dict()``.
        holdout: The best candidate, fitted on the training part only, evaluated on the holdout rows
            (``None`` when ``holdout_fraction`` is 0).
        classes: The class labels (as strings, in the order of ``predict_proba``'s columns) for
            classifiers; ``None`` for regression.
        duration_s: Wall-clock seconds of the whole search, refits included.
    """

    spec: TrainingSpec
    trials: tuple[TrialResult, ...]
    best: TrialResult
    model: Pipeline
    holdout: Evaluation | None
    classes: tuple[str, ...] | None
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Everything but the fitted model, as JSON values."""
        holdout: Any = self.holdout
        return {
            "spec": self.spec.to_dict(),
            "trials": [t.to_dict() for t in self.trials],
            "best": self.best.to_dict(),
            "holdout": None if holdout is None else holdout.to_dict(),
            "classes": None if self.classes is None else list(self.classes),
            "duration_s": self.duration_s,
        }
