"""ScoringModel.parse: every accepted body format gives the same rows; every bad body a precise error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scoring_tables import FEATURES

from modelworks.engine.scoring import ScoringInputError, ScoringModel

ROWS = [{f: float(i + j) / 10 for j, f in enumerate(FEATURES)} for i in range(3)]
EXPECTED = np.array([[r[f] for f in FEATURES] for r in ROWS])


@pytest.fixture(scope="module")
def booster(lgb_dir: Path) -> ScoringModel:
    return ScoringModel.load(lgb_dir)


@pytest.fixture(scope="module")
def lab(lab_dir: Path) -> ScoringModel:
    return ScoringModel.load(lab_dir)


def _split(rows: list[dict[str, float]]) -> dict[str, object]:
    return {"columns": FEATURES, "data": [[r[f] for f in FEATURES] for r in rows]}


BODIES = {
    "records": {"records": ROWS},
    "dataframe_records": {"dataframe_records": ROWS},
    "columns": {"columns": {f: [r[f] for r in ROWS] for f in FEATURES}},
    "dataframe_split": {"dataframe_split": _split(ROWS)},
    "dataframe_split_with_index": {"dataframe_split": {**_split(ROWS), "index": [7, 8, 9]}},
    "instances_records": {"instances": ROWS},
    "instances_positional": {"instances": [[r[f] for f in FEATURES] for r in ROWS]},
    "inputs_columns": {"inputs": {f: [r[f] for r in ROWS] for f in FEATURES}},
    "inputs_records_with_params": {"inputs": ROWS, "params": {"ignored": True}},
    "bare_list": ROWS,
    "reordered_and_extra_columns": {"records": [{"extra": "x", **dict(reversed(r.items()))} for r in ROWS]},
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_every_json_format_gives_the_same_matrix(booster: ScoringModel, name: str) -> None:
    batch = booster.parse(json.dumps(BODIES[name]).encode(), max_rows=10)
    assert batch.rows == 3
    assert batch.matrix is not None
    np.testing.assert_array_equal(batch.matrix, EXPECTED)
    assert list(batch.frame.columns) == FEATURES  # extra columns are ignored


def test_csv(booster: ScoringModel) -> None:
    lines = [",".join(["extra", *FEATURES])] + [",".join(["x", *(str(r[f]) for f in FEATURES)]) for r in ROWS]
    batch = booster.parse("\n".join(lines).encode(), max_rows=10, content_type="text/csv; charset=utf-8")
    np.testing.assert_array_equal(batch.matrix, EXPECTED)


def test_mixed_types_for_a_lab_pipeline(lab: ScoringModel) -> None:
    body = {
        "records": [
            {"flight_id": "A1", "distance": 812.5, "carrier": "AF", "hour": 18, "day": "2024-03-01"},
            {"flight_id": 42, "distance": None, "carrier": "KL", "hour": 7.0, "day": "2024-03-02T10:00:00"},
            {"flight_id": "A3", "distance": float("nan"), "carrier": "LH", "hour": 9, "day": "2024-03-03"},
        ]
    }
    batch = lab.parse(json.dumps(body).encode(), max_rows=10, id_column="flight_id")
    assert batch.ids == ["A1", "42", "A3"]
    assert batch.matrix is None  # a pipeline with text and dates takes a DataFrame
    frame = batch.frame
    assert "flight_id" not in frame.columns
    assert frame["distance"].isna().tolist() == [False, True, True]  # null and NaN: optional column
    assert frame["hour"].tolist() == [18, 7, 9]
    assert str(frame["day"].dtype).startswith("datetime64")
    assert frame["carrier"].tolist() == ["AF", "KL", "LH"]


def test_optional_column_may_be_absent(lab: ScoringModel) -> None:
    body = {"records": [{"carrier": "AF", "hour": 18, "day": "2024-03-01"}]}
    assert lab.parse(json.dumps(body).encode(), max_rows=1).frame["distance"].isna().all()


def test_id_column_absent_gives_no_ids(booster: ScoringModel) -> None:
    assert booster.parse(json.dumps({"records": ROWS}).encode(), max_rows=5, id_column="row_id").ids is None


def _with(row: int, column: str, value: object) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [dict(r) for r in ROWS]
    rows[row][column] = value
    return rows


def _without(row: int, column: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [dict(r) for r in ROWS]
    del rows[row][column]
    return rows


BAD_BODIES: list[tuple[str, bytes, str, str]] = [
    ("empty body", b"  ", "empty", "The request body is empty"),
    ("empty batch", b'{"records": []}', "empty", "no rows; send at least one row"),
    ("not json", b'{"records": [', "invalid_json", "not valid JSON"),
    (
        "not utf8",
        b'{"records": [{"f0": "\xff"}]}',
        "not_utf8",
        r"not UTF-8 text \(invalid byte at position 21\)",
    ),
    ("too deep", b"[" * 2000 + b"]" * 2000, "too_deep", "nested too deeply"),
    (
        "nested cell",
        json.dumps({"records": _with(1, "f2", [[[[[[1]]]]]])}).encode(),
        "too_deep",
        "Column 'f2' in row 1 holds deeply nested JSON",
    ),
    (
        "too many rows",
        json.dumps({"records": ROWS * 2}).encode(),
        "too_many_rows",
        "6 rows, more than this endpoint's limit of 5; split it",
    ),
    (
        "unknown key",
        b'{"rows": []}',
        "unknown_format",
        "unknown key 'rows'; it must have exactly one of records",
    ),
    ("two data keys", json.dumps({"records": ROWS, "columns": {}}).encode(), "unknown_format", "2 data keys"),
    ("scalar body", b"42", "unknown_format", "single JSON int, not rows"),
    (
        "missing column everywhere",
        json.dumps({"columns": {f: [1.0] for f in FEATURES[1:]}}).encode(),
        "missing_column",
        "required column 'f0' is missing; the model expects a number",
    ),
    (
        "missing column in one row",
        json.dumps({"records": _without(2, "f3")}).encode(),
        "missing_column",
        "Row 2 has no value for the required column 'f3'",
    ),
    (
        "null in a required column",
        json.dumps({"records": _with(1, "f1", None)}).encode(),
        "missing_value",
        "Column 'f1' is null in row 1, but the model requires a value",
    ),
    (
        "text in a number column",
        json.dumps({"records": _with(0, "f4", "1.5")}).encode(),
        "wrong_type",
        r"Column 'f4' in row 0 is the text '1.5', but the model expects a number \(double\); send numbers without quotes",
    ),
    (
        "boolean in a number column",
        json.dumps({"records": _with(2, "f0", True)}).encode(),
        "wrong_type",
        "Column 'f0' in row 2 is the boolean true.*send 1/0 instead of true/false",
    ),
    (
        "NaN in a required column",
        json.dumps({"records": _with(1, "f5", float("nan"))}).encode(),
        "not_finite",
        "Column 'f5' in row 1 is NaN, but the model requires a number",
    ),
    (
        "Infinity",
        json.dumps({"records": _with(0, "f2", float("inf"))}).encode(),
        "not_finite",
        "Column 'f2' in row 0 is infinite",
    ),
    (
        "number too large",
        b'{"records": [{"f0": 1e400}]}',
        "not_finite",
        "Column 'f0' in row 0 is infinite",
    ),
    (
        "row not an object",
        json.dumps({"records": [ROWS[0], 5]}).encode(),
        "bad_shape",
        r"Row 1 of \"records\" is the number 5; every row must be an object",
    ),
    (
        "ragged columns",
        json.dumps({"columns": {"f0": [1, 2], "f1": [1]}}).encode(),
        "bad_shape",
        "The columns have different lengths",
    ),
    (
        "positional row too short",
        json.dumps({"instances": [[1.0, 2.0]]}).encode(),
        "bad_shape",
        "Row 0 has 2 values but the model takes 6 columns",
    ),
    (
        "split row too short",
        json.dumps({"dataframe_split": {"columns": FEATURES, "data": [[1.0]]}}).encode(),
        "bad_shape",
        'Row 0 of "dataframe_split" has 1 values but 6 columns',
    ),
]


@pytest.mark.parametrize(("name", "body", "code", "message"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies(booster: ScoringModel, name: str, body: bytes, code: str, message: str) -> None:
    with pytest.raises(ScoringInputError, match=message) as caught:
        booster.parse(body, max_rows=5)
    assert caught.value.code == code


LAB_BAD: list[tuple[str, dict[str, object], str, str, str | None]] = [
    ("number for text", {"carrier": 5, "hour": 1, "day": "2024-01-01"}, "wrong_type", r"send text in quotes", "carrier"),
    ("fractional whole number", {"carrier": "AF", "hour": 1.5, "day": "2024-01-01"}, "wrong_type", "send a whole number", "hour"),
    ("not a date", {"carrier": "AF", "hour": 1, "day": "yesterday"}, "wrong_type", "not an ISO date/time", "day"),
    ("misspelt column", {"Carrier": "AF", "hour": 1, "day": "2024-01-01"}, "missing_column", "did you mean 'Carrier'", "carrier"),
    ("Infinity in an optional column", {"distance": float("inf"), "carrier": "AF", "hour": 1, "day": "2024-01-01"}, "not_finite", "infinite", "distance"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "row", "code", "message", "column"), LAB_BAD, ids=[b[0] for b in LAB_BAD])
def test_bad_rows_for_a_lab_pipeline(
    lab: ScoringModel, name: str, row: dict[str, object], code: str, message: str, column: str | None
) -> None:
    with pytest.raises(ScoringInputError, match=message) as caught:
        lab.parse(json.dumps({"records": [row]}).encode(), max_rows=5)
    assert (caught.value.code, caught.value.column) == (code, column)


def test_bad_csv(booster: ScoringModel) -> None:
    header = ",".join(FEATURES)
    with pytest.raises(ScoringInputError, match="Column 'f1' in row 1 is the text 'abc'") as caught:
        booster.parse(f"{header}\n1,2,3,4,5,6\n1,abc,3,4,5,6\n".encode(), max_rows=5, content_type="text/csv")
    assert caught.value.row == 1
    with pytest.raises(ScoringInputError, match="CSV row 0 has 2 values but the header names 6"):
        booster.parse(f"{header}\n1,2\n".encode(), max_rows=5, content_type="text/csv")
    with pytest.raises(ScoringInputError, match="limit of 1"):
        booster.parse(f"{header}\n1,2,3,4,5,6\n1,2,3,4,5,6\n".encode(), max_rows=1, content_type="text/csv")


def test_bad_id_column(booster: ScoringModel) -> None:
    rows = [dict(r, row_id=f"r{i}") for i, r in enumerate(ROWS)]
    del rows[1]["row_id"]
    with pytest.raises(ScoringInputError, match="Row 1 has no value in the id column 'row_id'"):
        booster.parse(json.dumps(rows).encode(), max_rows=5, id_column="row_id")


# The positional fast path of ``dataframe_split`` (rows straight into a matrix): same answers and the
# same errors as the column-by-column path it falls back to.

SPLIT_VARIANTS = {
    "reordered columns": (list(reversed(FEATURES)), lambda r: [r[f] for f in reversed(FEATURES)]),
    "extra text column": (["id", *FEATURES], lambda r: ["row", *(r[f] for f in FEATURES)]),
    "whole numbers as integers": (FEATURES, lambda r: [int(r[f]) if r[f] == int(r[f]) else r[f] for f in FEATURES]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SPLIT_VARIANTS))
def test_split_variants_give_the_same_matrix_in_model_order(booster: ScoringModel, name: str) -> None:
    columns, row = SPLIT_VARIANTS[name]
    body = json.dumps({"dataframe_split": {"columns": columns, "data": [row(r) for r in ROWS]}}).encode()
    batch = booster.parse(body, max_rows=10)
    assert batch.matrix is not None and batch.matrix.flags.c_contiguous
    np.testing.assert_array_equal(batch.matrix, EXPECTED)
    assert batch.matrix_columns == tuple(FEATURES)
    assert list(batch.frame.columns) == FEATURES


def _split_with(row: int, column: str, value: object, columns: list[str] = FEATURES) -> bytes:
    data = [[r.get(c, 0.0) for c in columns] for r in ROWS]
    data[row][columns.index(column)] = value
    return json.dumps({"dataframe_split": {"columns": columns, "data": data}}).encode()


SPLIT_BAD = [
    ("boolean", _split_with(1, "f3", True), "wrong_type", "Column 'f3' in row 1 is the boolean true"),
    ("text", _split_with(2, "f0", "7"), "wrong_type", "Column 'f0' in row 2 is the text '7'"),
    ("null", _split_with(0, "f1", None), "missing_value", "Column 'f1' is null in row 0"),
    ("NaN", _split_with(1, "f5", float("nan")), "not_finite", "Column 'f5' in row 1 is NaN"),
    ("integer beyond float64", _split_with(0, "f2", 10**400), "not_finite", "Column 'f2' in row 0 is a number too large"),
    (
        "misspelt column",
        _split_with(0, "F4", 1.0, [*FEATURES[:4], "F4", FEATURES[5]]),
        "missing_column",
        "The required column 'f4' is missing.*did you mean 'F4'",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "body", "code", "message"), SPLIT_BAD, ids=[b[0] for b in SPLIT_BAD])
def test_bad_split_bodies(booster: ScoringModel, name: str, body: bytes, code: str, message: str) -> None:
    with pytest.raises(ScoringInputError, match=message) as caught:
        booster.parse(body, max_rows=5)
    assert caught.value.code == code
