"""Text processors run in DuckDB: find and replace, case, spaces, pad, truncate, length, mask, split,
regular-expression extraction, JSON fields."""

from __future__ import annotations

from typing import Any

import pytest

from modelworks.engine.recipes.types import MissingColumnError, RecipeSpecError

NOTES = ["  Hello   World ", "x, y", None, "", "a-b-c", "AB-123"]


def step(processor: str, **params: Any) -> dict[str, Any]:
    return {"processor": processor, "params": params}


@pytest.mark.parametrize(
    ("column", "params", "expected"),
    [
        ("note", {"find": "-", "replace": "+"}, ["  Hello   World ", "x, y", None, "", "a+b+c", "AB+123"]),
        ("carrier", {"find": "a", "replace": "x"}, ["AA", "AA", "UA", "DL", "AA", "B6"]),
        (
            "carrier",
            {"find": "a", "replace": "x", "case_sensitive": False},
            ["xx", "xx", "Ux", "DL", "xx", "B6"],
        ),
        (
            "carrier",
            {"find": "aa", "replace": "American", "match": "whole", "case_sensitive": False},
            ["American", "American", "UA", "DL", "American", "B6"],
        ),
        ("carrier", {"find": "A", "replace": "?", "match": "whole"}, ["AA", "AA", "UA", "DL", "AA", "B6"]),
        (
            "note",
            {"find": "[0-9]+", "replace": "#", "mode": "regex"},
            ["  Hello   World ", "x, y", None, "", "a-b-c", "AB-#"],
        ),
        (
            "code",
            {"find": r"^\s*(\d+)\s*$", "replace": r"<\1>", "mode": "regex"},
            ["<42>", "7.5", "abc", None, "<13>", "1e3"],
        ),
        (
            "code",
            {"find": r"\d+", "replace": "N", "mode": "regex", "match": "whole"},
            ["N", "7.5", "abc", None, " 13 ", "1e3"],
        ),
        (
            "code",
            {"find": "ABC", "replace": "x", "mode": "regex", "match": "whole", "case_sensitive": False},
            ["42", "7.5", "x", None, " 13 ", "1e3"],
        ),
    ],
)
def test_find_replace(prep, column, params, expected):
    assert prep.column([step("find_replace", columns=[column], **params)], column) == expected


def test_find_replace_treats_literal_text_literally(prep):
    steps = [
        step("formula", output="expr", formula="'1+1=2 (ok) \\\\ x.*'"),
        step("find_replace", columns=["expr"], find="+1=2 (OK)", replace="\\", case_sensitive=False),
        step("find_replace", columns=["expr"], find=".*", replace="$1"),
    ]
    assert prep.column(steps, "expr")[0] == "1\\ \\ x$1"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("lower", ["  hello   world ", "x, y", None, "", "a-b-c", "ab-123"]),
        ("upper", ["  HELLO   WORLD ", "X, Y", None, "", "A-B-C", "AB-123"]),
        ("title", ["  Hello   World ", "X, Y", None, "", "A-B-C", "Ab-123"]),
    ],
)
def test_change_case(prep, case, expected):
    assert prep.column([step("change_case", columns=["note"], case=case)], "note") == expected


@pytest.mark.parametrize(
    ("mode", "first"),
    [
        ("both", "Hello   World"),
        ("left", "Hello   World "),
        ("right", "  Hello   World"),
        ("collapse", "Hello World"),
    ],
)
def test_trim_spaces(prep, mode, first):
    assert prep.column([step("trim_spaces", columns=["note"], mode=mode)], "note")[0] == first


def test_pad_and_truncate(prep):
    assert prep.column([step("pad_text", columns=["code"], length=5)], "code") == [
        "00042",
        "007.5",
        "00abc",
        None,
        "0 13 ",
        "001e3",
    ]
    assert prep.column([step("pad_text", columns=["code"], length=4, fill="*", side="right")], "code")[
        :2
    ] == ["42**", "7.5*"]
    assert (
        prep.column([step("pad_text", columns=["note"], length=2)], "note")[0] == "  Hello   World "
    )  # never cut
    assert prep.column([step("truncate_text", columns=["note"], length=3)], "note") == [
        "  H",
        "x, ",
        None,
        "",
        "a-b",
        "AB-",
    ]


def test_text_length(prep):
    rows = prep.run(
        [step("text_length", column="note"), step("text_length", column="dep_delay", output="digits")]
    )
    assert [r["note_length"] for r in rows] == [16, 4, None, 0, 5, 6]
    assert [r["digits"] for r in rows] == [2, None, 3, 2, 1, 2]
    assert list(rows[0]).index("note_length") == list(rows[0]).index("note") + 1


