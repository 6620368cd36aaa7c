"""Join recipe: every join type on real Parquet files, naming, conditions, the unmatched report."""

from __future__ import annotations

from typing import Any

import pytest

from modelworks.engine.recipes import (
    MissingColumnError,
    RecipeSpecError,
    Relation,
    compile_recipe,
    unmatched_report_queries,
)

INNER = [
    (1, "AA", "American"),
    (2, "AA", "American"),
    (3, "BB", "Bravo"),
    (4, "BB", "Bravo"),
    (5, "BB", "Bravo"),
]
UNMATCHED_FLIGHTS = [(6, "ZZ", None), (7, None, None), (8, "aa", None)]
CHARLIE = [(None, None, "Charlie")]
KEEP = [{"columns": ["id", "carrier"]}, {"columns": ["name"]}]


def _join(kind: str, **extra: Any) -> dict[str, Any]:
    return {"joins": [{"type": kind, "on": [{"left": "carrier", "right": "code", **extra}]}], "inputs": KEEP}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("inner", INNER),
        ("left", INNER + UNMATCHED_FLIGHTS),
        ("right", INNER + CHARLIE),
        ("full", INNER + UNMATCHED_FLIGHTS + CHARLIE),
        ("semi", [row[:2] for row in INNER]),
        ("anti", [row[:2] for row in UNMATCHED_FLIGHTS]),
    ],
)
def test_join_types(tables, flights: Relation, carriers: Relation, kind: str, expected: list[tuple]) -> None:
    compiled = compile_recipe("join", _join(kind), [flights, carriers], ["out"], recipe="j")
    assert tables.rows(compiled.outputs[0]) == sorted(
        expected, key=lambda r: tuple((v is None, v or 0) for v in r)
    )


def test_cross_join_pairs_every_row(tables, flights: Relation, carriers: Relation) -> None:
    compiled = compile_recipe(
        "join", {"joins": [{"type": "cross"}], "inputs": KEEP}, [flights, carriers], ["out"], recipe="j"
    )
    rows = tables.rows(compiled.outputs[0])
    assert len(rows) == 8 * 3
    assert {(r[0], r[2]) for r in rows} == {
        (i, n) for i in range(1, 9) for n in ("American", "Bravo", "Charlie")
    }


def test_case_insensitive_match(tables, flights: Relation, carriers: Relation) -> None:
    compiled = compile_recipe(
        "join", _join("inner", case_insensitive=True), [flights, carriers], ["o"], recipe="j"
    )
    assert (8, "aa", "American") in tables.rows(compiled.outputs[0])


def test_null_safe_match(tables) -> None:
    left = tables.add("left", "SELECT * FROM (VALUES (1, 'x'), (2, NULL)) v(id, k)")
    right = tables.add("right", "SELECT * FROM (VALUES ('x', 'X!'), (NULL, 'empty')) v(k, label)")
    spec = {"joins": [{"type": "inner", "on": [{"left": "k", "right": "k", "null_safe": True}]}]}
    compiled = compile_recipe("join", spec, [left, right], ["o"], recipe="j")
    assert tables.rows(compiled.outputs[0]) == [(1, "x", "x", "X!"), (2, None, None, "empty")]
    plain = compile_recipe(
        "join", {"joins": [{"on": [{"left": "k", "right": "k"}]}]}, [left, right], ["o"], recipe="j"
    )
    assert tables.rows(plain.outputs[0]) == [(1, "x", "x", "X!")]


def test_name_clashes_get_the_prefix_then_a_number(tables) -> None:
    left = tables.add("left", "SELECT 1 AS id, 2 AS delay, 3 AS other_delay")
    right = tables.add("other", "SELECT 1 AS id, 10 AS delay")
    spec = {"joins": [{"on": [{"left": "id", "right": "id"}]}], "inputs": [{}, {"prefix": "other_"}]}
    compiled = compile_recipe("join", spec, [left, right], ["o"], recipe="j")
    assert tables.columns(compiled.outputs[0]) == ["id", "delay", "other_delay", "other_id", "other_delay_2"]
    assert compiled.notes == (
        "column 'delay' of input 'other' is named 'other_delay_2': 'other_delay' was already taken",
    )
    assert tables.rows(compiled.outputs[0]) == [(1, 2, 3, 1, 10)]

    default_prefix = compile_recipe("join", {"joins": spec["joins"]}, [left, right], ["o"], recipe="j")
    assert tables.columns(default_prefix.outputs[0])[3:] == ["other_id", "other_delay_2"]


def test_rename_select_and_lineage(tables, flights: Relation, carriers: Relation) -> None:
    spec = {
        "joins": [{"type": "left", "on": [{"left": "carrier", "right": "code"}]}],
        "inputs": [{"columns": ["id"]}, {"columns": ["name"], "rename": {"name": "carrier_name"}}],
    }
    compiled = compile_recipe("join", spec, [flights, carriers], ["o"], recipe="j")
    assert tables.columns(compiled.outputs[0]) == ["id", "carrier_name"]
    assert {(e.output_column, e.input, e.input_column) for e in compiled.lineage} == {
        ("id", "flights", "id"),
        ("carrier_name", "carriers", "name"),
    }


