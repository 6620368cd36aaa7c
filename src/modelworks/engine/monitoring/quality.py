"""Data quality of production inputs, judged against the reference (training) data.

Three checks per column, each reported only when it finds something:

- ``nulls``: the share of missing values (null, NaN, ±inf) is above the reference's share by more than
  ``null_margin`` (one percentage point by default), or every current value is missing;
- ``out_of_range``: numbers below the reference minimum or above its maximum;
- ``unseen_category``: categories that never occur in the reference.

A current dataset with no rows gives one ``no_rows`` finding (column ``""``): nothing could be checked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

from modelworks.engine.monitoring.errors import DriftInputError
from modelworks.engine.monitoring.samples import (
    ColumnKind,
    TableSource,
    align_categories,
    categorical_pair,
    keys_as_text,
    numeric_sample,
    resolve_columns,
)

__all__ = ["QualityCheck", "QualityFinding", "data_quality"]

QualityCheck = Literal["nulls", "out_of_range", "unseen_category", "no_rows"]
#: Unseen categories named in a finding's message and ``examples``.
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class QualityFinding:
    """One data-quality problem of one column.

    Attributes:
        column: The column (``""`` for the ``no_rows`` finding).
        check: ``nulls``, ``out_of_range``, ``unseen_category`` or ``no_rows``.
        count: Current rows concerned.
        rate: ``count`` / current rows (missing values: of all rows; the others: of non-missing values).
        reference_rate: The same rate in the reference (0 for out-of-range and unseen categories, by
            definition).
        message: A sentence for the monitoring page.
        examples: The most frequent unseen categories, or the lowest and highest out-of-range values.
    """

    column: str
    check: QualityCheck
    count: int
    rate: float
    reference_rate: float
    message: str
    examples: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "check": self.check,
            "count": self.count,
            "rate": self.rate,
            "reference_rate": self.reference_rate,
            "message": self.message,
            "examples": list(self.examples),
        }


def data_quality(
    reference: pa.Table | Path | str,
    current: pa.Table | Path | str,
    columns: Mapping[str, ColumnKind] | None = None,
    *,
    null_margin: float = 0.01,
    threads: int | None = None,
) -> list[QualityFinding]:
    """Check the current data against the reference: missing values, out-of-range numbers, unseen
    categories.

    Args:
        reference: A ``pyarrow.Table`` or the path of a Parquet file or folder (read column by column).
        current: The same for the current data.
        columns: Column → ``numeric`` / ``categorical``; ``None``: inferred as in ``drift_report``.
        null_margin: How far (as a share, 0.01 = one point) the missing rate may exceed the reference's
            before it is reported.
        threads: Columns checked at once (default: the CPU count, at most 8).

    Returns:
        The findings, column by column in order; empty when everything looks like the reference.

    Raises:
        DriftInputError: A path is missing or not Parquet, a named column is missing on either side, a
            kind is invalid, numbers are expected but the column holds text, or ``null_margin`` is not
            in [0, 1].
    """
    if not (0 <= null_margin <= 1):
        raise DriftInputError(f"null_margin must be between 0 and 1, not {null_margin!r}.")
    ref_source = TableSource(reference, "reference")
    cur_source = TableSource(current, "current")
    kinds, _ = resolve_columns(ref_source, cur_source, columns)
    if cur_source.num_rows == 0:
        return [
            QualityFinding(
                column="",
                check="no_rows",
                count=0,
                rate=0.0,
                reference_rate=0.0,
                message="The current data has no rows: there is nothing to check in this window.",
            )
        ]

    def one(name: str) -> list[QualityFinding]:
        ref_column, cur_column = ref_source.column(name), cur_source.column(name)
        if kinds[name] == "numeric":
            return _numeric_findings(name, ref_column, cur_column, null_margin)
        return _categorical_findings(name, ref_column, cur_column, null_margin)

    workers = max(1, min(threads or min(os.cpu_count() or 1, 8), max(len(kinds), 1)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="quality") as pool:
        per_column = list(pool.map(one, kinds))
    return [finding for findings in per_column for finding in findings]


def _null_finding(
    name: str, ref_missing: int, ref_rows: int, cur_missing: int, cur_rows: int, margin: float
) -> QualityFinding | None:
    if cur_rows == 0 or cur_missing == 0:
        return None
    ref_rate = ref_missing / ref_rows if ref_rows else 0.0
    cur_rate = cur_missing / cur_rows
    if cur_missing == cur_rows and ref_missing < ref_rows:
        message = f"{name!r}: every value is missing in the current data ({cur_rows:,} rows)"
        message += f" vs {ref_rate:.1%} in the reference." if ref_rows else "."
    elif cur_rate > ref_rate + margin:
        message = (
            f"{name!r}: {cur_rate:.1%} of the values are missing ({cur_missing:,} of {cur_rows:,}) "
            f"vs {ref_rate:.1%} in the reference."
        )
    else:
        return None
    return QualityFinding(name, "nulls", cur_missing, cur_rate, ref_rate, message)


def _numeric_findings(
    name: str, reference: pa.ChunkedArray, current: pa.ChunkedArray, margin: float
) -> list[QualityFinding]:
    ref = numeric_sample(reference, name, "reference")
    cur = numeric_sample(current, name, "current")
    findings: list[QualityFinding] = []
    nulls = _null_finding(name, ref.missing, ref.rows, cur.missing, cur.rows, margin)
    if nulls is not None:
        findings.append(nulls)
    if ref.size and cur.size:
        low, high = float(ref.values[0]), float(ref.values[-1])
        below = int(np.searchsorted(cur.values, low, "left"))
        above = int(cur.size - np.searchsorted(cur.values, high, "right"))
        count = below + above
        if count:
            lowest, highest = float(cur.values[0]), float(cur.values[-1])
            outside = [f"{lowest:g}"] if below else []
            outside += [f"{highest:g}"] if above else []
            findings.append(
                QualityFinding(
                    name,
                    "out_of_range",
                    count,
                    count / cur.size,
                    0.0,
                    f"{name!r}: {count:,} values ({count / cur.size:.1%}) lie outside the reference range "
                    f"[{low:g}, {high:g}] ({', '.join(outside)}).",
                    tuple(outside),
                )
            )
    return findings


def _categorical_findings(
    name: str, reference: pa.ChunkedArray, current: pa.ChunkedArray, margin: float
) -> list[QualityFinding]:
    ref, cur = categorical_pair(reference, current, name)
    findings: list[QualityFinding] = []
    nulls = _null_finding(name, ref.missing, ref.rows, cur.missing, cur.rows, margin)
    if nulls is not None:
        findings.append(nulls)
    if ref.size and cur.size:
        keys, ref_counts, cur_counts = align_categories(ref, cur)
        unseen = np.flatnonzero((ref_counts == 0) & (cur_counts > 0))
        if unseen.size:
            count = int(cur_counts[unseen].sum())
            top = unseen[np.argsort(-cur_counts[unseen], kind="stable")[:MAX_EXAMPLES]]
            examples = tuple(keys_as_text(keys.take(pa.array(top, type=pa.int64()))))
            named = ", ".join(repr(example) for example in examples)
            more = f" and {unseen.size - len(examples):,} more" if unseen.size > len(examples) else ""
            categories = "category" if unseen.size == 1 else "categories"
            findings.append(
                QualityFinding(
                    name,
                    "unseen_category",
                    count,
                    count / cur.size,
                    0.0,
                    f"{name!r}: {unseen.size:,} {categories} never seen in the reference ({named}{more}) "
                    f"in {count:,} rows ({count / cur.size:.1%}).",
                    examples,
                )
            )
    return findings
