"""Searching runs (filter strings, order_by, pages) and reading a metric's history.

A search is a fixed number of queries whatever the page size: one for the page of runs (filter,
sort, limit in SQL), then one per related table for the whole page (see ``serialize.runs_json``).
"""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Project, Role
from modelworks.tracking.models import Experiment, Metric, Run
from modelworks.tracking.protocol import MlflowCall, mlflow_endpoint, require_param
from modelworks.tracking.rest.common import (
    as_list,
    make_page_token,
    max_results,
    page_offset,
    search_error,
    view_stages,
)
from modelworks.tracking.rest.serialize import RUN_INFO_FIELDS, metric_points_json, runs_json
from modelworks.tracking.search import (
    SearchSyntaxError,
    parse_run_filter,
    parse_run_order_by,
    search_runs_queryset,
)
from modelworks.tracking.services.experiments import DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME
from modelworks.tracking.services.runs import find_run
from modelworks.tracking.validation import MAX_SEARCH_RESULTS, invalid

__all__ = ["experiment_pks", "get_metric_history", "search_runs"]

MAX_HISTORY_PAGE = 25000


def experiment_pks(project: Project, experiment_ids: list[Any]) -> list[int]:
    """The primary keys of the given experiment IDs that exist in ``project`` (``"0"``: Default).

    Unknown IDs select nothing (as in MLflow's SQL store); malformed IDs are refused.
    """
    wanted: set[int] = set()
    default = False
    for raw in experiment_ids:
        text = str(raw).strip()
        if text == DEFAULT_EXPERIMENT_ID:
            default = True
            continue
        try:
            wanted.add(int(text))
        except ValueError:
            raise invalid(
                f"Invalid experiment ID '{raw}' in 'experiment_ids': experiment IDs are integers."
            ) from None
    queryset = Experiment.objects.filter(project=project)
    found = list(queryset.filter(pk__in=wanted).values_list("pk", flat=True)) if wanted else []
    if default:
        found += list(queryset.filter(name=DEFAULT_EXPERIMENT_NAME).values_list("pk", flat=True))
    return sorted(set(found))


@mlflow_endpoint(Role.READER, methods=("POST", "GET"))
def search_runs(call: MlflowCall) -> dict[str, Any]:
    limit = max_results(call.get("max_results"), default=1000, limit=MAX_SEARCH_RESULTS)
    offset = page_offset(call.get("page_token"))
    stages = view_stages(call.get("run_view_type"), "run_view_type")
    try:
        comparisons = parse_run_filter(call.get("filter"))
        orders = parse_run_order_by(as_list(call.get("order_by")))
    except SearchSyntaxError as exc:
        raise search_error(exc, "run search") from exc
    experiments = experiment_pks(call.project, as_list(call.get("experiment_ids")))
    if not experiments:
        return {}
    queryset = Run.objects.filter(experiment_id__in=experiments, lifecycle_stage__in=stages)
    queryset = search_runs_queryset(queryset, comparisons, orders)
    rows = list(queryset.values_list(*RUN_INFO_FIELDS)[offset : offset + limit + 1])
    result: dict[str, Any] = {}
    page = rows[:limit]
    if page:
        result["runs"] = runs_json(page)
    if len(rows) > limit:
        result["next_page_token"] = make_page_token(offset + limit)
    return result


@mlflow_endpoint(Role.READER, methods=("GET",))
def get_metric_history(call: MlflowCall) -> dict[str, Any]:
    run = find_run(call.project, call.get("run_id") or call.get("run_uuid"))
    key = require_param(call.payload, "metric_key")
    limit = max_results(call.get("max_results"), default=0, limit=MAX_HISTORY_PAGE) or None
    offset = page_offset(call.get("page_token"))
    queryset = Metric.objects.filter(run=run, key=key).order_by("timestamp", "step", "value")
    points = list(queryset[offset : offset + limit + 1] if limit else queryset[offset:])
    result: dict[str, Any] = {}
    if limit and len(points) > limit:
        points = points[:limit]
        result["next_page_token"] = make_page_token(offset + limit)
    if points:
        result["metrics"] = metric_points_json(points)
    return result
