"""Row processors and missing values, run in DuckDB: filters, outliers, duplicates, flags, fills."""

from __future__ import annotations

from typing import Any

import pytest

from modelworks.engine.recipes.types import MissingColumnError, RecipeSpecError


def step(processor: str, **params: Any) -> dict[str, Any]:
    return {"processor": processor, "params": params}


def cond(column: str, operator: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"column": column, "operator": operator, "value": value, **extra}


def ids(prep, *steps: dict[str, Any]) -> list[int]:
    return [row["id"] for row in prep.run(list(steps))]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (cond("dep_delay", "greater", "5"), [1, 3, 6]),
        (cond("dep_delay", "greater_or_equal", 10), [1, 3, 6]),
        (cond("dep_delay", "less", 0), [4]),
        (cond("dep_delay", "less_or_equal", "0"), [4, 5]),
        (cond("carrier", "equals", "AA"), [1, 2, 5]),
        (cond("carrier", "not_equals", "AA"), [3, 4, 6]),
        (cond("cancelled", "not_equals", "true"), [1, 2, 4, 5, 6]),  # missing counts as different
        (cond("distance", "between", "100", value2="1200.25"), [1, 2, 5]),
        (cond("carrier", "in", values=["UA", "DL"]), [3, 4]),
        (cond("carrier", "not_in", values=["UA", "DL"]), [1, 2, 5, 6]),
        (cond("note", "contains", "-"), [5, 6]),
        (cond("origin", "starts_with", "J"), [1, 2, 5, 6]),
        (cond("note", "ends_with", "123"), [6]),
        (cond("code", "matches", "^[0-9]+$"), [1]),
        (cond("distance", "is_missing"), [3]),
        (cond("distance", "is_not_missing"), [1, 2, 4, 5, 6]),
        (cond("note", "is_empty"), [3, 4]),
        (cond("note", "is_not_empty"), [1, 2, 5, 6]),
        (cond("cancelled", "is_true"), [3]),
        (cond("cancelled", "is_false"), [1, 2, 4, 6]),
        (cond("cancelled", "equals", "false"), [1, 2, 4, 6]),
        (cond("day", "greater", "2024-03-01"), [1, 2]),
        (cond("dep_time", "less_or_equal", "2024-01-01 00:00:00"), [4, 5]),
        (cond("note", "equals", "x'); DROP TABLE flights; --"), []),
    ],
)
def test_filter_rows_keeps_matching_rows(prep, condition, expected):
    assert ids(prep, step("filter_rows", conditions=[condition])) == expected


def test_filter_rows_combines_and_removes(prep):
    both = [cond("carrier", "equals", "UA"), cond("dep_delay", "less", 0)]
    assert ids(prep, step("filter_rows", conditions=both, match="any")) == [3, 4]
    assert ids(prep, step("filter_rows", conditions=both, match="all")) == []
    # Removing rows where dep_delay > 5 keeps the row whose delay is missing.
    assert ids(prep, step("filter_rows", conditions=[cond("dep_delay", "greater", 5)], action="remove")) == [
        2,
        4,
        5,
    ]


def test_filter_with_a_formula(prep):
    formula = "dep_delay > 5 and origin = 'JFK'"
    assert ids(prep, step("filter_formula", formula=formula)) == [1, 6]
    assert ids(prep, step("filter_formula", formula=formula, action="remove")) == [2, 3, 4, 5]


def test_a_filter_after_a_computed_column_uses_its_value(prep):
    steps = [
        step("formula", output="delay2", formula="coalesce(dep_delay, 0) * 2"),
        step("filter_formula", formula="delay2 >= 20"),
    ]
    assert ids(prep, *steps) == [1, 3, 6]


def test_remove_missing(prep):
    assert ids(prep, step("remove_missing", columns=["dep_delay", "distance"])) == [1, 4, 5, 6]
    assert ids(prep, step("remove_missing", columns=["distance", "dep_delay"], how="all")) == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    assert ids(prep, step("remove_missing", columns=["distance", "dep_time"], how="all")) == [1, 2, 4, 5, 6]
    assert ids(prep, step("remove_missing", columns=["note"], empty_text=True)) == [1, 2, 5, 6]


