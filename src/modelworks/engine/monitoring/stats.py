"""The drift statistics, defined exactly as Evidently's data-drift preset computes them.

Every function works on already prepared data: numbers as a **sorted** float64 array of finite values
(missing values, NaN and ±inf removed, as Evidently drops them), categories as aligned count arrays
(``reference_counts[i]`` and ``current_counts[i]`` count the same category). Sorting once per column is
what makes a 1M-row column cost milliseconds: Wasserstein, Kolmogorov-Smirnov, histograms and unique
counts all read the sorted arrays with ``np.searchsorted``.

Definitions (Evidently 0.7, ``evidently.legacy.calculations.stattests``):

- **Wasserstein (normed)**: the first Wasserstein distance (``scipy.stats.wasserstein_distance``)
  divided by ``max(std(reference), 0.001)`` (population std, ``ddof=0``).
- **Kolmogorov-Smirnov**: ``scipy.stats.ks_2samp`` (two-sided, method ``auto``): statistic and p-value.
- **PSI** and **Jensen-Shannon distance** compare shares per bin: for numbers whose reference has more
  than 20 distinct values, the bins are NumPy's ``sturges`` edges over reference and current together;
  otherwise (few distinct numbers, or categories) one bin per distinct value of either side. PSI
  replaces empty bins by a small share (the smallest non-empty share / 10⁶ when that share is at most
  10⁻⁴, else 10⁻⁴) and sums ``(r - c) · ln(r / c)``; Jensen-Shannon is the distance of
  ``scipy.spatial.distance.jensenshannon`` (natural log) of the raw shares.
- **Chi-squared**: ``scipy.stats.chisquare`` of the current counts against the reference counts scaled
  to the current size (a category absent from the reference gives p = 0).
- **Z-test** of two proportions: the share of the smallest category against the rest, two-sided normal
  p-value; 1 when both sides hold the same single value.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

__all__ = [
    "FloatArray",
    "IntArray",
    "aligned_value_counts",
    "chisquare_test",
    "counts_in_bins",
    "jensenshannon_distance",
    "ks_test",
    "numeric_bin_counts",
    "psi",
    "sturges_edges",
    "unique_count",
    "value_counts_sorted",
    "wasserstein_normed",
    "z_test",
]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]

#: Evidently bins numbers by value (not by Sturges' ranges) when the reference has at most this many.
VALUE_BINS_MAX_UNIQUE = 20
#: Evidently's floor for the reference std that normalises the Wasserstein distance.
MIN_NORM = 0.001
#: Reference values per block of the Wasserstein merge (bounds its temporary memory).
_BLOCK = 1 << 18


def unique_count(values: FloatArray) -> int:
    """How many distinct values a sorted array holds."""
    if values.size == 0:
        return 0
    return int(np.count_nonzero(values[1:] != values[:-1])) + 1


def value_counts_sorted(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """The distinct values of a sorted array and how often each occurs."""
    if values.size == 0:
        return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    counts = np.diff(np.append(starts, values.size)).astype(np.int64)
    return values[starts], counts


def counts_in_bins(values: FloatArray, edges: FloatArray) -> IntArray:
    """Histogram counts of a sorted array (bins ``[e_i, e_i+1)``, the last one closed, as NumPy)."""
    cumulative = np.concatenate(
        (np.searchsorted(values, edges[:-1], "left"), np.searchsorted(values, edges[-1:], "right"))
    )
    return np.diff(cumulative).astype(np.int64)


def sturges_edges(reference: FloatArray, current: FloatArray) -> FloatArray:
    """``np.histogram_bin_edges(concat(reference, current), bins="sturges")`` without the concatenation."""
    size = reference.size + current.size
    low = float(min(reference[0], current[0])) if current.size else float(reference[0])
    high = float(max(reference[-1], current[-1])) if current.size else float(reference[-1])
    spread = high - low
    first, last = (low - 0.5, high + 0.5) if low == high else (low, high)
    width = spread / (np.log2(size) + 1.0)
    bins = int(np.ceil((last - first) / width)) if width else 1
    return np.linspace(first, last, bins + 1, endpoint=True, dtype=np.float64)


def numeric_bin_counts(reference: FloatArray, current: FloatArray) -> tuple[IntArray, IntArray]:
    """Evidently's bins for PSI and Jensen-Shannon on numbers: Sturges' ranges when the reference has
    more than 20 distinct values, else one bin per distinct value of either side."""
    if unique_count(reference) > VALUE_BINS_MAX_UNIQUE:
        edges = sturges_edges(reference, current)
        return counts_in_bins(reference, edges), counts_in_bins(current, edges)
    _, ref_counts, cur_counts = aligned_value_counts(reference, current)
    return ref_counts, cur_counts


def aligned_value_counts(reference: FloatArray, current: FloatArray) -> tuple[FloatArray, IntArray, IntArray]:
    """Every distinct value of either sorted sample (ascending) with both sides' counts."""
    ref_values, ref_counts = value_counts_sorted(reference)
    cur_values, cur_counts = value_counts_sorted(current)
    keys = np.union1d(ref_values, cur_values)
    ref_aligned = np.zeros(keys.size, dtype=np.int64)
    cur_aligned = np.zeros(keys.size, dtype=np.int64)
    ref_aligned[np.searchsorted(keys, ref_values)] = ref_counts
    cur_aligned[np.searchsorted(keys, cur_values)] = cur_counts
    return keys, ref_aligned, cur_aligned


