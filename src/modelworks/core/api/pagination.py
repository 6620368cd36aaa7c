"""Limit/offset pagination of every API list: ``{"items": […], "count": N, "limit": L, "offset": O}``.

``count`` is the number of items matching the query, whatever the page, so a client knows when to
stop: fetch again with ``offset += limit`` while ``offset + limit < count``. ``limit`` is at most
500; a larger value is refused with a validation error rather than silently cut, so a script never
mistakes a short page for the end of the list.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

__all__ = ["MAX_LIMIT", "PageQuery", "Pagination"]

MAX_LIMIT = 500
DEFAULT_LIMIT = getattr(settings, "NINJA_PAGINATION_PER_PAGE", 50)


class PageQuery(Schema):
    """The query parameters of every list."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")
    offset: int = Field(0, ge=0, description="How many items to skip.")


class Pagination(PaginationBase):
    """The pagination class of the whole API (``NINJA_PAGINATION_CLASS``)."""

    Input = PageQuery

    class Output(Schema):
        items: list[Any]
        count: int = Field(description="Number of items matching the query, on all pages.")
        limit: int
        offset: int

    def paginate_queryset(
        self, queryset: QuerySet | list[Any], pagination: PageQuery, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        offset, limit = pagination.offset, pagination.limit
        return {
            "items": list(queryset[offset : offset + limit]),
            "count": self._items_count(queryset),
            "limit": limit,
            "offset": offset,
        }
