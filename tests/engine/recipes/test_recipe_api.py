"""The public entry points: compile_recipe, normalize_spec, RECIPE_KINDS, output_schemas, preview."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from modelworks.engine.recipes import (
    RECIPE_KINDS,
    Column,
    MissingColumnError,
    RecipeError,
    RecipeSpecError,
    Relation,
    compile_recipe,
    normalize_spec,
    output_schemas,
    preview,
)


def test_recipe_kinds_describe_every_kind() -> None:
    assert set(RECIPE_KINDS) == {
        "prepare", "join", "group", "window", "stack", "split", "sample", "sort", "distinct", "pivot", "top_n",
        "sql", "python", "score",
    }  # fmt: skip
    assert RECIPE_KINDS["join"].min_inputs == 2 and RECIPE_KINDS["join"].max_inputs is None
    assert RECIPE_KINDS["split"].min_outputs == 2 and RECIPE_KINDS["split"].max_outputs is None
    described = json.loads(json.dumps({k: v.to_dict() for k, v in RECIPE_KINDS.items()}))
    join_type = described["join"]["params"][0]["item"][0]
    assert join_type["name"] == "type" and "anti" in join_type["choices"]


@pytest.mark.parametrize(
    ("kind", "spec", "expected"),
    [
        ("sort", {"columns": ["day"]}, {"columns": [{"column": "day", "direction": "asc", "nulls": "last"}]}),
        ("stack", None, {"mode": "by_name", "origin_column": None, "distinct": False}),
        ("sample", {"mode": "first", "n": "10"}, {"mode": "first", "n": 10}),
        ("sample", {"mode": "random", "fraction": 0.5}, {"mode": "random", "n": None, "fraction": 0.5, "seed": 0, "id_column": None, "stratify_by": None}),
        ("split", {"mode": "condition", "conditions": [{"output": "a", "formula": "x > 1"}]}, {"mode": "condition", "conditions": [{"output": "a", "formula": "x > 1", "filters": [], "match": "all"}], "other": None}),
        ("split", {"mode": "time", "column": "d", "percentiles": [0.5]}, {"mode": "time", "column": "d", "cutoffs": [], "percentiles": [0.5]}),
        ("top_n", {"n": 3, "order_by": ["x"]}, {"n": 3, "order_by": [{"column": "x", "direction": "asc", "nulls": "last"}], "group_by": [], "rank_column": "rank", "ties": "row_number"}),
        ("sql", {"sql": "SELECT 1"}, {"sql": "SELECT 1"}),
        ("python", {"code": "print(1)"}, {"code": "print(1)"}),
        ("prepare", {"steps": []}, {"steps": []}),
    ],
)  # fmt: skip
def test_normalize_spec_fills_defaults_and_is_stable(kind: str, spec: dict | None, expected: dict) -> None:
    normalized = normalize_spec(kind, spec)
    assert normalized == expected
    assert normalize_spec(kind, normalized) == normalized
    json.dumps(normalized)


def test_normalize_join_round_trips() -> None:
    spec = {
        "joins": [{"type": "LEFT", "on": [{"left": "a", "right": "b"}], "condition": "x > 1"}],
        "filter": "y = 2",
    }
    normalized = normalize_spec("join", spec)
    assert normalized["joins"][0]["type"] == "left"
    assert normalized["joins"][0]["condition"] == {"formula": "x > 1", "filters": [], "match": "all"}
    assert normalize_spec("join", normalized) == normalized


@pytest.mark.parametrize(
    ("kind", "spec", "match"),
    [
        ("joint", {}, r"unknown recipe kind 'joint'; did you mean 'join'\?"),
        ("group", {"keys": ["a"], "aggregation": []}, r"recipe 'new group': unknown setting 'aggregation'; did you mean 'aggregations'\?"),
        ("group", [], r"settings must be an object, not list"),
        ("sort", {"columns": [{"column": ""}]}, r"recipe 'new sort': Sort column 1: choose a column$"),
        ("split", {"mode": "random", "fractions": [0.5, "half"]}, r"Fraction 2: setting 'fraction' must be a number"),
        ("prepare", {"steps": [{"processor": 3}]}, r"Step 1: setting 'processor' must be a text, not 3"),
        ("sql", {"query": "SELECT 1"}, r"unknown setting 'query'"),
    ],
)  # fmt: skip
def test_normalize_spec_refuses_bad_shapes(kind: str, spec: object, match: str) -> None:
    with pytest.raises(RecipeSpecError, match=match):
        normalize_spec(kind, spec)  # type: ignore[arg-type]


def test_compile_recipe_checks_kind_and_counts(flights: Relation, carriers: Relation) -> None:
    with pytest.raises(RecipeSpecError, match=r"python recipes are run, not compiled"):
        compile_recipe("python", {"code": ""}, [flights], ["o"], recipe="py")
    with pytest.raises(
        RecipeSpecError, match=r"recipe 'j': a Join recipe takes at least 2 input\(s\), this one has 1"
    ):
        compile_recipe("join", {"joins": []}, [flights], ["o"], recipe="j")
    with pytest.raises(RecipeSpecError, match=r"a Sort recipe takes exactly 1 input\(s\), this one has 2"):
        compile_recipe("sort", {"columns": ["id"]}, [flights, carriers], ["o"], recipe="s")
    with pytest.raises(RecipeSpecError, match=r"two outputs have the same name"):
        compile_recipe(
            "split", {"mode": "random", "fractions": [0.5, 0.5]}, [flights], ["a", "A"], recipe="s"
        )


def test_output_schemas_follow_each_recipe(flights: Relation, carriers: Relation) -> None:
    join = compile_recipe(
        "join",
        {
            "joins": [{"type": "left", "on": [{"left": "carrier", "right": "code"}]}],
            "inputs": [{}, {"columns": ["name"]}],
        },
        [flights, carriers],
        ["o"],
        recipe="j",
    )
    assert output_schemas(join, [flights, carriers]) == {
        "o": (Column("id", "integer"), Column("carrier", "string"), Column("day", "date"), Column("delay", "integer"), Column("name", "string"))
    }  # fmt: skip
    group = compile_recipe(
        "group",
        {"keys": ["carrier"], "aggregations": [{"function": "count"}, {"column": "delay", "function": "avg"}, {"column": "day", "function": "max"}]},
        [flights],
        ["g"],
        recipe="g",
    )  # fmt: skip
    assert output_schemas(group, [flights])["g"] == (
        Column("carrier", "string"), Column("count", "integer"), Column("delay_avg", "float"), Column("day_max", "date"),
    )  # fmt: skip
    split = compile_recipe(
        "split", {"mode": "random", "fractions": [0.5, 0.5]}, [flights], ["a", "b"], recipe="s"
    )
    assert set(output_schemas(split, [flights])) == {"a", "b"}
    sql = compile_recipe(
        "sql",
        {"sql": "SELECT carrier, count(*) AS n FROM flights GROUP BY ALL"},
        [flights],
        ["q"],
        recipe="q",
    )
    assert output_schemas(sql, [flights]) == {"q": (Column("carrier", "string"), Column("n", "integer"))}


def test_types_without_a_duckdb_name_survive(tables) -> None:
    odd = Relation(
        "odd",
        (
            Column("amount", "decimal"),
            Column("payload", "nested"),
            Column("blob", "binary"),
            Column("x", "other"),
        ),
        exp.to_table("odd"),
    )
    compiled = compile_recipe("sort", {"columns": ["amount"]}, [odd], ["o"], recipe="s")
    # "other" has no DuckDB type of its own: such columns are read as text.
    assert output_schemas(compiled, [odd])["o"] == (*odd.columns[:3], Column("x", "string"))


def test_schema_change_upstream_is_caught_before_running(flights: Relation) -> None:
    # The recipe was compiled when 'delay' existed; upstream now dropped it.
    compiled = compile_recipe("sort", {"columns": ["delay"]}, [flights], ["o"], recipe="sort_flights")
    shrunk = Relation("flights", tuple(c for c in flights.columns if c.name != "delay"), flights.source)
    with pytest.raises(
        MissingColumnError,
        match=r"recipe 'sort_flights' \(output 'o'\) uses column 'delay', which its input 'flights'",
    ):
        output_schemas(compiled, [shrunk], recipe="sort_flights")
    # Compiling again against the new schema names the setting too.
    with pytest.raises(MissingColumnError, match=r"recipe 'sort_flights' \(columns\) uses column 'delay'"):
        compile_recipe("sort", {"columns": ["delay"]}, [shrunk], ["o"], recipe="sort_flights")


def test_downstream_recipe_sees_upstream_output_schema(flights: Relation) -> None:
    group = compile_recipe(
        "group",
        {"keys": ["carrier"], "aggregations": [{"column": "delay", "function": "sum"}]},
        [flights],
        ["totals"],
        recipe="g",
    )
    (columns,) = output_schemas(group, [flights]).values()
    totals = Relation("totals", columns, exp.to_table("totals"))
    with pytest.raises(
        MissingColumnError,
        match=r"recipe 'rank_totals' \(order_by\) uses column 'delay', which input 'totals'.*'delay_sum'",
    ):
        compile_recipe("top_n", {"n": 1, "order_by": ["delay"]}, [totals], ["top"], recipe="rank_totals")
    sql = compile_recipe(
        "sql", {"sql": "SELECT carier, delay_sum FROM totals"}, [totals], ["o"], recipe="sql_totals"
    )
    with pytest.raises(
        MissingColumnError,
        match=r"recipe 'sql_totals' \(output 'o'\) uses column 'carier'.*did you mean 'carrier'\?",
    ):
        output_schemas(sql, [totals], recipe="sql_totals")


def test_preview_runs_on_a_sample(tables, tmp_path: Path) -> None:
    big = tables.add("big", "SELECT range AS id, range % 3 AS k FROM range(5000)")
    compiled = compile_recipe(
        "sort", {"columns": [{"column": "id", "direction": "desc"}]}, [big], ["o"], recipe="s"
    )
    result = preview(compiled.outputs[0], tables.paths, [big], limit=3, sample_rows=100)
    assert result.columns == (Column("id", "integer"), Column("k", "integer"))
    assert result.rows == [(99, 0), (98, 2), (97, 1)]
    assert result.row_count_sampled == 100
    with pytest.raises(RecipeError, match=r"no stored version for input 'big'; build it first"):
        preview(compiled.outputs[0], {}, [big])


def test_preview_reports_files_that_do_not_match(tables) -> None:
    data = tables.add("data", "SELECT 1 AS id, 2 AS amount")
    compiled = compile_recipe("sort", {"columns": ["amount"]}, [data], ["o"], recipe="s")
    # The stored version was rebuilt without 'amount'.
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 1 AS id) TO '{tables.paths['data']}' (FORMAT parquet)")
    con.close()
    with pytest.raises(MissingColumnError, match=r"recipe 's' \(output 'o'\) uses column 'amount'"):
        preview(compiled.outputs[0], tables.paths, [data], recipe="s")


def test_sources_may_be_subqueries(tables, flights: Relation, carriers: Relation) -> None:
    # An input can be a query (e.g. a filtered view of a stored version), not only a table.
    subset = exp.select("*").from_(flights.source.copy()).where("id <= 2")
    recent = Relation("recent", flights.columns, subset)
    spec = {"joins": [{"on": [{"left": "carrier", "right": "code"}]}], "inputs": [{"columns": ["id"]}, {"columns": ["name"]}]}  # fmt: skip
    compiled = compile_recipe("join", spec, [recent, carriers], ["o"], recipe="j")
    assert tables.rows(compiled.outputs[0]) == [(1, "American"), (2, "American")]
    assert output_schemas(compiled, [recent, carriers]) == {
        "o": (Column("id", "integer"), Column("name", "string"))
    }
    result = preview(
        compiled.outputs[0],
        {"recent": tables.paths["flights"], "carriers": tables.paths["carriers"]},
        [recent, carriers],
    )
    assert result.rows and result.row_count_sampled == 5  # the preview reads the files, not the query
