"""Test choice, drift decisions, missing values and Parquet input of the drift report."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelworks.engine.monitoring import (
    DriftInputError,
    UnknownTestError,
    choose_test,
    column_drift,
    drift_report,
)


@pytest.mark.parametrize(
    ("kind", "n_reference", "n_unique", "expected"),
    [
        ("numeric", 1000, 6, ("ks", 0.05)),
        ("numeric", 1000, 5, ("chisquare", 0.05)),
        ("numeric", 10, 3, ("chisquare", 0.05)),
        ("numeric", 1000, 2, ("z", 0.05)),
        ("numeric", 1001, 6, ("wasserstein", 0.1)),
        ("numeric", 1001, 5, ("jensenshannon", 0.1)),
        ("numeric", 1001, 1, ("jensenshannon", 0.1)),
        ("categorical", 1000, 3, ("chisquare", 0.05)),
        ("categorical", 1000, 2, ("z", 0.05)),
        ("categorical", 1001, 50, ("jensenshannon", 0.1)),
        ("categorical", 1001, 2, ("jensenshannon", 0.1)),
    ],
)
def test_choose_test_follows_evidently(kind: str, n_reference: int, n_unique: int, expected: tuple) -> None:
    assert choose_test(kind, n_reference, 500, n_unique) == expected  # type: ignore[arg-type]


def normal(seed: int, size: int, loc: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, 1.0, size)


@pytest.mark.parametrize("size", [300, 20_000])
def test_same_distribution_is_not_drifted_and_a_shift_is(size: int) -> None:
    reference = normal(1, size)
    same = column_drift(reference, normal(2, size), "numeric", column="age")
    shifted = column_drift(reference, normal(3, size, loc=1.0), "numeric", column="age")
    assert same.test == shifted.test == ("ks" if size <= 1000 else "wasserstein")
    assert (same.drifted, shifted.drifted) == (False, True)
    assert same.column == "age" and same.n_reference == size and same.n_current == size
    identical = column_drift(reference, reference, "numeric")
    assert not identical.drifted and identical.score == (1.0 if size <= 1000 else 0.0)


def test_categorical_drift_and_unseen_categories() -> None:
    rng = np.random.default_rng(7)
    reference = rng.choice(["red", "green", "blue"], 5000, p=[0.5, 0.3, 0.2])
    same = column_drift(
        reference, rng.choice(["red", "green", "blue"], 5000, p=[0.5, 0.3, 0.2]), "categorical"
    )
    unseen = column_drift(reference, rng.choice(["red", "purple"], 5000), "categorical", column="colour")
    assert same.test == "jensenshannon" and not same.drifted
    assert unseen.drifted and unseen.statistic is not None and unseen.statistic > 0.3
    assert sorted(unseen.histogram["categories"]) == ["blue", "green", "purple", "red"]
    small = column_drift(reference[:100], ["red", "purple"] * 50, "categorical", test="chisquare")
    assert small.p_value == 0.0 and small.drifted and small.statistic == math.inf
    assert small.to_dict()["statistic"] is None  # JSON has no infinity


def test_override_test_and_threshold() -> None:
    reference, current = normal(1, 5000), normal(2, 5000, loc=0.05)
    default = column_drift(reference, current, "numeric")
    strict = column_drift(reference, current, "numeric", test="wasserstein", threshold=0.01)
    psi = column_drift(reference, current, "numeric", test="psi")
    assert (default.test, default.threshold, default.drifted) == ("wasserstein", 0.1, False)
    assert (strict.threshold, strict.drifted) == (0.01, True)
    assert psi.test == "psi" and psi.p_value is None and psi.threshold == 0.1


def test_missing_values_are_left_out_and_counted() -> None:
    reference = pa.array([1.0, 2.0, None, 3.0, float("nan"), float("inf")] * 100)
    current = pa.array([1.0, 2.0, 3.0, None] * 150)
    result = column_drift(reference, current, "numeric")
    assert (result.n_reference, result.reference_missing) == (300, 300)
    assert (result.n_current, result.current_missing) == (450, 150)
    assert not result.drifted and result.message == ""


@pytest.mark.parametrize("kind", ["numeric", "categorical"])
def test_a_column_all_missing_in_current_is_reported(kind: str) -> None:
    reference = pa.array([1.0, 2.0, 3.0] * 10) if kind == "numeric" else pa.array(["a", "b", "c"] * 10)
    current = pa.nulls(25, type=reference.type)
    result = column_drift(reference, current, kind, column="income")  # type: ignore[arg-type]
    assert result.statistic is None and result.p_value is None and result.drifted is False
    assert result.current_missing == 25 and result.n_current == 0
    assert "every value is missing" in result.message and "current data (25 rows)" in result.message
    empty = column_drift(reference, pa.array([], type=reference.type), kind)  # type: ignore[arg-type]
    assert empty.message == "No rows in the current data: drift cannot be measured."


def test_histograms_for_charts() -> None:
    result = column_drift([0.0, 1.0, 2.0, 3.0, 4.0], [2.0, 9.0, -1.0], "numeric", bins=4)
    assert result.histogram == {
        "edges": [0.0, 1.0, 2.0, 3.0, 4.0],
        "reference": [1, 1, 1, 2],
        "current": [0, 0, 1, 0],
        "current_below": 1,
        "current_above": 1,
    }
    # Top categories by reference share + current share, the rest summed as "other".
    categories = column_drift(list("aaabbc"), list("ddddda"), "categorical", bins=2)
    assert categories.histogram == {
        "categories": ["d", "a", "other"],
        "reference": [0, 3, 3],
        "current": [5, 1, 0],
    }


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"test": "kss"}, UnknownTestError, "Unknown drift test 'kss' for column 'value'; did you mean 'ks'"),
        ({"test": "wasserstein", "kind": "categorical"}, UnknownTestError, "compares numbers but column"),
        ({"threshold": 0}, DriftInputError, "a p-value threshold lies between 0 and 1"),
        ({"test": "ks", "threshold": 5}, DriftInputError, "threshold of column 'value' is 5"),
        ({"threshold": float("nan")}, DriftInputError, "must be a number"),
        ({"bins": 0}, DriftInputError, "bins must be an integer from 1 to 1000"),
        ({"kind": "text"}, DriftInputError, "has kind 'text'; choose 'numeric' or 'categorical'"),
    ],
)
def test_bad_options(kwargs: dict, error: type[Exception], match: str) -> None:
    kind = kwargs.pop("kind", "numeric")
    with pytest.raises(error, match=match):
        column_drift([1.0, 2.0], [1.0, 2.0], kind, **kwargs)


def test_text_compared_as_numbers_is_refused() -> None:
    with pytest.raises(DriftInputError, match="Column 'city' holds string values in the reference data"):
        column_drift(["Paris"], ["Lyon"], "numeric", column="city")


def tables(rows: int = 3000) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(11)
    reference = pa.table(
        {
            "amount": rng.normal(100, 10, rows),
            "age": rng.integers(18, 90, rows),
            "city": rng.choice(["Paris", "Lyon", "Nice"], rows),
            "member": rng.random(rows) < 0.3,
            "signup": pa.array(np.arange(rows).astype("datetime64[s]")),
        }
    )
    current = pa.table(
        {
            "amount": rng.normal(120, 10, rows),
            "age": rng.integers(18, 90, rows),
            "city": rng.choice(["Paris", "Lyon", "Nice", "Lille"], rows),
            "member": rng.random(rows) < 0.3,
        }
    )
    return reference, current


def test_report_infers_kinds_and_skips_what_it_cannot_compare() -> None:
    reference, current = tables()
    report = drift_report(reference, current, threads=2)
    assert report.names == ["amount", "age", "city", "member"]
    assert [c.kind for c in report.columns] == ["numeric", "numeric", "categorical", "categorical"]
    assert report.drifted_columns == ["amount", "city"]
    assert report.drifted_share == 0.5 and report.dataset_drift is True
    assert report.skipped == {"signup": "timestamp[s] values are not compared; name its kind to do so"}
    assert report.column("age").test == "wasserstein"
    assert report.to_dict()["columns"][0]["test_label"] == "Wasserstein distance (normed)"
    with pytest.raises(KeyError, match="did you mean 'amount'"):
        report.column("amont")


def test_report_from_parquet_files_and_folders_equals_the_tables(tmp_path: Path) -> None:
    reference, current = tables(5000)
    pq.write_table(reference, tmp_path / "reference.parquet", row_group_size=1000)
    parts = tmp_path / "current"
    parts.mkdir()
    pq.write_table(current.slice(0, 2000), parts / "part-1.parquet")
    pq.write_table(current.slice(2000), parts / "part-2.parquet")
    kinds = {"amount": "numeric", "city": "categorical", "age": "numeric"}
    overrides = {"tests": {"age": "ks"}, "thresholds": {"city": 0.2}}
    from_tables = drift_report(reference, current, kinds, **overrides)  # type: ignore[arg-type]
    from_files = drift_report(tmp_path / "reference.parquet", parts, kinds, threads=3, **overrides)  # type: ignore[arg-type]
    assert from_files.to_dict() == from_tables.to_dict()
    assert from_files.current_rows == 5000
    assert from_files.column("age").test == "ks" and from_files.column("city").threshold == 0.2


@pytest.mark.parametrize(
    ("reference", "current", "columns", "options", "match"),
    [
        ("missing.parquet", None, None, {}, "The reference data '.*missing.parquet' does not exist"),
        ("not-parquet.txt", None, None, {}, "is not readable Parquet"),
        (
            None,
            None,
            {"amont": "numeric"},
            {},
            "Column 'amont' is not in the reference data; did you mean 'amount'",
        ),
        (
            None,
            None,
            {"amount": "numeric"},
            {"tests": {"city": "ks"}},
            "column 'city', which is not compared",
        ),
        (
            None,
            None,
            {"city": "categorical"},
            {"tests": {"city": "ks"}},
            "compares numbers but column 'city'",
        ),
        (None, None, None, {"drift_share": 0}, "drift_share must be in"),
    ],
)
def test_report_bad_inputs(
    tmp_path: Path,
    reference: str | None,
    current: str | None,
    columns: dict | None,
    options: dict,
    match: str,
) -> None:
    (tmp_path / "not-parquet.txt").write_text("hello")
    ref_table, cur_table = tables(100)
    with pytest.raises((DriftInputError, UnknownTestError), match=match):
        drift_report(
            tmp_path / reference if reference else ref_table,
            tmp_path / current if current else cur_table,
            columns,  # type: ignore[arg-type]
            **options,
        )


def test_current_without_rows_reports_every_column() -> None:
    reference, current = tables(200)
    report = drift_report(reference, current.slice(0, 0), {"amount": "numeric", "city": "categorical"})
    assert [c.message for c in report.columns] == [
        "No rows in the current data: drift cannot be measured."
    ] * 2
    assert report.drifted_share == 0.0 and report.dataset_drift is False


_MEASURE = """
import resource, sys
from pathlib import Path
import modelworks.engine.monitoring as monitoring
import numpy as np, pyarrow.parquet

warm = monitoring.drift_report(Path(sys.argv[1]), Path(sys.argv[2]), {"c00": "numeric"}, threads=1)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = monitoring.drift_report(Path(sys.argv[1]), Path(sys.argv[2]), threads=1)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(report.columns), before, after)
"""


def test_report_from_parquet_reads_one_column_at_a_time(tmp_path: Path) -> None:
    """Peak memory grows by about one column pair, not by the whole tables (real child process)."""
    import subprocess
    import sys

    rows, columns = 100_000, 24
    rng = np.random.default_rng(5)
    for side in ("reference", "current"):
        pq.write_table(
            pa.table({f"c{i:02d}": rng.normal(size=rows) for i in range(columns)}),
            tmp_path / f"{side}.parquet",
        )
    output = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEASURE,
            str(tmp_path / "reference.parquet"),
            str(tmp_path / "current.parquet"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    compared, before_kib, after_kib = (int(value) for value in output)
    whole_tables_mib = 2 * rows * columns * 8 / 2**20  # 36.6 MiB of float64
    assert compared == columns
    grown_mib = (after_kib - before_kib) / 1024
    assert grown_mib < whole_tables_mib / 3, f"peak grew by {grown_mib:.1f} MiB"
