"""The control tower: the portfolio at a glance, for portfolio viewers and governance leads.

* :func:`tower_figures`: counts and expected / realised value by stage and by business unit, the
  time from idea to production (median and per use case, from the stage history), the models in
  production with their health from monitoring, and the reviews that are overdue.
* :func:`portfolio_rows` / :func:`portfolio_csv`: the portfolio table, exportable to CSV with every
  text cell made spreadsheet-safe (:func:`safe_cell`).

Realised value counts the measurements of value definitions whose unit is the use case's currency
(a definition counting minutes or tonnes is shown on the use case's page, not summed here).
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from modelworks.governance.models import Stage, StageChange, StageKind, UseCase, ValueMeasurement

__all__ = [
    "CSV_COLUMNS",
    "PROMOTION_OVERDUE_DAYS",
    "DeploymentHealth",
    "Group",
    "portfolio_csv",
    "portfolio_rows",
    "safe_cell",
    "time_to_production",
    "tower_figures",
]

# A promotion request (registry, one named approver) has no due date: it counts as overdue once it
# has waited this many days.
PROMOTION_OVERDUE_DAYS = 3
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ZERO = Decimal("0")
_CENT = Decimal("0.01")


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run as a formula: text starting with ``= + - @`` (or a tab /
    carriage return) gets a leading ``'``. Numbers are written by us and left as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@dataclass
class Group:
    """Figures of a group of use cases (one stage, one business unit)."""

    key: str
    label: str
    count: int = 0
    expected_one_off: Decimal = _ZERO
    expected_recurring: Decimal = _ZERO
    realised: Decimal = _ZERO
    kind: str = ""

    @property
    def expected_first_year(self) -> Decimal:
        return self.expected_one_off + self.expected_recurring


@dataclass
class DeploymentHealth:
    """One deployment of a use case's project, with what its monitors say."""

    use_case: UseCase
    deployment: Any
    monitors: int = 0
    open_alerts: int = 0
    drift: dict[str, Any] | None = None  # {"value", "threshold", "breached", "window_start"}
    performance: dict[str, Any] | None = None
    alerts: list[Any] = field(default_factory=list)

    @property
    def health(self) -> str:
        """``alert``, ``drift``, ``ok`` or ``unmonitored`` (worst first)."""
        if self.open_alerts:
            return "alert"
        if (self.drift and self.drift["breached"]) or (self.performance and self.performance["breached"]):
            return "drift"
        return "ok" if self.monitors else "unmonitored"


def realised_by_use_case(use_cases: Iterable[UseCase]) -> dict[int, Decimal]:
    """Realised value so far per use case id, counting definitions in the use case's currency."""
    ids = [u.pk for u in use_cases]
    rows = (
        ValueMeasurement.objects.filter(
            definition__use_case_id__in=ids, definition__unit=F("definition__use_case__currency")
        )
        .values("definition__use_case_id")
        .annotate(total=Sum("value"))
    )
    # SQLite sums decimals without their scale: always give cents.
    return {r["definition__use_case_id"]: Decimal(r["total"] or 0).quantize(_CENT) for r in rows}


def time_to_production(use_cases: Sequence[UseCase]) -> dict[int, float]:
    """Days from idea to production per use case that reached a production stage.

    The start is the use case's creation (its first stage change, else ``created_at``); the end
    is its first move into a stage of kind ``production``.
    """
    ids = [u.pk for u in use_cases]
    created = {u.pk: u.created_at for u in use_cases}
    first: dict[int, datetime] = {}
    reached: dict[int, datetime] = {}
    changes = (
        StageChange.objects.filter(use_case_id__in=ids)
        .select_related("to_stage")
        .order_by("created_at", "id")
    )
    for change in changes:
        first.setdefault(change.use_case_id, change.created_at)
        if change.to_stage.kind == StageKind.PRODUCTION:
            reached.setdefault(change.use_case_id, change.created_at)
    days = {}
    for pk, end in reached.items():
        start = min(first.get(pk, created[pk]), created[pk])
        days[pk] = round(max((end - start).total_seconds(), 0) / 86400, 1)
    return days


