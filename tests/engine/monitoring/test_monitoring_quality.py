"""Data quality of current data against the reference: missing values, out of range, unseen categories."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelworks.engine.monitoring import DriftInputError, data_quality

REFERENCE = pa.table(
    {
        "age": pa.array([20.0, 30.0, None, 40.0, 50.0] * 20),
        "city": pa.array(["Paris", "Lyon", "Nice", "Paris", None] * 20),
        "score": pa.array([1, 2, 3, 4, 5] * 20),
    }
)


def test_clean_current_data_has_no_finding() -> None:
    assert data_quality(REFERENCE, REFERENCE) == []


def test_each_check_reports_what_it_finds(tmp_path: Path) -> None:
    current = pa.table(
        {
            "age": pa.array([None, None, 25.0, 60.0, 10.0] * 20),
            "city": pa.array(["Paris", "Lille", "Lille", "Brest", "Lyon"] * 20),
            "score": pa.nulls(100, pa.int64()),
        }
    )
    pq.write_table(current, tmp_path / "current.parquet")
    findings = data_quality(REFERENCE, tmp_path / "current.parquet")
    assert [(f.column, f.check, f.count) for f in findings] == [
        ("age", "nulls", 40),
        ("age", "out_of_range", 40),
        ("city", "unseen_category", 60),
        ("score", "nulls", 100),
    ]
    nulls, out_of_range, unseen, all_missing = findings
    assert (nulls.rate, nulls.reference_rate) == (0.4, 0.2)
    assert nulls.message == "'age': 40.0% of the values are missing (40 of 100) vs 20.0% in the reference."
    assert out_of_range.rate == pytest.approx(40 / 60) and out_of_range.examples == ("10", "60")
    assert "outside the reference range [20, 50]" in out_of_range.message
    assert unseen.examples == ("Lille", "Brest") and unseen.rate == 0.6
    assert "2 categories never seen in the reference ('Lille', 'Brest') in 60 rows" in unseen.message
    assert (
        all_missing.message
        == "'score': every value is missing in the current data (100 rows) vs 0.0% in the reference."
    )
    assert all_missing.to_dict()["check"] == "nulls"


def test_missing_rate_within_the_margin_is_not_reported() -> None:
    current = REFERENCE.set_column(0, "age", pa.array([20.0, None, None, 40.0, 50.0] * 20))
    assert [f.check for f in data_quality(REFERENCE, current, {"age": "numeric"})] == ["nulls"]
    assert data_quality(REFERENCE, current, {"age": "numeric"}, null_margin=0.25) == []


def test_empty_current_data_says_so() -> None:
    findings = data_quality(REFERENCE, REFERENCE.slice(0, 0))
    assert [(f.column, f.check) for f in findings] == [("", "no_rows")]
    assert "no rows" in findings[0].message


@pytest.mark.parametrize(
    ("columns", "options", "match"),
    [
        ({"town": "categorical"}, {}, "Column 'town' is not in the reference data"),
        ({"city": "numeric"}, {}, "Column 'city' holds string values in the reference data"),
        (None, {"null_margin": 2}, "null_margin must be between 0 and 1"),
    ],
)
def test_bad_inputs(columns: dict | None, options: dict, match: str) -> None:
    with pytest.raises(DriftInputError, match=match):
        data_quality(REFERENCE, REFERENCE, columns, **options)  # type: ignore[arg-type]
