"""Explore a dataset version: filtered, sorted pages of rows, straight from its Parquet file.

Public API:

* ``sample_page(version_path, *, offset, limit, sort, filters, columns) -> Page``
* ``Filter(column, op, value)``, ``Sort(column, ascending)``, ``OPERATORS``, ``MAX_PAGE_SIZE``
* Errors: ``ExploreError`` → ``UnknownColumnError``, ``InvalidFilterError``, ``InvalidSortError``,
  ``InvalidPageError``.
"""

from __future__ import annotations

from modelworks.engine.explore.errors import (
    ExploreError,
    InvalidFilterError,
    InvalidPageError,
    InvalidSortError,
    UnknownColumnError,
)
from modelworks.engine.explore.filters import OPERATORS, Filter, Sort
from modelworks.engine.explore.page import MAX_PAGE_SIZE, Page, sample_page

__all__ = [
    "MAX_PAGE_SIZE",
    "OPERATORS",
    "ExploreError",
    "Filter",
    "InvalidFilterError",
    "InvalidPageError",
    "InvalidSortError",
    "Page",
    "Sort",
    "UnknownColumnError",
    "sample_page",
]
