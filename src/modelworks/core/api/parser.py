"""The JSON body parser of the API: strict JSON, with a message that says what is wrong.

Python's ``json`` module is lenient where other parsers are not: a key given twice keeps its last
value (a proxy or an audit tool reading the first one would see another request), and ``NaN`` or
``Infinity`` are accepted although JSON has no such values. Both are refused here, as are bodies that
are not UTF-8 and bodies nested too deeply to parse. Ninja turns any parser failure into a 400;
:func:`modelworks.core.api.errors.install_error_handlers` shows the :class:`BodyParseError` message.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from django.http import HttpRequest
from ninja.parser import Parser

__all__ = ["BodyParseError", "StrictJsonParser"]

_HINT = "send one JSON object encoded as UTF-8, with Content-Type: application/json."


class BodyParseError(ValueError):
    """The request body is not strict JSON; the message says where and how to fix it."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise BodyParseError(f"The request body gives the key '{key[:100]}' twice; give each key once.")
        found[key] = value
    return found


def _no_constant(name: str) -> NoReturn:
    raise BodyParseError(f"The request body holds {name}, which is not a JSON value; send a number or null.")


class StrictJsonParser(Parser):
    """Strict JSON bodies (see the module docstring)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BodyParseError(
                f"The request body is not UTF-8 text (invalid byte at position {exc.start}); {_HINT}"
            ) from exc
        try:
            data: dict[str, Any] = json.loads(
                text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant
            )
        except json.JSONDecodeError as exc:
            raise BodyParseError(
                f"The request body is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                f"{_HINT}"
            ) from exc
        except RecursionError as exc:
            raise BodyParseError(
                "The request body nests objects or lists too deeply to be read; flatten it."
            ) from exc
        return data
