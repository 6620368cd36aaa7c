"""Prepare recipes pushed down into a real PostgreSQL give the same rows as in DuckDB.

Each recipe below is compiled once, run in DuckDB and, transpiled with ``dialect="postgres"``,
inside the private PostgreSQL server of the test session (``postgres_source``) over the same rows.
Together the recipes use every processor that claims to run in PostgreSQL, and every portable
function of the formula language.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import adbc_driver_postgresql.dbapi as pg
import pyarrow as pa
import pytest
from sqlglot.errors import ErrorLevel, UnsupportedError

from modelworks.engine.recipes.formula_functions import FUNCTIONS
from modelworks.engine.recipes.prepare import PROCESSORS

if TYPE_CHECKING:
    from modelworks.connections.tests.servers import PostgresServer

pytest_plugins = ["modelworks.connections.tests.servers"]

DATABASE = "prepare_pushdown"
ARROW_TYPES = {
    "integer": pa.int64(),
    "string": pa.string(),
    "float": pa.float64(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "boolean": pa.bool_(),
}


def step(processor: str, **params: Any) -> dict[str, Any]:
    return {"processor": processor, "params": params}


def cond(column: str, operator: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"column": column, "operator": operator, "value": value, **extra}


RECIPES: dict[str, list[dict[str, Any]]] = {
    "columns": [
        step("copy_column", column="code", output="code_text"),
        step("cast_columns", columns=["code"], to="float"),
        step("copy_column", column="code_text", output="code_int"),
        step("cast_columns", columns=["code_int"], to="integer"),
        step("cast_columns", columns=["distance"], to="integer"),
        step("cast_columns", columns=["cancelled"], to="integer"),
        step("cast_columns", columns=["dep_delay"], to="boolean", on_failure="error"),
        step("formula", output="yes", formula="case(id = 1, ' Yes', id = 2, 'n', id = 3, '0', 'maybe')"),
        step("cast_columns", columns=["yes"], to="boolean"),
        step("cast_columns", columns=["dep_time"], to="date"),
        step("cast_columns", columns=["lat"], to="string"),
        step("rename_columns", renames={"carrier": "airline", "origin": "from"}),
        step("coalesce_columns", columns=["note", "code_text", "airline"], output="first"),
        step("concat_columns", columns=["airline", "lon", "code_text"], separator="/", output="joined"),
        step(
            "concat_columns",
            columns=["airline", "code_text"],
            separator="|",
            output="kept",
            skip_missing=False,
        ),
        step("reorder_columns", columns=["joined", "first"]),
        step("drop_columns", columns=["payload"]),
        step(
            "keep_columns",
            columns=[
                "id",
                "airline",
                "from",
                "code",
                "code_int",
                "distance",
                "cancelled",
                "dep_delay",
                "yes",
                "dep_time",
                "lat",
                "first",
                "joined",
                "kept",
            ],
        ),
    ],
    "rows": [
        step(
            "filter_rows",
            conditions=[cond("dep_delay", "greater", -10), cond("note", "is_not_empty")],
            match="any",
        ),
        step(
            "filter_rows",
            conditions=[
                cond("carrier", "not_in", values=["DL"]),
                cond("day", "between", "2023-01-01", value2="2025-01-01"),
            ],
        ),
        step("filter_formula", formula="contains(note, 'o') or startswith(origin, 'J')"),
        step("remove_missing", columns=["distance", "dep_time"], how="all"),
        step("flag_rows", formula="distance > 1000 and not cancelled", output="long_haul"),
        step("filter_rows", conditions=[cond("code", "matches", "^[0-9]+$")], action="remove"),
    ],
    "outliers": [
        step("filter_outliers", column="dep_delay", threshold=1.0),
        step("filter_outliers", column="distance", method="zscore", threshold=1.2),
    ],
    "duplicates": [
        step("deduplicate", columns=["carrier"], keep="first", order_by="dep_time"),
        step("deduplicate", columns=["origin"], keep="last", order_by="dep_delay"),
    ],
    "missing": [
        step("fill_missing", columns=["dep_delay", "distance"], method="mean"),
        step("fill_missing", columns=["lat"], method="median"),
        step("fill_missing", columns=["cancelled", "code"], method="mode"),
        step("fill_missing", columns=["note"], value="n/a"),
        step("fill_missing", columns=["day"], value="2000-01-01"),
        step("empty_to_null"),
    ],
    "text": [
        step("find_replace", columns=["note"], find="-", replace="+"),
        step("find_replace", columns=["carrier"], find="a", replace="x", case_sensitive=False),
        step("find_replace", columns=["code"], find=r"^\s*(\d+)\s*$", replace=r"<\1>", mode="regex"),
        step(
            "find_replace",
            columns=["origin"],
            find="jfk",
            replace="Kennedy",
            match="whole",
            case_sensitive=False,
        ),
        step("copy_column", column="note", output="title"),
        step("change_case", columns=["title"], case="title"),
        step("trim_spaces", columns=["note"], mode="collapse"),
        step("pad_text", columns=["code"], length=6, fill="0"),
        step("truncate_text", columns=["title"], length=8),
        step("text_length", column="note"),
        step("copy_column", column="code", output="hash"),
        step("mask_text", columns=["code"], keep_last=2),
        step("mask_text", columns=["hash"], method="hash"),
        step("split_column", column="note", delimiter="+", parts=3),
        step("json_field", column="payload", path="a.b"),
        step("json_field", column="payload", path="items.0.name", output="item"),
    ],
    "numbers": [
        step("copy_column", column="distance", output="d_floor"),
        step("copy_column", column="distance", output="d_ceil"),
        step("copy_column", column="distance", output="d_log"),
        step("copy_column", column="distance", output="d_scaled"),
        step("copy_column", column="dep_delay", output="delay_z"),
        step("copy_column", column="dep_delay", output="delay_log"),
        step("round_numbers", columns=["distance"], decimals=-2),
        step("round_numbers", columns=["d_floor"], decimals=1, mode="floor"),
        step("round_numbers", columns=["d_ceil"], mode="ceil"),
        step("round_numbers", columns=["lat"], decimals=2),
        step("clip_numbers", columns=["dep_delay"], min=0, max=100),
        step("bin_numbers", column="d_ceil", width=500, origin=100),
        step("bin_numbers", column="delay_z", method="edges", edges=["-10", "0", "50", "500"]),
        step("abs_value", columns=["lon"]),
        step("log_transform", columns=["d_log"], base="10"),
        step("log_transform", columns=["delay_log"], base="2", plus_one=True),
        step("standardize", columns=["delay_z"]),
        step("min_max_scale", columns=["d_scaled"]),
        step("math_columns", left="dep_delay", operation="/", right_column="distance", output="ratio"),
        step("math_columns", left="dep_delay", operation="%", right_value=7, output="modulo"),
        step("math_columns", left="distance", operation="%", right_value=2.5, output="fmod"),
        step("math_columns", left="id", operation="^", right_value=0.5, output="root"),
        step("math_columns", left="id", operation="max", right_column="dep_delay", output="biggest"),
        step("math_columns", left="id", operation="min", right_value=3, output="smallest"),
    ],
    "dates": [
        step("formula", output="text", formula="to_string(day)"),
        step("parse_date", column="text", output="parsed"),
        step(
            "formula",
            output="local",
            formula="if(is_null(day), null, concat(to_string(day(day)), '/', to_string(month(day)), '/', to_string(year(day))))",
        ),
        step("parse_date", column="local", format="%d/%m/%Y"),
        step(
            "date_parts",
            column="day",
            parts=["year", "quarter", "month", "week", "day", "weekday", "dayofyear"],
        ),
        step("date_parts", column="dep_time", parts=["hour", "minute", "second"]),
        step("date_diff", start="day", end="dep_time", unit="hour", output="hours"),
        step("shift_date", column="day", amount=40, output="later"),
        step("date_diff", start="day", end="later", unit="month", output="months"),
        step("date_diff", start="dep_time", end="later", unit="year", output="years"),
        step("copy_column", column="dep_time", output="week_start"),
        step("truncate_date", columns=["week_start"], unit="week"),
        step("truncate_date", columns=["day"], unit="quarter"),
        step("shift_date", column="dep_time", amount=-90, unit="minute"),
        step("shift_date", column="later", amount=2, unit="month"),
    ],
    "categories": [
        step("group_rare", column="origin", threshold=2),
        step("group_rare", column="carrier", mode="top_n", threshold=2, output="top"),
        step("one_hot", column="carrier", values=["AA", "UA"], other=True),
        step(
            "map_values",
            column="origin",
            mapping={"JFK": "New York"},
            unmatched="default",
            default="elsewhere",
            output="city",
        ),
    ],
    "geo": [
        step("geo_distance", lat="lat", lon="lon", point_lat=51.47, point_lon=-0.4543, output="to_lhr"),
        step(
            "geo_distance",
            lat="lat",
            lon="lon",
            to="columns",
            lat2="lon",
            lon2="lat",
            unit="miles",
            output="odd",
        ),
    ],
}

# One formula per portable function of the language (regex_extract runs in DuckDB only).
FORMULAS = {
    "f_abs": "abs(dep_delay) + abs(lon)",
    "f_round": "round(distance / 3, 2) + round(dep_delay, -1)",
    "f_floor": "floor(lat) + ceil(lon) + sign(lon) + sign(dep_delay)",
    "f_sqrt": "sqrt(distance) + ln(distance) + log10(distance) + exp(lat / 100)",
    "f_pow": "pow(id, 2) + power(2, id)",
    "f_min": "min(dep_delay, id, 20) + least(id, 3) + max(id, 4) + greatest(id, dep_delay)",
    "f_text": "len(note) + length(dep_delay)",
    "f_case": "lower(carrier) & upper(note) & trim(note) & '|' & ltrim(note) & '|' & rtrim(note)",
    "f_sub": "substring(note, 2, 3) & left(note, 2) & right(note, 2) & replace(note, 'l', 'L')",
    "f_has": "contains(note, 'o') or startswith(note, 'a') or endswith(note, '3')",
    "f_regex": "regex_match(note, '^[A-Z]+-[0-9]+$')",
    "f_regex_replace": "regex_replace(note, '([a-z])-', '\\1+')",
    "f_concat": "concat(carrier, dep_delay, distance, cancelled, day, dep_time)",
    "f_number": "to_number(code)",
    "f_string": "to_string(distance) & to_string(cancelled) & to_string(dep_time)",
    "f_date": "to_date('2024-02-29') = day or to_date(dep_time) = to_date('31/12/2023', '%d/%m/%Y')",
    "f_ts": "to_timestamp('2024-03-15 10:30:00') = dep_time",
    "f_parts": "year(day) * 10000 + month(day) * 100 + day(day) + quarter(day) + weekday(day)",
    "f_time": "hour(dep_time) * 60 + minute(dep_time) + hour(day)",
    "f_diff": "date_diff('day', day, dep_time) + date_diff('week', '2024-01-01', day)",
    "f_diff_cal": "date_diff('month', '2023-11-30', day) + date_diff('year', '2020-06-01', dep_time)",
    "f_add": "date_add(day, 1, 'month')",
    "f_add_ts": "date_add(dep_time, -36, 'hour')",
    "f_now": "now() > dep_time and today() > day",
    "f_null": "is_null(distance) or is_not_null(dep_delay) and dep_delay = null",
    "f_coalesce": "coalesce(distance, dep_delay, 0)",
    "f_if": "if(dep_delay > 15, 'late', if(dep_delay < 0, 'early', 'on time'))",
    "f_case_fn": "case(distance < 100, 'short', distance < 1500, 'medium', 'long')",
    "f_in": "in(carrier, 'AA', 'UA') and not in(id, 2, 4)",
    "f_ops": "(dep_delay + id) * 2 - id / 4 + id % 4 - 2 ^ id",
    "f_compare": "day > '2024-01-15' and dep_time <= '2024-03-15 10:30:00' or carrier <> 'AA'",
}
RECIPES["formulas"] = [step("formula", output=name, formula=text) for name, text in FORMULAS.items()]


def test_recipes_cover_every_portable_processor_and_function():
    used = {s["processor"] for steps in RECIPES.values() for s in steps}
    assert set(PROCESSORS) - used == {"extract_regex"}  # DuckDB only
    functions = {name for text in FORMULAS.values() for name in FUNCTIONS if f"{name}(" in text}
    assert set(FUNCTIONS) - functions == {"regex_extract"}


@pytest.fixture(scope="module")
def pg_flights(postgres_source: PostgresServer, prep) -> Iterator[pg.Connection]:
    """The flights table in a database of its own on the test server."""
    with pg.connect(postgres_source.admin_uri(), autocommit=True) as admin:
        cur = admin.cursor()
        cur.execute("SELECT 1 FROM pg_database WHERE datname = $1", parameters=(DATABASE,))
        if cur.fetchone() is None:
            cur.execute(f"CREATE DATABASE {DATABASE}")
    con = pg.connect(postgres_source.admin_uri(DATABASE), autocommit=True)
    schema = pa.schema([(c.name, ARROW_TYPES[c.type]) for c in prep.relation.columns])
    table = pa.Table.from_pylist(
        [dict(zip(schema.names, row, strict=True)) for row in prep.data], schema=schema
    )
    cur = con.cursor()
    cur.adbc_ingest("flights", table, mode="replace")
    cur.execute("SET TIME ZONE 'UTC'")
    yield con
    con.close()


def _pg_rows(con: pg.Connection, sql: str) -> list[dict[str, Any]]:
    cur = con.cursor()
    cur.execute(sql)
    rows = cur.fetch_arrow_table().to_pylist()
    return sorted(rows, key=lambda r: r["id"]) if rows and "id" in rows[0] else rows


def _same(duck: Any, postgres: Any) -> bool:
    if isinstance(duck, float) and isinstance(postgres, float):
        return math.isclose(duck, postgres, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(duck, dt.datetime) and isinstance(postgres, dt.datetime):
        return duck == postgres.replace(tzinfo=None)
    return type(duck) is type(postgres) and duck == postgres


@pytest.mark.parametrize("name", list(RECIPES))
def test_pushdown_gives_the_same_rows_as_duckdb(prep, pg_flights, name):
    compiled = prep.compile(RECIPES[name])
    assert compiled.pushdown, compiled.notes
    expected = prep.rows(compiled)
    got = _pg_rows(pg_flights, compiled.outputs[0].sql("postgres"))
    assert expected, "the recipe should keep some rows"
    assert [list(r) for r in got] == [list(r) for r in expected]
    for want, have in zip(expected, got, strict=True):
        different = {k: (want[k], have[k]) for k in want if not _same(want[k], have[k])}
        assert not different, f"row {want.get('id')}: DuckDB vs PostgreSQL {different}"


def test_a_duckdb_only_recipe_cannot_be_written_for_postgres(prep):
    compiled = prep.compile([step("fill_missing", columns=["dep_delay"], method="previous", order_by="id")])
    assert compiled.pushdown is False
    # SQLGlot would otherwise drop IGNORE NULLS silently: callers must transpile with RAISE.
    with pytest.raises(UnsupportedError, match="IGNORE NULLS"):
        compiled.outputs[0].query.sql(dialect="postgres", unsupported_level=ErrorLevel.RAISE)
