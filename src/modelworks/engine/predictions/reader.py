"""Reading the prediction log with DuckDB."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]

from modelworks.engine.duck import connect, quote_identifier
from modelworks.engine.errors import did_you_mean
from modelworks.engine.predictions.errors import UnknownPredictionColumnError
from modelworks.engine.predictions.layout import (
    SEGMENT_GLOB,
    check_source,
    list_days,
    segments_of_day,
)
from modelworks.engine.predictions.schema import (
    BASE_COLUMNS,
    BASE_SCHEMA,
    FEATURE_PREFIX,
    to_utc_naive,
)

__all__ = ["prediction_glob", "prediction_segments", "read_predictions"]

# A listing may race with ``compact`` swapping a day folder; it is then taken again.
_SNAPSHOT_ATTEMPTS = 20


def prediction_glob(root: Path, source: str) -> str:
    """The glob matching every finished segment of ``source`` (for DuckDB's ``read_parquet``).

    Use it with ``hive_partitioning=true, union_by_name=true``; staged files never match it.
    """
    return str(Path(root) / check_source(source) / "date=*" / SEGMENT_GLOB)


def prediction_segments(
    root: Path, source: str, *, start: datetime | None = None, end: datetime | None = None
) -> list[Path]:
    """The segments of the days that overlap ``[start, end)`` (UTC), oldest day first."""
    first = to_utc_naive(start).date() if start is not None else None
    last = _last_day(end)
    files: list[Path] = []
    for day in list_days(root, source):
        if (first is None or day >= first) and (last is None or day <= last):
            files.extend(segments_of_day(root, source, day))
    return files


def _last_day(end: datetime | None) -> date | None:
    if end is None:
        return None
    moment = to_utc_naive(end)
    # ``end`` is exclusive: midnight belongs to the previous day only.
    if moment.time() == datetime.min.time():
        return (moment - timedelta(microseconds=1)).date()
    return moment.date()


def _output_name(column: str) -> str:
    if column.startswith(FEATURE_PREFIX):
        stripped = column[len(FEATURE_PREFIX) :]
        # A feature called like a fixed column keeps its prefix, so nothing is shadowed.
        if stripped not in BASE_COLUMNS and stripped != "date":
            return stripped
    return column


def read_predictions(
    root: Path,
    source: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    columns: Sequence[str] | None = None,
    role: str | None = None,
) -> pa.Table:
    """Rows of the prediction log of ``source`` scored in ``[start, end)`` (UTC; bounds optional).

    Segments written by different model versions are combined by column name (a feature one
    version lacks is null there). Whole days outside the range are never opened. Feature columns
    come back without their ``in_`` prefix, so they match the reference dataset's column names
    (a feature named like a fixed column, e.g. ``prediction``, keeps ``in_prediction``).

    Args:
        root: the log's root folder.
        source: ``deployment-<id>`` or ``recipe-<id>``.
        start: first instant included; naive values are UTC.
        end: first instant excluded.
        columns: output columns to keep (fixed names or feature names), in this order.
        role: keep only rows of this role (``primary``, ``challenger``, ``shadow``).

    Returns:
        An Arrow table ordered by ``ts``; empty (fixed columns only) when nothing matches.

    Raises:
        UnknownPredictionColumnError: a requested column is in no segment of the range.
    """
    check_source(source)
    with _snapshot(root, source, start=start, end=end) as files:
        return _read(files, start=start, end=end, columns=columns, role=role)


@contextlib.contextmanager
def _snapshot(
    root: Path, source: str, *, start: datetime | None, end: datetime | None
) -> Iterator[list[Path]]:
    """Hard-link the segments to read into a private folder, so ``compact`` cannot pull them away.

    Linking is a metadata operation (no data is copied) and either sees a file or fails at once,
    so a listing that raced with a compaction is simply taken again. Where links are not possible
    (another file system, no write access) the segments are read in place.
    """
    base = Path(root) / source
    for _attempt in range(_SNAPSHOT_ATTEMPTS):
        files = prediction_segments(root, source, start=start, end=end)
        if not files:
            yield files
            return
        folder = base / f".read-{uuid.uuid4().hex}"
        try:
            linked = _link_all(files, folder)
        except FileNotFoundError:
            shutil.rmtree(folder, ignore_errors=True)
            continue  # a segment was swapped out by ``compact``: list again
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            yield files
            return
        try:
            yield linked
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    yield prediction_segments(root, source, start=start, end=end)


def _link_all(files: list[Path], folder: Path) -> list[Path]:
    linked = []
    for file in files:
        target = folder / file.parent.name / file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(file, target)
        linked.append(target)
    return linked


def _read(
    files: list[Path],
    *,
    start: datetime | None,
    end: datetime | None,
    columns: Sequence[str] | None,
    role: str | None,
) -> pa.Table:
    if not files:
        empty = BASE_SCHEMA.empty_table()
        if columns is not None:
            _check_columns(columns, {n: n for n in BASE_COLUMNS})
            return empty.select(list(columns))
        return empty
    con = connect(read=files)
    try:
        source_sql = "read_parquet($files, hive_partitioning = true, union_by_name = true)"
        described = con.sql(f"DESCRIBE SELECT * FROM {source_sql}", params={"files": [str(f) for f in files]})  # noqa: S608 - constant text, files bound
        stored = [str(row[0]) for row in described.fetchall() if row[0] != "date"]
        names = {_output_name(c): c for c in stored}
        wanted = list(columns) if columns is not None else list(names)
        _check_columns(wanted, names)
        select = ", ".join(f"{quote_identifier(names[n])} AS {quote_identifier(n)}" for n in wanted)
        where = []
        params: dict[str, Any] = {"files": [str(f) for f in files]}
        if start is not None:
            where.append("ts >= $start")
            params["start"] = to_utc_naive(start)
        if end is not None:
            where.append("ts < $end")
            params["end"] = to_utc_naive(end)
        if start is not None or end is not None:
            # Prunes day folders too, if a caller hands us more files than the range needs.
            where.append("date BETWEEN $first AND $last")
            params["first"] = to_utc_naive(start).date() if start is not None else date.min
            params["last"] = _last_day(end) or date.max
        if role is not None:
            where.append("role = $role")
            params["role"] = role
        sql = f"SELECT {select} FROM {source_sql}"  # noqa: S608 - quoted identifiers, values bound
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY ts, request_id, row_id"
        return con.sql(sql, params=params).to_arrow_table()
    finally:
        con.close()


def _check_columns(wanted: Sequence[str], names: dict[str, str]) -> None:
    for name in wanted:
        if name not in names:
            raise UnknownPredictionColumnError(
                f"column {name!r} is not in the prediction log{did_you_mean(name, names)}",
                column=name,
                available=sorted(names),
            )