def test_mask_and_hash(prep):
    assert prep.column([step("mask_text", columns=["code"], keep_last=1)], "code") == [
        "*2",
        "**5",
        "**c",
        None,
        "*** ",
        "**3",
    ]
    assert prep.column([step("mask_text", columns=["code"], keep_last=10)], "code")[0] == "42"
    hashed = prep.column([step("mask_text", columns=["code"], method="hash")], "code")
    assert hashed[0] == "a1d0c6e83f027327d8461063f4ac58a6" and hashed[3] is None


def test_split_column(prep):
    rows = prep.run([step("split_column", column="note", delimiter="-", parts=3)])
    assert [(r["note_1"], r["note_2"], r["note_3"]) for r in rows] == [
        ("  Hello   World ", None, None),
        ("x, y", None, None),
        (None, None, None),
        (None, None, None),
        ("a", "b", "c"),
        ("AB", "123", None),
    ]
    assert list(rows[0])[7:11] == ["note", "note_1", "note_2", "note_3"]
    dropped = prep.run(
        [step("split_column", column="note", delimiter=", ", parts=2, prefix="part", keep_original=False)]
    )
    assert "note" not in dropped[0] and (dropped[1]["part1"], dropped[1]["part2"]) == ("x", "y")


def test_extract_with_a_regular_expression(prep):
    compiled = prep.compile(
        [step("extract_regex", column="note", pattern=r"([A-Z]+)-(\d+)", outputs=["letters", "digits"])]
    )
    rows = prep.rows(compiled)
    assert [(r["letters"], r["digits"]) for r in rows][4:] == [(None, None), ("AB", "123")]
    assert compiled.pushdown is False


def test_json_field(prep):
    rows = prep.run(
        [
            step("json_field", column="payload", path="a.b"),
            step("json_field", column="payload", path="items.0.name", output="first_item"),
        ]
    )
    assert [r["b"] for r in rows] == ["7", "8", None, None, None, "z"]
    assert [r["first_item"] for r in rows] == ["x", None, None, None, None, None]


BAD_STEPS = [
    (
        step("find_replace", columns=["dep_delay"], find="1"),
        RecipeSpecError,
        r"step 1 \(Find and replace\): column 'dep_delay' holds a whole number, not text",
    ),
    (
        step("find_replace", columns=["note"], find="(", mode="regex"),
        RecipeSpecError,
        "'\\(' is not a valid regular expression",
    ),
    (
        step("find_replace", columns=["note"]),
        RecipeSpecError,
        r"step 1 \(Find and replace\): fill in 'Find'$",
    ),
    (step("change_case", columns=["nots"], case="upper"), MissingColumnError, "did you mean 'note'"),
    (step("pad_text", columns=["code"], length=0), RecipeSpecError, "between 1 and 10,000"),
    (step("pad_text", columns=["code"], length="5.5"), RecipeSpecError, "must be a whole number"),
    (step("truncate_text", columns=["code"], length=-1), RecipeSpecError, "cannot be negative"),
    (step("text_length", column="note", output="code"), RecipeSpecError, "column 'code' already exists"),
    (step("mask_text", columns=["code"], keep_last=-2), RecipeSpecError, "cannot be negative"),
    (step("split_column", column="note", delimiter="-", parts=0), RecipeSpecError, "between 1 and 100"),
    (
        step("split_column", column="note", delimiter="-", parts=2, prefix="c", keep_original="sometimes"),
        RecipeSpecError,
        "must be true or false",
    ),
    (step("extract_regex", column="note", pattern="(a)", outputs=["x", "y"]), RecipeSpecError, "has 1 group"),
    (
        step("extract_regex", column="note", pattern="[", outputs=["x"]),
        RecipeSpecError,
        "not a valid regular expression",
    ),
    (step("json_field", column="payload", path="a..b"), RecipeSpecError, "keys separated by dots"),
    (step("json_field", column="payload", path="a.*"), RecipeSpecError, "keys may hold letters"),
    (step("json_field", column="payload", path="a'b"), RecipeSpecError, "keys may hold letters"),
    (step("json_field", column="dep_delay", path="a"), RecipeSpecError, "not JSON text"),
]


@pytest.mark.parametrize(("bad", "error", "message"), BAD_STEPS)
def test_bad_settings_name_the_step(prep, bad, error, message):
    with pytest.raises(error, match=message):
        prep.compile([bad])


def test_split_refuses_to_overwrite_columns(prep):
    split = step("split_column", column="note", delimiter="-", parts=2)
    with pytest.raises(
        RecipeSpecError,
        match=r"^recipe 'clean_flights' step 2 \(Split column\): column 'note_1' already exists",
    ):
        prep.compile([split, split])
