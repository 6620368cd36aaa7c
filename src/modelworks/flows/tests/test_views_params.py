"""The settings forms generated from ``ParamSpec``s: what a post reads back as, list operations, and
the read-only text of a value. Pure functions over a real ``QueryDict``."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict

from modelworks.engine.recipes.types import ParamSpec
from modelworks.flows.forms.params import ColumnChoice, display_value, param_fields, read_params

ORDER = ParamSpec(
    "order_by",
    "list",
    "Order",
    required=False,
    item=(
        ParamSpec("column", "column", "Column"),
        ParamSpec("direction", "choice", "Direction", choices=("asc", "desc")),
    ),
)


def _post(pairs: list[tuple[str, str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in pairs:
        data.appendlist(key, value)
    return data


@pytest.mark.parametrize(
    ("spec", "pairs", "expected"),
    [
        (ParamSpec("n", "integer", "N"), [("s.n", "12")], {"n": 12}),
        (ParamSpec("n", "integer", "N"), [("s.n", "3.0")], {"n": 3}),
        (ParamSpec("n", "integer", "N"), [("s.n", "lots")], {"n": "lots"}),  # the engine names the problem
        (ParamSpec("p", "number", "P", required=False), [("s.p", " ")], {}),
        (ParamSpec("f", "boolean", "F"), [], {"f": False}),
        (ParamSpec("f", "boolean", "F"), [("s.f", "true")], {"f": True}),
        (
            ParamSpec("c", "columns", "C"),
            [("s.c", "a"), ("s.c", "b"), ("s.c.more", "c, a")],
            {"c": ["a", "b", "c"]},
        ),
        (ParamSpec("t", "strings", "T"), [("s.t", "x\r\n\r\n y \n")], {"t": ["x", "y"]}),
        (
            ParamSpec("m", "mapping", "M"),
            [("s.m", "old = new\nfrom=to = b\n\n")],
            {"m": {"old": "new", "from": "to = b"}},
        ),
        (ParamSpec("x", "formula", "X", required=False), [("s.x", "  ")], {}),
        (ParamSpec("x", "formula", "X"), [("s.x", " a > 1 ")], {"x": "a > 1"}),
        (ParamSpec("j", "geometry", "J"), [("s.j", '{"a": [1]}')], {"j": {"a": [1]}}),  # unknown kind: JSON
    ],
    ids=lambda v: v.name if isinstance(v, ParamSpec) else None,
)
def test_posted_values_are_read_typed(
    spec: ParamSpec, pairs: list[tuple[str, str]], expected: dict[str, Any]
) -> None:
    assert read_params([spec], _post(pairs), "s") == expected


def test_list_items_are_read_and_the_add_and_remove_operations_applied() -> None:
    pairs = [
        ("s.order_by.n", "2"),
        ("s.order_by.0.column", "delay"),
        ("s.order_by.0.direction", "desc"),
        ("s.order_by.1.column", "day"),
        ("s.order_by.1.direction", "asc"),
    ]
    data = _post(pairs)
    both = [{"column": "delay", "direction": "desc"}, {"column": "day", "direction": "asc"}]
    assert read_params([ORDER], data, "s") == {"order_by": both}
    assert read_params([ORDER], data, "s", op="del:s.order_by.0") == {"order_by": both[1:]}
    added = read_params([ORDER], data, "s", op="add:s.order_by")["order_by"]
    assert added[:2] == both and added[2] == {}


def test_fields_carry_names_columns_and_values_that_round_trip() -> None:
    columns = [ColumnChoice("delay", "integer", "flights"), ColumnChoice("day", "date", "flights")]
    values = {"order_by": [{"column": "delay", "direction": "desc"}]}
    (field,) = param_fields([ORDER], values, "s", columns=columns, datalist="cols")
    (path, item) = field.entries[0]
    assert path == "s.order_by.0" and [f.name for f in item] == [
        "s.order_by.0.column",
        "s.order_by.0.direction",
    ]
    assert (
        item[0].datalist == "cols" and item[0].text == "delay" and item[1].choice_options == ["asc", "desc"]
    )
    kept = param_fields([ParamSpec("c", "columns", "C")], {"c": ["delay", "gone"]}, "s", columns=columns)[0]
    assert kept.extra_columns == ["gone"] and kept.chosen == ["delay", "gone"]


@pytest.mark.parametrize(
    ("spec", "value", "text"),
    [
        (ParamSpec("f", "boolean", "F"), True, "Yes"),
        (ParamSpec("c", "columns", "C"), ["a", "b"], "a, b"),
        (ParamSpec("m", "mapping", "M"), {"a": "b"}, "a → b"),
        (
            ORDER,
            [{"column": "delay", "direction": "desc"}, {"column": "day"}],
            "Column: delay, Direction: desc; Column: day",
        ),
        (ParamSpec("x", "string", "X"), "", "–"),  # noqa: RUF001
    ],
    ids=lambda v: v.name if isinstance(v, ParamSpec) else None,
)
def test_values_read_as_words_on_read_only_pages(spec: ParamSpec, value: Any, text: str) -> None:
    assert display_value(spec, value) == text
