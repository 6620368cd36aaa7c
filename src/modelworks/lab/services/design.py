"""Turning an analysis into a TrainingSpec, and checking each user choice with a plain message.

Every check raises a Django ``ValidationError`` keyed by the field the user edits (``target``,
``time_column``, ``time_budget_s``…), so the design form and the API show the same words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError

from modelworks.engine.automl import AutoMLError, FeatureHandling, InvalidSpecError, TrainingSpec
from modelworks.engine.automl.algorithms import ALGORITHMS
from modelworks.engine.automl.evaluation import METRICS, default_metric
from modelworks.engine.errors import did_you_mean

if TYPE_CHECKING:
    import pandas as pd

    from modelworks.datasets.models import DatasetVersion
    from modelworks.lab.models import Analysis

__all__ = [
    "DATE_TYPES",
    "budget_range",
    "build_spec",
    "check_time_column",
    "clean_algorithms",
    "clean_budget",
    "clean_features",
    "clean_metric",
    "clean_validation",
    "default_algorithms",
    "metric_choices",
    "run_checks",
]

#: Logical column types a time-based validation can order rows by.
DATE_TYPES = ("date", "timestamp")
DEFAULT_MIN_BUDGET_S = 5
DEFAULT_MAX_BUDGET_S = 6 * 3600
_EDITABLE = ("kind", "impute", "encode", "scale")


def budget_range() -> tuple[int, int]:
    """The smallest and largest time budget in seconds (``MODELWORKS_LAB_MIN/MAX_BUDGET_SECONDS``)."""
    low = int(getattr(settings, "MODELWORKS_LAB_MIN_BUDGET_SECONDS", DEFAULT_MIN_BUDGET_S))
    high = int(getattr(settings, "MODELWORKS_LAB_MAX_BUDGET_SECONDS", DEFAULT_MAX_BUDGET_S))
    return low, high


def default_algorithms(task: str) -> list[str]:
    return [name for name, info in ALGORITHMS.items() if task in info.tasks]


def metric_choices(task: str) -> list[tuple[str, str]]:
    return [(name, info.label) for name, info in METRICS.items() if task in info.tasks]


def _column_types(version: DatasetVersion) -> dict[str, str]:
    return {c["name"]: c.get("type", "other") for c in version.schema}


def check_column(name: str, version: DatasetVersion, *, field: str, role: str) -> str:
    columns = list(_column_types(version))
    if name not in columns:
        raise ValidationError(
            {
                field: f"'{name}' is not a column of '{version.dataset.name}' (version {version.number})"
                f"{did_you_mean(name, columns)}. Pick one of its {len(columns)} columns as the {role}."
            }
        )
    return name


def check_time_column(name: str, version: DatasetVersion, *, target: str) -> str:
    """``name`` if it is a date or timestamp column of ``version`` other than the target."""
    check_column(name, version, field="time_column", role="time column")
    if name == target:
        raise ValidationError({"time_column": "The time column cannot be the target; pick another column."})
    kind = _column_types(version)[name]
    if kind not in DATE_TYPES:
        raise ValidationError(
            {
                "time_column": f"'{name}' holds {kind} values, not dates or times, so rows cannot be ordered "
                "in time by it. Pick a date or timestamp column, or turn this one into a date with a "
                "Prepare recipe ('Parse date') first."
            }
        )
    return name


def clean_budget(value: Any) -> int:
    low, high = budget_range()
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise ValidationError(
            {"time_budget_s": f"Give the time budget in whole seconds, got {value!r}."}
        ) from None
    if isinstance(value, bool) or not low <= seconds <= high:
        raise ValidationError(
            {
                "time_budget_s": f"The time budget must be between {low} and {high} seconds, got {value}; "
                "60 seconds gives a good first model on a few thousand rows."
            }
        )
    return seconds


def clean_algorithms(names: Any, task: str) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise ValidationError({"algorithms": "Pick at least one algorithm to try."})
    cleaned: list[str] = []
    for name in names:
        info = ALGORITHMS.get(str(name))
        if info is None:
            known = ", ".join(sorted(ALGORITHMS))
            raise ValidationError({"algorithms": f"Unknown algorithm '{name}'; choose among {known}."})
        if task not in info.tasks:
            raise ValidationError({"algorithms": f"{info.label} cannot learn a {task} task; untick it."})
        if info.name not in cleaned:
            cleaned.append(info.name)
    return cleaned


def clean_metric(metric: Any, task: str) -> str:
    name = str(metric or default_metric(task))  # type: ignore[arg-type]
    info = METRICS.get(name)
    if info is None or task not in info.tasks:
        options = ", ".join(n for n, _ in metric_choices(task))
        raise ValidationError(
            {"metric": f"'{name}' is not a metric of a {task} task; choose among {options}."}
        )
    return name


def clean_validation(data: Mapping[str, Any] | None, *, time_column: str) -> dict[str, Any]:
    data = dict(data or {})
    kind = data.get("kind") or ("time" if time_column else "kfold")
    if kind == "time" and not time_column:
        raise ValidationError(
            {
                "validation": "A time-based validation needs a time column: set one, or choose K-fold validation."
            }
        )
    folds = data.get("folds", 5)
    try:
        folds = int(folds)
    except (TypeError, ValueError):
        raise ValidationError(
            {"validation": f"The number of folds must be a whole number, got {folds!r}."}
        ) from None
    if not 2 <= folds <= 20:
        raise ValidationError(
            {"validation": f"Use between 2 and 20 folds, got {folds}; 5 is a good default."}
        )
    holdout = data.get("holdout_fraction", 0.2)
    try:
        holdout = float(holdout)
    except (TypeError, ValueError):
        raise ValidationError(
            {"validation": f"The holdout share must be a number, got {holdout!r}."}
        ) from None
    if not 0.05 <= holdout <= 0.5:
        raise ValidationError(
            {
                "validation": f"Keep between 5% and 50% of the rows aside to check the final model, got {holdout:.0%}."
            }
        )
    return {
        "kind": kind,
        "folds": folds,
        "time_column": time_column or None,
        "holdout_fraction": holdout,
    }


def clean_features(current: list[dict[str, Any]], changes: Any, *, target: str) -> list[dict[str, Any]]:
    """The features with the user's changes applied (kind, impute, encode, scale of named columns).

    A changed column keeps the proposal's reason after "Changed by you", so the page still says what
    was proposed and why.
    """
    if not isinstance(changes, Sequence) or isinstance(changes, str):
        raise ValidationError({"features": "Give a list of column handlings."})
    by_column = {f["column"]: dict(f) for f in current}
    for change in changes:
        if not isinstance(change, Mapping) or "column" not in change:
            raise ValidationError({"features": "Each column handling needs the column's name ('column')."})
        column = str(change["column"])
        if column not in by_column:
            raise ValidationError(
                {
                    "features": f"'{column}' is not a column of the dataset{did_you_mean(column, list(by_column))}."
                }
            )
        if column == target and change.get("kind", "drop") != "drop":
            raise ValidationError({"features": f"'{column}' is the target: it cannot also be a feature."})
        before = by_column[column]
        after = {**before, **{k: change[k] for k in _EDITABLE if k in change}}
        after["scale"] = bool(after.get("scale", False))
        if after["kind"] in ("drop", "text"):
            after["impute"], after["encode"] = "none", "none"
        elif after["kind"] != "categorical":
            after["encode"] = "none"
        try:
            FeatureHandling.from_dict(after)
        except AutoMLError as exc:
            raise ValidationError({"features": f"Column '{column}': {exc}"}) from exc
        if any(after[k] != before.get(k) for k in _EDITABLE):
            reason = str(before.get("reason", ""))
            if not reason.startswith("Changed by you"):
                reason = (
                    f"Changed by you (proposed: {before.get('kind')}, {reason})"
                    if reason
                    else "Changed by you"
                )
            after["reason"] = reason
        by_column[column] = after
    return [by_column[f["column"]] for f in current]


def build_spec(analysis: Analysis) -> TrainingSpec:
    """The TrainingSpec of ``analysis`` as it stands.

    Raises:
        ValidationError: keyed by the field at fault, with the engine's message.
    """
    data = {
        "task": analysis.task,
        "target": analysis.target,
        "features": analysis.features,
        "algorithms": analysis.algorithms,
        "time_budget_s": float(analysis.time_budget_s),
        "validation": analysis.validation,
        "metric": analysis.metric,
        "max_trials": analysis.max_trials,
    }
    try:
        spec = TrainingSpec.from_dict(data)
    except InvalidSpecError as exc:
        field = str(exc.details.get("field") or "__all__")
        raise ValidationError({field if field in _SPEC_FIELDS else "__all__": exc.message}) from exc
    if not spec.used_features:
        raise ValidationError(
            {"features": "Every column is dropped: keep at least one column besides the target as a feature."}
        )
    return spec


_SPEC_FIELDS = {
    "task",
    "target",
    "features",
    "algorithms",
    "time_budget_s",
    "validation",
    "metric",
    "max_trials",
}


def run_checks(frame: pd.DataFrame, spec: TrainingSpec) -> list[dict[str, Any]]:
    """The data checks (as LabWarning dicts, errors first) of ``spec`` on ``frame``."""
    from modelworks.engine.automl.checks import check_training_data

    order = {"error": 0, "warning": 1, "info": 2}
    found = [w.to_dict() for w in check_training_data(frame, spec)]
    return sorted(found, key=lambda w: order.get(w["severity"], 3))
