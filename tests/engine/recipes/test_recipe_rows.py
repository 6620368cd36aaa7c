"""Split, sample, sort, distinct, top-N and stack recipes on real Parquet files."""

from __future__ import annotations

import datetime as dt

import pytest

from modelworks.engine.recipes import MissingColumnError, RecipeSpecError, Relation, compile_recipe


@pytest.fixture
def events(tables) -> Relation:
    """1000 events: id 0…999, a group of 4, a day (one per id from 2024-01-01), a text."""
    return tables.add(
        "events",
        "SELECT range AS id, range % 4 AS grp, DATE '2024-01-01' + CAST(range AS INTEGER) AS day, "
        "'e' || range AS label FROM range(1000)",
    )


def _ids(tables, output) -> set[int]:
    return {row[0] for row in tables.rows(output)}


@pytest.mark.parametrize("id_column", [None, "id"])
def test_random_split_is_deterministic_disjoint_and_complete(tables, events: Relation, id_column) -> None:
    spec = {"mode": "random", "fractions": [0.7, 0.2], "seed": 11, "id_column": id_column}
    compiled = compile_recipe("split", spec, [events], ["train", "test", "rest"], recipe="s")
    first = [_ids(tables, o) for o in compiled.outputs]
    again = compile_recipe("split", spec, [events], ["train", "test", "rest"], recipe="s")
    assert [_ids(tables, o) for o in again.outputs] == first
    train, test, rest = first
    assert not (train & test) and not (train & rest) and not (test & rest)
    assert train | test | rest == set(range(1000))
    assert 640 <= len(train) <= 760 and 150 <= len(test) <= 250
    other_seed = compile_recipe(
        "split", {**spec, "seed": 12}, [events], ["train", "test", "rest"], recipe="s"
    )
    assert _ids(tables, other_seed.outputs[0]) != train


def test_random_split_with_fractions_below_one_drops_the_rest(tables, events: Relation) -> None:
    spec = {"mode": "random", "fractions": [0.1, 0.1], "seed": 1}
    a, b = compile_recipe("split", spec, [events], ["a", "b"], recipe="s").outputs
    assert 140 <= len(_ids(tables, a) | _ids(tables, b)) <= 260


def test_split_by_condition_first_match_wins(tables, events: Relation) -> None:
    spec = {
        "mode": "condition",
        "conditions": [
            {"output": "small", "formula": "id < 10"},
            {"output": "even", "filters": [{"column": "grp", "op": "in", "value": [0, 2]}]},
        ],
        "other": "odd",
    }
    small, even, odd = compile_recipe("split", spec, [events], ["small", "even", "odd"], recipe="s").outputs
    assert _ids(tables, small) == set(range(10))
    assert _ids(tables, even) == {i for i in range(10, 1000) if i % 2 == 0}
    assert _ids(tables, odd) == {i for i in range(10, 1000) if i % 2 == 1}
    dropped = {
        **spec,
        "other": None,
        "conditions": spec["conditions"] + [{"output": "odd", "formula": "id = 999"}],
    }
    *_, odd_only = compile_recipe("split", dropped, [events], ["small", "even", "odd"], recipe="s").outputs
    assert _ids(tables, odd_only) == {999}


def test_split_by_time_cutoff_and_percentile(tables, events: Relation) -> None:
    spec = {"mode": "time", "column": "day", "cutoffs": ["2024-02-01", "2024-03-01"]}
    jan, feb, later = compile_recipe("split", spec, [events], ["jan", "feb", "later"], recipe="s").outputs
    assert _ids(tables, jan) == set(range(31))
    assert _ids(tables, feb) == set(range(31, 60))
    assert _ids(tables, later) == set(range(60, 1000))
    spec = {"mode": "time", "column": "day", "percentiles": [0.8]}
    past, future = compile_recipe("split", spec, [events], ["past", "future"], recipe="s").outputs
    cut = max(_ids(tables, past))
    assert _ids(tables, past) == set(range(cut + 1)) and _ids(tables, future) == set(range(cut + 1, 1000))
    assert 790 <= cut <= 810


