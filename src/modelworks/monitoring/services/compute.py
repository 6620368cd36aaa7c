"""Computing a monitor: each window of the prediction log against the reference data.

Per window: rows scored, data drift per feature (the engine picks the test by sample size unless the
monitor overrides it), the share of drifted features, prediction drift, data quality (nulls, values
out of the reference range, unseen categories) and, when true labels are known, performance. A
window's points are replaced as a whole (idempotent), then alerts are raised for breaches (once per
breach, see ``services.alerts``). Runs inside the ``monitoring.compute`` job.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from modelworks.monitoring.errors import MonitorConfigError
from modelworks.monitoring.models import Alert, LabelsSource, Metric, Monitor, MonitorPoint
from modelworks.monitoring.services.sources import MonitorContext, resolve_context

__all__ = ["ComputeResult", "compute_monitor", "feature_kinds", "first_logged_day"]

logger = logging.getLogger("modelworks.monitoring")

DRIFT_SHARE_THRESHOLD = 0.5
_FEEDBACK_CHUNK = 2000
Progress = Callable[[float, str], None]


@dataclass
class ComputeResult:
    """What one computation did."""

    windows: int = 0
    points: int = 0
    alerts: list[Alert] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "windows": self.windows,
            "points": self.points,
            "alerts": [a.pk for a in self.alerts],
            "message": self.message,
        }


def predictions_root() -> Path:
    return Path(settings.MODELWORKS_PREDICTIONS_DIR)


def logged_days(source: str) -> list[datetime]:
    """Midnight (UTC) of each day the prediction log of ``source`` has rows for, in order."""
    from modelworks.engine.predictions.layout import list_days

    return sorted(datetime(d.year, d.month, d.day, tzinfo=UTC) for d in list_days(predictions_root(), source))


def first_logged_day(source: str) -> datetime | None:
    """Midnight (UTC) of the first day the prediction log of ``source`` has rows for, or None."""
    days = logged_days(source)
    return days[0] if days else None


def _with_rows(
    spans: list[tuple[datetime, datetime]], days: list[datetime]
) -> list[tuple[datetime, datetime]]:
    """The windows holding at least one logged day: a batch-scoring log dated by its data's own time
    (say 2013) must not make a monitor compute every empty month up to today."""
    from bisect import bisect_left

    kept = []
    for start, end in spans:
        index = bisect_left(days, start)
        if index < len(days) and days[index] < end:
            kept.append((start, end))
    return kept


def feature_kinds(schema: Any, names: Sequence[str]) -> dict[str, str]:
    """``numeric`` for integer, floating and decimal columns of an Arrow schema, ``categorical`` otherwise."""
    import pyarrow as pa

    kinds: dict[str, str] = {}
    for name in names:
        kind = schema.field(name).type
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
        kinds[name] = "numeric" if numeric else "categorical"
    return kinds


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _naive(moment: datetime) -> datetime:
    return _aware(moment).astimezone(UTC).replace(tzinfo=None)


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def compute_monitor(
    monitor: Monitor,
    *,
    now: datetime | None = None,
    recompute: bool = False,
    progress: Progress | None = None,
) -> ComputeResult:
    """Compute the windows of ``monitor`` not computed yet (all of them with ``recompute``).

    The window still in progress is computed too and computed again on the next run; windows that
    ended are not read again unless ``recompute``. New alerts are notified once all windows are stored.

    Raises:
        MonitorConfigError: the monitor's settings do not fit its data (the message says which).
    """
    from modelworks.engine.monitoring import windows as cut_windows
    from modelworks.monitoring.services.alerts import notify_alerts

    now = _aware(now or timezone.now())
    context = resolve_context(monitor)
    result = ComputeResult()
    days = logged_days(monitor.source_key)
    if not days:
        result.message = "No predictions have been logged for this source yet."
        _finish(monitor, now, None)
        return result
    first = days[0]
    start = first
    if monitor.computed_until is not None and not recompute:
        start = max(first, _aware(monitor.computed_until))
    spans = _with_rows(
        [(_aware(s), _aware(e)) for s, e in cut_windows(_naive(start), _naive(now), monitor.window)], days
    )
    if not spans:
        result.message = "Nothing new to compute."
        _finish(monitor, now, monitor.computed_until)
        return result
    reference = _read_reference(context)
    computer = _WindowComputer(monitor, context, reference, first)
    completed = monitor.computed_until
    for index, (window_start, window_end) in enumerate(spans):
        if progress is not None:
            progress(
                100.0 * index / len(spans), f"window {index + 1} of {len(spans)}: {window_start:%Y-%m-%d}"
            )
        points = computer.points(window_start, window_end)
        with transaction.atomic():
            MonitorPoint.objects.filter(monitor=monitor, window_start=window_start).delete()
            MonitorPoint.objects.bulk_create(points)
            from modelworks.monitoring.services.alerts import record_breaches

            result.alerts += record_breaches(monitor, window_start, window_end, points)
        result.windows += 1
        result.points += len(points)
        if window_end <= now:
            completed = window_end
    _finish(monitor, now, completed)
    if result.alerts:
        notify_alerts(monitor, result.alerts)
    result.message = (
        f"Computed {result.windows} window(s): {result.points} points, {len(result.alerts)} new alert(s)."
    )
    return result


def _finish(monitor: Monitor, now: datetime, completed: datetime | None) -> None:
    from modelworks.monitoring.services.scheduling import next_run_after

    Monitor.objects.filter(pk=monitor.pk).update(
        computed_until=completed,
        last_computed_at=now,
        last_error="",
        next_run_at=next_run_after(monitor, now),
    )
    monitor.computed_until, monitor.last_computed_at, monitor.last_error = completed, now, ""


def _read_reference(context: MonitorContext) -> Any:
    import pyarrow.parquet as pq

    wanted = list(
        dict.fromkeys([*context.features, *([context.target_column] if context.target_column else [])])
    )
    return pq.read_table(context.reference_path, columns=wanted)


class _WindowComputer:
    """Builds the points of one window (no database writes here)."""

    def __init__(
        self, monitor: Monitor, context: MonitorContext, reference: Any, first_day: datetime
    ) -> None:
        self.monitor = monitor
        self.context = context
        self.reference = reference
        self.first_day = first_day
        self.kinds = feature_kinds(reference.schema, context.features)
        self._baseline: Any = None

    def read(self, start: datetime, end: datetime) -> Any:
        import pyarrow.compute as pc

        from modelworks.engine.predictions import read_predictions

        table = read_predictions(
            predictions_root(), self.monitor.source_key, start=_naive(start), end=_naive(end)
        )
        if table.num_rows and "answered" in table.column_names:
            table = table.filter(pc.fill_null(table["answered"], True))
        return table

    def point(self, start: datetime, end: datetime, metric: str, **values: Any) -> MonitorPoint:
        return MonitorPoint(monitor=self.monitor, window_start=start, window_end=end, metric=metric, **values)

    def points(self, start: datetime, end: datetime) -> list[MonitorPoint]:
        current = self.read(start, end)
        points = [self.point(start, end, Metric.ROWS, value=float(current.num_rows))]
        if current.num_rows == 0:
            return points
        points += self.drift(start, end, current)
        points += self.prediction_drift(start, end, current)
        points += self.quality(start, end, current)
        points += self.performance(start, end, current)
        return points

    # -------------------------------------------------------------------------------------- drift
    def drift(self, start: datetime, end: datetime, current: Any) -> list[MonitorPoint]:
        from modelworks.engine.monitoring import drift_report

        present = [f for f in self.context.features if f in current.column_names]
        if not present:
            return []
        columns = {f: self.kinds[f] for f in present}
        tests = {k: v for k, v in (self.monitor.drift_tests or {}).items() if k in columns}
        thresholds = {k: float(v) for k, v in (self.monitor.drift_thresholds or {}).items() if k in columns}
        report = drift_report(
            self.reference.select(present),
            _cast_like(current.select(present), self.reference.select(present)),
            columns,
            tests=tests,
            thresholds=thresholds,
        )
        points = [
            self.point(
                start,
                end,
                Metric.DATA_DRIFT,
                feature=c.column,
                test=c.test,
                value=_finite(c.statistic),
                p_value=_finite(c.p_value),
                threshold=_finite(c.threshold),
                breached=bool(c.drifted),
                details={
                    "kind": c.kind,
                    "n_reference": c.n_reference,
                    "n_current": c.n_current,
                    "histogram": _plain(c.histogram),
                },
            )
            for c in report.columns
        ]
        points.append(
            self.point(
                start,
                end,
                Metric.DRIFT_SHARE,
                value=_finite(report.drifted_share),
                threshold=DRIFT_SHARE_THRESHOLD,
                breached=bool(report.dataset_drift),
                details={"drifted": [c.column for c in report.columns if c.drifted]},
            )
        )
        return points

    def prediction_drift(self, start: datetime, end: datetime, current: Any) -> list[MonitorPoint]:
        """The predictions' distribution against the reference outcome column, or else against the
        first window of the log (the distribution the model produced when it started)."""
        import pyarrow as pa

        from modelworks.engine.monitoring import column_drift

        classified = _is_classification(current)
        column = "prediction" if classified else "prediction_value"
        if column not in current.column_names:
            return []
        kind = "categorical" if classified else "numeric"
        values = current[column]
        basis = "reference"
        if self.context.target_column:
            reference = self.reference[self.context.target_column]
        else:
            if self._baseline is None:
                from modelworks.engine.monitoring import windows as cut_windows

                first_start, first_end = cut_windows(
                    _naive(self.first_day), _naive(self.first_day) + timedelta(days=1), self.monitor.window
                )[0]
                self._baseline = self.read(_aware(first_start), _aware(first_end))
            if self._baseline.num_rows == 0 or column not in self._baseline.column_names:
                return []
            reference = self._baseline[column]
            basis = "first window"
        if kind == "categorical":
            reference, values = reference.cast(pa.string()), values.cast(pa.string())
        else:
            reference, values = reference.cast(pa.float64()), values.cast(pa.float64())
        drift = column_drift(reference, values, kind)
        return [
            self.point(
                start,
                end,
                Metric.PREDICTION_DRIFT,
                feature=column,
                test=drift.test,
                value=_finite(drift.statistic),
                p_value=_finite(drift.p_value),
                threshold=_finite(drift.threshold),
                breached=bool(drift.drifted),
                details={"basis": basis, "kind": kind, "histogram": _plain(drift.histogram)},
            )
        ]

    # ------------------------------------------------------------------------------------- quality
    def quality(self, start: datetime, end: datetime, current: Any) -> list[MonitorPoint]:
        from modelworks.engine.monitoring import data_quality

        present = [f for f in self.context.features if f in current.column_names]
        if not present:
            return []
        columns = {f: self.kinds[f] for f in present}
        findings = data_quality(
            self.reference.select(present),
            _cast_like(current.select(present), self.reference.select(present)),
            columns,
        )
        tolerance = float(self.monitor.quality_tolerance)
        points = []
        for finding in findings:
            rate = _finite(finding.rate) or 0.0
            base = _finite(finding.reference_rate) or 0.0
            points.append(
                self.point(
                    start,
                    end,
                    Metric.QUALITY,
                    feature=finding.column,
                    test=finding.check,
                    value=rate,
                    threshold=base + tolerance,
                    breached=rate > base + tolerance,
                    details={"count": int(finding.count), "message": str(finding.message)},
                )
            )
        return points

    # --------------------------------------------------------------------------------- performance
    def labels(self, row_ids: list[str]) -> dict[str, str]:
        monitor = self.monitor
        found: dict[str, str] = {}
        if monitor.labels_source == LabelsSource.FEEDBACK and monitor.deployment_id:
            from modelworks.deployments.models import Feedback

            for i in range(0, len(row_ids), _FEEDBACK_CHUNK):
                chunk = row_ids[i : i + _FEEDBACK_CHUNK]
                found.update(
                    Feedback.objects.filter(
                        deployment_id=monitor.deployment_id, row_id__in=chunk
                    ).values_list("row_id", "label")
                )
        elif monitor.labels_source == LabelsSource.DATASET and monitor.labels_dataset is not None:
            found = _dataset_labels(monitor, set(row_ids))
        return found

    def performance(self, start: datetime, end: datetime, current: Any) -> list[MonitorPoint]:
        import pandas as pd

        from modelworks.engine.automl.evaluation import METRICS, default_metric
        from modelworks.engine.monitoring import windowed_performance

        if self.monitor.labels_source == LabelsSource.NONE or "row_id" not in current.column_names:
            return []
        row_ids = [str(r) for r in current["row_id"].to_pylist()]
        labels = self.labels(row_ids)
        keep = [i for i, r in enumerate(row_ids) if r in labels]
        if not keep:
            return []
        rows = current.take(keep)
        y_true = [labels[row_ids[i]] for i in keep]
        classified = _is_classification(rows)
        frame = pd.DataFrame({"ts": rows["ts"].to_pandas(), "y_pred": rows["prediction"].to_pylist()})
        classes: list[str] | None = None
        if classified:
            task, classes = _classes(rows, y_true)
            frame["y_true"] = y_true
            frame["y_pred"] = frame["y_pred"].astype(str)
            probabilities = [json.loads(p) if p else {} for p in rows["probabilities"].to_pylist()]
            for name in classes:
                frame[f"proba_{name}"] = [_finite(p.get(name)) for p in probabilities]
            if any(frame[f"proba_{n}"].isna().any() for n in classes):
                frame = frame.drop(columns=[f"proba_{n}" for n in classes])
        else:
            task = "regression"
            frame["y_true"] = pd.to_numeric(pd.Series(y_true), errors="coerce")
            frame["y_pred"] = rows["prediction_value"].to_pandas()
            frame = frame.dropna(subset=["y_true", "y_pred"])
            if frame.empty:
                return []
        metrics = windowed_performance(
            frame, task, classes, window=self.monitor.window, start=_naive(start), end=_naive(end)
        )
        values: dict[str, float] = {}
        for window_metrics in metrics:
            values.update(window_metrics.metrics)
        chosen = self.monitor.performance_metric or default_metric(task)  # type: ignore[arg-type]
        registered = (
            (getattr(self.context.model_version, "metrics", None) or {}) if self.context.model_version else {}
        )
        margin = float(self.monitor.performance_margin)
        points = []
        for name, raw in sorted(values.items()):
            value = _finite(raw)
            info = METRICS.get(name)
            if value is None or info is None:
                continue
            baseline = _finite(registered.get(name))
            threshold: float | None = None
            breached = False
            if baseline is not None and name == chosen:
                if info.greater_is_better:
                    threshold = baseline - margin * abs(baseline)
                    breached = value < threshold
                else:
                    threshold = baseline + margin * abs(baseline)
                    breached = value > threshold
            points.append(
                self.point(
                    start,
                    end,
                    Metric.PERFORMANCE,
                    test=name,
                    value=value,
                    threshold=threshold,
                    breached=breached,
                    details={"labelled_rows": len(keep), "baseline": baseline, "watched": name == chosen},
                )
            )
        return points


def _is_classification(table: Any) -> bool:
    if "probabilities" not in table.column_names:
        return False
    return any(p not in (None, "", "null", "{}") for p in table["probabilities"].slice(0, 50).to_pylist())


def _classes(rows: Any, y_true: list[str]) -> tuple[str, list[str]]:
    names: list[str] = []
    for raw in rows["probabilities"].slice(0, 50).to_pylist():
        if raw:
            names = [str(k) for k in json.loads(raw)]
            break
    for label in [*y_true, *(str(p) for p in rows["prediction"].to_pylist())]:
        if label not in names:
            names.append(label)
    return ("binary" if len(names) == 2 else "multiclass"), names


def _cast_like(current: Any, reference: Any) -> Any:
    """The current window's columns cast to the reference's types where they differ (int vs float)."""
    import pyarrow as pa

    arrays = []
    for name in reference.column_names:
        column = current[name]
        wanted = reference.schema.field(name).type
        if column.type != wanted:
            try:
                column = column.cast(wanted)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                column = column.cast(pa.string()) if not pa.types.is_string(wanted) else column
        arrays.append(column)
    return pa.table(arrays, names=reference.column_names)


def _plain(value: Any) -> Any:
    """JSON-safe copy of engine output (NumPy numbers, tuples, NaN → None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def _dataset_labels(monitor: Monitor, wanted: set[str]) -> dict[str, str]:
    """``row id → label`` from the current version of the monitor's labels dataset."""
    from modelworks.datasets.services import version_path
    from modelworks.engine.duck import connect

    dataset = monitor.labels_dataset
    version = dataset.current_version if dataset is not None else None
    if version is None:
        raise MonitorConfigError(
            f"Monitor '{monitor.name}': the labels dataset has no version; import its data first.",
            field="labels_dataset",
        )
    columns = version.column_names
    for needed, setting in (
        (monitor.labels_id_column, "labels_id_column"),
        (monitor.labels_label_column, "labels_label_column"),
    ):
        if needed not in columns:
            raise MonitorConfigError(
                f"Monitor '{monitor.name}': column '{needed}' is not in labels dataset '{dataset}' "
                f"(columns: {', '.join(columns[:10])}).",
                field=setting,
            )
    path = version_path(version)
    con = connect(read=[path], threads=2)
    try:
        # Identifiers quoted by DuckDB's own rules; the path is a bound parameter.
        ident_id = '"' + monitor.labels_id_column.replace('"', '""') + '"'
        ident_label = '"' + monitor.labels_label_column.replace('"', '""') + '"'
        rows = con.execute(
            f"SELECT CAST({ident_id} AS VARCHAR), CAST({ident_label} AS VARCHAR) FROM read_parquet($1) "  # noqa: S608 - quoted identifiers only
            f"WHERE {ident_id} IS NOT NULL AND {ident_label} IS NOT NULL",
            [str(path)],
        ).fetchall()
    finally:
        con.close()
    return {str(k): str(v) for k, v in rows if str(k) in wanted}
