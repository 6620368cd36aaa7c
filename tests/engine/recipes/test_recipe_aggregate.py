"""Group, window and pivot recipes: the values they compute on real Parquet files."""

from __future__ import annotations

import math

import pytest

from modelworks.engine.recipes import (
    MissingColumnError,
    RecipeSpecError,
    Relation,
    compile_recipe,
    pivot_values_query,
)


@pytest.fixture
def sales(tables) -> Relation:
    return tables.add(
        "sales",
        """SELECT * FROM (VALUES
            ('north', 1, 10.0, 'a'), ('north', 2, 20.0, 'b'), ('north', 3, NULL, 'c'), ('north', 4, 40.0, 'd'),
            ('south', 1, 5.0, 'e'), ('south', 2, 7.0, 'f')
        ) v(region, step, amount, code)""",
    )


def test_group_aggregations(tables, sales: Relation) -> None:
    spec = {
        "keys": ["region"],
        "aggregations": [
            {"function": "count"},
            {"column": "amount", "function": "count"},
            {"column": "amount", "function": "count_distinct"},
            {"column": "amount", "function": "sum"},
            {"column": "amount", "function": "avg"},
            {"column": "amount", "function": "min"},
            {"column": "amount", "function": "max"},
            {"column": "amount", "function": "median"},
            {"column": "amount", "function": "quantile", "p": 0.5, "name": "amount_half"},
            {"column": "code", "function": "first", "order_by": [{"column": "step", "direction": "desc"}]},
            {"column": "code", "function": "last", "order_by": ["step"]},
            {"column": "code", "function": "concat", "separator": "-", "order_by": ["step"]},
        ],
    }
    compiled = compile_recipe("group", spec, [sales], ["by_region"], recipe="g")
    assert tables.columns(compiled.outputs[0]) == [
        "region", "count", "amount_count", "amount_count_distinct", "amount_sum", "amount_avg", "amount_min",
        "amount_max", "amount_median", "amount_half", "code_first", "code_last", "code_concat",
    ]  # fmt: skip
    assert tables.rows(compiled.outputs[0]) == [
        ("north", 4, 3, 3, 70.0, 70.0 / 3, 10.0, 40.0, 20.0, 20.0, "d", "d", "a-b-c-d"),
        ("south", 2, 2, 2, 12.0, 6.0, 5.0, 7.0, 6.0, 6.0, "f", "f", "e-f"),
    ]
    assert {(e.output_column, e.input_column, e.transformation) for e in compiled.lineage} >= {
        ("region", "region", "identity"),
        ("amount_sum", "amount", "aggregation"),
    }