def _health(use_cases: Sequence[UseCase]) -> list[DeploymentHealth]:
    from modelworks.deployments.models import Deployment
    from modelworks.monitoring.models import Alert, Monitor, MonitorPoint

    by_project: dict[int, list[UseCase]] = defaultdict(list)
    for use_case in use_cases:
        for project in use_case.projects.all():
            by_project[project.pk].append(use_case)
    deployments = list(
        Deployment.objects.filter(project_id__in=list(by_project), status="active")
        .select_related("project")
        .order_by("name")
    )
    monitors = list(Monitor.objects.filter(deployment__in=deployments, enabled=True))
    monitors_by_deployment: dict[int, list[Any]] = defaultdict(list)
    for monitor in monitors:
        monitors_by_deployment[monitor.deployment_id].append(monitor)
    open_alerts: dict[int, list[Any]] = defaultdict(list)
    for alert in (
        Alert.objects.filter(monitor__in=monitors).exclude(status="resolved").select_related("monitor")
    ):
        open_alerts[alert.monitor.deployment_id].append(alert)
    latest: dict[tuple[int, str], Any] = {}
    points = MonitorPoint.objects.filter(
        monitor__in=monitors, metric__in=["drift_share", "performance"], feature=""
    ).order_by("window_start", "id")
    for point in points.select_related("monitor"):
        latest[(point.monitor.deployment_id, point.metric)] = point  # the newest wins
    rows = []
    for deployment in deployments:
        for use_case in by_project[deployment.project_id]:
            row = DeploymentHealth(use_case, deployment, monitors=len(monitors_by_deployment[deployment.pk]))
            row.alerts = open_alerts[deployment.pk]
            row.open_alerts = len(row.alerts)
            for metric, attr in (("drift_share", "drift"), ("performance", "performance")):
                point = latest.get((deployment.pk, metric))
                if point is not None:
                    setattr(
                        row,
                        attr,
                        {
                            "value": point.value,
                            "threshold": point.threshold,
                            "breached": point.breached,
                            "window_start": point.window_start,
                        },
                    )
            rows.append(row)
    order = {"alert": 0, "drift": 1, "unmonitored": 2, "ok": 3}
    rows.sort(key=lambda r: (order[r.health], r.use_case.title, r.deployment.name))
    return rows


def overdue_reviews(now: datetime | None = None) -> dict[str, list[Any]]:
    """Pending sign-off requests past their due date and promotion requests waiting too long."""
    from modelworks.governance.models import SignoffRequest
    from modelworks.registry.models import PromotionRequest

    now = now or timezone.now()
    signoffs = list(
        SignoffRequest.objects.filter(status="pending", due_at__lt=now)
        .select_related("project", "model_version__registered_model")
        .order_by("due_at")
    )
    promotions = list(
        PromotionRequest.objects.filter(
            status="pending", created_at__lt=now - timedelta(days=PROMOTION_OVERDUE_DAYS)
        )
        .select_related("project", "registered_model", "approver")
        .order_by("created_at")
    )
    for item in signoffs:
        item.days_overdue = (now - item.due_at).days
    for item in promotions:
        item.days_waiting = (now - item.created_at).days
    return {"signoffs": signoffs, "promotions": promotions}


