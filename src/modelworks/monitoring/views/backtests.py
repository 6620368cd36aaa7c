"""Back-test pages: the list with the "New back-test" form, and one back-test's result (a chart of the
metric per window, one line per model version, and the table behind it)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe

from modelworks.core.forms import add_service_error
from modelworks.core.views.base import done
from modelworks.engine.automl.charts import line_chart
from modelworks.engine.automl.evaluation import METRICS
from modelworks.monitoring import services
from modelworks.monitoring.forms import BacktestForm
from modelworks.monitoring.models import Backtest
from modelworks.monitoring.views.base import MonitoringPageView

__all__ = ["BacktestDetailView", "BacktestListView"]


class BacktestListView(MonitoringPageView):
    template_name = "monitoring/backtests.html"
    title = "Back-tests"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", BacktestForm(project=self.project))
        context["backtests"] = list(
            Backtest.objects.filter(project=self.project).select_related(
                "dataset_version__dataset", "created_by"
            )[:100]
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = BacktestForm(request.POST, project=self.project)
        if form.is_valid():
            try:
                backtest = services.create_backtest(
                    self.project, actor=request.user, request=request, **form.values()
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = reverse("monitoring:backtest", args=[self.project.slug, backtest.pk])
                return done(request, url, "Back-test queued; this page shows the result when it is done.")
        return self.render_form_errors(form=form)


class BacktestDetailView(MonitoringPageView):
    template_name = "monitoring/backtest.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        backtest = (
            Backtest.objects.filter(project=self.project, pk=self.kwargs["pk"])
            .select_related("dataset_version__dataset", "created_by", "job")
            .prefetch_related("model_versions__registered_model")
            .first()
        )
        if backtest is None:
            raise Http404(f"No back-test {self.kwargs['pk']} in project '{self.project.slug}'.")
        result = backtest.result or {}
        metrics = result.get("metrics") or []
        metric = self.request.GET.get("metric") or result.get("metric") or ""
        if metric not in metrics and metrics:
            metric = metrics[0]
        windows = result.get("windows") or []
        starts = [parse_datetime(w["start"]) for w in windows]
        series = []
        table = []
        for version in result.get("versions") or []:
            values = [(v or {}).get(metric) for v in version.get("values") or []]
            series.append((version["label"], [(i, value) for i, value in enumerate(values)]))
            table.append({"label": version["label"], "error": version.get("error", ""), "values": values})
        info = METRICS.get(metric)
        chart = ""
        if windows and series:
            chart = line_chart(
                series,
                "Window (" + ", ".join(f"{i}: {s:%Y-%m-%d}" for i, s in enumerate(starts[:12]) if s) + ")",
                info.label if info else metric,
                f"{info.label if info else metric} per {backtest.get_window_display().lower()}",
            )
        context.update(
            backtest=backtest,
            result=result,
            metric=metric,
            metric_info=info,
            metrics=metrics,
            windows=[{"start": s, **w} for s, w in zip(starts, windows, strict=False)],
            table=table,
            chart=mark_safe(chart),  # noqa: S308 - the Lab chart helper escapes every label
            title=f"{backtest.name} · {self.project.name}",
        )
        return context
