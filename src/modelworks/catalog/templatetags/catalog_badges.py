"""Template filters of the catalog pages: which badge shows a run state or a quality status."""

from __future__ import annotations

from django import template

register = template.Library()

NOT_REPORTED = "\u2013"  # an en dash, as the other tables show a missing value

# Reuse the badges of the core stylesheet (jobs' states) rather than new colours.
_RUN_BADGES = {
    "running": "badge-running",
    "completed": "badge-succeeded",
    "failed": "badge-failed",
    "aborted": "badge-cancelled",
    "other": "badge-queued",
}
_QUALITY_BADGES = {
    "passed": "badge-succeeded",
    "warning": "badge-running",
    "blocked": "badge-failed",
    "not_run": "badge-queued",
}
_QUALITY_LABELS = {
    "passed": "Quality passed",
    "warning": "Non-blocking rule failed",
    "blocked": "Blocking rule failed",
    "not_run": "Not checked",
}


@register.filter
def run_badge(state: str) -> str:
    return _RUN_BADGES.get(state, "badge-queued")


@register.filter
def quality_badge(status: str | None) -> str:
    return _QUALITY_BADGES.get(status or "", "badge-queued")


@register.filter
def quality_label(status: str | None) -> str:
    return _QUALITY_LABELS.get(status or "", "Not checked")


@register.filter
def transformation(edge: object) -> str:
    """How a column edge derives its output, e.g. "direct · identity"; a dash when not reported."""
    parts = [getattr(edge, "transformation_type", ""), getattr(edge, "transformation_subtype", "")]
    return " · ".join(p.lower() for p in parts if p) or NOT_REPORTED
