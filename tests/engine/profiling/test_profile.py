"""Profiles: statistics checked against independent computations, histograms, frequent values, semantics."""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from modelworks.engine.io import VersionNotFoundError
from modelworks.engine.profiling import ColumnProfile, profile_dataset


def by_name(path: Path, **kwargs: object) -> dict[str, ColumnProfile]:
    return {c.name: c for c in profile_dataset(path, **kwargs).columns}  # type: ignore[arg-type]


def test_numeric_statistics_match_python(people: Path) -> None:
    score = by_name(people)["score"]
    values = [r % 10 for r in range(500) if r % 5 != 0]
    assert (score.count, score.null_count, score.null_fraction) == (400, 100, 0.2)
    assert score.distinct == len(set(values)) and score.distinct_exact
    assert (score.min, score.max) == (min(values), max(values))
    assert score.mean == pytest.approx(statistics.mean(values))
    assert score.std == pytest.approx(statistics.stdev(values))
    assert score.quantiles["p50"] == pytest.approx(statistics.median(values))
    assert set(score.quantiles) == {"p05", "p25", "p50", "p75", "p95"} and score.quantiles_exact


def test_histograms_cover_every_value(people: Path) -> None:
    profiles = by_name(people, bins=10)
    ratio = profiles["ratio"]
    assert len(ratio.histogram) == 10
    assert sum(b.count for b in ratio.histogram) == ratio.count == 500
    assert ratio.histogram[0].start == 0 and ratio.histogram[-1].end == pytest.approx(499 / 4)
    score = profiles["score"]  # values 1..9 but never 5: one bin per integer
    assert [(b.start, b.count) for b in score.histogram] == [(v, 0 if v == 5 else 50) for v in range(1, 10)]
    created = profiles["created_at"]
    assert isinstance(created.histogram[0].start, dt.datetime)
    assert sum(b.count for b in created.histogram) == 500


def test_top_values_are_exact(people: Path) -> None:
    tier = by_name(people)["tier"]
    assert [(t.value, t.count) for t in tier.top_values] == [("gold", 167), ("silver", 167), ("bronze", 166)]
    flag = by_name(people)["flag"]
    assert {(t.value, t.count) for t in flag.top_values} == {(True, 167), (False, 333)}


def test_text_lengths(people: Path) -> None:
    tier = by_name(people)["tier"]
    assert (tier.min_length, tier.max_length) == (4, 6)
    assert tier.min == "bronze" and tier.max == "silver"


@pytest.mark.parametrize(
    ("column", "semantic"),
    [
        ("id", "id"),
        ("email", "email"),
        ("homepage", "url"),
        ("phone", "phone"),
        ("signup_text", "date"),
        ("seen_text", "datetime"),
        ("consent", "boolean"),
        ("tier", "categorical"),
        ("review", "free_text"),
        ("token", "id"),
        ("score", "categorical"),
        ("is_active", "boolean"),
        ("ratio", "numeric"),
        ("created_at", "datetime"),
        ("birthday", "date"),
        ("flag", "boolean"),
        ("always_empty", "empty"),
        ("payload", "nested"),
    ],
)
def test_semantic_types(people: Path, column: str, semantic: str) -> None:
    assert by_name(people)[column].semantic_type == semantic


def test_large_data_switches_to_estimates(people: Path) -> None:
    approx = by_name(people, exact_below=100)["id"]
    assert not approx.distinct_exact and not approx.quantiles_exact
    assert approx.distinct == pytest.approx(500, rel=0.05)
    assert approx.quantiles["p50"] == pytest.approx(250, rel=0.05)


def test_profile_is_json_ready_and_counts_its_scans(people: Path) -> None:
    profile = profile_dataset(people)
    assert profile.row_count == 500 and len(profile.columns) == 18
    assert profile.scans == 2  # one aggregate pass + one pass over the text columns
    json.dumps(profile.to_dict())


def test_empty_version(make_version: Callable[[str], Path]) -> None:
    path = make_version("SELECT 1 AS a, 'x' AS b, DATE '2024-01-01' AS d WHERE false")
    profile = profile_dataset(path)
    assert profile.row_count == 0
    assert all(c.count == 0 and c.semantic_type == "empty" for c in profile.columns)


def test_non_finite_floats(make_version: Callable[[str], Path]) -> None:
    path = make_version("SELECT * FROM (VALUES (1.0), ('nan'::DOUBLE), ('inf'::DOUBLE), (3.0)) t(x)")
    x = by_name(path, bins=2)["x"]
    assert x.count == 4
    assert [(b.start, b.end, b.count) for b in x.histogram] == [(1.0, 2.0, 1), (2.0, 3.0, 1)]
    assert json.dumps(x.to_dict())  # NaN and infinity become null


def test_wide_version(make_version: Callable[[str], Path]) -> None:
    columns = ", ".join(f"range * {i} AS c{i}" for i in range(300))
    profile = profile_dataset(make_version(f"SELECT {columns}, 'x' || range AS label FROM range(50)"))  # noqa: S608
    assert len(profile.columns) == 301 and profile.columns[299].max == 49 * 299


def test_missing_version(tmp_path: Path) -> None:
    with pytest.raises(VersionNotFoundError):
        profile_dataset(tmp_path / "nope.parquet")
