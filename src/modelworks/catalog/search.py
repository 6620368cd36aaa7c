"""The catalog search: datasets of every project the user may read, by name, description, column,
tag and owner, with facets (project, tag, owner).

Every query starts from ``Dataset.objects.visible_to(user)``, and the facets are counted on the same
rows, so neither results nor counts ever reveal another project's datasets. Each word of the query
must match somewhere (name, description, a tag, a column name or description, the owner's user name);
tags and columns are matched through the catalog's own indexed rows (``CatalogTag``,
``CatalogColumn``) with ``IN (subquery)``, so there is no join fan-out and no DISTINCT. Results whose
*name* matches come first: exact, then prefix, then anywhere; then tag, column and other matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When

from modelworks.catalog.models import CatalogColumn, CatalogTag

__all__ = ["MAX_WORDS", "Facet", "SearchQuery", "facets", "search_datasets"]

MAX_WORDS = 8
FACET_SIZE = 15


@dataclass(frozen=True)
class SearchQuery:
    """What the user asked: free text and the facet values chosen (empty: not filtered)."""

    q: str = ""
    project: str = ""
    tag: str = ""
    owner: str = ""

    @property
    def words(self) -> list[str]:
        return self.q.split()[:MAX_WORDS]


@dataclass
class Facet:
    """One value of a facet, with how many results have it."""

    value: str
    label: str
    count: int
    selected: bool = False
    url: str = ""  # set by the page: this search with the facet toggled


@dataclass
class Facets:
    projects: list[Facet] = field(default_factory=list)
    tags: list[Facet] = field(default_factory=list)
    owners: list[Facet] = field(default_factory=list)


def _datasets() -> Any:
    from modelworks.datasets.models import Dataset  # the datasets app owns the model

    return Dataset


def _matching(queryset: QuerySet, words: list[str]) -> QuerySet:
    for word in words:
        tagged = CatalogTag.objects.filter(tag__icontains=word).values("dataset_id")
        columns = CatalogColumn.objects.filter(Q(name__icontains=word) | Q(description__icontains=word))
        queryset = queryset.filter(
            Q(name__icontains=word)
            | Q(description__icontains=word)
            | Q(owner__username__icontains=word)
            | Q(pk__in=tagged)
            | Q(pk__in=columns.values("dataset_id"))
        )
    return queryset


def _filtered(queryset: QuerySet, query: SearchQuery, *, skip: str = "") -> QuerySet:
    if query.project and skip != "project":
        queryset = queryset.filter(project__slug=query.project)
    if query.tag and skip != "tag":
        queryset = queryset.filter(pk__in=CatalogTag.objects.filter(tag=query.tag).values("dataset_id"))
    if query.owner and skip != "owner":
        queryset = queryset.filter(owner__username=query.owner)
    return queryset


def _ranked(queryset: QuerySet, q: str) -> QuerySet:
    if not q:
        return queryset.order_by("name", "project__slug", "pk")
    rank = Case(
        When(name__iexact=q, then=Value(0)),
        When(name__istartswith=q, then=Value(1)),
        When(name__icontains=q, then=Value(2)),
        When(pk__in=CatalogTag.objects.filter(tag__iexact=q).values("dataset_id"), then=Value(3)),
        When(pk__in=CatalogColumn.objects.filter(name__iexact=q).values("dataset_id"), then=Value(4)),
        default=Value(5),
        output_field=IntegerField(),
    )
    return queryset.annotate(rank=rank).order_by("rank", "name", "project__slug", "pk")


def search_datasets(user: Any, query: SearchQuery) -> QuerySet:
    """The datasets ``user`` may read that match ``query``, best first, ready to show.

    Each result has ``catalog_tags`` prefetched, ``matched_columns`` (columns matching a word of the
    query) and ``latest_rows``/``latest_quality``/``latest_number`` from its newest version.
    """
    from modelworks.datasets.models import DatasetVersion

    words = query.words
    queryset = _filtered(_matching(_datasets().objects.visible_to(user), words), query)
    column_match = Q()
    for word in words:
        column_match |= Q(name__icontains=word) | Q(description__icontains=word)
    matched_columns = CatalogColumn.objects.filter(column_match) if words else CatalogColumn.objects.none()
    latest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-number")
    return (
        _ranked(queryset, query.q.strip())
        .select_related("project", "owner", "pinned_version")
        .annotate(
            latest_number=Subquery(latest.values("number")[:1]),
            latest_rows=Subquery(latest.values("row_count")[:1]),
            latest_quality=Subquery(latest.values("quality_status")[:1]),
        )
        .prefetch_related(
            "catalog_tags", Prefetch("catalog_columns", queryset=matched_columns, to_attr="matched_columns")
        )
    )


def facets(user: Any, query: SearchQuery) -> Facets:
    """Counts per project, tag and owner among the results; each facet ignores its own filter, so
    another value of it can be chosen."""
    base = _matching(_datasets().objects.visible_to(user), query.words)
    result = Facets()
    projects = (
        _filtered(base, query, skip="project")
        .values("project__slug", "project__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "project__name")[:FACET_SIZE]
    )
    result.projects = [
        Facet(p["project__slug"], p["project__name"], p["n"], p["project__slug"] == query.project)
        for p in projects
    ]
    tags = (
        CatalogTag.objects.filter(dataset__in=_filtered(base, query, skip="tag").values("pk"))
        .values("tag")
        .annotate(n=Count("dataset_id"))
        .order_by("-n", "tag")[:FACET_SIZE]
    )
    result.tags = [Facet(t["tag"], t["tag"], t["n"], t["tag"] == query.tag) for t in tags]
    owners = (
        _filtered(base, query, skip="owner")
        .exclude(owner=None)
        .values("owner__username")
        .annotate(n=Count("pk"))
        .order_by("-n", "owner__username")[:FACET_SIZE]
    )
    result.owners = [
        Facet(o["owner__username"], o["owner__username"], o["n"], o["owner__username"] == query.owner)
        for o in owners
    ]
    return result
