"""Errors of the explore package: a page request that cannot be answered as asked."""

from __future__ import annotations

from modelworks.engine.errors import EngineError

__all__ = ["ExploreError", "InvalidFilterError", "InvalidPageError", "InvalidSortError", "UnknownColumnError"]


class ExploreError(EngineError):
    """Base of the errors of ``modelworks.engine.explore``."""

    code = "explore_error"


class UnknownColumnError(ExploreError):
    """A filter, sort or column list names a column the dataset version does not have."""

    code = "unknown_column"


class InvalidFilterError(ExploreError):
    """A filter has an unknown operator, or a value that does not fit its column."""

    code = "invalid_filter"


class InvalidSortError(ExploreError):
    """A sort key cannot be used (e.g. a nested column)."""

    code = "invalid_sort"


class InvalidPageError(ExploreError):
    """Offset or limit out of range."""

    code = "invalid_page"
