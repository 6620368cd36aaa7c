"""Each drift statistic against SciPy or a value computed by hand on small data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats
from scipy.spatial.distance import jensenshannon

from modelworks.engine.monitoring import column_drift, stats


def sorted_sample(seed: int, size: int, loc: float = 0.0, scale: float = 1.0) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).normal(loc, scale, size))


@pytest.mark.parametrize(("n", "m"), [(1, 1), (3, 5), (50, 50), (999, 1000), (1000, 37), (300_000, 200_001)])
def test_wasserstein_equals_scipy_divided_by_reference_std(n: int, m: int) -> None:
    reference, current = sorted_sample(1, n), sorted_sample(2, m, 0.3, 1.4)
    current[::3] = np.round(current[::3], 1)  # ties across and within samples
    current.sort()
    expected = scipy_stats.wasserstein_distance(reference, current) / max(float(np.std(reference)), 0.001)
    assert stats.wasserstein_normed(reference, current) == pytest.approx(expected, rel=1e-12)


def test_wasserstein_by_hand() -> None:
    # |F_ref - F_cur| is 1/2 on [0, 1) and [2, 3): distance 1; std of [0, 2] is 1.
    assert stats.wasserstein_normed(np.array([0.0, 2.0]), np.array([1.0, 3.0])) == pytest.approx(1.0)
    # A constant reference: the norm is Evidently's floor 0.001.
    assert stats.wasserstein_normed(np.array([5.0, 5.0]), np.array([5.0, 6.0])) == pytest.approx(0.5 / 0.001)


def test_ks_equals_scipy() -> None:
    reference, current = sorted_sample(3, 400), sorted_sample(4, 600, 0.2)
    expected = scipy_stats.ks_2samp(reference, current)
    assert stats.ks_test(reference, current) == (
        pytest.approx(expected.statistic),
        pytest.approx(expected.pvalue),
    )


def test_psi_by_hand_with_empty_bins_filled() -> None:
    # Shares 0.5/0.5 vs 0.25/0.75, then a bin empty on the current side filled with 0.0001.
    assert stats.psi(np.array([2, 2]), np.array([1, 3])) == pytest.approx(
        (0.5 - 0.25) * math.log(0.5 / 0.25) + (0.5 - 0.75) * math.log(0.5 / 0.75)
    )
    filled = stats.psi(np.array([1, 1]), np.array([2, 0]))
    assert filled == pytest.approx((0.5 - 1) * math.log(0.5 / 1) + (0.5 - 0.0001) * math.log(0.5 / 0.0001))


def test_jensenshannon_equals_scipy() -> None:
    reference, current = np.array([10, 0, 5, 85]), np.array([3, 7, 0, 90])
    expected = jensenshannon(reference / reference.sum(), current / current.sum())
    assert stats.jensenshannon_distance(reference, current) == pytest.approx(expected, rel=1e-12)
    assert stats.jensenshannon_distance(reference, reference) == 0.0


def test_chisquare_equals_scipy_and_unseen_category_gives_zero() -> None:
    reference, current = np.array([50, 30, 20]), np.array([40, 40, 20])
    expected = scipy_stats.chisquare(current, reference * (100 / 100))
    statistic, p_value = stats.chisquare_test(reference, current)
    assert (statistic, p_value) == (pytest.approx(expected.statistic), pytest.approx(expected.pvalue))
    assert stats.chisquare_test(np.array([10, 0]), np.array([5, 5])) == (math.inf, 0.0)


def test_z_test_by_hand() -> None:
    # Share of "not the first category": 0.2 vs 0.5 over 100 rows each.
    pooled = 0.35
    z = (0.2 - 0.5) / math.sqrt(pooled * (1 - pooled) * (2 / 100))
    statistic, p_value = stats.z_test(np.array([80, 20]), np.array([50, 50]), 0)
    assert statistic == pytest.approx(z)
    assert p_value == pytest.approx(2 * (1 - scipy_stats.norm.cdf(abs(z))))
    assert stats.z_test(np.array([7, 0]), np.array([3, 0]), 0) == (0.0, 1.0)  # same single value


def test_sturges_edges_equal_numpy() -> None:
    reference, current = sorted_sample(5, 1234), sorted_sample(6, 777, 1.0)
    expected = np.histogram_bin_edges(np.concatenate([reference, current]), bins="sturges")
    edges = stats.sturges_edges(reference, current)
    np.testing.assert_array_equal(edges, expected)
    np.testing.assert_array_equal(stats.counts_in_bins(reference, edges), np.histogram(reference, edges)[0])


def test_numeric_bins_are_values_when_the_reference_has_few() -> None:
    reference, current = np.array([1.0, 1.0, 2.0, 3.0]), np.array([2.0, 4.0])
    assert [c.tolist() for c in stats.numeric_bin_counts(reference, current)] == [[2, 1, 1, 0], [0, 1, 0, 1]]


@pytest.mark.parametrize(
    ("kind", "test", "reference", "current"),
    [
        ("numeric", "ks", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.5, 2.5, 3.5, 9.0]),
        ("numeric", "wasserstein", [1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0]),
        ("categorical", "chisquare", ["a", "b", "b", "c"], ["a", "a", "b", "c"]),
        ("categorical", "psi", ["a", "b", "b", "c"], ["a", "a", "b", "d"]),
        ("categorical", "jensenshannon", ["x", "y"], ["y", "y"]),
    ],
)
def test_column_drift_score_is_the_statistic_of_its_test(
    kind: str, test: str, reference: list, current: list
) -> None:
    result = column_drift(reference, current, kind, test=test)  # type: ignore[arg-type]
    assert result.test == test
    assert result.score == (result.p_value if test in ("ks", "chisquare") else result.statistic)
    assert result.score is not None and 0 <= result.score
