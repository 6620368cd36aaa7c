"""One page of a dataset version: the rows a table view shows, plus the number of matching rows.

DuckDB answers straight from the Parquet file: filters are pushed into the scan (row groups whose
statistics exclude the filter are skipped), ``ORDER BY … LIMIT`` is a top-N that never sorts the
whole file, and the total comes from the footer when there is no filter. A stable tie-breaker (the
row's position in the file) keeps pages consistent when sort keys repeat.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelworks.engine.duck import connect, quote_identifier, run_with_timeout
from modelworks.engine.explore.errors import ExploreError, InvalidPageError
from modelworks.engine.explore.filters import Filter, Sort, resolve_column, sort_sql, where_sql
from modelworks.engine.io.duck_errors import first_line
from modelworks.engine.io.schema import ColumnSchema, read_schema

if TYPE_CHECKING:
    import duckdb

__all__ = ["MAX_PAGE_SIZE", "Page", "sample_page"]

#: The most rows one page may hold.
MAX_PAGE_SIZE = 1000

_ROW = "file_row_number"


@dataclass(frozen=True)
class Page:
    """Rows of a dataset version.

    Attributes:
        columns: the schema of the returned columns, in order.
        rows: the rows, as tuples of Python values (in ``columns`` order).
        total: how many rows match the filters (the whole version when there are none).
        offset, limit: the window that was asked for.
        elapsed: seconds spent answering.
    """

    columns: tuple[ColumnSchema, ...]
    rows: list[tuple[Any, ...]]
    total: int
    offset: int
    limit: int
    elapsed: float


def sample_page(
    version_path: str | os.PathLike[str],
    *,
    offset: int = 0,
    limit: int = 50,
    sort: Sequence[Sort | tuple[str, bool]] = (),
    filters: Sequence[Filter | tuple[Any, ...]] = (),
    columns: Sequence[str] | None = None,
    timeout_seconds: float | None = 30.0,
) -> Page:
    """Return rows ``offset .. offset+limit`` of a version, filtered and sorted.

    Args:
        version_path: the version's Parquet file.
        offset: rows to skip (0-based).
        limit: rows to return, 1 to :data:`MAX_PAGE_SIZE`.
        sort: ``(column, ascending)`` pairs or :class:`Sort`, most significant first.
        filters: ``(column, op, value)`` triples or :class:`Filter`, all of which must hold.
        columns: the columns to return (default: all).
        timeout_seconds: stop a query running longer than this.

    Raises:
        ExploreError: (a subclass of) for an unknown column, bad filter, bad page window or timeout.
        VersionNotFoundError: the version file is missing.
    """
    started = time.perf_counter()
    if not isinstance(offset, int) or offset < 0:
        raise InvalidPageError(f"offset must be a whole number ≥ 0, not {offset!r}", offset=offset)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidPageError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit!r}", limit=limit)
    schema = read_schema(version_path)
    chosen = tuple(resolve_column(name, schema, "the column list") for name in columns) if columns else schema
    path = os.path.abspath(version_path)
    con = connect(read=[path])
    try:
        where, params = where_sql(con, filters, schema)
        order = sort_sql(sort, schema)
        has_row_column = any(c.name.lower() == _ROW for c in schema)
        if order and not has_row_column:
            order.append(_ROW)  # tie-breaker: equal keys keep file order, so pages never overlap
        source = f"read_parquet($path{', file_row_number = true' if order and not has_row_column else ''})"
        select = ", ".join(quote_identifier(c.name) for c in chosen)
        query = (
            f"SELECT {select} FROM {source} {where} "  # noqa: S608 - identifiers quoted, values bound
            f"{'ORDER BY ' + ', '.join(order) if order else ''} LIMIT {limit} OFFSET {offset}"
        )
        params["path"] = path

        def work() -> tuple[list[tuple[Any, ...]], int]:
            return con.execute(query, params).fetchall(), _total(con, path, where, params)

        def too_slow() -> ExploreError:
            return ExploreError(
                f"the page took longer than {timeout_seconds} s to compute; add a filter or sort by another column"
            )

        import duckdb  # here: the web server imports this module at start, DuckDB only when paging

        try:
            rows, total = run_with_timeout(con, timeout_seconds, work, too_slow)
        except duckdb.Error as exc:
            raise ExploreError(f"the page could not be computed: {first_line(str(exc))}") from exc
    finally:
        con.close()
    return Page(
        columns=chosen,
        rows=rows,
        total=total,
        offset=offset,
        limit=limit,
        elapsed=round(time.perf_counter() - started, 4),
    )


def _total(con: duckdb.DuckDBPyConnection, path: str, where: str, params: dict[str, Any]) -> int:
    if not where:
        row = con.execute("SELECT sum(num_rows) FROM parquet_file_metadata($path)", {"path": path}).fetchone()
    else:
        row = con.execute(f"SELECT count(*) FROM read_parquet($path) {where}", params).fetchone()  # noqa: S608
    return int(row[0]) if row and row[0] is not None else 0