def wasserstein_normed(reference: FloatArray, current: FloatArray) -> float:
    """The first Wasserstein distance between two sorted samples, divided by the reference std.

    Computed from the quantile functions, ``W1 = integral over q in (0, 1] of |Q_ref(q) - Q_cur(q)|``,
    which equals SciPy's CDF form: with ``n`` and ``m`` values the quantile functions step at ``i/n``
    and ``j/m``; on the common grid ``k / (n*m)`` those steps are the multiples ``i*m`` and ``j*n``,
    merged block by block so that memory stays a few MiB whatever the size. Equal sizes reduce to
    the mean absolute difference of the sorted values.
    """
    distance = _w1_sorted(reference, current)
    norm = max(float(np.std(reference)), MIN_NORM)
    return distance / norm


def _w1_sorted(reference: FloatArray, current: FloatArray) -> float:
    n, m = int(reference.size), int(current.size)
    if n == m:
        return float(np.mean(np.abs(reference - current)))
    total = 0.0
    for i0 in range(0, n, _BLOCK):
        i1 = min(i0 + _BLOCK, n)
        j0, j1 = (i0 * m) // n, (i1 * m) // n
        # Steps of both quantile functions in (i0*m, i1*m], on the integer grid of 1/(n*m).
        grid = np.concatenate(
            (np.arange(i0 + 1, i1 + 1, dtype=np.int64) * m, np.arange(j0 + 1, j1 + 1, dtype=np.int64) * n)
        )
        grid.sort()
        widths = np.diff(grid, prepend=i0 * m)
        grid -= 1
        gaps = np.abs(reference[grid // m] - current[grid // n])
        total += float(np.dot(gaps, widths.astype(np.float64)))
    return total / (n * m)


def ks_test(reference: FloatArray, current: FloatArray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov: ``(statistic, p_value)`` of ``scipy.stats.ks_2samp``."""
    from scipy.stats import ks_2samp  # type: ignore[import-untyped]

    result = ks_2samp(reference, current)
    return float(result.statistic), float(result.pvalue)


def _fill_empty(shares: FloatArray) -> FloatArray:
    nonzero = shares[shares != 0]
    if nonzero.size == 0:
        return shares
    smallest = float(nonzero.min())
    filled = shares.copy()
    filled[filled == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return filled


def psi(reference_counts: IntArray, current_counts: IntArray) -> float:
    """Population stability index of two aligned count arrays (empty bins filled as Evidently)."""
    ref = _fill_empty(reference_counts / reference_counts.sum())
    cur = _fill_empty(current_counts / current_counts.sum())
    return float(np.sum((ref - cur) * np.log(ref / cur)))


def jensenshannon_distance(reference_counts: IntArray, current_counts: IntArray) -> float:
    """Jensen-Shannon distance (natural log) of two aligned count arrays.

    The same arithmetic as ``scipy.spatial.distance.jensenshannon`` (shares, their mean ``m``,
    ``sqrt((KL(p || m) + KL(q || m)) / 2)`` with ``0 * log 0 = 0``), without importing SciPy's spatial
    module (70 MB and a second of start-up for a sum).
    """
    p = reference_counts / reference_counts.sum()
    q = current_counts / current_counts.sum()
    m = (p + q) / 2.0
    return float(np.sqrt((_relative_entropy(p, m) + _relative_entropy(q, m)) / 2.0))


def _relative_entropy(x: FloatArray, y: FloatArray) -> float:
    present = x > 0
    return float(np.sum(x[present] * np.log(x[present] / y[present])))


def chisquare_test(reference_counts: IntArray, current_counts: IntArray) -> tuple[float, float]:
    """Chi-squared goodness of fit of the current counts to the reference's: ``(statistic, p_value)``."""
    from scipy.stats import chisquare

    expected = reference_counts * (current_counts.sum() / reference_counts.sum())
    if np.any(expected == 0):
        # A category the reference never saw: an infinite statistic (SciPy divides by zero and warns).
        return math.inf, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = chisquare(current_counts, expected)
    return float(result.statistic), float(result.pvalue)


def z_test(reference_counts: IntArray, current_counts: IntArray, first: int) -> tuple[float, float]:
    """Two-proportion z-test of "not the category at index ``first``" (the smallest key) between sides."""
    from scipy.stats import norm

    ref_present = reference_counts > 0
    cur_present = current_counts > 0
    if ref_present.sum() == 1 and cur_present.sum() == 1 and np.array_equal(ref_present, cur_present):
        return 0.0, 1.0
    n_ref, n_cur = float(reference_counts.sum()), float(current_counts.sum())
    p_ref = (n_ref - float(reference_counts[first])) / n_ref
    p_cur = (n_cur - float(current_counts[first])) / n_cur
    pooled = (p_ref * n_ref + p_cur * n_cur) / (n_ref + n_cur)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p_ref - p_cur) / np.sqrt(pooled * (1 - pooled) * (1.0 / n_ref + 1.0 / n_cur))
    p_value = 2 * (1 - float(norm.cdf(abs(z))))
    return float(z), p_value
