"""Template filters of the tracking pages: MLflow millisecond times, metric values, dict lookups."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

register = template.Library()


@register.filter
def ms_datetime(value: int | None) -> dt.datetime | None:
    """Milliseconds since the epoch (MLflow's times) as an aware UTC datetime."""
    if value is None:
        return None
    return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)


@register.filter
def metric(value: Any) -> str:
    """A metric value with 4 significant decimals (NaN and infinities as words)."""
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "∞" if value > 0 else "-∞"
        return f"{value:.4g}"
    return str(value)


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