def test_three_inputs_with_left_input_and_formula_filter(
    tables, flights: Relation, carriers: Relation
) -> None:
    countries = tables.add(
        "countries", "SELECT * FROM (VALUES ('US', 'America'), ('FR', 'France')) v(iso, label)"
    )
    spec = {
        "joins": [
            {"type": "inner", "on": [{"left": "carrier", "right": "code"}]},
            {"type": "left", "on": [{"left": "country", "left_input": "carriers", "right": "iso"}]},
        ],
        "inputs": [{"columns": ["id", "delay"]}, {"columns": []}, {"columns": ["label"]}],
        "filter": "delay > 5 and name != 'Bravo'",
    }
    compiled = compile_recipe("join", spec, [flights, carriers, countries], ["o"], recipe="j")
    assert tables.rows(compiled.outputs[0]) == [(1, 10, "America"), (2, 25, "America")]


def test_extra_condition_formula_and_structured_filter(tables, flights: Relation, carriers: Relation) -> None:
    spec = {
        "joins": [
            {"type": "inner", "on": [{"left": "carrier", "right": "code"}], "condition": "delay >= 10"}
        ],
        "inputs": KEEP,
        "filter": {"filters": [{"column": "name", "op": "starts_with", "value": "amer"}]},
    }
    compiled = compile_recipe("join", spec, [flights, carriers], ["o"], recipe="j")
    assert tables.rows(compiled.outputs[0]) == [(1, "AA", "American"), (2, "AA", "American")]


def test_unmatched_report_counts_each_side(tables, flights: Relation, carriers: Relation) -> None:
    reports = unmatched_report_queries(_join("left"), [flights, carriers], recipe="j")
    counts = {name: tables.rows(query)[0] for name, query in reports.items()}
    assert counts == {
        "join 1: flights rows not in carriers": (8, 3),
        "join 1: carriers rows not in flights": (3, 1),
    }


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        (
            {"joins": [{"on": [{"left": "carier", "right": "code"}]}]},
            MissingColumnError,
            r"recipe 'join_flights' join 1 key 1: key column 'carier' not in input 'flights'; did you mean 'carrier'\?",
        ),
        (
            {"joins": [{"on": [{"left": "carrier", "right": "cod"}]}]},
            MissingColumnError,
            r"join 1 key 1\) uses column 'cod', which input 'carriers' does not have; did you mean 'code'\?",
        ),
        ({"joins": []}, RecipeSpecError, r"add at least one join"),
        (
            {"joins": [{"on": [{"left": "carrier", "right": "code"}]}, {"type": "cross"}]},
            RecipeSpecError,
            r"'joins' has 2 join\(s\) but the recipe has 2 inputs",
        ),
        (
            {"joins": [{"type": "outer", "on": []}]},
            RecipeSpecError,
            r"setting 'type' is 'outer'.*choose one of inner",
        ),
        ({"joins": [{"type": "left"}]}, RecipeSpecError, r"needs at least one key pair"),
        (
            {"joins": [{"type": "cross", "on": [{"left": "carrier", "right": "code"}]}]},
            RecipeSpecError,
            r"must be empty for a cross join",
        ),
        (
            {"joins": [{"on": [{"left": "id", "right": "code"}]}]},
            RecipeSpecError,
            r"'id' \(integer\) of input 'flights' cannot be matched with 'code' \(string\)",
        ),
        (
            {"joins": [{"on": [{"left": "carrier", "right": "code"}]}], "inputs": [{"columns": ["idd"]}]},
            MissingColumnError,
            r"input 1 \(flights\)\) uses column 'idd'.*did you mean 'id'\?",
        ),
        (
            {"joins": [{"on": [{"left": "carrier", "right": "code"}]}], "filter": "dealy > 3"},
            MissingColumnError,
            r"dealy",
        ),
        (
            {"joins": [{"on": [{"left": "carrier", "right": "code"}], "typo": 1}]},
            RecipeSpecError,
            r"unknown setting 'typo'",
        ),
    ],
)
def test_bad_join_specs(flights: Relation, carriers: Relation, spec: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        compile_recipe("join", spec, [flights, carriers], ["out"], recipe="join_flights")


def test_right_join_after_anti_join_is_refused(tables, flights: Relation, carriers: Relation) -> None:
    third = tables.add("third", "SELECT 1 AS id")
    spec = {
        "joins": [
            {"type": "anti", "on": [{"left": "carrier", "right": "code"}]},
            {"type": "right", "on": [{"left": "id", "right": "id"}]},
        ]
    }
    with pytest.raises(RecipeSpecError, match=r"join 2: a right join cannot follow a semi or anti join"):
        compile_recipe("join", spec, [flights, carriers, third], ["o"], recipe="j")