def tower_figures(
    use_cases: Sequence[UseCase] | None = None, *, now: datetime | None = None
) -> dict[str, Any]:
    """Everything the control tower shows, over ``use_cases`` (default: the whole portfolio)."""
    now = now or timezone.now()
    if use_cases is None:
        use_cases = list(
            UseCase.objects.select_related("stage", "business_owner").prefetch_related("projects")
        )
    realised = realised_by_use_case(use_cases)
    stages = {s.pk: Group(s.key, s.label, kind=s.kind) for s in Stage.objects.all()}
    units: dict[str, Group] = {}
    for use_case in use_cases:
        unit = use_case.business_unit or ""
        groups = [stages[use_case.stage_id], units.setdefault(unit, Group(unit, unit or "(no unit)"))]
        for group in groups:
            group.count += 1
            group.expected_one_off += use_case.expected_value_one_off
            group.expected_recurring += use_case.expected_value_recurring
            group.realised += realised.get(use_case.pk, _ZERO)
    durations = time_to_production(use_cases)
    by_pk = {u.pk: u for u in use_cases}
    currencies = sorted({u.currency for u in use_cases})
    total = Group("all", "All use cases")
    for group in stages.values():
        total.count += group.count
        total.expected_one_off += group.expected_one_off
        total.expected_recurring += group.expected_recurring
        total.realised += group.realised
    return {
        "total": total,
        "by_stage": list(stages.values()),
        "by_unit": sorted(units.values(), key=lambda g: (-g.expected_first_year, g.label)),
        "in_production": sum(g.count for g in stages.values() if g.kind == StageKind.PRODUCTION),
        "time_to_production": sorted(
            ({"use_case": by_pk[pk], "days": days} for pk, days in durations.items()), key=lambda r: r["days"]
        ),
        "median_days_to_production": statistics.median(durations.values()) if durations else None,
        "health": _health(use_cases),
        "overdue": overdue_reviews(now),
        "currency": currencies[0] if len(currencies) == 1 else ("/".join(currencies) or "EUR"),
        "mixed_currencies": len(currencies) > 1,
        "realised": realised,
    }


CSV_COLUMNS = (
    "slug",
    "title",
    "business_unit",
    "stage",
    "business_owner",
    "sponsor",
    "currency",
    "expected_value_one_off",
    "expected_value_recurring_per_year",
    "realised_value_to_date",
    "cost_people_days",
    "cost_compute",
    "feasibility_score",
    "data_readiness_score",
    "priority_score",
    "risk_level",
    "projects",
    "days_idea_to_production",
    "active_deployments",
    "open_alerts",
    "created_at",
    "stage_changed_at",
)


def portfolio_rows(use_cases: Sequence[UseCase]) -> list[dict[str, Any]]:
    """One dict per use case with the :data:`CSV_COLUMNS` (raw values, not yet spreadsheet-safe)."""
    from modelworks.deployments.models import Deployment
    from modelworks.monitoring.models import Alert

    realised = realised_by_use_case(use_cases)
    durations = time_to_production(use_cases)
    project_ids = {p.pk for u in use_cases for p in u.projects.all()}
    deployments = dict(
        Deployment.objects.filter(project_id__in=project_ids, status="active")
        .values("project_id")
        .annotate(n=Count("id"))
        .values_list("project_id", "n")
    )
    alerts = dict(
        Alert.objects.filter(project_id__in=project_ids)
        .filter(~Q(status="resolved"))
        .values("project_id")
        .annotate(n=Count("id"))
        .values_list("project_id", "n")
    )
    rows = []
    for u in use_cases:
        projects = list(u.projects.all())
        rows.append(
            {
                "slug": u.slug,
                "title": u.title,
                "business_unit": u.business_unit,
                "stage": u.stage.label,
                "business_owner": u.business_owner.username if u.business_owner_id else "",
                "sponsor": u.sponsor,
                "currency": u.currency,
                "expected_value_one_off": u.expected_value_one_off,
                "expected_value_recurring_per_year": u.expected_value_recurring,
                "realised_value_to_date": realised.get(u.pk, _ZERO),
                "cost_people_days": u.cost_people_days,
                "cost_compute": u.cost_compute,
                "feasibility_score": u.feasibility_score if u.feasibility_score is not None else "",
                "data_readiness_score": u.data_readiness_score if u.data_readiness_score is not None else "",
                "priority_score": u.priority_score if u.priority_score is not None else "",
                "risk_level": u.get_risk_level_display(),
                "projects": "; ".join(p.slug for p in projects),
                "days_idea_to_production": durations.get(u.pk, ""),
                "active_deployments": sum(deployments.get(p.pk, 0) for p in projects),
                "open_alerts": sum(alerts.get(p.pk, 0) for p in projects),
                "created_at": u.created_at.strftime("%Y-%m-%d"),
                "stage_changed_at": u.stage_changed_at.strftime("%Y-%m-%d"),
            }
        )
    return rows


def portfolio_csv(use_cases: Sequence[UseCase]) -> str:
    """The portfolio table as CSV text (header row first), every text cell spreadsheet-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in portfolio_rows(use_cases):
        writer.writerow([safe_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()
