"""Data drift: does a column of production data still look like the reference (training) data?

:func:`column_drift` compares one column (``report.drift_report`` every column of two tables or Parquet
datasets, column by column in threads, reading Parquet one column at a time).
The statistics equal Evidently's data-drift preset to 1e-6 (see :mod:`.stats` for their definitions),
and the default test per column follows Evidently's rule (:func:`choose_test`); a user may pick the test
and the threshold of any column.

Missing values (null, NaN, ±inf) are left out of the statistics and counted apart; a column with no
value on one side is reported with ``statistic=None``, ``drifted=False`` and a message saying why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

from modelworks.engine.errors import did_you_mean
from modelworks.engine.monitoring import stats
from modelworks.engine.monitoring.errors import DriftInputError, UnknownTestError
from modelworks.engine.monitoring.samples import (
    CategoricalSample,
    ColumnKind,
    NumericSample,
    align_categories,
    as_chunked,
    categorical_pair,
    check_kind,
    keys_as_text,
    numeric_sample,
    smallest_key_index,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "P_VALUE_TESTS",
    "TESTS",
    "TEST_LABELS",
    "ColumnDrift",
    "check_options",
    "choose_test",
    "column_drift",
    "compare_column",
]

TESTS: frozenset[str] = frozenset({"psi", "ks", "wasserstein", "chisquare", "jensenshannon", "z"})
#: Tests whose score is a p-value: drift when it is small. The others are distances: drift when large.
P_VALUE_TESTS: frozenset[str] = frozenset({"ks", "chisquare", "z"})
DEFAULT_THRESHOLDS: Mapping[str, float] = {
    "ks": 0.05,
    "chisquare": 0.05,
    "z": 0.05,
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
    "psi": 0.1,
}
TEST_LABELS: Mapping[str, str] = {
    "ks": "Kolmogorov-Smirnov p-value",
    "chisquare": "chi-squared p-value",
    "z": "Z-test p-value",
    "wasserstein": "Wasserstein distance (normed)",
    "jensenshannon": "Jensen-Shannon distance",
    "psi": "PSI",
}
_NUMERIC_ONLY = frozenset({"ks", "wasserstein"})
#: Evidently's limits: up to this many reference values is a small sample …
SMALL_SAMPLE = 1000
#: … and a numeric column with at most this many distinct values is binned by value.
FEW_VALUES = 5


def choose_test(kind: ColumnKind, n_reference: int, n_current: int, n_unique: int) -> tuple[str, float]:
    """The default drift test of a column and its threshold (Evidently's rule).

    ================  ==============================  ==============================
    column            reference ≤ 1,000 values        reference > 1,000 values
    ================  ==============================  ==============================
    numeric, > 5      ``ks`` (p ≤ 0.05)               ``wasserstein`` (≥ 0.1)
    numeric, 3-5      ``chisquare`` (p < 0.05)        ``jensenshannon`` (≥ 0.1)
    numeric, ≤ 2      ``z`` (p < 0.05)                ``jensenshannon`` (≥ 0.1)
    categorical, > 2  ``chisquare`` (p < 0.05)        ``jensenshannon`` (≥ 0.1)
    categorical, ≤ 2  ``z`` (p < 0.05)                ``jensenshannon`` (≥ 0.1)
    ================  ==============================  ==============================

    The counts are of non-missing values; "> 5" is the number of distinct values of reference and
    current together. Small samples get a statistical test (a p-value: is the difference more than
    chance?); large ones a distance, because with a million rows any tiny difference is "significant".

    Args:
        kind: ``numeric`` or ``categorical``.
        n_reference: Non-missing reference values.
        n_current: Non-missing current values (not used by the rule; kept so callers pass the facts).
        n_unique: Distinct values of both sides together.

    Returns:
        ``(test, threshold)``.
    """
    del n_current
    check_kind(kind, "column")
    if n_reference <= SMALL_SAMPLE:
        if kind == "numeric" and n_unique > FEW_VALUES:
            test = "ks"
        else:
            test = "chisquare" if n_unique > 2 else "z"
    elif kind == "numeric" and n_unique > FEW_VALUES:
        test = "wasserstein"
    else:
        test = "jensenshannon"
    return test, DEFAULT_THRESHOLDS[test]


@dataclass(frozen=True)
class ColumnDrift:
    """The drift of one column.

    Attributes:
        column: The column name.
        kind: ``numeric`` or ``categorical``.
        test: The test used (one of :data:`TESTS`); :data:`TEST_LABELS` names it for people.
        statistic: The test's statistic (the distance for distance tests, the KS D or chi-squared value
            for p-value tests); ``None`` when a side has no value.
        p_value: The p-value of ``ks``, ``chisquare`` and ``z``; ``None`` for distances.
        threshold: Drift when the p-value is below it (``ks``: at or below) or the distance at or above.
        drifted: Whether the threshold is crossed.
        n_reference: Non-missing reference values compared.
        n_current: Non-missing current values compared.
        histogram: For charts. Numbers: ``{"edges": [bins + 1 floats from the reference's range],
            "reference": [counts], "current": [counts], "current_below": n, "current_above": n}``.
            Categories: ``{"categories": [top categories…, "other"?], "reference": [counts],
            "current": [counts]}``.
        reference_missing: Nulls, NaN and ±inf left out of the reference.
        current_missing: The same in the current data.
        message: Why there is no statistic (empty side), else ``""``.
    """

    column: str
    kind: ColumnKind
    test: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    n_reference: int
    n_current: int
    histogram: dict[str, Any] = field(default_factory=dict)
    reference_missing: int = 0
    current_missing: int = 0
    message: str = ""

    @property
    def score(self) -> float | None:
        """What the threshold is compared with: the p-value of a test, else the distance."""
        return self.p_value if self.test in P_VALUE_TESTS else self.statistic

    @property
    def test_label(self) -> str:
        return TEST_LABELS[self.test]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "test": self.test,
            "test_label": self.test_label,
            "statistic": _json_number(self.statistic),
            "p_value": _json_number(self.p_value),
            "score": _json_number(self.score),
            "threshold": self.threshold,
            "drifted": self.drifted,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "reference_missing": self.reference_missing,
            "current_missing": self.current_missing,
            "histogram": self.histogram,
            "message": self.message,
        }


def column_drift(
    reference: Any,
    current: Any,
    kind: ColumnKind,
    *,
    test: str | None = None,
    threshold: float | None = None,
    bins: int = 10,
    column: str = "value",
) -> ColumnDrift:
    """Compare one column of reference data with the same column of current data.

    Args:
        reference: The reference values (Arrow array or chunked array, NumPy array, pandas Series, list).
        current: The current values.
        kind: ``numeric`` or ``categorical``.
        test: A test of :data:`TESTS`; ``None``: :func:`choose_test`.
        threshold: The drift threshold; ``None``: the test's default (:data:`DEFAULT_THRESHOLDS`).
        bins: Bins of the numeric chart histogram, or categories shown before "other".
        column: The column name shown in results and messages.

    Returns:
        The :class:`ColumnDrift`.

    Raises:
        UnknownTestError: ``test`` is not a test, or does not apply to ``kind``.
        DriftInputError: Bad ``kind``, ``threshold`` or ``bins``, or values that do not fit the kind.
    """
    check_kind(kind, column)
    check_options(column, kind, test, threshold, bins)
    ref_column, cur_column = as_chunked(reference), as_chunked(current)
    return compare_column(column, kind, lambda: ref_column, lambda: cur_column, test, threshold, bins)


# ---------------------------------------------------------------------------------------------------------
# Checks


def check_options(
    column: str, kind: ColumnKind, test: str | None, threshold: float | None, bins: int
) -> None:
    """Raise an actionable error for an unknown or unfit test, a bad threshold or bins."""
    if test is not None:
        if test not in TESTS:
            raise UnknownTestError(
                f"Unknown drift test {test!r} for column {column!r}{did_you_mean(test, TESTS)} "
                f"Choose one of {', '.join(sorted(TESTS))}.",
                column=column,
                test=test,
            )
        if kind == "categorical" and test in _NUMERIC_ONLY:
            usable = sorted(TESTS - _NUMERIC_ONLY)
            raise UnknownTestError(
                f"The {test!r} test compares numbers but column {column!r} is categorical; "
                f"use one of {', '.join(usable)}.",
                column=column,
                test=test,
            )
    if threshold is not None:
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not math.isfinite(threshold)
        ):
            raise DriftInputError(
                f"The threshold of column {column!r} must be a number, not {threshold!r}.", column=column
            )
        if threshold <= 0 or (test in P_VALUE_TESTS and threshold >= 1):
            raise DriftInputError(
                f"The threshold of column {column!r} is {threshold}; a p-value threshold lies between 0 "
                "and 1 (e.g. 0.05) and a distance threshold is above 0 (e.g. 0.1).",
                column=column,
            )
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= 1000:
        raise DriftInputError(f"bins must be an integer from 1 to 1000, not {bins!r}.", bins=bins)


# ---------------------------------------------------------------------------------------------------------
# Comparison


def compare_column(
    name: str,
    kind: ColumnKind,
    reference: Callable[[], pa.ChunkedArray],
    current: Callable[[], pa.ChunkedArray],
    test: str | None,
    threshold: float | None,
    bins: int,
) -> ColumnDrift:
    """Load, prepare and compare one column; each side's Arrow column is dropped once prepared.

    ``reference`` and ``current`` are called once each, so a caller can read a column from disk only
    when it is its turn.
    """
    if kind == "numeric":
        ref = numeric_sample(reference(), name, "reference")
        cur = numeric_sample(current(), name, "current")
        return _numeric_drift(name, ref, cur, test, threshold, bins)
    ref_counts, cur_counts = categorical_pair(reference(), current(), name)
    return _categorical_drift(name, ref_counts, cur_counts, test, threshold, bins)


def _numeric_drift(
    name: str,
    ref: NumericSample,
    cur: NumericSample,
    test: str | None,
    threshold: float | None,
    bins: int,
) -> ColumnDrift:
    ref_unique, cur_unique = ref.unique(), cur.unique()
    if max(ref_unique, cur_unique) <= FEW_VALUES:
        n_unique = int(np.union1d(np.unique(ref.values), np.unique(cur.values)).size)
    else:
        n_unique = max(ref_unique, cur_unique)  # at least that many: enough for the rule
    used, threshold = _test_and_threshold("numeric", ref.size, cur.size, n_unique, test, threshold)
    histogram = _numeric_histogram(ref.values, cur.values, bins)

    def compute() -> tuple[float, float | None]:
        if used == "wasserstein":
            return stats.wasserstein_normed(ref.values, cur.values), None
        if used == "ks":
            return stats.ks_test(ref.values, cur.values)
        if used in ("psi", "jensenshannon"):
            ref_counts, cur_counts = stats.numeric_bin_counts(ref.values, cur.values)
            distance = stats.psi if used == "psi" else stats.jensenshannon_distance
            return distance(ref_counts, cur_counts), None
        _, ref_counts, cur_counts = stats.aligned_value_counts(ref.values, cur.values)
        if used == "chisquare":
            return stats.chisquare_test(ref_counts, cur_counts)
        return stats.z_test(ref_counts, cur_counts, 0)

    return _result(name, "numeric", used, threshold, ref, cur, histogram, compute)


def _categorical_drift(
    name: str,
    ref: CategoricalSample,
    cur: CategoricalSample,
    test: str | None,
    threshold: float | None,
    bins: int,
) -> ColumnDrift:
    keys, ref_counts, cur_counts = align_categories(ref, cur)
    used, threshold = _test_and_threshold("categorical", ref.size, cur.size, len(keys), test, threshold)
    histogram = _categorical_histogram(keys, ref_counts, cur_counts, bins)

    def compute() -> tuple[float, float | None]:
        if used == "chisquare":
            return stats.chisquare_test(ref_counts, cur_counts)
        if used == "z":
            return stats.z_test(ref_counts, cur_counts, smallest_key_index(keys))
        distance = stats.psi if used == "psi" else stats.jensenshannon_distance
        return distance(ref_counts, cur_counts), None

    return _result(name, "categorical", used, threshold, ref, cur, histogram, compute)


def _test_and_threshold(
    kind: ColumnKind,
    n_reference: int,
    n_current: int,
    n_unique: int,
    test: str | None,
    threshold: float | None,
) -> tuple[str, float]:
    if test is None:
        test, default = choose_test(kind, n_reference, n_current, n_unique)
    else:
        default = DEFAULT_THRESHOLDS[test]
    return test, default if threshold is None else float(threshold)


def _result(
    name: str,
    kind: ColumnKind,
    test: str,
    threshold: float,
    ref: NumericSample | CategoricalSample,
    cur: NumericSample | CategoricalSample,
    histogram: dict[str, Any],
    compute: Callable[[], tuple[float, float | None]],
) -> ColumnDrift:
    empty = [side for side, sample in (("reference", ref), ("current", cur)) if sample.size == 0]
    statistic: float | None = None
    p_value: float | None = None
    message = ""
    if empty:
        rows = {"reference": ref.rows, "current": cur.rows}
        if any(rows[side] for side in empty):
            what = " and ".join(f"the {side} data ({rows[side]:,} rows)" for side in empty)
            message = f"No value to compare in {what}: every value is missing, so drift cannot be measured."
        else:
            message = (
                f"No rows in {' and '.join(f'the {side} data' for side in empty)}: drift cannot be measured."
            )
    else:
        statistic, p_value = compute()
    return ColumnDrift(
        column=name,
        kind=kind,
        test=test,
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=statistic is not None and _is_drifted(test, statistic, p_value, threshold),
        n_reference=ref.size,
        n_current=cur.size,
        histogram=histogram,
        reference_missing=ref.missing,
        current_missing=cur.missing,
        message=message,
    )


def _is_drifted(test: str, statistic: float, p_value: float | None, threshold: float) -> bool:
    if test in P_VALUE_TESTS:
        assert p_value is not None
        if math.isnan(p_value):
            return False
        return p_value <= threshold if test == "ks" else p_value < threshold
    return not math.isnan(statistic) and statistic >= threshold


def _numeric_histogram(reference: stats.FloatArray, current: stats.FloatArray, bins: int) -> dict[str, Any]:
    basis = reference if reference.size else current
    if basis.size == 0:
        return {"edges": [], "reference": [], "current": [], "current_below": 0, "current_above": 0}
    low, high = float(basis[0]), float(basis[-1])
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    return {
        "edges": [float(edge) for edge in edges],
        "reference": stats.counts_in_bins(reference, edges).tolist(),
        "current": stats.counts_in_bins(current, edges).tolist(),
        "current_below": int(np.searchsorted(current, edges[0], "left")),
        "current_above": int(current.size - np.searchsorted(current, edges[-1], "right")),
    }


def _categorical_histogram(
    keys: pa.Array, ref_counts: stats.IntArray, cur_counts: stats.IntArray, top: int
) -> dict[str, Any]:
    ref_total, cur_total = max(int(ref_counts.sum()), 1), max(int(cur_counts.sum()), 1)
    weight = ref_counts / ref_total + cur_counts / cur_total
    order = np.argsort(-weight, kind="stable")
    shown, rest = order[:top], order[top:]
    labels = list(keys_as_text(keys.take(pa.array(shown, type=pa.int64())))) if shown.size else []
    reference = ref_counts[shown].tolist()
    current = cur_counts[shown].tolist()
    if rest.size:
        labels.append("other")
        reference.append(int(ref_counts[rest].sum()))
        current.append(int(cur_counts[rest].sum()))
    return {"categories": labels, "reference": reference, "current": current}


def _json_number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
