"""The drift report: every column of two tables or Parquet datasets compared at once.

Columns are compared in threads (NumPy sorting and Arrow reading release the GIL), and Parquet is read
one column at a time, so memory holds only the columns being compared, never the whole tables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]

from modelworks.engine.errors import did_you_mean
from modelworks.engine.monitoring.drift import ColumnDrift, check_options, compare_column
from modelworks.engine.monitoring.errors import DriftInputError
from modelworks.engine.monitoring.samples import ColumnKind, TableSource, resolve_columns

__all__ = ["DriftReport", "drift_report"]


@dataclass(frozen=True)
class DriftReport:
    """The drift of every compared column.

    Attributes:
        columns: One :class:`ColumnDrift` per column, in the order asked (or of the reference).
        drifted_share: Drifted columns / compared columns (0 when none).
        dataset_drift: ``drifted_share >= drift_share`` (Evidently's dataset drift).
        drift_share: The share of drifted columns that makes the dataset drifted.
        reference_rows: Rows of the reference data.
        current_rows: Rows of the current data.
        skipped: Column → why it was not compared (only when the columns were inferred).
    """

    columns: list[ColumnDrift]
    drifted_share: float
    dataset_drift: bool
    drift_share: float = 0.5
    reference_rows: int = 0
    current_rows: int = 0
    skipped: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> ColumnDrift:
        """The result of one column.

        Raises:
            KeyError: The column was not compared.
        """
        for result in self.columns:
            if result.column == name:
                return result
        raise KeyError(f"column {name!r} is not in the drift report{did_you_mean(name, self.names)}")

    @property
    def names(self) -> list[str]:
        return [result.column for result in self.columns]

    @property
    def drifted_columns(self) -> list[str]:
        return [result.column for result in self.columns if result.drifted]

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [result.to_dict() for result in self.columns],
            "drifted_share": self.drifted_share,
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "skipped": dict(self.skipped),
        }


def drift_report(
    reference: pa.Table | Path | str,
    current: pa.Table | Path | str,
    columns: Mapping[str, ColumnKind] | None = None,
    *,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    threads: int | None = None,
    bins: int = 10,
    drift_share: float = 0.5,
) -> DriftReport:
    """Compare every column of the current data with the reference.

    Args:
        reference: A ``pyarrow.Table`` or the path of a Parquet file or folder (read column by column).
        current: The same for the current data.
        columns: Column → ``numeric`` / ``categorical``. ``None``: every column of the reference that
            the current data also has, numbers as numeric, text/booleans as categorical (others are
            listed in ``skipped``).
        tests: Column → test, overriding :func:`choose_test`.
        thresholds: Column → threshold, overriding the test's default.
        threads: Columns compared at once (default: the CPU count, at most 8).
        bins: Bins (or top categories) of each column's chart histogram.
        drift_share: The share of drifted columns that makes the dataset drifted.

    Returns:
        The :class:`DriftReport`.

    Raises:
        DriftInputError: A path is missing or not Parquet, a named column is missing on either side,
            a kind, threshold or option is invalid, or values do not fit their kind.
        UnknownTestError: A test name that does not exist or does not fit its column's kind.
    """
    tests = dict(tests or {})
    thresholds = dict(thresholds or {})
    if not (0 < drift_share <= 1):
        raise DriftInputError(f"drift_share must be in (0, 1], not {drift_share!r}.", drift_share=drift_share)
    ref_source = TableSource(reference, "reference")
    cur_source = TableSource(current, "current")
    kinds, skipped = resolve_columns(ref_source, cur_source, columns)
    for name in list(tests) + list(thresholds):
        if name not in kinds:
            raise DriftInputError(
                f"A test or threshold is set for column {name!r}, which is not compared"
                f"{did_you_mean(name, kinds)}",
                column=name,
            )
    for name, kind in kinds.items():
        check_options(name, kind, tests.get(name), thresholds.get(name), bins)

    def one(name: str) -> ColumnDrift:
        return compare_column(
            name,
            kinds[name],
            lambda: ref_source.column(name),
            lambda: cur_source.column(name),
            tests.get(name),
            thresholds.get(name),
            bins,
        )

    workers = max(1, min(threads or min(os.cpu_count() or 1, 8), max(len(kinds), 1)))
    if workers == 1:
        results = [one(name) for name in kinds]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="drift") as pool:
            results = list(pool.map(one, kinds))
    drifted = sum(result.drifted for result in results)
    share = drifted / len(results) if results else 0.0
    return DriftReport(
        columns=results,
        drifted_share=share,
        dataset_drift=bool(results) and share >= drift_share,
        drift_share=drift_share,
        reference_rows=ref_source.num_rows,
        current_rows=cur_source.num_rows,
        skipped=skipped,
    )
