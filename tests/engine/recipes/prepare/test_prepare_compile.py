"""compile_prepare as a whole: spec checks, disabled steps, lineage, push-down flags, the catalog,
sources other than a table, and hostile column names."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlglot import exp

from modelworks.engine.duck import connect
from modelworks.engine.recipes.prepare import CATEGORIES, PROCESSORS, compile_prepare, processors_catalog
from modelworks.engine.recipes.types import Column, LineageEdge, MissingColumnError, RecipeSpecError, Relation


def step(processor: str, enabled: bool = True, **params: Any) -> dict[str, Any]:
    return {"processor": processor, "params": params, "enabled": enabled, "comment": "why"}


def test_disabled_steps_are_skipped(prep):
    rows = prep.run(
        [
            step("rename_columns", enabled=False, renames={"carrier": "airline"}),
            step("filter_formula", enabled=False, formula="id = 1"),
            step("keep_columns", columns=["id", "carrier"]),
        ]
    )
    assert list(rows[0]) == ["id", "carrier"] and len(rows) == 6


def test_an_empty_recipe_copies_its_input(prep):
    compiled = compile_prepare({}, prep.relation, "copy", recipe="r")
    assert compiled.outputs[0].sql() == (
        'SELECT "id", "carrier", "origin", "dep_delay", "distance", "dep_time", "day", "note", "code", '
        '"cancelled", "lat", "lon", "payload" FROM flights'
    )
    assert len(prep.rows(compiled)) == 6 and compiled.pushdown


BAD_SPECS = [
    ({"steps": "rename"}, "recipe 'r': 'steps' must be a list"),
    ({"steps": ["rename"]}, "^recipe 'r' step 1: must be an object"),
    (
        {"steps": [{"processor": "filter_row"}]},
        r"^recipe 'r' step 1: unknown processor 'filter_row'; did you mean 'filter_rows'\?",
    ),
    ({"steps": [{"params": {}}]}, "^recipe 'r' step 1: unknown processor None"),
    (
        {"steps": [{"processor": "drop_columns", "params": ["id"]}]},
        r"^recipe 'r' step 1 \(Drop columns\): .*must be an object of name → value",
    ),
    ({"steps": [step("keep_columns", columns=["id"])] * 501}, "has 501 steps; the limit is 500"),
]


@pytest.mark.parametrize(("spec", "message"), BAD_SPECS)
def test_bad_specs(prep, spec, message):
    with pytest.raises(RecipeSpecError, match=message) as caught:
        compile_prepare(spec, prep.relation, "out", recipe="r")
    assert caught.value.details["recipe"] == "r"


def test_errors_carry_structured_details(prep):
    with pytest.raises(RecipeSpecError) as caught:
        compile_prepare(
            {
                "steps": [
                    step("keep_columns", columns=["id"]),
                    step("round_numbers", columns=["id"], decimals=99),
                ]
            },
            prep.relation,
            "o",
            recipe="r",
        )
    assert caught.value.details == {"step": 2, "processor": "round_numbers", "recipe": "r"}
    assert caught.value.code == "recipe_invalid"


STEP_ERRORS = [
    # (steps, error class, start of the message, details it must carry)
    (
        [step("keep_columns", columns=["id"]), step("formula", output="late", formula="dep_delay > 15")],
        MissingColumnError,
        r"^recipe 'r' step 2 \(Formula\): unknown column 'dep_delay' at position 1",
        {"recipe": "r", "step": 2, "processor": "formula", "column": "dep_delay", "position": 1},
    ),
    (
        [step("formula", output="x", formula="id +")],
        RecipeSpecError,
        r"^recipe 'r' step 1 \(Formula\): ",
        {"recipe": "r", "step": 1, "processor": "formula"},
    ),
    (
        [step("rename_columns", renames={"carrier": "airline"}), step("drop_columns", columns=["carrier"])],
        MissingColumnError,
        r"^recipe 'r' step 2 \(Drop columns\): column 'carrier' not found in input 'flights' \(as it is after step 1\)",
        {"recipe": "r", "step": 2, "column": "carrier", "input": "flights"},
    ),
    (
        [step("keep_columns", columns=[])],
        RecipeSpecError,
        r"^recipe 'r' step 1 \(Keep only columns\): choose the columns to keep",
        {"recipe": "r", "step": 1, "processor": "keep_columns", "setting": "columns"},
    ),
]


@pytest.mark.parametrize(("steps", "error", "message", "details"), STEP_ERRORS)
def test_step_errors_name_the_recipe_and_the_step(prep, steps, error, message, details):
    with pytest.raises(error, match=message) as caught:
        compile_prepare({"steps": steps}, prep.relation, "out", recipe="r")
    assert str(caught.value) == caught.value.message
    assert caught.value.message.count("recipe 'r'") == 1
    assert details.items() <= caught.value.details.items()


def test_lineage_follows_renames_formulas_and_filters(prep):
    compiled = compile_prepare(
        {
            "steps": [
                step("rename_columns", renames={"dep_delay": "delay"}),
                step("formula", output="late", formula="delay > 15 and origin = 'JFK'"),
                step("filter_rows", conditions=[{"column": "carrier", "operator": "equals", "value": "AA"}]),
                step("keep_columns", columns=["id", "delay", "late", "carrier"]),
            ]
        },
        prep.relation,
        "prepared",
        recipe="r",
    )
    edges = set(compiled.lineage)
    assert LineageEdge("prepared", "delay", "flights", "dep_delay", "identity") in edges
    assert LineageEdge("prepared", "late", "flights", "dep_delay", "transformation") in edges
    assert LineageEdge("prepared", "late", "flights", "origin", "transformation") in edges
    assert LineageEdge("prepared", "id", "flights", "carrier", "filter") in edges
    assert LineageEdge("prepared", "carrier", "flights", "carrier", "identity") in edges
    assert LineageEdge("prepared", "carrier", "flights", "carrier", "filter") not in edges
    assert {e.output_column for e in edges} == {"id", "delay", "late", "carrier"}


def test_pushdown_is_refused_for_duckdb_only_steps(prep):
    portable = compile_prepare(
        {"steps": [step("trim_spaces", columns=["note"]), step("standardize", columns=["distance"])]},
        prep.relation,
        "o",
        recipe="r",
    )
    assert portable.pushdown and not [n for n in portable.notes if "DuckDB" in n]
    for steps in (
        [step("extract_regex", column="note", pattern="(a)", outputs=["x"])],
        [step("fill_missing", columns=["dep_delay"], method="previous", order_by="id")],
        [step("cast_columns", columns=["code"], to="date")],
        [step("parse_date", column="note", format="%Y-%m-%dT%H")],
        [step("formula", output="x", formula="regex_extract(note, 'a')")],
    ):
        compiled = compile_prepare({"steps": steps}, prep.relation, "o", recipe="r")
        assert compiled.pushdown is False
        assert any("step 1" in n and "runs in DuckDB" in n for n in compiled.notes)


def test_ctes_appear_only_when_a_step_needs_previous_results(prep):
    simple = compile_prepare(
        {
            "steps": [
                step("trim_spaces", columns=["note"]),
                step("change_case", columns=["note"], case="upper"),
                step("filter_formula", formula="note != ''"),
            ]
        },
        prep.relation,
        "o",
        recipe="r",
    )
    sql = simple.outputs[0].sql()
    assert "WITH" not in sql and 'UPPER(TRIM("note"))' in sql
    windowed = compile_prepare(
        {
            "steps": [
                step("group_rare", column="carrier", threshold=2),
                step("filter_formula", formula="carrier != 'Other'"),
            ]
        },
        prep.relation,
        "o",
        recipe="r",
    )
    assert windowed.outputs[0].sql().startswith("WITH _mw_prep_1 AS (")


def test_compiling_leaves_the_relation_untouched(prep):
    source = exp.select("*").from_("flights").where("id < 4")
    relation = Relation("flights", prep.relation.columns, source)
    before = source.sql()
    compile_prepare({"steps": [step("group_rare", column="carrier", threshold=2)]}, relation, "o", recipe="r")
    assert source.sql() == before


def test_a_query_as_source(prep):
    relation = Relation("flights", prep.relation.columns, exp.select("*").from_("flights").where("id < 4"))
    rows = prep.run([step("keep_columns", columns=["id", "carrier"])], relation)
    assert rows == [{"id": 1, "carrier": "AA"}, {"id": 2, "carrier": "AA"}, {"id": 3, "carrier": "UA"}]


def test_a_parquet_source(tables):
    relation = tables.add(
        "trips", "SELECT * FROM (VALUES (1, 'a b', 2.5), (2, NULL, 4.0)) AS v(id, label, km)"
    )
    compiled = compile_prepare(
        {
            "steps": [
                step("fill_missing", columns=["label"], value="none"),
                step("standardize", columns=["km"]),
            ]
        },
        relation,
        "out",
        recipe="r",
    )
    assert tables.rows(compiled.outputs[0]) == [
        (1, "a b", pytest.approx(-0.7071067811865476)),
        (2, "none", pytest.approx(0.7071067811865476)),
    ]


def test_hostile_column_names_stay_identifiers():
    name = 'we"ird; DROP TABLE t; --'
    con = connect()
    con.execute('CREATE TABLE t ("we""ird; DROP TABLE t; --" VARCHAR, "select" BIGINT)')
    con.execute("INSERT INTO t VALUES ('x', 1)")
    relation = Relation("t", (Column(name, "string"), Column("select", "integer")), exp.to_table("t"))
    compiled = compile_prepare(
        {
            "steps": [
                step("formula", output="n", formula=f"[{name}] & [select]"),
                step("rename_columns", renames={name: "x'); DROP TABLE t; --"}),
                step("change_case", columns=["x'); DROP TABLE t; --"], case="upper"),
            ]
        },
        relation,
        "o",
        recipe="r",
    )
    assert con.execute(compiled.outputs[0].sql()).fetchall() == [("X", 1, "x1")]
    assert con.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_the_catalog_lists_every_processor_once():
    catalog = processors_catalog()
    assert [group["category"] for group in catalog] == list(CATEGORIES)
    names = [p["name"] for group in catalog for p in group["processors"]]
    assert sorted(names) == sorted(PROCESSORS) and len(names) >= 40
    json.dumps(catalog)  # plain data for the editor
    kinds = {
        "column",
        "columns",
        "string",
        "strings",
        "integer",
        "number",
        "boolean",
        "choice",
        "formula",
        "mapping",
        "date",
        "list",
    }
    for info in PROCESSORS.values():
        assert info.label and info.help.endswith((".", ")")) and info.category in CATEGORIES
        for param in info.params:
            assert param.kind in kinds
            if param.kind == "choice":
                assert param.choices and (param.default is None or param.default in param.choices)
            for item in param.item:
                assert item.kind in kinds
