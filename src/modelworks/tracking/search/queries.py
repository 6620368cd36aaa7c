"""Compile parsed filters and order_by clauses into Django querysets (bound parameters only).

Metric, param and tag conditions join their table once per key, on ``(run, key)`` (each is unique
per run: a latest metric, a param, a tag), through ``FilteredRelation``: a filter and a sort on the
same metric share one join, and the join hits the ``(run, key)`` unique index. Dataset conditions
are ``EXISTS`` subqueries (a run may have several inputs). Values are never formatted into SQL.

``LIKE`` is case-sensitive and ``ILIKE`` case-insensitive on every database, as in MLflow: on
SQLite (whose ``LIKE`` ignores ASCII case) ``LIKE`` becomes ``GLOB`` with the pattern translated.
"""

from __future__ import annotations

from typing import Any

from django.db.models import (
    CharField,
    Exists,
    Expression,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models import (
    OrderBy as SqlOrderBy,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Concat
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    LessThan,
    LessThanOrEqual,
    Lookup,
)

from modelworks.tracking.models import ExperimentTag, RunInput
from modelworks.tracking.search.parser import Comparison, OrderBy

__all__ = ["filter_experiments", "filter_runs", "order_experiments", "order_runs", "search_runs_queryset"]


class NotEqual(Lookup):
    lookup_name = "mlflow_ne"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} <> {rhs}", [*lhs_params, *rhs_params]


class NotIn(In):
    lookup_name = "mlflow_not_in"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sql, params = super().as_sql(compiler, connection)
        return f"NOT ({sql})", params


def _glob_pattern(like: str) -> str:
    """A SQL LIKE pattern as an SQLite GLOB pattern (GLOB is case-sensitive)."""
    special = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}
    return "".join(special.get(ch, ch) for ch in like)


class Like(Lookup):
    """MLflow's LIKE (case-sensitive) or, with ``case_sensitive = False``, ILIKE."""

    lookup_name = "mlflow_like"
    prepare_rhs = False
    case_sensitive = True

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        pattern = str(self.rhs)
        if connection.vendor == "sqlite":
            if self.case_sensitive:
                return f"{lhs} GLOB %s", [*lhs_params, _glob_pattern(pattern)]
            return f"{lhs} LIKE %s", [*lhs_params, pattern]
        if connection.vendor == "postgresql":
            operator = "LIKE" if self.case_sensitive else "ILIKE"
            return f"{lhs}::text {operator} %s", [*lhs_params, pattern]
        if self.case_sensitive:
            return f"{lhs} LIKE %s", [*lhs_params, pattern]
        return f"UPPER({lhs}) LIKE UPPER(%s)", [*lhs_params, pattern]


class ILike(Like):
    lookup_name = "mlflow_ilike"
    case_sensitive = False


_LOOKUPS: dict[str, type[Lookup]] = {
    "=": Exact,
    "!=": NotEqual,
    "<": LessThan,
    "<=": LessThanOrEqual,
    ">": GreaterThan,
    ">=": GreaterThanOrEqual,
    "LIKE": Like,
    "ILIKE": ILike,
    "IN": In,
    "NOT IN": NotIn,
}

_RUN_FIELDS = {
    "run_id": "run_uuid",
    "run_name": "name",
    "status": "status",
    "user_id": "user_id",
    "start_time": "start_time",
    "end_time": "end_time",
}
_EXPERIMENT_FIELDS = {
    "name": "name",
    "experiment_id": "id",
    "creation_time": "creation_time",
    "last_update_time": "last_update_time",
}
_RELATIONS = {"metric": "latest_metrics", "param": "params", "tag": "tags"}


def _condition(lhs: Expression | F, comparison: Comparison) -> Lookup:
    value: Any = comparison.value
    if comparison.op in ("IN", "NOT IN"):
        value = list(value)
    if comparison.entity == "attribute" and comparison.key == "experiment_id":
        try:
            value = [int(v) for v in value] if isinstance(value, list) else int(value)
        except (TypeError, ValueError):
            value = [-1] if isinstance(value, list) else -1  # no experiment has that ID
    return _LOOKUPS[comparison.op](lhs, value)


class _Joins:
    """One ``FilteredRelation`` per (entity, key): shared by filters and sorts on that key."""

    def __init__(self) -> None:
        self.aliases: dict[tuple[str, str], str] = {}
        self.relations: dict[str, FilteredRelation] = {}

    def value(self, entity: str, key: str) -> F:
        alias = self.aliases.get((entity, key))
        if alias is None:
            alias = f"mlflow_{entity}_{len(self.aliases)}"
            relation = _RELATIONS[entity]
            self.aliases[(entity, key)] = alias
            self.relations[alias] = FilteredRelation(relation, condition=Q(**{f"{relation}__key": key}))
        return F(f"{alias}__value")

    def apply(self, queryset: QuerySet) -> QuerySet:
        new = {a: r for a, r in self.relations.items() if a not in queryset.query.annotations}
        return queryset.alias(**new) if new else queryset


