"""Pages: one run (params, latest metrics with history charts, tags, dataset inputs) and the
comparison of selected runs (params that differ, metrics side by side)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.http import Http404, HttpRequest
from django.utils.safestring import mark_safe

from modelworks.tracking.models import LatestMetric, Metric, Param, Run, RunTag
from modelworks.tracking.views.experiments import ExperimentPageView, _duration

__all__ = ["CompareView", "RunView", "metric_chart"]

MAX_CHARTS = 12
MAX_POINTS = 500
MAX_COMPARED = 10


def metric_chart(key: str, points: list[tuple[float, float | None]]) -> str:
    """An SVG line chart of one metric's history (step → value)."""
    try:
        from modelworks.engine.automl.charts import line_chart
    except ImportError:  # the Lab's chart module is optional for tracking
        return ""
    return line_chart([(key, points)], "step", key, key, width=420, height=220)


def _downsample(points: list[tuple[float, float | None]]) -> list[tuple[float, float | None]]:
    if len(points) <= MAX_POINTS:
        return points
    stride = len(points) / MAX_POINTS
    return [points[int(i * stride)] for i in range(MAX_POINTS)] + [points[-1]]


class RunView(ExperimentPageView):
    template_name = "tracking/run.html"

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        run = (
            Run.objects.filter(experiment=self.experiment, run_uuid=self.kwargs["run_id"])
            .select_related("created_by")
            .first()
        )
        if run is None:
            raise Http404(f"No run {self.kwargs['run_id']} in experiment '{self.experiment.name}'.")
        self.run = run

    def get_title(self) -> str:
        return f"{self.run.name or self.run.run_uuid} · {self.experiment.name}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run = self.run
        latest = list(LatestMetric.objects.filter(run=run).order_by("key"))
        history: dict[str, list[tuple[float, float | None]]] = defaultdict(list)
        keys = [m.key for m in latest][:MAX_CHARTS]
        for key, step, value in (
            Metric.objects.filter(run=run, key__in=keys)
            .order_by("key", "step", "timestamp")
            .values_list("key", "step", "value")
        ):
            history[key].append((step, value))
        charts = [
            {"key": key, "svg": mark_safe(metric_chart(key, _downsample(points)))}  # noqa: S308 (escaped by the renderer)
            for key, points in history.items()
            if len(points) > 1
        ]
        inputs = list(
            run.inputs.select_related("dataset", "dataset__dataset_version__dataset").order_by("id")
        )
        context.update(
            run=run,
            duration=_duration(run),
            params=list(Param.objects.filter(run=run).order_by("key").values_list("key", "value")),
            metrics=latest,
            tags=[
                (k, v)
                for k, v in RunTag.objects.filter(run=run).order_by("key").values_list("key", "value")
                if not k.startswith("mlflow.log-model")
            ],
            inputs=inputs,
            charts=charts,
            outputs=list(run.model_links.order_by("direction", "model_id")),
        )
        return context


class CompareView(ExperimentPageView):
    """``?runs=<id>&runs=<id>…`` (2 to 10 runs of the experiment): what differs and how they score."""

    template_name = "tracking/compare.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        wanted = list(dict.fromkeys(self.request.GET.getlist("runs")))[:MAX_COMPARED]
        runs = list(Run.objects.filter(experiment=self.experiment, run_uuid__in=wanted))
        runs.sort(key=lambda r: wanted.index(r.run_uuid))
        ids = [r.run_uuid for r in runs]
        params: dict[str, dict[str, str]] = defaultdict(dict)
        for run_id, key, value in Param.objects.filter(run_id__in=ids).values_list("run_id", "key", "value"):
            params[key][run_id] = value
        metrics: dict[str, dict[str, Any]] = defaultdict(dict)
        for run_id, key, value, is_nan in LatestMetric.objects.filter(run_id__in=ids).values_list(
            "run_id", "key", "value", "is_nan"
        ):
            metrics[key][run_id] = "NaN" if is_nan else value
        param_rows = []
        for key in sorted(params):
            values = [params[key].get(r) for r in ids]
            param_rows.append({"key": key, "values": values, "differs": len({v for v in values}) > 1})
        metric_rows = []
        for key in sorted(metrics):
            metric_rows.append({"key": key, "values": [metrics[key].get(r) for r in ids]})
        context.update(
            runs=runs,
            param_rows=sorted(param_rows, key=lambda r: (not r["differs"], r["key"])),
            differing=sum(1 for r in param_rows if r["differs"]),
            metric_rows=metric_rows,
            max_compared=MAX_COMPARED,
        )
        return context
