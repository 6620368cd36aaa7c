"""Monitoring pages: the overview (each monitor with its health), create / edit / delete a monitor,
"compute now", and a monitor's detail (charts per metric, a window picker, drift per feature with the
test used, histograms, quality findings, performance)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.safestring import mark_safe

from modelworks.core.forms import add_service_error
from modelworks.core.jobs import JobError
from modelworks.core.models import Role
from modelworks.core.views.base import done
from modelworks.monitoring import services
from modelworks.monitoring.api.common import monitors_of
from modelworks.monitoring.charts import histogram_pair, time_series
from modelworks.monitoring.errors import MonitoringError
from modelworks.monitoring.forms import MonitorForm
from modelworks.monitoring.models import Alert, Metric, MonitorPoint
from modelworks.monitoring.views.base import MonitoringPageView, MonitorPageView

__all__ = [
    "MonitorComputeView",
    "MonitorCreateView",
    "MonitorDeleteView",
    "MonitorDetailView",
    "MonitorEditView",
    "OverviewView",
]

TEST_LABELS = {
    "ks": "Kolmogorov-Smirnov (p-value)",
    "psi": "Population stability index",
    "wasserstein": "Wasserstein distance (normed)",
    "chisquare": "Chi-squared (p-value)",
    "jensenshannon": "Jensen-Shannon distance",
    "z": "Z-test for proportions (p-value)",
}


class OverviewView(MonitoringPageView):
    """Every monitor of the project with its health badge, and the count of open alerts."""

    template_name = "monitoring/overview.html"
    title = "Monitoring"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["monitors"] = list(monitors_of(self.project).order_by("name"))
        context["open_alerts"] = Alert.objects.filter(project=self.project, status="open").count()
        return context


class MonitorCreateView(MonitoringPageView):
    template_name = "monitoring/form.html"
    title = "New monitor"
    needed_role = Role.CONTRIBUTOR

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", MonitorForm(project=self.project))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = MonitorForm(request.POST, project=self.project)
        if form.is_valid():
            try:
                monitor = services.create_monitor(
                    self.project, actor=request.user, request=request, **form.values()
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = reverse("monitoring:detail", args=[self.project.slug, monitor.pk])
                return done(
                    request, url, f"Monitor '{monitor.name}' created. Compute it to see the first results."
                )
        return self.render_form_errors(form=form)


class MonitorEditView(MonitorPageView):
    template_name = "monitoring/form.html"
    needed_role = Role.CONTRIBUTOR

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault(
            "form", MonitorForm(initial=MonitorForm.initial_of(self.monitor), project=self.project)
        )
        context["editing"] = True
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = MonitorForm(request.POST, project=self.project)
        if form.is_valid():
            try:
                values = form.values()
                before = MonitorForm.initial_of(self.monitor)
                changes = {k: v for k, v in values.items() if k not in before or _changed(self.monitor, k, v)}
                services.update_monitor(self.monitor, actor=request.user, request=request, **changes)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = reverse("monitoring:detail", args=[self.project.slug, self.monitor.pk])
                return done(request, url, f"Monitor '{self.monitor.name}' saved.")
        return self.render_form_errors(form=form)


def _changed(monitor: Any, key: str, value: Any) -> bool:
    current = getattr(monitor, key)
    return current != value


class MonitorDeleteView(MonitorPageView):
    write_role = Role.ADMIN
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        name = self.monitor.name
        services.delete_monitor(self.monitor, actor=request.user, request=request)
        return done(
            request, reverse("monitoring:overview", args=[self.project.slug]), f"Monitor '{name}' deleted."
        )


class MonitorComputeView(MonitorPageView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        url = reverse("monitoring:detail", args=[self.project.slug, self.monitor.pk])
        try:
            services.request_compute(
                self.monitor,
                actor=request.user,
                recompute=request.POST.get("recompute") == "1",
                request=request,
            )
        except JobError as exc:
            from django.contrib import messages

            messages.error(request, str(exc))
            return done(request, url)
        return done(request, url, "Computation queued; this page shows the results once it has run.")


class MonitorDetailView(MonitorPageView):
    template_name = "monitoring/detail.html"
    fragment_template_name = "monitoring/partials/window.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        monitor = self.monitor
        try:
            resolved = services.resolve_context(monitor)
            context["resolved"] = resolved
        except MonitoringError as exc:
            context["config_error"] = exc.message
        points = list(monitor.points.all().order_by("window_start"))
        starts = sorted({p.window_start for p in points}, reverse=True)
        chosen = _pick(self.request.GET.get("window", ""), starts)
        context.update(windows=starts, chosen=chosen, charts=_charts(points))
        window_points = [p for p in points if p.window_start == chosen]
        drift = sorted(
            (p for p in window_points if p.metric == Metric.DATA_DRIFT),
            key=lambda p: (not p.breached, p.feature),
        )
        context.update(
            drift=[
                {
                    "point": p,
                    "test_label": TEST_LABELS.get(p.test, p.test),
                    "histogram": mark_safe(  # noqa: S308 - built by our chart helper, every label escaped
                        histogram_pair(
                            p.details.get("histogram") or {}, title=f"{p.feature}: reference vs current"
                        )
                    ),
                }
                for p in drift
            ],
            share=next((p for p in window_points if p.metric == Metric.DRIFT_SHARE), None),
            rows=next((p for p in window_points if p.metric == Metric.ROWS), None),
            prediction=[p for p in window_points if p.metric == Metric.PREDICTION_DRIFT],
            quality=[p for p in window_points if p.metric == Metric.QUALITY],
            performance=[p for p in window_points if p.metric == Metric.PERFORMANCE],
            alerts=list(monitor.alerts.select_related("acknowledged_by")[:10]),
            test_labels=TEST_LABELS,
        )
        return context


def _pick(text: str, starts: list[datetime]) -> datetime | None:
    for start in starts:
        if start.strftime("%Y-%m-%d") == text:
            return start
    return starts[0] if starts else None


def _uses_p_value(points: list[MonitorPoint]) -> bool:
    """KS, chi-squared and z decide on the p-value (drift below the limit): chart the p-value then,
    since the statistic itself cannot be compared with that limit."""
    from modelworks.engine.monitoring import P_VALUE_TESTS

    return (
        bool(points)
        and all(p.test in P_VALUE_TESTS for p in points if p.test)
        and any(p.test for p in points)
    )


def _series(points: list[MonitorPoint]) -> list[tuple[datetime, float | None, float | None, bool]]:
    if _uses_p_value(points):
        return [(p.window_start, p.p_value, p.threshold, p.breached) for p in points]
    return [(p.window_start, p.value, p.threshold, p.breached) for p in points]


def _charts(points: list[MonitorPoint]) -> list[dict[str, Any]]:
    """One time series per metric (and per feature for drift), breached ones first."""
    groups: dict[tuple[str, str, str], list[MonitorPoint]] = defaultdict(list)
    for p in points:
        test = "" if p.metric in (Metric.DATA_DRIFT, Metric.PREDICTION_DRIFT) else p.test
        groups[(p.metric, p.feature, test)].append(p)
    charts = []
    order = [
        Metric.ROWS,
        Metric.PERFORMANCE,
        Metric.DRIFT_SHARE,
        Metric.PREDICTION_DRIFT,
        Metric.DATA_DRIFT,
        Metric.QUALITY,
    ]
    for (metric, feature, test), series in sorted(
        groups.items(), key=lambda kv: (order.index(Metric(kv[0][0])), kv[0][1], kv[0][2])
    ):
        label = Metric(metric).label
        title = " · ".join(x for x in (label, feature, test.replace("_", " ")) if x)
        tests = sorted({p.test for p in series if p.test})
        if _uses_p_value(series):
            tests = [f"{', '.join(tests)} p-value (drift below the limit)"]
        charts.append(
            {
                "metric": metric,
                "title": title,
                "breached": any(p.breached for p in series),
                "svg": mark_safe(time_series(_series(series), title=title, y_label=", ".join(tests))),  # noqa: S308
            }
        )
    return charts
