"""Profile a dataset version in as few passes over its data as possible.

The budget is "at most twice one DuckDB ``SUMMARIZE``", which itself is one pass computing min, max,
distinct count, mean, std and quartiles. So:

1. the Parquet footer gives the row count and each numeric/date column's min and max for free;
2. **one pass** computes everything SUMMARIZE does plus, for each column, what its type needs:
   equal-width histograms (their ranges are known from step 1), text lengths, candidate frequent
   values (``approx_top_k``) and true counts;
3. a second, narrower pass reads only the text columns to count the candidate frequent values
   exactly;
4. semantic types are detected on the first ``sample_size`` values of each text column (one row
   group: almost free) together with the whole-column statistics.

Distinct counts and quantiles are exact up to ``exact_below`` rows and estimated above it
(HyperLogLog and t-digest, a couple of percent off); each profile says which.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from typing import Any

import duckdb

from modelworks.engine.duck import connect, quote_identifier, run_with_timeout
from modelworks.engine.io.duck_errors import first_line
from modelworks.engine.io.schema import ColumnSchema, read_schema
from modelworks.engine.profiling.errors import ProfilingError
from modelworks.engine.profiling.model import ColumnProfile, DatasetProfile, HistogramBin, TopValue
from modelworks.engine.profiling.semantic import detect_semantic
from modelworks.engine.profiling.values import as_int, as_number, from_epoch_us

__all__ = ["EXACT_BELOW", "QUANTILES", "profile_dataset"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Up to this many rows, distinct counts and quantiles are exact.
EXACT_BELOW = 200_000
_NUMERIC = {"integer", "float", "decimal"}
_TEMPORAL = {"date", "timestamp"}
_BATCH = 64  # columns per query: keeps statements small for very wide tables


def profile_dataset(
    version_path: str | os.PathLike[str],
    *,
    bins: int = 20,
    top_k: int = 10,
    sample_size: int = 10_000,
    exact_below: int = EXACT_BELOW,
    threads: int | None = None,
    memory_limit: str | None = None,
    timeout_seconds: float | None = None,
) -> DatasetProfile:
    """Compute the profile of a dataset version.

    Args:
        version_path: the version's Parquet file.
        bins: histogram bins for numbers and dates.
        top_k: frequent values kept for text columns.
        sample_size: text values per column used to detect semantic types.
        exact_below: row count up to which distinct counts and quantiles are exact.
        threads, memory_limit: DuckDB resources.
        timeout_seconds: stop after this long.

    Raises:
        ProfilingError: the computation failed or timed out.
        VersionNotFoundError: the version file is missing or unreadable.
    """
    started = time.perf_counter()
    schema = read_schema(version_path)
    path = os.path.abspath(version_path)
    con = connect(read=[path], threads=threads, memory_limit=memory_limit)

    def work() -> DatasetProfile:
        job = _Profiler(
            con, path, schema, bins=bins, top_k=top_k, sample_size=sample_size, exact_below=exact_below
        )
        columns = job.run()
        return DatasetProfile(
            row_count=job.row_count,
            columns=columns,
            scans=job.scans,
            elapsed=round(time.perf_counter() - started, 4),
            sample_size=sample_size,
        )

    def too_slow() -> ProfilingError:
        return ProfilingError(f"profiling took longer than {timeout_seconds} s and was stopped")

    try:
        return run_with_timeout(con, timeout_seconds, work, too_slow)
    except duckdb.Error as exc:
        raise ProfilingError(f"the profile could not be computed: {first_line(str(exc))}") from exc
    finally:
        con.close()


class _Profiler:
    """One profiling run: the queries, and the assembly of their results."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: str,
        schema: Sequence[ColumnSchema],
        *,
        bins: int,
        top_k: int,
        sample_size: int,
        exact_below: int,
    ) -> None:
        self.con, self.path, self.schema = con, path, list(schema)
        self.bins, self.top_k, self.sample_size = max(1, bins), max(1, top_k), max(0, sample_size)
        self.scans = 0
        self.row_count = self._row_count()
        self.exact = self.row_count <= exact_below
        self.ranges = self._footer_ranges()
        self.stats: dict[tuple[int, str], Any] = {}

    def run(self) -> tuple[ColumnProfile, ...]:
        self._aggregate_pass()
        missing = [
            i
            for i, c in enumerate(self.schema)
            if (c.type in _NUMERIC | _TEMPORAL) and (i, "hist") not in self.stats
        ]
        if missing:
            self._histogram_pass(missing)
        counts = self._top_value_pass()
        samples = self._samples()
        return tuple(
            self._column(i, c, counts.get(i, ()), samples.get(i, [])) for i, c in enumerate(self.schema)
        )

    # -- queries ---------------------------------------------------------------------------------

    def _row_count(self) -> int:
        row = self.con.execute(
            "SELECT sum(num_rows) FROM parquet_file_metadata($p)", {"p": self.path}
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _footer_ranges(self) -> dict[str, tuple[float, float]]:
        """Per numeric/date column, (low, high) as numbers, when every row group has statistics."""
        rows = self.con.execute(
            """
            SELECT path_in_schema,
                   min(coalesce(TRY_CAST(stats_min_value AS DOUBLE),
                                epoch_us(TRY_CAST(stats_min_value AS TIMESTAMP)))),
                   max(coalesce(TRY_CAST(stats_max_value AS DOUBLE),
                                epoch_us(TRY_CAST(stats_max_value AS TIMESTAMP)))),
                   count(*) = count(stats_min_value) AND count(*) = count(stats_max_value)
            FROM parquet_metadata($p) GROUP BY ALL
            """,
            {"p": self.path},
        ).fetchall()
        return {
            str(name): (float(low), float(high))
            for name, low, high, complete in rows
            if complete
            and low is not None
            and high is not None
            and math.isfinite(low)
            and math.isfinite(high)
        }

    def _run_batches(self, expressions: list[tuple[tuple[int, str], str]], source: str) -> None:
        for start in range(0, len(expressions), _BATCH * 8):
            batch = expressions[start : start + _BATCH * 8]
            row = self.con.execute(
                f"SELECT {', '.join(sql for _, sql in batch)} FROM {source}",  # noqa: S608 - generated
                {"p": self.path},
            ).fetchone()
            self.scans += 1
            for (key, _), value in zip(batch, row or (), strict=False):
                self.stats[key] = value

    def _aggregate_pass(self) -> None:
        expressions: list[tuple[tuple[int, str], str]] = []
        for index, column in enumerate(self.schema):
            for name, sql in self._aggregates(index, column):
                expressions.append(((index, name), sql))
        self._run_batches(expressions, "read_parquet($p)")

    def _aggregates(self, index: int, column: ColumnSchema) -> list[tuple[str, str]]:
        q = quote_identifier(column.name)
        out = [("count", f"count({q})")]
        if column.type not in ("nested", "other"):
            out.append(("distinct", f"count(DISTINCT {q})" if self.exact else f"approx_count_distinct({q})"))
        if column.type in ("nested", "binary", "other"):
            return out
        out += [("min", f"min({q})"), ("max", f"max({q})")]
        quantiles = "[" + ", ".join(str(p) for p in QUANTILES) + "]"
        if column.type in _NUMERIC:
            as_double = f"CAST({q} AS DOUBLE)"
            out += [("mean", f"avg({as_double})"), ("std", f"stddev_samp({as_double})")]
            if column.type == "float":  # the histogram's range must ignore NaN and infinities
                finite = f"FILTER (WHERE isfinite({q}))"
                out += [("finite_min", f"min({q}) {finite}"), ("finite_max", f"max({q}) {finite}")]
            out.append(
                (
                    "quantiles",
                    f"quantile_cont({q}, {quantiles})"
                    if self.exact
                    else f"approx_quantile({q}, {quantiles})",
                )
            )
            out += self._histogram(index, column, as_double)
        elif column.type in _TEMPORAL:
            out.append(
                (
                    "quantiles",
                    f"quantile_disc({q}, {quantiles})"
                    if self.exact
                    else f"approx_quantile({q}, {quantiles})",
                )
            )
            out += self._histogram(index, column, f"epoch_us(CAST({q} AS TIMESTAMP))")
        elif column.type == "string":
            out += [
                ("min_length", f"min(length({q}))"),
                ("max_length", f"max(length({q}))"),
                ("mean_length", f"avg(length({q}))"),
                ("top", f"approx_top_k({q}, {self.top_k})"),
            ]
        elif column.type == "boolean":
            out.append(("true", f"count_if({q})"))
        return out

    def _histogram(
        self, index: int, column: ColumnSchema, number_sql: str, bounds: tuple[float, float] | None = None
    ) -> list[tuple[str, str]]:
        bounds = bounds or self.ranges.get(column.name)
        if bounds is None:
            return []
        low, high = bounds
        width, count = self._bin_width(column, low, high)
        self.stats[(index, "bounds")] = (low, width, count)
        # NaN and infinities have no bin (CASE yields NULL, which histogram() skips).
        position = f"floor(({number_sql} - {low!r}) / {width!r})"
        bucket = (
            f"CASE WHEN isfinite(CAST({number_sql} AS DOUBLE)) "
            f"THEN CAST(greatest(0, least({position}, {count - 1})) AS INTEGER) END"
        )
        return [("hist", f"histogram({bucket})")]

    def _bin_width(self, column: ColumnSchema, low: float, high: float) -> tuple[float, int]:
        if high <= low:
            return 1.0, 1
        if column.type == "integer" and high - low + 1 <= self.bins:
            return 1.0, int(high - low) + 1  # one bin per value
        return (high - low) / self.bins, self.bins

    def _histogram_pass(self, indexes: list[int]) -> None:
        expressions: list[tuple[tuple[int, str], str]] = []
        for index in indexes:
            column = self.schema[index]
            low = as_number(self.stats.get((index, "finite_min"), self.stats.get((index, "min"))))
            high = as_number(self.stats.get((index, "finite_max"), self.stats.get((index, "max"))))
            if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
                continue
            q = quote_identifier(column.name)
            number = (
                f"CAST({q} AS DOUBLE)" if column.type in _NUMERIC else f"epoch_us(CAST({q} AS TIMESTAMP))"
            )
            for name, sql in self._histogram(index, column, number, (low, high)):
                expressions.append(((index, name), sql))
        if expressions:
            self._run_batches(expressions, "read_parquet($p)")

    def _top_value_pass(self) -> dict[int, tuple[TopValue, ...]]:
        candidates = {
            i: [v for v in (self.stats.get((i, "top")) or []) if v is not None]
            for i, c in enumerate(self.schema)
            if c.type == "string"
        }
        candidates = {i: values for i, values in candidates.items() if values}
        if not candidates:
            return {}
        params: dict[str, Any] = {"p": self.path}
        terms: list[str] = []
        keys: list[tuple[int, str]] = []
        for index, values in candidates.items():
            q = quote_identifier(self.schema[index].name)
            for number, value in enumerate(values):
                params[f"v{index}_{number}"] = value
                terms.append(f"count_if({q} = $v{index}_{number})")
                keys.append((index, value))
        row = self.con.execute(f"SELECT {', '.join(terms)} FROM read_parquet($p)", params).fetchone()  # noqa: S608
        self.scans += 1
        result: dict[int, list[TopValue]] = {}
        for (index, value), count in zip(keys, row or (), strict=False):
            result.setdefault(index, []).append(TopValue(value, int(count)))
        return {i: tuple(sorted(v, key=lambda t: (-t.count, str(t.value)))) for i, v in result.items()}

    def _samples(self) -> dict[int, list[str]]:
        texts = [i for i, c in enumerate(self.schema) if c.type == "string"]
        if not texts or self.sample_size == 0:
            return {}
        samples: dict[int, list[str]] = {}
        for start in range(0, len(texts), _BATCH):
            chunk = texts[start : start + _BATCH]
            select = ", ".join(quote_identifier(self.schema[i].name) for i in chunk)
            rows = self.con.execute(
                f"SELECT {select} FROM read_parquet($p) LIMIT {int(self.sample_size)}",  # noqa: S608
                {"p": self.path},
            ).fetchall()
            for position, index in enumerate(chunk):
                samples[index] = [str(row[position]) for row in rows if row[position] is not None]
        return samples

    # -- assembly --------------------------------------------------------------------------------

    def _column(
        self, index: int, column: ColumnSchema, top: tuple[TopValue, ...], sample: list[str]
    ) -> ColumnProfile:
        get = self.stats.get
        count = int(get((index, "count")) or 0)
        nulls = self.row_count - count
        distinct = get((index, "distinct"))
        distinct = min(int(distinct), count) if distinct is not None else None
        if column.type == "boolean":
            trues = int(get((index, "true")) or 0)
            top = tuple(t for t in (TopValue(True, trues), TopValue(False, count - trues)) if t.count)
        quantiles = get((index, "quantiles")) or []
        semantic = detect_semantic(
            column.type,
            count=count,
            distinct=distinct if distinct is not None else count,
            min_value=get((index, "min")),
            max_value=get((index, "max")),
            sample=sample,
            mean_length=as_number(get((index, "mean_length"))),
        )
        return ColumnProfile(
            name=column.name,
            type=column.type,
            physical_type=column.physical_type,
            count=count,
            null_count=nulls,
            null_fraction=round(nulls / self.row_count, 6) if self.row_count else 0.0,
            distinct=distinct,
            distinct_exact=self.exact,
            min=get((index, "min")),
            max=get((index, "max")),
            mean=as_number(get((index, "mean"))),
            std=as_number(get((index, "std"))),
            quantiles={f"p{round(p * 100):02d}": v for p, v in zip(QUANTILES, quantiles, strict=False)},
            quantiles_exact=self.exact,
            histogram=self._bins(index, column),
            top_values=top,
            min_length=as_int(get((index, "min_length"))),
            max_length=as_int(get((index, "max_length"))),
            mean_length=as_number(get((index, "mean_length"))),
            semantic_type=semantic.type,
            semantic_confidence=semantic.confidence,
        )

    def _bins(self, index: int, column: ColumnSchema) -> tuple[HistogramBin, ...]:
        counts = self.stats.get((index, "hist"))
        bounds = self.stats.get((index, "bounds"))
        if not counts or not bounds:
            return ()
        low, width, number = bounds
        convert = from_epoch_us(column.type) if column.type in _TEMPORAL else (lambda x: x)
        return tuple(
            HistogramBin(convert(low + b * width), convert(low + (b + 1) * width), int(counts.get(b, 0)))
            for b in range(number)
        )
