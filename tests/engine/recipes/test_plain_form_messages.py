"""What a business user reads when a setting of a fresh form is still empty: where, what, how to fix.

The forms post empty values for settings the user has not filled yet; each one must come back as one
plain instruction ("Aggregation 1: choose a function (…)"), not as a setting path, and still carry the
setting's key in ``details`` for the page to put it next to its field.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlglot import exp

from modelworks.engine.recipes import normalize_spec
from modelworks.engine.recipes.prepare import compile_prepare
from modelworks.engine.recipes.types import Column, RecipeSpecError, Relation

FLIGHTS = Relation(
    "flights", (Column("carrier", "string"), Column("dep_delay", "integer")), exp.to_table("flights")
)


@pytest.mark.parametrize(
    ("kind", "spec", "message", "details"),
    [
        ("group", {"keys": ["carrier"], "aggregations": [{"column": "dep_delay", "function": ""}]},
         r"^recipe 'new group': Aggregation 1: choose a function \(count, count distinct, ", {"setting": "function", "where": "aggregation 1"}),
        ("group", {"keys": ["carrier"], "aggregations": [{"column": "x", "function": "sum"}, {"function": None}]},
         r"^recipe 'new group': Aggregation 2: choose a function \(", {"setting": "function"}),
        ("sort", {"columns": [{"column": ""}]}, r"^recipe 'new sort': Sort column 1: choose a column$", {"setting": "column"}),
        ("join", {"joins": [{"type": "", "on": []}]}, r"^recipe 'new join': Join 1: choose a join type \(inner, left, right, full, cross, semi, …\)$", {"setting": "type"}),
        ("join", {"joins": [{"type": "left", "on": [{"left": "", "right": "b"}]}]}, r"^recipe 'new join': Join 1 key 1: choose the left column$", {"setting": "left"}),
        ("group", {"keys": ["carrier"], "aggregations": []}, r"^recipe 'new group': add at least one aggregation$", {"setting": "aggregations"}),
        ("sql", {"sql": "  "}, r"^recipe 'new sql': write the SQL query$", {"setting": "sql"}),
    ],
)  # fmt: skip
def test_an_empty_setting_of_a_visual_recipe_says_what_to_choose(
    kind: str, spec: dict[str, Any], message: str, details: dict[str, Any]
) -> None:
    with pytest.raises(RecipeSpecError, match=message) as caught:
        normalize_spec(kind, spec)
    assert details.items() <= caught.value.details.items()
    assert "''" not in caught.value.message


@pytest.mark.parametrize(
    ("step", "message", "setting"),
    [
        ({"processor": "filter_rows", "params": {"conditions": [{"column": "", "operator": "equals"}]}},
         r"^recipe 'r' step 1 \(Filter rows\): Condition 1: choose a column$", "column"),
        ({"processor": "filter_rows", "params": {"conditions": [{"column": "carrier", "operator": ""}]}},
         r"^recipe 'r' step 1 \(Filter rows\): Condition 1: choose an operator \(equals, not equals, ", "operator"),
        ({"processor": "drop_columns", "params": {"columns": []}}, r"^recipe 'r' step 1 \(Drop columns\): choose the columns to drop$", "columns"),
        ({"processor": "find_replace", "params": {"columns": ["carrier"], "find": ""}}, r"step 1 \(Find and replace\): fill in 'Find'$", "find"),
        ({"processor": "round_numbers", "params": {"columns": ["dep_delay"], "decimals": "two"}}, r"step 1 \(Round numbers\): 'Decimals' must be a number, not 'two'$", None),
    ],
)  # fmt: skip
def test_an_empty_setting_of_a_prepare_step_says_what_to_choose(
    step: dict[str, Any], message: str, setting: str | None
) -> None:
    with pytest.raises(RecipeSpecError, match=message) as caught:
        compile_prepare({"steps": [step]}, FLIGHTS, "out", recipe="r")
    assert caught.value.details.get("setting") == setting
    assert caught.value.details["step"] == 1
