"""Reads shared by the pages and the API: targets with the version they serve now, recent rows of
the prediction log, and the address of the scoring service."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from modelworks.deployments.models import Deployment
from modelworks.deployments.runtime import resolve_targets

__all__ = [
    "MAX_RECENT_PREDICTIONS",
    "RecentPredictions",
    "TargetView",
    "recent_predictions",
    "scoring_base_url",
    "target_views",
]

MAX_RECENT_PREDICTIONS = 500
# The windows tried, newest first, until enough rows are found: a busy endpoint reads one day only.
_WINDOWS = (timedelta(hours=1), timedelta(days=1), timedelta(days=7), timedelta(days=31))
_FIXED = (
    "ts",
    "row_id",
    "request_id",
    "model_version",
    "role",
    "answered",
    "prediction",
    "prediction_value",
    "probabilities",
    "latency_ms",
)


@dataclass(frozen=True)
class TargetView:
    """A target as people read it, with the version it serves now (None: its alias is gone)."""

    id: int
    role: str
    weight: int
    model: str
    alias: str
    pinned_version: int | None
    version: int | None
    version_id: int | None
    reference: str

    @property
    def problem(self) -> str:
        if self.version is None:
            return f"Model '{self.model}' has no alias '{self.alias}' any more; this target serves nothing."
        return ""


def target_views(deployment: Deployment) -> list[TargetView]:
    """The deployment's targets, each with the version it points at now."""
    targets = deployment.targets.select_related("registered_model", "model_version").order_by("id")
    views = []
    for resolved in resolve_targets(targets):
        t, version = resolved.target, resolved.version
        views.append(
            TargetView(
                id=t.pk,
                role=t.role,
                weight=t.weight,
                model=t.registered_model.name,
                alias=t.alias,
                pinned_version=t.model_version.version if t.model_version else None,
                version=version.version if version is not None else None,
                version_id=version.pk if version is not None else None,
                reference=t.reference,
            )
        )
    return views


@dataclass(frozen=True)
class RecentPredictions:
    """The newest rows of a deployment's prediction log, newest first."""

    rows: list[dict[str, Any]]
    features: list[str]
    since: datetime | None
    note: str = ""


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def recent_predictions(
    deployment: Deployment, *, limit: int = 50, role: str | None = None
) -> RecentPredictions:
    """Up to ``limit`` of the newest logged rows (all roles unless ``role``), newest first.

    Looks back one hour, then a day, a week and a month, stopping as soon as it has enough rows.
    """
    from modelworks.engine.predictions import PredictionLogError, read_predictions

    limit = max(1, min(int(limit), MAX_RECENT_PREDICTIONS))
    root = settings.MODELWORKS_PREDICTIONS_DIR
    now = timezone.now()
    table = None
    since = None
    for window in _WINDOWS:
        since = now - window
        try:
            table = read_predictions(root, deployment.prediction_source, start=since, end=None, role=role)
        except PredictionLogError as exc:
            return RecentPredictions([], [], since, note=f"The prediction log cannot be read: {exc}")
        if table.num_rows >= limit:
            break
    if table is None or table.num_rows == 0:
        return RecentPredictions([], [], since, note="No prediction logged in the last 31 days.")
    tail = table.slice(max(0, table.num_rows - limit))
    records = tail.to_pylist()[::-1]
    features = [c for c in tail.column_names if c not in (*_FIXED, "model_version_id")]
    rows = []
    for record in records:
        row = {k: _jsonable(record.get(k)) for k in _FIXED}
        probabilities = row.get("probabilities")
        if isinstance(probabilities, str):
            try:
                row["probabilities"] = json.loads(probabilities)
            except ValueError:
                row["probabilities"] = None
        row["inputs"] = {f: _jsonable(record.get(f)) for f in features}
        rows.append(row)
    return RecentPredictions(rows, features, since)


def scoring_base_url(request: HttpRequest | None = None) -> str:
    """Where callers reach the scoring service: ``MODELWORKS_SERVING_URL`` when set (e.g. behind a
    reverse proxy), else this instance's host name on ``MODELWORKS_SERVING_PORT``."""
    configured = str(getattr(settings, "MODELWORKS_SERVING_URL", "") or "").rstrip("/")
    if configured:
        return configured
    port = int(getattr(settings, "MODELWORKS_SERVING_PORT", 8100))
    host = "localhost"
    public = str(getattr(settings, "MODELWORKS_PUBLIC_URL", "") or "")
    if request is not None:
        host = (
            request.get_host().rsplit(":", 1)[0]
            if not request.get_host().endswith("]")
            else request.get_host()
        )
    elif public:
        from urllib.parse import urlsplit

        host = urlsplit(public).hostname or host
    return f"http://{host}:{port}"
