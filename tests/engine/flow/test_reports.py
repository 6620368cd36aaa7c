"""The unmatched-rows report run in DuckDB over real Parquet files: every join and side, a sample of
the first rows, keys matched as text, and the errors that name the recipe and the input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelworks.engine.flow import ExecutionError, count_unmatched_in_duckdb, relations_for
from modelworks.engine.recipes import MissingColumnError, unmatched_report
from modelworks.engine.recipes.types import Column

FLIGHTS = [Column("id", "integer"), Column("carrier", "string"), Column("origin", "string")]
CARRIERS = [Column("code", "string"), Column("name", "string")]
AIRPORTS = [Column("iata", "string"), Column("city", "string")]
TWO_JOINS: dict[str, Any] = {
    "joins": [
        {"type": "left", "on": [{"left": "carrier", "right": "code"}]},
        {"type": "inner", "on": [{"left": "origin", "right": "iata"}]},
    ]
}


@pytest.fixture
def files(write_parquet: Callable[[str, str], Path]) -> dict[str, Path]:
    """flights: 100 rows, carrier 'zz' (lower case) on every 10th, origin XXX on every 4th;
    carriers AA, BB, ZZ, QQ (QQ has no flight); airports JFK, LAX, SFO (SFO has no flight)."""
    return {
        "flights": write_parquet(
            "flights",
            "SELECT i AS id, CASE WHEN i % 10 = 0 THEN 'zz' WHEN i % 2 = 0 THEN 'AA' ELSE 'BB' END AS carrier, "
            "CASE WHEN i % 4 = 0 THEN 'XXX' WHEN i % 2 = 0 THEN 'JFK' ELSE 'LAX' END AS origin "
            "FROM range(1, 101) t(i)",
        ),
        "carriers": write_parquet(
            "carriers",
            "SELECT * FROM (VALUES ('AA', 'A'), ('BB', 'B'), ('ZZ', 'Z'), ('QQ', 'Q')) t(code, name)",
        ),
        "airports": write_parquet(
            "airports", "SELECT * FROM (VALUES ('JFK', 'NY'), ('LAX', 'LA'), ('SFO', 'SF')) t(iata, city)"
        ),
    }


def _relations() -> list[Any]:
    return relations_for({"flights": FLIGHTS, "carriers": CARRIERS, "airports": AIRPORTS})


def _expected(rows: range, predicate: Callable[[int], bool]) -> int:
    return sum(1 for i in rows if predicate(i))


def test_every_join_and_side_is_counted(files: dict[str, Path]) -> None:
    counts = count_unmatched_in_duckdb(TWO_JOINS, _relations(), files, recipe="enrich")
    ids = range(1, 101)
    assert [(c.join, c.side, c.other, c.total_rows, c.unmatched_rows) for c in counts] == [
        (1, "flights", "carriers", 100, _expected(ids, lambda i: i % 10 == 0)),  # 'zz' is not 'ZZ'
        (1, "carriers", "flights", 4, 2),  # ZZ (only 'zz' flies) and QQ
        (2, "flights", "airports", 100, _expected(ids, lambda i: i % 4 == 0)),
        (2, "airports", "flights", 3, 1),  # SFO
    ]
    assert (
        counts[0].message
        == "Join 1 (flights LEFT JOIN carriers): 10 of 100 rows of 'flights' found no match (10.0 %)"
    )
    assert counts[2].title == "Join 2 (flights INNER JOIN airports)"


def test_keys_matched_as_text_and_a_sample_of_the_first_rows(files: dict[str, Path]) -> None:
    spec = {
        "joins": [{"type": "left", "on": [{"left": "carrier", "right": "code", "case_insensitive": True}]}]
    }
    relations = relations_for({"flights": FLIGHTS, "carriers": CARRIERS})
    everything = count_unmatched_in_duckdb(spec, relations, files, recipe="r")
    assert [(c.side, c.unmatched_rows) for c in everything] == [("flights", 0), ("carriers", 1)]
    sampled = count_unmatched_in_duckdb(TWO_JOINS, _relations(), files, recipe="r", sample_rows=9)
    # The first 9 flights: none on 'zz'; so ZZ finds no flight either, and 2 of them leave from XXX.
    assert [(c.side, c.total_rows, c.unmatched_rows) for c in sampled] == [
        ("flights", 9, 0),
        ("carriers", 4, 2),
        ("flights", 9, 2),
        ("airports", 3, 1),
    ]


def test_joins_without_a_report() -> None:
    cross = {"joins": [{"type": "cross"}]}
    assert (
        unmatched_report(cross, relations_for({"flights": FLIGHTS, "carriers": CARRIERS}), recipe="r") == ()
    )
    assert (
        count_unmatched_in_duckdb(
            cross, relations_for({"flights": FLIGHTS, "carriers": CARRIERS}), {}, recipe="r"
        )
        == ()
    )


@pytest.mark.parametrize(
    ("spec", "drop", "error", "match"),
    [
        (
            TWO_JOINS,
            "airports",
            ExecutionError,
            r"report of recipe 'enrich' cannot run: .* input 'airports' is missing",
        ),
        (
            {
                "joins": [
                    {"on": [{"left": "carrier", "right": "kode"}]},
                    {"on": [{"left": "origin", "right": "iata"}]},
                ]
            },
            None,
            MissingColumnError,
            r"uses column 'kode', which input 'carriers' does not have; did you mean 'code'\?",
        ),
    ],
)
def test_bad_inputs_name_the_recipe_and_the_input(
    files: dict[str, Path], spec: dict[str, Any], drop: str | None, error: type[Exception], match: str
) -> None:
    given = {k: v for k, v in files.items() if k != drop}
    with pytest.raises(error, match=match):
        count_unmatched_in_duckdb(spec, _relations(), given, recipe="enrich")