def _artifact_uri() -> Concat:
    return Concat(
        Value("mlflow-artifacts:/"),
        Cast("experiment_id", CharField()),
        Value("/"),
        F("run_uuid"),
        Value("/artifacts"),
        output_field=CharField(),
    )


def _run_attribute(key: str) -> Expression | F:
    if key == "artifact_uri":
        return _artifact_uri()
    return F(_RUN_FIELDS[key])


def _dataset_condition(comparison: Comparison) -> Exists:
    if comparison.key == "context":
        lhs: Expression | F = KeyTextTransform("mlflow.data.context", "tags")
    else:
        lhs = F(f"dataset__{comparison.key}")
    inputs = RunInput.objects.filter(run=OuterRef("pk")).filter(_condition(lhs, comparison))
    return Exists(inputs)


def filter_runs(queryset: QuerySet, comparisons: list[Comparison], joins: _Joins | None = None) -> QuerySet:
    """``queryset`` (of ``Run``) narrowed by the parsed filter ``comparisons``."""
    joins = joins or _Joins()
    conditions: list[Any] = []
    for comparison in comparisons:
        if comparison.op in ("IS NULL", "IS NOT NULL"):
            model = _RELATIONS[comparison.entity]
            related = queryset.model._meta.get_field(model).related_model
            exists = Exists(related.objects.filter(run=OuterRef("pk"), key=comparison.key))
            conditions.append(exists if comparison.op == "IS NOT NULL" else ~exists)
        elif comparison.entity in _RELATIONS:
            conditions.append(_condition(joins.value(comparison.entity, comparison.key), comparison))
        elif comparison.entity == "dataset":
            conditions.append(_dataset_condition(comparison))
        else:
            conditions.append(_condition(_run_attribute(comparison.key), comparison))
    queryset = joins.apply(queryset)
    return queryset.filter(*conditions) if conditions else queryset


def order_runs(queryset: QuerySet, orders: list[OrderBy], joins: _Joins | None = None) -> QuerySet:
    """``queryset`` sorted as MLflow sorts: the given keys (missing values last), then the newest
    start first, then the run ID."""
    joins = joins or _Joins()
    clauses: list[SqlOrderBy] = []
    seen: set[str] = set()
    for order in orders:
        if order.entity in _RELATIONS:
            expression: Any = joins.value(order.entity, order.key)
        else:
            expression = _run_attribute(order.key)
            seen.add(order.key)
        clauses.append(
            expression.asc(nulls_last=True) if order.ascending else expression.desc(nulls_last=True)
        )
    if "start_time" not in seen:
        clauses.append(F("start_time").desc(nulls_last=True))
    if "run_id" not in seen:
        clauses.append(F("run_uuid").asc())
    return joins.apply(queryset).order_by(*clauses)


def search_runs_queryset(
    queryset: QuerySet, comparisons: list[Comparison], orders: list[OrderBy]
) -> QuerySet:
    """Filter and sort in one go, sharing the joins of keys used by both."""
    joins = _Joins()
    return order_runs(filter_runs(queryset, comparisons, joins), orders, joins)


def filter_experiments(queryset: QuerySet, comparisons: list[Comparison]) -> QuerySet:
    """``queryset`` (of ``Experiment``) narrowed by an experiments filter."""
    conditions: list[Any] = []
    for comparison in comparisons:
        if comparison.entity == "tag":
            tags = ExperimentTag.objects.filter(experiment=OuterRef("pk"), key=comparison.key)
            conditions.append(Exists(tags.filter(_condition(F("value"), comparison))))
        else:
            conditions.append(_condition(F(_EXPERIMENT_FIELDS[comparison.key]), comparison))
    return queryset.filter(*conditions) if conditions else queryset


def order_experiments(queryset: QuerySet, orders: list[OrderBy]) -> QuerySet:
    """Sorted by the given attributes, then newest first and by ID (MLflow's default)."""
    clauses: list[SqlOrderBy] = []
    seen: set[str] = set()
    for order in orders:
        field = F(_EXPERIMENT_FIELDS[order.key])
        seen.add(order.key)
        clauses.append(field.asc(nulls_last=True) if order.ascending else field.desc(nulls_last=True))
    if "creation_time" not in seen:
        clauses.append(F("creation_time").desc())
    if "experiment_id" not in seen:
        clauses.append(F("id").asc())
    return queryset.order_by(*clauses)
