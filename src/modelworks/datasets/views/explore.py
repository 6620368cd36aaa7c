"""Explore (a paginated, sortable, filterable page of rows) and the profile (charts per column)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.jobs import enqueue
from modelworks.core.models import Job, JobState, Role
from modelworks.core.views.base import done
from modelworks.datasets import services
from modelworks.datasets.views.base import DatasetPageView
from modelworks.engine.errors import EngineError
from modelworks.engine.explore import OPERATORS, Filter, Sort, sample_page

__all__ = ["ExploreView", "ProfileRunView", "ProfileView", "filters_from_query", "sort_from_query"]

PAGE_SIZES = (25, 50, 100, 250)
_NO_VALUE = {"is_null", "not_null"}
_LISTS = {"in", "not_in", "between"}


def filters_from_query(query: Any) -> list[Filter]:
    """Filters from parallel ``fc`` (column), ``fo`` (operator), ``fv`` (value) parameters.

    ``in``, ``not_in`` and ``between`` take comma-separated values.
    """
    filters = []
    for column, op, value in zip(query.getlist("fc"), query.getlist("fo"), query.getlist("fv"), strict=False):
        if not column or not op:
            continue
        if op in _NO_VALUE:
            filters.append(Filter(column, op))
        elif op in _LISTS:
            filters.append(Filter(column, op, [v.strip() for v in value.split(",")]))
        else:
            filters.append(Filter(column, op, value))
    return filters


def sort_from_query(query: Any) -> list[Sort]:
    """Sort keys from ``sort`` parameters: ``column`` ascending, ``-column`` descending."""
    return [
        Sort(key[1:], False) if key.startswith("-") else Sort(key, True)
        for key in query.getlist("sort")
        if key.strip("-")
    ]


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


class ExploreView(DatasetPageView):
    """Rows of a version, page by page; the table is an HTMX fragment (audited as data.accessed)."""

    template_name = "datasets/explore.html"
    fragment_template_name = "datasets/partials/explore_table.html"
    tab = "explore"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        version = context["version"]
        query = self.request.GET
        size = _int(query.get("size"), 50)
        size = size if size in PAGE_SIZES else 50
        page_number = max(1, _int(query.get("page"), 1))
        filters, sort = filters_from_query(query), sort_from_query(query)
        context.update(
            operators=OPERATORS,
            page_sizes=PAGE_SIZES,
            size=size,
            page_number=page_number,
            filters=filters,
            sort=sort[0] if sort else None,
            error="",
        )
        if version is None:
            return context
        try:
            page = sample_page(
                services.version_path(version),
                offset=(page_number - 1) * size,
                limit=size,
                sort=sort,
                filters=filters,
            )
        except EngineError as exc:
            context["error"] = str(exc)
            return context
        services.record_access(
            version,
            actor=self.request.user,
            what="explore",
            request=self.request,
            details={"offset": page.offset, "rows": len(page.rows), "filters": len(filters)},
        )
        last_page = max(1, -(-page.total // size))
        context.update(links(self.request.GET, page.columns, filters, sort[0] if sort else None, page_number))
        context.update(
            page=page,
            rows=[[_cell(v) for v in row] for row in page.rows],
            last_page=last_page,
            first_row=page.offset + 1 if page.rows else 0,
            last_row=page.offset + len(page.rows),
        )
        return context


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _query(pairs: list[tuple[str, str]]) -> str:
    return "?" + urlencode(pairs) if pairs else "?"


def links(
    query: Any, columns: Any, filters: list[Filter], sort: Sort | None, page_number: int
) -> dict[str, Any]:
    """URLs (query strings) of the explore table: sort by each column, remove each filter, pages."""
    keep = [(k, v) for k in ("version", "size") for v in query.getlist(k)]
    filter_pairs = [
        [
            ("fc", f.column),
            ("fo", f.op),
            ("fv", ",".join(map(str, f.value)) if isinstance(f.value, list) else str(f.value or "")),
        ]
        for f in filters
    ]
    sort_pairs = [("sort", ("" if sort.ascending else "-") + sort.column)] if sort else []
    headers = []
    for column in columns:
        ascending_now = sort is not None and sort.column == column.name and sort.ascending
        key = ("-" if ascending_now else "") + column.name
        state = (
            "ascending"
            if ascending_now
            else ("descending" if sort is not None and sort.column == column.name else "none")
        )
        headers.append(
            {
                "name": column.name,
                "type": column.type,
                "sort_url": _query(keep + [p for f in filter_pairs for p in f] + [("sort", key)]),
                "aria_sort": state,
            }
        )
    removals = [
        _query(keep + [p for j, f in enumerate(filter_pairs) if j != i for p in f] + sort_pairs)
        for i in range(len(filters))
    ]
    base = keep + [p for f in filter_pairs for p in f] + sort_pairs
    return {
        "headers": headers,
        "filter_chips": [
            {"filter": f, "label": OPERATORS.get(f.op, f.op), "value": _shown(f.value), "remove_url": url}
            for f, url in zip(filters, removals, strict=True)
        ],
        "page_query": base,
        "prev_url": _query([*base, ("page", str(page_number - 1))]),
        "next_url": _query([*base, ("page", str(page_number + 1))]),
        "hidden_filters": [p for f in filter_pairs for p in f] + sort_pairs,
    }


def _cell(value: Any) -> str | None:
    """A cell as text for the table (dates ISO, timestamps with a space, None kept for "empty")."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


class ProfileView(DatasetPageView):
    """Per-column statistics and charts of a version; polls while its profile job runs."""

    template_name = "datasets/profile.html"
    fragment_template_name = "datasets/partials/profile_body.html"
    tab = "profile"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        version = context["version"]
        profile = getattr(version, "profile", None) if version is not None else None
        pending = False
        if version is not None and profile is None:
            pending = Job.objects.filter(
                project=self.project,
                kind="datasets.profile",
                params__version_id=version.pk,
                state__in=[JobState.QUEUED, JobState.RUNNING],
            ).exists()
        context.update(profile=profile, pending=pending, columns=profile.data["columns"] if profile else [])
        return context


class ProfileRunView(ProfileView):
    """Compute the profile of a version again (contributors)."""

    http_method_names = ["post"]
    write_role = Role.CONTRIBUTOR

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = self.get_version()
        url = reverse("datasets:profile", args=[self.project.slug, self.dataset.pk])
        if version is None:
            return done(request, url, "This dataset has no version to profile yet.")
        enqueue(
            "datasets.profile",
            title=f"Profile {self.dataset.name} v{version.number}",
            project=self.project,
            created_by=request.user,
            params={"version_id": version.pk},
            request=request,
        )
        return done(request, f"{url}?version={version.number}", f"Profiling version {version.number}.")
