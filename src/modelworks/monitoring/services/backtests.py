"""Back-testing: how one or several registered model versions would have performed, window by window,
on a labelled dataset version (e.g. month by month), so a user sees where a model would have degraded.

Creating a back-test only checks its settings and queues the ``monitoring.backtest`` job, which
scores through sandboxed batch scoring (``engine.scoring.sandbox.score_frame``): a pickled model can
run code when loaded, so it is loaded only in an isolated child, never in the web server or the job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import Project
from modelworks.monitoring.errors import BacktestError
from modelworks.monitoring.models import Backtest, BacktestStatus, Window

__all__ = ["MAX_VERSIONS", "create_backtest", "run_backtest"]

logger = logging.getLogger("modelworks.monitoring")

MAX_VERSIONS = 6
Progress = Callable[[float, str], None]


def create_backtest(
    project: Project,
    *,
    actor: Any,
    name: str,
    dataset_version: Any,
    time_column: str,
    target_column: str,
    model_versions: Sequence[Any],
    window: str = Window.MONTH,
    metric: str = "",
    request: HttpRequest | None = None,
) -> Backtest:
    """Check the settings, store the back-test and queue its job.

    Raises:
        ValidationError: keyed by field (``dataset_version``, ``time_column``, ``target_column``,
            ``model_versions``, ``window``, ``metric``, ``name``).
    """
    from modelworks.core.jobs import enqueue
    from modelworks.engine.automl.evaluation import METRICS

    errors: dict[str, str] = {}
    name = str(name or "").strip()
    if not name:
        errors["name"] = "Give the back-test a name."
    if dataset_version is None or dataset_version.dataset.project_id != project.pk:
        errors["dataset_version"] = "Choose a labelled dataset version of this project."
    else:
        columns = dataset_version.column_names
        for field, column, role in (
            ("time_column", time_column, "the date or time of each row"),
            ("target_column", target_column, "the true outcome"),
        ):
            if column not in columns:
                errors[field] = (
                    f"'{column}' is not a column of {dataset_version}; name the column holding {role} "
                    f"(columns: {', '.join(columns[:12])})."
                )
        if time_column and time_column == target_column:
            errors["target_column"] = "The outcome column cannot be the time column."
    versions = list(model_versions)
    if not versions:
        errors["model_versions"] = "Choose at least one registered model version."
    elif len(versions) > MAX_VERSIONS:
        errors["model_versions"] = f"Compare at most {MAX_VERSIONS} versions at once."
    elif any(v.registered_model.project_id != project.pk for v in versions):
        errors["model_versions"] = "Every model version must belong to this project."
    if window not in Window.values:
        errors["window"] = f"Use one of {', '.join(Window.values)}."
    if metric and metric not in METRICS:
        errors["metric"] = f"'{metric}' is not a metric; use one of {', '.join(METRICS)}."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        backtest = Backtest.objects.create(
            project=project,
            name=name,
            dataset_version=dataset_version,
            time_column=time_column,
            target_column=target_column,
            window=window,
            metric=metric,
            created_by=actor,
        )
        backtest.model_versions.set(versions)
        backtest.job = enqueue(
            "monitoring.backtest",
            title=f"Back-test {name}",
            project=project,
            created_by=actor,
            params={"backtest": backtest.pk},
            request=request,
        )
        backtest.save(update_fields=["job"])
        audit.record(
            "monitoring.backtest_created",
            actor=actor,
            project=project,
            target=backtest,
            details={"versions": [str(v) for v in versions], "window": window},
            request=request,
        )
    return backtest


# ------------------------------------------------------------------------------------------- running


@dataclass
class _Scored:
    task: str
    predictions: list[Any]
    probabilities: Any | None  # DataFrame: one column per class, in ``classes`` order
    classes: list[str] | None


def _model_dir(version: Any) -> Path:
    from modelworks.registry.services.common import artifact_store
    from modelworks.registry.services.sources import storage_key

    folder = Path(artifact_store().path_of(storage_key(version.storage_location)))
    if not (folder / "MLmodel").is_file():
        raise BacktestError(
            f"The files of {version} are missing (no MLmodel file in its storage location); it cannot be back-tested."
        )
    return folder


def _score(version: Any, frame: Any, y_true: Any) -> _Scored:
    """Predictions (and class probabilities) of ``version`` for ``frame``, by sandboxed batch scoring:
    the model (code, when pickled) is loaded only in the isolated child, never in this job's process."""
    import pandas as pd

    from modelworks.engine.scoring import ScoringError
    from modelworks.engine.scoring.sandbox import score_frame
    from modelworks.monitoring.services.sources import signature_inputs

    folder = _model_dir(version)
    inputs = [c for c in signature_inputs(version) if c in frame.columns] or list(frame.columns)
    try:
        scores = score_frame(folder, frame[inputs])
    except ScoringError as exc:
        raise BacktestError(f"{version} could not score the data: {exc.message}") from exc
    if scores.classes and scores.probabilities is not None:
        proba = pd.DataFrame(scores.probabilities, columns=scores.classes)
        task = "binary" if len(scores.classes) == 2 else "multiclass"
        return _Scored(task, [str(p) for p in scores.predictions], proba, scores.classes)
    numeric = scores.task == "regression" or (
        scores.task not in ("binary", "multiclass")
        and pd.api.types.is_numeric_dtype(y_true)
        and y_true.nunique() > 20
    )
    if numeric:
        return _Scored("regression", [float(p) for p in scores.predictions], None, None)
    labels = sorted({str(v) for v in y_true} | {str(p) for p in scores.predictions})
    return _Scored(
        "binary" if len(labels) == 2 else "multiclass", [str(p) for p in scores.predictions], None, labels
    )


