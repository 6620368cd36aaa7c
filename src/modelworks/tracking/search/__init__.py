"""MLflow's search language for runs and experiments: a parser and its compiler to Django queries.

Public API: ``parse_run_filter``, ``parse_run_order_by``, ``parse_experiment_filter``,
``parse_experiment_order_by``, ``SearchSyntaxError`` (parser); ``search_runs_queryset``,
``filter_experiments``, ``order_experiments`` (queries).
"""

from modelworks.tracking.search.parser import (
    Comparison,
    OrderBy,
    SearchSyntaxError,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_run_filter,
    parse_run_order_by,
)
from modelworks.tracking.search.queries import (
    filter_experiments,
    filter_runs,
    order_experiments,
    order_runs,
    search_runs_queryset,
)

__all__ = [
    "Comparison",
    "OrderBy",
    "SearchSyntaxError",
    "filter_experiments",
    "filter_runs",
    "order_experiments",
    "order_runs",
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "parse_run_filter",
    "parse_run_order_by",
    "search_runs_queryset",
]
