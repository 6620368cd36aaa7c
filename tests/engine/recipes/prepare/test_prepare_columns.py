"""Column processors run in DuckDB over the flights table: rename, drop, keep, move, copy, formula,
change type, first non-empty value, concatenate."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from modelworks.engine.recipes.types import MissingColumnError, RecipeSpecError


def step(processor: str, **params: Any) -> dict[str, Any]:
    return {"processor": processor, "params": params}


def test_rename_keeps_values_and_position(prep):
    rows = prep.run([step("rename_columns", renames={"dep_delay": "delay", "carrier": "airline"})])
    assert list(rows[0])[:4] == ["id", "airline", "origin", "delay"]
    assert [r["delay"] for r in rows] == [10, None, 300, -5, 0, 45]


def test_rename_can_swap_names(prep):
    rows = prep.run([step("rename_columns", renames={"origin": "carrier", "carrier": "origin"})])
    assert (rows[0]["carrier"], rows[0]["origin"]) == ("JFK", "AA")


def test_a_formula_after_swapping_names_reads_the_renamed_columns(prep):
    steps = [
        step("rename_columns", renames={"carrier": "origin", "origin": "carrier"}),
        step("formula", output="route", formula="carrier & '>' & origin"),
    ]
    assert prep.column(steps, "route")[0] == "JFK>AA"


def test_drop_keep_and_move(prep):
    dropped = prep.run([step("drop_columns", columns=["payload", "note", "lat", "lon"])])
    assert "payload" not in dropped[0] and "note" not in dropped[0] and len(dropped[0]) == 9
    kept = prep.run([step("keep_columns", columns=["dep_delay", "id"])])
    assert list(kept[0]) == ["id", "dep_delay"]  # original order kept
    moved = prep.compile([step("reorder_columns", columns=["payload", "code"])])
    assert [s.alias_or_name for s in moved.outputs[0].query.selects][:3] == ["payload", "code", "id"]
    last = prep.run([step("reorder_columns", columns=["id"], position="last")])
    assert list(last[0])[-1] == "id"


def test_copy_column_goes_next_to_its_source(prep):
    rows = prep.run([step("copy_column", column="carrier", output="carrier_copy")])
    assert list(rows[0])[:3] == ["id", "carrier", "carrier_copy"]
    assert [r["carrier_copy"] for r in rows] == ["AA", "AA", "UA", "DL", "AA", "B6"]


def test_formula_creates_and_replaces_columns(prep):
    rows = prep.run(
        [
            step("formula", output="late", formula="if(dep_delay > 15, 'late', 'on time')"),
            step("formula", output="dep_delay", formula="coalesce(dep_delay, 0) * 2"),
            step("formula", output="label", formula="[carrier] & '-' & late"),
        ]
    )
    assert [r["late"] for r in rows] == [
        "on time",
        "on time",
        "late",
        "on time",
        "on time",
        "late",
    ]  # null > 15 is not true
    assert [r["dep_delay"] for r in rows] == [20, 0, 600, -10, 0, 90]
    assert rows[2]["label"] == "UA-late"
    assert list(rows[0]).index("dep_delay") == 3  # replaced in place


def test_formula_reads_a_column_standardized_by_a_previous_step(prep):
    compiled = prep.compile(
        [
            step("standardize", columns=["distance"]),
            step("formula", output="far", formula="distance > 0"),
        ]
    )
    rows = prep.rows(compiled)
    assert [r["far"] for r in rows] == [False, False, None, False, True, True]  # above the mean 1006.15


@pytest.mark.parametrize(
    ("column", "to", "expected"),
    [
        ("code", "float", [42.0, 7.5, None, None, 13.0, 1000.0]),
        ("code", "integer", [42, 8, None, None, 13, 1000]),
        ("dep_delay", "string", ["10", None, "300", "-5", "0", "45"]),
        ("distance", "integer", [1000, 251, None, 80, 1200, 2500]),
        ("cancelled", "integer", [0, 0, 1, 0, None, 0]),
        ("dep_delay", "boolean", [True, None, True, True, False, True]),
        (
            "dep_time",
            "date",
            [
                dt.date(2024, 3, 15),
                dt.date(2024, 3, 16),
                None,
                dt.date(2024, 1, 1),
                dt.date(2023, 12, 31),
                dt.date(2024, 2, 29),
            ],
        ),
        ("cancelled", "string", ["false", "false", "true", "false", None, "false"]),
    ],
)
def test_cast_columns(prep, column, to, expected):
    assert prep.column([step("cast_columns", columns=[column], to=to)], column) == expected


def test_cast_text_to_boolean_and_dates_leniently(prep):
    rows = prep.run(
        [
            step("formula", output="yes", formula="case(id = 1, ' Yes', id = 2, 'n', id = 3, '1', 'maybe')"),
            step("formula", output="when", formula="if(id = 1, '2024-05-01', 'not a date')"),
            step("cast_columns", columns=["yes"], to="boolean"),
            step("cast_columns", columns=["when"], to="date", on_failure="null"),
        ]
    )
    assert [r["yes"] for r in rows] == [True, False, True, None, None, None]
    assert [r["when"] for r in rows] == [dt.date(2024, 5, 1)] + [None] * 5


def test_cast_with_errors_fails_on_bad_text(prep):
    import duckdb

    compiled = prep.compile([step("cast_columns", columns=["code"], to="float", on_failure="error")])
    with pytest.raises(duckdb.ConversionException):
        prep.rows(compiled)


def test_coalesce_and_concat(prep):
    rows = prep.run(
        [
            step("coalesce_columns", columns=["note", "code", "carrier"], output="first"),
            step("concat_columns", columns=["carrier", "dep_delay", "code"], separator="/", output="joined"),
            step(
                "concat_columns",
                columns=["carrier", "code"],
                separator="|",
                output="kept",
                skip_missing=False,
            ),
        ]
    )
    assert [r["first"] for r in rows] == ["  Hello   World ", "x, y", "abc", "", "a-b-c", "AB-123"]
    assert [r["joined"] for r in rows] == [
        "AA/10/42",
        "AA/7.5",
        "UA/300/abc",
        "DL/-5",
        "AA/0/ 13 ",
        "B6/45/1e3",
    ]
    assert rows[3]["kept"] == "DL|"


BAD_STEPS = [
    (
        step("rename_columns", renames={"dep_dealy": "x"}),
        MissingColumnError,
        r"step 1 \(Rename columns\): column 'dep_dealy' not found in input 'flights'; did you mean 'dep_delay'\?",
    ),
    (
        step("rename_columns", renames={"carrier": "origin"}),
        RecipeSpecError,
        "two columns would be called 'origin'",
    ),
    (step("rename_columns", renames={"carrier": ""}), RecipeSpecError, "cannot be empty"),
    (step("rename_columns", renames={"carrier": "__mw_x"}), RecipeSpecError, "reserved"),
    (
        step(
            "drop_columns",
            columns=[
                c
                for c in [
                    "id",
                    "carrier",
                    "origin",
                    "dep_delay",
                    "distance",
                    "dep_time",
                    "day",
                    "note",
                    "code",
                    "cancelled",
                    "lat",
                    "lon",
                    "payload",
                ]
            ],
        ),
        RecipeSpecError,
        "drop every column",
    ),
    (step("drop_columns", columns=["id", "id"]), RecipeSpecError, "lists column 'id' twice"),
    (step("drop_columns", columns="nope"), MissingColumnError, "column 'nope' not found"),
    (step("drop_columns"), RecipeSpecError, r"step 1 \(Drop columns\): choose the columns to drop$"),
    (
        step("reorder_columns", columns=["id"], position="middle"),
        RecipeSpecError,
        r"'Move to' is 'middle'; choose one of first, last",
    ),
    (
        step("copy_column", column="carrier", output="origin"),
        RecipeSpecError,
        "column 'origin' already exists",
    ),
    (
        step("formula", output="x", formula="lenght(carrier)"),
        RecipeSpecError,
        r"step 1 \(Formula\): unknown function 'lenght' at position 1; did you mean 'length'\?",
    ),
    (
        step("formula", output="x", formula="dep_dealy + 1"),
        MissingColumnError,
        "unknown column 'dep_dealy' at position 1; did you mean 'dep_delay'",
    ),
    (step("formula", output="x", formula="1 +", colour="red"), RecipeSpecError, "unknown setting 'colour'"),
    (
        step("cast_columns", columns=["day"], to="integer"),
        RecipeSpecError,
        "holds dates, which cannot become integer",
    ),
    (step("cast_columns", columns=["dep_delay"], to="date"), RecipeSpecError, "cannot become dates"),
    (step("cast_columns", columns=["code"], to="text"), RecipeSpecError, "choose one of string, "),
    (step("coalesce_columns", columns=["carrier"], output="x"), RecipeSpecError, "at least two columns"),
    (
        step("coalesce_columns", columns=["carrier", "dep_delay"], output="x"),
        RecipeSpecError,
        "mix a whole number and text",
    ),
]


@pytest.mark.parametrize(("bad", "error", "message"), BAD_STEPS)
def test_bad_settings_name_the_step(prep, bad, error, message):
    with pytest.raises(error, match=message):
        prep.compile([bad])


def test_a_later_step_sees_renamed_columns_only(prep):
    with pytest.raises(
        MissingColumnError,
        match=r"^recipe 'clean_flights' step 2 \(Drop columns\): column 'carrier' not found in input 'flights' \(as it is after step 1\); did you mean 'carrier2'\?",
    ):
        prep.compile(
            [
                step("rename_columns", renames={"carrier": "carrier2"}),
                step("drop_columns", columns=["carrier"]),
            ]
        )