def test_filter_outliers(prep):
    # dep_delay: -5, 0, 10, 45, 300 → quartiles 0 and 45, IQR 45: 300 is beyond 45 + 1.5 * 45.
    assert ids(prep, step("filter_outliers", column="dep_delay")) == [1, 2, 4, 5, 6]
    assert ids(prep, step("filter_outliers", column="dep_delay", action="keep")) == [3]
    # mean 70, standard deviation 130.05: 300 is 1.77 deviations away.
    assert ids(prep, step("filter_outliers", column="dep_delay", method="zscore")) == [1, 2, 3, 4, 5, 6]
    assert ids(prep, step("filter_outliers", column="dep_delay", method="zscore", threshold=1.5)) == [
        1,
        2,
        4,
        5,
        6,
    ]


def test_outliers_are_measured_on_the_rows_left_by_earlier_steps(prep):
    steps = [
        step("filter_rows", conditions=[cond("dep_delay", "less", 100)]),
        step("filter_outliers", column="dep_delay", method="iqr", threshold=0.5),
    ]
    # Left: -5, 0, 10, 45 → quartiles -1.25 and 18.75, IQR 20: 45 is beyond 18.75 + 10.
    assert ids(prep, *steps) == [1, 4, 5]


def test_deduplicate(prep):
    first = step("deduplicate", columns=["carrier"], keep="first", order_by="dep_time")
    last = step("deduplicate", columns=["carrier"], keep="last", order_by="dep_time")
    assert ids(prep, first) == [3, 4, 5, 6]
    assert ids(prep, last) == [2, 3, 4, 6]
    # A missing order value is never preferred.
    assert ids(prep, step("deduplicate", columns=["carrier"], keep="last", order_by="dep_delay")) == [
        1,
        3,
        4,
        6,
    ]
    origins = prep.run([step("keep_columns", columns=["origin"]), step("deduplicate")])
    assert sorted(r["origin"] for r in origins) == ["EWR", "JFK", "LGA"]
    assert "__mw_row_1" not in prep.run([step("deduplicate", columns=["origin"])])[0]


def test_flag_rows(prep):
    rows = prep.run([step("flag_rows", formula="distance > 1000", output="long_haul")])
    assert [r["long_haul"] for r in rows] == [False, False, False, False, True, True]


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("dep_delay", "0", [10, 0, 300, -5, 0, 45]),
        ("distance", 1.5, [1000.0, 250.5, 1.5, 80.0, 1200.25, 2500.0]),
        ("note", "n/a", ["  Hello   World ", "x, y", "n/a", "", "a-b-c", "AB-123"]),
        ("cancelled", "false", [False, False, True, False, False, False]),
    ],
)
def test_fill_missing_with_a_constant(prep, column, value, expected):
    assert prep.column([step("fill_missing", columns=[column], value=value)], column) == expected


def test_fill_missing_with_statistics(prep):
    mean = prep.compile([step("fill_missing", columns=["distance", "dep_delay"], method="mean")])
    rows = prep.rows(mean)
    assert rows[2]["distance"] == pytest.approx(1006.15)
    assert rows[1]["dep_delay"] == pytest.approx(70.0)
    assert any("'dep_delay' becomes decimal numbers" in n for n in mean.notes)
    assert prep.column([step("fill_missing", columns=["dep_delay"], method="median")], "dep_delay")[1] == 10.0
    assert prep.column([step("fill_missing", columns=["cancelled"], method="mode")], "cancelled")[4] is False


def test_fill_missing_with_the_previous_or_next_value(prep):
    previous = prep.compile([step("fill_missing", columns=["dep_delay"], method="previous", order_by="id")])
    assert [r["dep_delay"] for r in prep.rows(previous)] == [10, 10, 300, -5, 0, 45]
    assert previous.pushdown is False and any("IGNORE NULLS" in n for n in previous.notes)
    nxt = prep.column(
        [step("fill_missing", columns=["dep_delay"], method="next", order_by="id")], "dep_delay"
    )
    assert nxt == [10, 300, 300, -5, 0, 45]


def test_empty_text_to_missing(prep):
    steps = [step("formula", output="blank", formula="if(id = 1, '   ', '')")]
    rows = prep.run([*steps, step("empty_to_null", columns=["note", "blank"])])
    assert [r["note"] for r in rows][3] is None
    assert [r["blank"] for r in rows] == [None] * 6
    rows = prep.run([*steps, step("empty_to_null", spaces=False)])  # every text column
    assert [r["blank"] for r in rows] == ["   "] + [None] * 5


