"""Pages: the project's experiments, and one experiment's runs table (columns, sort, filter, compare).

The runs table uses the MLflow filter language (``metrics.rmse < 0.5 AND params.model = 'forest'``)
and ``order_by`` clauses, compiled by the same code as the protocol's ``runs/search``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Max, QuerySet
from django.http import Http404, HttpRequest

from modelworks.core.views.base import ListPageMixin, ProjectPageView
from modelworks.tracking.models import Experiment, LatestMetric, LifecycleStage, Param, Run
from modelworks.tracking.search import (
    SearchSyntaxError,
    parse_run_filter,
    parse_run_order_by,
    search_runs_queryset,
)

__all__ = ["ExperimentListView", "ExperimentPageView", "ExperimentView"]

DEFAULT_COLUMNS = 4  # metrics and params shown when the user chose none (each)


class ExperimentListView(ListPageMixin, ProjectPageView):
    """The project's active experiments with their run count and last run, newest activity first."""

    template_name = "tracking/experiments.html"
    fragment_template_name = "tracking/partials/experiment_table.html"
    title = "Experiments"
    nav = "experiments"

    def get_queryset(self) -> QuerySet:
        return (
            Experiment.objects.filter(project=self.project, lifecycle_stage=LifecycleStage.ACTIVE)
            .annotate(run_count=Count("runs"), last_run=Max("runs__start_time"))
            .select_related("created_by")
            .order_by("-last_update_time", "name")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.list_context())
        context["tracking_uri"] = self.request.build_absolute_uri(f"/mlflow/{self.project.slug}")
        return context


class ExperimentPageView(ProjectPageView):
    """A page of one experiment of the project (404 otherwise)."""

    nav = "experiments"
    experiment: Experiment

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        found = Experiment.objects.filter(project=self.project, pk=self.kwargs["experiment_id"]).first()
        if found is None:
            raise Http404(f"No experiment {self.kwargs['experiment_id']} in project '{self.project.slug}'.")
        self.experiment = found

    def get_title(self) -> str:
        return f"{self.experiment.name} · {self.project.name}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["experiment"] = self.experiment
        return context


def _duration(run: Run) -> str:
    if run.start_time is None or run.end_time is None:
        return ""
    seconds = max(0, (run.end_time - run.start_time) / 1000)
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class ExperimentView(ExperimentPageView):
    """The runs of an experiment: status, duration, chosen params/metrics, sort, filter, select to compare.

    Query string: ``filter`` (MLflow filter), ``order`` (an order_by clause, e.g. ``metrics.rmse DESC``),
    ``metric``/``param`` (repeated: the columns), ``page``.
    """

    template_name = "tracking/experiment.html"
    fragment_template_name = "tracking/partials/run_table.html"
    paginate_by = 50

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET
        metric_keys = sorted(
            LatestMetric.objects.filter(run__experiment=self.experiment)
            .values_list("key", flat=True)
            .distinct()
        )
        param_keys = sorted(
            Param.objects.filter(run__experiment=self.experiment).values_list("key", flat=True).distinct()
        )
        chosen_metrics = [k for k in query.getlist("metric") if k in metric_keys] or metric_keys[
            :DEFAULT_COLUMNS
        ]
        chosen_params = [k for k in query.getlist("param") if k in param_keys] or param_keys[:DEFAULT_COLUMNS]
        filter_text = query.get("filter", "").strip()
        order_text = query.get("order", "").strip()
        error = ""
        queryset = Run.objects.filter(experiment=self.experiment, lifecycle_stage=LifecycleStage.ACTIVE)
        try:
            queryset = search_runs_queryset(
                queryset,
                parse_run_filter(filter_text),
                parse_run_order_by([order_text] if order_text else []),
            )
        except SearchSyntaxError as exc:
            error = str(exc)
            queryset = queryset.none()
        page = Paginator(queryset, self.paginate_by).get_page(query.get("page"))
        runs = list(page.object_list)
        ids = [r.run_uuid for r in runs]
        metrics: dict[str, dict[str, Any]] = defaultdict(dict)
        for run_id, key, value, is_nan in LatestMetric.objects.filter(
            run_id__in=ids, key__in=chosen_metrics
        ).values_list("run_id", "key", "value", "is_nan"):
            metrics[run_id][key] = "NaN" if is_nan else value
        params: dict[str, dict[str, str]] = defaultdict(dict)
        for run_id, key, value in Param.objects.filter(run_id__in=ids, key__in=chosen_params).values_list(
            "run_id", "key", "value"
        ):
            params[run_id][key] = value
        rows = [
            {
                "run": run,
                "duration": _duration(run),
                "metrics": [metrics[run.run_uuid].get(k) for k in chosen_metrics],
                "params": [params[run.run_uuid].get(k, "") for k in chosen_params],
            }
            for run in runs
        ]
        context.update(
            rows=rows,
            page_obj=page,
            metric_keys=metric_keys,
            param_keys=param_keys,
            chosen_metrics=chosen_metrics,
            chosen_params=chosen_params,
            filter_text=filter_text,
            order_text=order_text,
            filter_error=error,
            list_url=self.request.path,
        )
        return context
