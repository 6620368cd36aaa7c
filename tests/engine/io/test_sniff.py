"""Unit checks of the small detectors: delimiter, headers, encodings."""

from __future__ import annotations

import pytest

from modelworks.engine.io.csv_dialect import detect_delimiter
from modelworks.engine.io.headers import clean_headers
from modelworks.engine.io.sniff import detect_encoding, guess_encoding


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1,5;2,5;3\n", ";"),  # decimal commas inside ; files
        ("a|b\n1|2\n", "|"),
        ('"x;y",b\n"1;2",3\n', ","),  # delimiters inside quotes do not count
        ("single\ncolumn\n", ","),
    ],
)
def test_detect_delimiter(text: str, expected: str) -> None:
    assert detect_delimiter(text) == expected


def test_headers_renaming_is_deterministic() -> None:
    names, renames = clean_headers(["a", "a", "", None, " b ", "a_2", "B"])
    assert names == ["a", "a_3", "column_3", "column_4", "b", "a_2", "B_2"]
    assert [r.reason for r in renames] == ["duplicate", "empty", "empty", "duplicate"]


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("id,ville\n1,Málaga\n2,Besançon\n", "latin-1", "cp1252"),
        ("¿Qué pasa? Señor Muñoz – 5 €\n", "cp1252", "cp1252"),  # noqa: RUF001
        ("id,имя\n1,Привет мир, как дела\n2,Москва\n", "cp1251", "cp1251"),
        ("Zażółć gęślą jaźń, Łódź, Kraków i Gdańsk\n", "cp1250", "cp1250"),
    ],
)
def test_guess_encoding(text: str, encoding: str, expected: str) -> None:
    assert guess_encoding(text.encode(encoding)) == expected


def test_detect_encoding_boms_and_utf16_without_bom() -> None:
    assert detect_encoding("a,b\n".encode("utf-16"), None, label="x") == "utf-16"
    assert detect_encoding("a,b\n".encode("utf-8-sig"), None, label="x") == "utf-8"
    assert detect_encoding("a,b\nc,d\n".encode("utf-16-le"), None, label="x") == "utf-16-le"
    assert detect_encoding("é,b\n".encode(), None, label="x") == "utf-8"
