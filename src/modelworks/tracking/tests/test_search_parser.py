"""The filter-string and order_by parser: what it accepts, and the messages of what it refuses."""

from __future__ import annotations

import pytest

from modelworks.tracking.search import (
    Comparison,
    OrderBy,
    SearchSyntaxError,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_run_filter,
    parse_run_order_by,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("metrics.rmse < 0.5", [Comparison("metric", "rmse", "<", 0.5)]),
        ("metric.rmse >= -1e-3", [Comparison("metric", "rmse", ">=", -0.001)]),
        ("params.model = 'forest'", [Comparison("param", "model", "=", "forest")]),
        ('parameters.model != "lin"', [Comparison("param", "model", "!=", "lin")]),
        ("tags.`mlflow.runName` LIKE 'sweep-%'", [Comparison("tag", "mlflow.runName", "LIKE", "sweep-%")]),
        ("tags.mlflow.user ILIKE 'BOB'", [Comparison("tag", "mlflow.user", "ILIKE", "BOB")]),
        ("tags.\"my key\" = 'it''s'", [Comparison("tag", "my key", "=", "it's")]),
        ("metrics.`val loss` <> 2", [Comparison("metric", "val loss", "!=", 2)]),
        (
            "attributes.status IN ('FINISHED', 'FAILED')",
            [Comparison("attribute", "status", "IN", ("FINISHED", "FAILED"))],
        ),
        ("run_name NOT IN ('a')", [Comparison("attribute", "run_name", "NOT IN", ("a",))]),
        ("attr.start_time > 1700000000000", [Comparison("attribute", "start_time", ">", 1700000000000)]),
        ("created < 5", [Comparison("attribute", "start_time", "<", 5)]),
        ("run.run_id = 'abc'", [Comparison("attribute", "run_id", "=", "abc")]),
        ("datasets.context = 'training'", [Comparison("dataset", "context", "=", "training")]),
        ("params.seed IS NULL", [Comparison("param", "seed", "IS NULL", None)]),
        ("tags.team is not null", [Comparison("tag", "team", "IS NOT NULL", None)]),
        (
            "metrics.a > 1 and params.b = 'x' AND tags.c = 'y'",
            [
                Comparison("metric", "a", ">", 1),
                Comparison("param", "b", "=", "x"),
                Comparison("tag", "c", "=", "y"),
            ],
        ),
        ("metrics.train/loss:1 < 3", [Comparison("metric", "train/loss:1", "<", 3)]),
    ],
)
def test_run_filters_parse(text: str, expected: list[Comparison]) -> None:
    assert parse_run_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.rmse", r"ends too early: expected a comparison after 'metrics.rmse'"),
        (
            "metrics.rmse < 'low'",
            r"At character 16: 'metrics.rmse' is a number; write the value without quotes",
        ),
        ("metrics.rmse LIKE 1", r"is a number; compare it with"),
        ("params.model < 'x'", r"At character 1: 'params.model' is text; compare it with =, !=, LIKE"),
        ("params.model = forest", r"At character 16: the value forest must be quoted: 'forest'"),
        ("params.depth = 3", r"is text; quote the value: params.depth = '3'"),
        ("metrics.a > 1 OR metrics.b > 2", r"At character 15: OR is not supported"),
        ("metrics.a > 1 metrics.b > 2", r"At character 15: expected AND between two comparisons"),
        ("foo.bar = 'x'", r"unknown kind 'foo' in 'foo.bar'"),
        ("attributes.colour = 'red'", r"runs have no attribute 'colour'"),
        ("datasets.size = 'x'", r"datasets are searched by name, digest, context"),
        ("metrics.rmse IS NULL", r"IS NULL / IS NOT NULL work on params and tags only"),
        ("params.a = 'unclosed", r"At character 12: the single quote opened here is never closed"),
        ("tags.`x = 'a'", r"the backtick opened here is never closed"),
        ("params.a IN 'x'", r"IN needs a list in parentheses"),
        ("params.a IN ('x', 2)", r"the list of IN holds quoted strings only"),
        ("params.a NOT LIKE 'x'", r"expected IN after NOT"),
        ("metrics.a > 1 AND", r"ends too early"),
        ("metrics.a ~ 1", r"At character 11: unexpected character '~'"),
        ("= 1", r"At character 1: expected a name such as metrics.rmse"),
    ],
)
def test_bad_run_filters_say_where_and_what(text: str, message: str) -> None:
    with pytest.raises(SearchSyntaxError, match=message):
        parse_run_filter(text)


def test_order_by() -> None:
    assert parse_run_order_by(["metrics.rmse DESC", "params.`model name`", "start_time asc", "created"]) == [
        OrderBy("metric", "rmse", False),
        OrderBy("param", "model name", True),
        OrderBy("attribute", "start_time", True),
        OrderBy("attribute", "start_time", True),
    ]


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        ("metrics.rmse DOWN", r"expected one name and optionally ASC or DESC"),
        ("DESC", r"runs have no attribute .DESC."),
        ("attributes.colour", r"runs have no attribute 'colour'"),
        ("datasets.name", r"cannot be sorted by a dataset"),
    ],
)
def test_bad_order_by(clause: str, message: str) -> None:
    with pytest.raises(SearchSyntaxError, match=message):
        parse_run_order_by([clause])


def test_experiment_filters() -> None:
    assert parse_experiment_filter("name LIKE 'Delay%' AND tags.team = 'ops' AND creation_time > 5") == [
        Comparison("attribute", "name", "LIKE", "Delay%"),
        Comparison("tag", "team", "=", "ops"),
        Comparison("attribute", "creation_time", ">", 5),
    ]
    assert parse_experiment_order_by(["name DESC"]) == [OrderBy("attribute", "name", False)]
    with pytest.raises(SearchSyntaxError, match="experiments are searched by attributes"):
        parse_experiment_filter("metrics.a > 1")
    with pytest.raises(SearchSyntaxError, match="experiments have no attribute 'status'"):
        parse_experiment_filter("status = 'x'")
    with pytest.raises(SearchSyntaxError, match="Experiments are sorted by"):
        parse_experiment_order_by(["tags.team"])