BAD_STEPS = [
    (
        step("filter_rows", conditions=[cond("dep_dealy", "equals", 1)]),
        MissingColumnError,
        r"step 1 \(Filter rows\): column 'dep_dealy' not found in input 'flights'; did you mean 'dep_delay'\?",
    ),
    (
        step("filter_rows", conditions=[cond("dep_delay", "equals", "ten")]),
        RecipeSpecError,
        "condition 1: 'ten' is not a number, but column 'dep_delay' holds numbers",
    ),
    (
        step("filter_rows", conditions=[cond("day", "less", "yesterday")]),
        RecipeSpecError,
        "'yesterday' is not a date",
    ),
    (
        step("filter_rows", conditions=[cond("cancelled", "equals", "maybe")]),
        RecipeSpecError,
        "holds true/false, not 'maybe'",
    ),
    (
        step("filter_rows", conditions=[cond("carrier", "equals")]),
        RecipeSpecError,
        "operator 'equals' needs a value",
    ),
    (step("filter_rows", conditions=[cond("distance", "between", 1)]), RecipeSpecError, "needs a value2"),
    (step("filter_rows", conditions=[cond("carrier", "in")]), RecipeSpecError, "needs a list of values"),
    (
        step("filter_rows", conditions=[cond("code", "matches", "([a-z")]),
        RecipeSpecError,
        "not a valid regular expression",
    ),
    (
        step("filter_rows", conditions=[cond("carrier", "is_true")]),
        RecipeSpecError,
        "needs a true/false column",
    ),
    (
        step("filter_rows", conditions=[cond("carrier", "equal", "AA")]),
        RecipeSpecError,
        "did you mean 'equals'",
    ),
    (
        step("filter_rows", conditions=[{"column": "carrier"}]),
        RecipeSpecError,
        r"step 1 \(Filter rows\): Condition 1: choose an operator \(equals, not equals, ",
    ),
    (
        step("filter_rows", conditions="carrier = 'AA'"),
        RecipeSpecError,
        "'Conditions': condition 1 must be an object",
    ),
    (
        step("filter_formula", formula="dep_delay + 1"),
        RecipeSpecError,
        "gives integer values; a filter needs a condition",
    ),
    (step("filter_formula", formula="(dep_delay > 1"), RecipeSpecError, "unbalanced parentheses"),
    (step("filter_outliers", column="carrier"), RecipeSpecError, "column 'carrier' holds text, not numbers"),
    (step("filter_outliers", column="dep_delay", threshold=0), RecipeSpecError, "must be greater than 0"),
    (
        step("filter_outliers", column="dep_delay", threshold="many"),
        RecipeSpecError,
        "must be a number, not 'many'",
    ),
    (step("deduplicate", keep="first"), RecipeSpecError, "choose the column that orders rows"),
    (
        step("deduplicate", columns=["payload"], order_by="nope"),
        MissingColumnError,
        "column 'nope' not found",
    ),
    (
        step("flag_rows", formula="carrier", output="f"),
        RecipeSpecError,
        "gives string values; a flag needs a condition",
    ),
    (
        step("fill_missing", columns=["dep_delay"]),
        RecipeSpecError,
        "give the value that replaces missing values",
    ),
    (step("fill_missing", columns=["dep_delay"], value="abc"), RecipeSpecError, "'abc' is not a number"),
    (step("fill_missing", columns=["carrier"], method="mean"), RecipeSpecError, "holds text, not numbers"),
    (
        step("fill_missing", columns=["carrier"], method="previous"),
        RecipeSpecError,
        "choose the column that orders rows",
    ),
    (
        step("fill_missing", columns=["carrier"], method="average"),
        RecipeSpecError,
        "'Fill with' is 'average'; choose one of constant, mean",
    ),
    (step("empty_to_null", columns=["dep_delay"]), RecipeSpecError, "holds a whole number, not text"),
]


@pytest.mark.parametrize(("bad", "error", "message"), BAD_STEPS)
def test_bad_settings_name_the_step(prep, bad, error, message):
    with pytest.raises(error, match=message):
        prep.compile([bad])