def run_backtest(backtest: Backtest, *, progress: Progress | None = None) -> dict[str, Any]:
    """Score the back-test's data with each version and compute the metrics per window; store the result.

    A version that fails (missing files, a column it needs) gets its error in the result; the others
    still run. Raises ``BacktestError`` when the data itself cannot be used.
    """
    import pandas as pd

    from modelworks.engine.automl.evaluation import default_metric
    from modelworks.engine.monitoring import windowed_performance
    from modelworks.lab.services.data import read_version

    version = backtest.dataset_version
    if version is None:
        raise BacktestError(f"The dataset version of back-test '{backtest.name}' was deleted.")
    frame = read_version(version).frame
    for column in (backtest.time_column, backtest.target_column):
        if column not in frame.columns:
            raise BacktestError(f"Column '{column}' is not in {version}.")
    ts = pd.to_datetime(frame[backtest.time_column], errors="coerce", utc=True)
    labelled = ts.notna() & frame[backtest.target_column].notna()
    if not labelled.any():
        raise BacktestError(
            f"No row of {version} has both a time in '{backtest.time_column}' and a label in "
            f"'{backtest.target_column}'."
        )
    frame, ts = (
        frame[labelled].reset_index(drop=True),
        ts[labelled].dt.tz_localize(None).reset_index(drop=True),
    )
    y_true = frame[backtest.target_column]
    inputs = frame.drop(columns=[backtest.target_column])
    windows: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    task_seen = ""
    versions = list(
        backtest.model_versions.select_related("registered_model").order_by(
            "registered_model__name", "version"
        )
    )
    for index, model_version in enumerate(versions):
        if progress is not None:
            progress(100.0 * index / max(len(versions), 1), f"scoring with {model_version}")
        entry: dict[str, Any] = {
            "id": model_version.pk,
            "label": str(model_version),
            "values": {},
            "error": "",
        }
        try:
            scored = _score(model_version, inputs, y_true)
            data = pd.DataFrame({"ts": ts, "y_pred": scored.predictions})
            if scored.task == "regression":
                data["y_true"] = pd.to_numeric(y_true, errors="coerce").to_numpy()
            else:
                data["y_true"] = y_true.astype(str).to_numpy()
            if scored.probabilities is not None and scored.classes:
                for name in scored.classes:
                    data[f"proba_{name}"] = scored.probabilities[name].to_numpy()
            task_seen = task_seen or scored.task
            for wm in windowed_performance(data, scored.task, scored.classes, window=backtest.window):
                key = wm.start.isoformat()
                windows[key] = {"start": key, "end": wm.end.isoformat(), "rows": int(wm.rows)}
                entry["values"][key] = {k: float(v) for k, v in wm.metrics.items() if v is not None}
        except BacktestError as exc:
            entry["error"] = exc.message
        except Exception as exc:  # one version's failure must not lose the others
            logger.exception("Back-test %s: %s failed", backtest.pk, model_version)
            entry["error"] = f"{model_version} could not be evaluated: {type(exc).__name__}: {exc}"
        results.append(entry)
    ordered = sorted(windows)
    metric = backtest.metric or (default_metric(task_seen) if task_seen else "")  # type: ignore[arg-type]
    metrics_seen = sorted({k for r in results for v in r["values"].values() for k in v})
    result = {
        "task": task_seen,
        "metric": metric,
        "metrics": metrics_seen,
        "windows": [windows[k] for k in ordered],
        "versions": [{**r, "values": [r["values"].get(k) for k in ordered]} for r in results],
    }
    failed = all(r["error"] for r in results)
    Backtest.objects.filter(pk=backtest.pk).update(
        result=result,
        status=BacktestStatus.FAILED if failed else BacktestStatus.SUCCEEDED,
        error="; ".join(r["error"] for r in results if r["error"]) if failed else "",
    )
    return result