@pytest.mark.parametrize(
    ("spec", "outputs", "match"),
    [
        ({"mode": "random", "fractions": [0.8, 0.4]}, ["a", "b"], r"add up to 1.2; they must add up to 1 or less"),
        ({"mode": "random", "fractions": [0.5]}, ["a", "b", "c"], r"1 shares for 3 outputs"),
        ({"mode": "random", "fractions": [0.5, 0.5]}, ["a"], r"makes at least 2 output\(s\), this one has 1"),
        ({"mode": "shuffle"}, ["a", "b"], r"setting 'mode' is 'shuffle'"),
        ({"mode": "condition", "conditions": [{"output": "c", "formula": "id > 1"}]}, ["a", "b"], r"output 'c' is not an output"),
        ({"mode": "condition", "conditions": [{"output": "a", "formula": "id + 1"}]}, ["a", "b"], r"gives a value of type integer, not true/false"),
        ({"mode": "condition", "conditions": [{"output": "a", "formula": "id > 1"}]}, ["a", "b"], r"output 'b' receives no rows"),
        ({"mode": "time", "column": "label", "cutoffs": ["x"]}, ["a", "b"], r"'label' is string; splitting by time needs"),
        ({"mode": "time", "column": "day", "cutoffs": ["2024-13-01"]}, ["a", "b"], r"'2024-13-01' is not a valid date"),
        ({"mode": "time", "column": "day", "cutoffs": ["2024-03-01", "2024-02-01"]}, ["a", "b", "c"], r"ascending order"),
        ({"mode": "time", "column": "dy", "cutoffs": ["2024-03-01"]}, ["a", "b"], r"'dy'.*did you mean 'day'"),
    ],
)  # fmt: skip
def test_bad_split_specs(events: Relation, spec: dict, outputs: list[str], match: str) -> None:
    with pytest.raises(RecipeSpecError, match=match):
        compile_recipe("split", spec, [events], outputs, recipe="s")


def test_sample_first_random_and_stratified(tables, events: Relation) -> None:
    first = compile_recipe("sample", {"mode": "first", "n": 5}, [events], ["o"], recipe="x").outputs[0]
    assert [r[0] for r in tables.rows(first, ordered=True)] == [0, 1, 2, 3, 4]
    spec = {"mode": "random", "n": 50, "seed": 3}
    picked = _ids(tables, compile_recipe("sample", spec, [events], ["o"], recipe="x").outputs[0])
    assert len(picked) == 50
    assert _ids(tables, compile_recipe("sample", spec, [events], ["o"], recipe="x").outputs[0]) == picked
    share = compile_recipe(
        "sample", {"mode": "random", "fraction": 0.1, "seed": 3}, [events], ["o"], recipe="x"
    )
    assert 60 <= len(_ids(tables, share.outputs[0])) <= 140
    strat = compile_recipe(
        "sample",
        {"mode": "random", "n": 3, "stratify_by": "grp", "id_column": "id"},
        [events],
        ["o"],
        recipe="x",
    )
    rows = tables.rows(strat.outputs[0])
    assert sorted(r[1] for r in rows) == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert tables.columns(strat.outputs[0]) == ["id", "grp", "day", "label"]


def test_sort_directions_and_nulls(tables) -> None:
    data = tables.add("data", "SELECT * FROM (VALUES (1, 'b'), (2, NULL), (3, 'a'), (4, 'b')) v(id, k)")
    spec = {
        "columns": [
            {"column": "k", "direction": "desc", "nulls": "first"},
            {"column": "id", "direction": "desc"},
        ]
    }
    out = compile_recipe("sort", spec, [data], ["o"], recipe="x").outputs[0]
    assert tables.rows(out, ordered=True) == [(2, None), (4, "b"), (1, "b"), (3, "a")]
    out = compile_recipe("sort", {"columns": ["k", "id"]}, [data], ["o"], recipe="x").outputs[0]
    assert tables.rows(out, ordered=True) == [(3, "a"), (1, "b"), (4, "b"), (2, None)]


def test_distinct_all_subset_and_count(tables) -> None:
    data = tables.add(
        "data", "SELECT * FROM (VALUES (1, 'x', 10), (1, 'x', 10), (2, 'x', 20), (3, 'y', 5)) v(id, k, v)"
    )
    out = compile_recipe("distinct", {}, [data], ["o"], recipe="d").outputs[0]
    assert tables.rows(out) == [(1, "x", 10), (2, "x", 20), (3, "y", 5)]
    counted = compile_recipe("distinct", {"count_column": "n"}, [data], ["o"], recipe="d").outputs[0]
    assert tables.rows(counted) == [(1, "x", 10, 2), (2, "x", 20, 1), (3, "y", 5, 1)]
    spec = {"columns": ["k"], "order_by": [{"column": "v", "direction": "desc"}], "count_column": "n"}
    subset = compile_recipe("distinct", spec, [data], ["o"], recipe="d").outputs[0]
    assert tables.rows(subset) == [(2, "x", 20, 3), (3, "y", 5, 1)]