def test_group_stddev_variance_global_and_having(tables, sales: Relation) -> None:
    spec = {
        "keys": [],
        "aggregations": [
            {"column": "amount", "function": "stddev"},
            {"column": "amount", "function": "variance"},
        ],
    }
    compiled = compile_recipe("group", spec, [sales], ["o"], recipe="g")
    ((stddev, variance),) = tables.rows(compiled.outputs[0])
    values = [10.0, 20.0, 40.0, 5.0, 7.0]
    mean = sum(values) / len(values)
    expected = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    assert variance == pytest.approx(expected)
    assert stddev == pytest.approx(math.sqrt(expected))

    having = {"keys": ["region"], "aggregations": [{"function": "count", "name": "n"}], "having": "n > 3"}
    assert tables.rows(compile_recipe("group", having, [sales], ["o"], recipe="g").outputs[0]) == [
        ("north", 4)
    ]


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        (
            {"keys": ["regoin"], "aggregations": [{"function": "count"}]},
            MissingColumnError,
            r"'regoin'.*did you mean 'region'",
        ),
        (
            {"aggregations": [{"column": "code", "function": "sum"}]},
            RecipeSpecError,
            r"'sum' needs a number column but 'code' is string",
        ),
        (
            {"aggregations": [{"column": "amount", "function": "quantile"}]},
            RecipeSpecError,
            r"setting 'p' is required",
        ),
        (
            {"aggregations": [{"column": "amount", "function": "avrage"}]},
            RecipeSpecError,
            r"did you mean 'average'|choose one of count",
        ),
        ({"aggregations": [{"function": "sum"}]}, RecipeSpecError, r"setting 'column' is required for 'sum'"),
        (
            {"keys": ["region"], "aggregations": [{"function": "count", "name": "region"}]},
            RecipeSpecError,
            r"output name 'region' is already used by another key",
        ),
        ({"aggregations": []}, RecipeSpecError, r"add at least one aggregation"),
    ],
)
def test_bad_group_specs(sales: Relation, spec: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        compile_recipe("group", spec, [sales], ["o"], recipe="g")


def test_window_functions_and_frames(tables, sales: Relation) -> None:
    spec = {
        "partition_by": ["region"],
        "order_by": [{"column": "step"}],
        "functions": [
            {"function": "row_number"},
            {"function": "rank"},
            {"function": "dense_rank"},
            {"function": "percent_rank"},
            {"function": "ntile", "n": 2},
            {"function": "lag", "column": "amount"},
            {"function": "lead", "column": "amount", "offset": 1, "default": -1},
            {"function": "first_value", "column": "code"},
            {"function": "last_value", "column": "code"},
            {"function": "sum", "column": "amount"},
            {"function": "count", "column": "amount"},
            {"function": "max", "column": "amount", "frame": {"unit": "rows", "start": "1 preceding", "end": "1 following"}},
            {"function": "moving_avg", "column": "amount", "n": 2},
            {"function": "min", "column": "amount", "name": "whole_min",
             "frame": {"start": "unbounded preceding", "end": "unbounded following"}},
        ],
    }  # fmt: skip
    compiled = compile_recipe("window", spec, [sales], ["o"], recipe="w")
    rows = tables.rows(compiled.outputs[0])
    added = [r[4:] for r in rows]
    assert added == [
        # rn rank dense pct ntile lag lead first last run_sum run_count max±1 mavg2 whole_min
        (1, 1, 1, 0.0, 1, None, 20.0, "a", "d", 10.0, 1, 20.0, 10.0, 10.0),
        (2, 2, 2, 1 / 3, 1, 10.0, None, "a", "d", 30.0, 2, 20.0, 15.0, 10.0),
        (3, 3, 3, 2 / 3, 2, 20.0, 40.0, "a", "d", 30.0, 2, 40.0, 20.0, 10.0),
        (4, 4, 4, 1.0, 2, None, -1.0, "a", "d", 70.0, 3, 40.0, 40.0, 10.0),
        (1, 1, 1, 0.0, 1, None, 7.0, "e", "f", 5.0, 1, 7.0, 5.0, 5.0),
        (2, 2, 2, 1.0, 2, 5.0, -1.0, "e", "f", 12.0, 2, 7.0, 6.0, 5.0),
    ]
    assert tables.columns(compiled.outputs[0])[4:7] == ["row_number", "rank", "dense_rank"]


def test_window_range_frame_over_values(tables) -> None:
    days = tables.add("days", "SELECT * FROM (VALUES (1, 1), (2, 1), (4, 1), (5, 1)) v(day, n)")
    spec = {
        "order_by": ["day"],
        "functions": [
            {
                "function": "sum",
                "column": "n",
                "frame": {"unit": "range", "start": "1 preceding", "end": "current row"},
            }
        ],
    }
    compiled = compile_recipe("window", spec, [days], ["o"], recipe="w")
    assert tables.rows(compiled.outputs[0]) == [(1, 1, 1), (2, 1, 2), (4, 1, 1), (5, 1, 2)]


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"functions": [{"function": "rank"}]}, r"'rank' needs an order; set 'order_by'"),
        ({"order_by": ["step"], "functions": [{"function": "ntile"}]}, r"setting 'n' is required for 'ntile'"),
        (
            {"order_by": ["step"], "functions": [{"function": "sum", "column": "amount", "frame": {"start": "2 following", "end": "current row"}}]},
            r"must come before the end",
        ),
        ({"order_by": ["step"], "functions": [{"function": "sum", "column": "amount", "frame": {"start": "yesterday"}}]}, r"'yesterday'; write 'unbounded preceding'"),
        (
            {"order_by": ["region"], "functions": [{"function": "sum", "column": "amount", "frame": {"unit": "range", "start": "1 preceding"}}]},
            r"range frame counted in values needs exactly one number column",
        ),
        ({"order_by": ["step"], "functions": [{"function": "lag", "column": "amount", "name": "code"}]}, r"output column 'code' already exists"),
        ({"order_by": ["setp"], "functions": [{"function": "row_number"}]}, r"order_by\) uses column 'setp'.*did you mean 'step'"),
        ({"order_by": ["step"], "functions": [{"function": "row_number", "frame": {"start": "current row"}}]}, r"does not apply to 'row_number'"),
    ],
)  # fmt: skip
def test_bad_window_specs(sales: Relation, spec: dict, match: str) -> None:
    with pytest.raises(RecipeSpecError, match=match):
        compile_recipe("window", spec, [sales], ["o"], recipe="w")


def test_pivot_values_become_columns(tables, sales: Relation) -> None:
    spec = {
        "index": ["region"],
        "column": "step",
        "values": [1, 2, 5],
        "aggregations": [{"column": "amount", "function": "sum"}],
    }
    compiled = compile_recipe("pivot", spec, [sales], ["o"], recipe="p")
    assert tables.columns(compiled.outputs[0]) == ["region", "1", "2", "5"]
    assert tables.rows(compiled.outputs[0]) == [("north", 10.0, 20.0, None), ("south", 5.0, 7.0, None)]

    two = {
        "column": "region",
        "values": ["north", "south"],
        "aggregations": [{"function": "count"}, {"column": "amount", "function": "max"}],
    }
    compiled = compile_recipe("pivot", two, [sales], ["o"], recipe="p")
    assert tables.columns(compiled.outputs[0]) == [
        "north_count",
        "north_amount_max",
        "south_count",
        "south_amount_max",
    ]
    assert tables.rows(compiled.outputs[0]) == [(4, 40.0, 2, 7.0)]


def test_pivot_values_query_lists_frequent_values_first(tables, sales: Relation) -> None:
    query = pivot_values_query({"column": "region"}, sales, recipe="p", limit=1)
    assert tables.rows(query, ordered=True) == [("north", 4)]


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"column": "step", "aggregations": [{"function": "count"}]}, r"setting 'values' needs the list of values"),
        ({"column": "step", "values": list(range(201)), "aggregations": [{"function": "count"}]}, r"at most 200 columns"),
        ({"column": "step", "values": [1, "1"], "aggregations": [{"function": "count"}]}, r"column '1' would be made twice"),
        ({"column": "step", "values": ["x"], "aggregations": [{"function": "count"}]}, r"value 'x' is not a valid integer for column 'step'"),
        ({"column": "step", "values": [1], "aggregations": [{"column": "code", "function": "first"}]}, r"setting 'function' is 'first'"),
    ],
)  # fmt: skip
def test_bad_pivot_specs(sales: Relation, spec: dict, match: str) -> None:
    with pytest.raises(RecipeSpecError, match=match):
        compile_recipe("pivot", spec, [sales], ["o"], recipe="p")