def test_top_n_per_group_with_rank(tables, events: Relation) -> None:
    spec = {"n": 2, "order_by": [{"column": "id", "direction": "desc"}], "group_by": ["grp"]}
    out = compile_recipe("top_n", spec, [events], ["o"], recipe="t").outputs[0]
    rows = tables.rows(out, ordered=True)
    assert [(r[1], r[0], r[-1]) for r in rows] == [
        (0, 996, 1), (0, 992, 2), (1, 997, 1), (1, 993, 2), (2, 998, 1), (2, 994, 2), (3, 999, 1), (3, 995, 2),
    ]  # fmt: skip
    ties = tables.add("ties", "SELECT * FROM (VALUES (1, 5), (2, 5), (3, 4)) v(id, score)")
    spec = {
        "n": 1,
        "order_by": [{"column": "score", "direction": "desc"}],
        "ties": "rank",
        "rank_column": None,
    }
    out = compile_recipe("top_n", spec, [ties], ["o"], recipe="t").outputs[0]
    assert tables.rows(out) == [(1, 5), (2, 5)]


def test_stack_by_name_widens_and_reports(tables) -> None:
    a = tables.add("a", "SELECT 1 AS id, 'x' AS k, DATE '2024-01-01' AS day")
    b = tables.add("b", "SELECT 2.5 :: DOUBLE AS id, TIMESTAMP '2024-02-01 10:00' AS day, true AS flag")
    compiled = compile_recipe("stack", {"origin_column": "source"}, [a, b], ["o"], recipe="st")
    assert tables.columns(compiled.outputs[0]) == ["id", "k", "day", "flag", "source"]
    assert tables.rows(compiled.outputs[0]) == [
        (1.0, "x", dt.datetime(2024, 1, 1), None, "a"),
        (2.5, None, dt.datetime(2024, 2, 1, 10), True, "b"),
    ]
    assert set(compiled.notes) == {
        "column 'k' is missing from 'b': filled with nulls",
        "column 'flag' is missing from 'a': filled with nulls",
        "column 'id' is integer in 'a', float in 'b': stacked as float",
        "column 'day' is date in 'a', timestamp in 'b': stacked as timestamp",
    }


def test_stack_by_position_and_distinct(tables) -> None:
    a = tables.add("a", "SELECT * FROM (VALUES (1, 'x'), (2, 'y')) v(id, k)")
    b = tables.add("b", "SELECT * FROM (VALUES (2, 'y'), (3, 'z')) v(num, code)")
    out = compile_recipe(
        "stack", {"mode": "by_position", "distinct": True}, [a, b], ["o"], recipe="st"
    ).outputs[0]
    assert tables.columns(out) == ["id", "k"]
    assert tables.rows(out) == [(1, "x"), (2, "y"), (3, "z")]
    c = tables.add("c", "SELECT 1 AS id")
    with pytest.raises(RecipeSpecError, match=r"same number of columns, but input 'a' has 2 and 'c' has 1"):
        compile_recipe("stack", {"mode": "by_position"}, [a, c], ["o"], recipe="st")


@pytest.mark.parametrize(
    ("kind", "spec", "error", "match"),
    [
        ("sample", {"mode": "random", "seed": 1}, RecipeSpecError, r"'n' or 'fraction' is required"),
        ("sample", {"mode": "random", "n": 3, "stratify_by": "group"}, MissingColumnError, r"'group'.*did you mean 'grp'"),
        ("sample", {"mode": "first", "n": -1}, RecipeSpecError, r"setting 'n' must be at least 0"),
        ("sort", {"columns": []}, RecipeSpecError, r"add at least one sort column"),
        ("sort", {"columns": [{"column": "id", "direction": "down"}]}, RecipeSpecError, r"'direction' is 'down'"),
        ("distinct", {"order_by": ["id"]}, RecipeSpecError, r"'order_by' only applies with 'columns'"),
        ("distinct", {"count_column": "id"}, RecipeSpecError, r"'count_column' 'id' is already a column"),
        ("top_n", {"n": 0, "order_by": ["id"]}, RecipeSpecError, r"'n' must be at least 1"),
        ("top_n", {"n": 1, "order_by": ["id"], "rank_column": "label"}, RecipeSpecError, r"'rank_column' 'label' is already"),
        ("stack", {"origin_column": "id"}, RecipeSpecError, r"'origin_column' 'id' is already a column"),
    ],
)  # fmt: skip
def test_bad_row_recipe_specs(events: Relation, kind: str, spec: dict, error: type, match: str) -> None:
    inputs = [events, events] if kind == "stack" else [events]
    with pytest.raises(error, match=match):
        compile_recipe(kind, spec, inputs, ["o"], recipe="r")


@pytest.mark.parametrize("value", ["nan", "inf", "1_000", "ten", True])
def test_filter_values_must_be_plain_numbers(tables, value: object) -> None:
    data = tables.add("data", "SELECT 1.5 :: DOUBLE AS x")
    spec = {"mode": "condition", "conditions": [{"output": "a", "filters": [{"column": "x", "op": "gt", "value": value}]}], "other": "b"}  # fmt: skip
    with pytest.raises(RecipeSpecError, match=r"condition 1: value .* is not a valid float for column 'x'"):
        compile_recipe("split", spec, [data], ["a", "b"], recipe="s")
