"""MLflow search filters (``name LIKE 'churn%' AND tags.team = 'risk'``), order-by clauses and page
tokens, parsed without SQL: each comparison becomes a Django lookup on a named field, so user text
only ever reaches the database as a bound value.

Grammar (MLflow's): comparisons joined by ``AND``; a comparison is ``<entity> <op> <value>`` where
the entity is an attribute (``name``, ``run_id``…) or ``<kind>.<key>`` (``tags.team``,
``metrics.rmse``, ``params.alpha``; a key with spaces is written in backquotes or double quotes),
the operator one of ``= != < <= > >= LIKE ILIKE IN NOT IN``, and the value a quoted string, a
number or a parenthesised list of strings.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from modelworks.registry.errors import InvalidRegistryValueError

__all__ = [
    "Comparison",
    "OrderClause",
    "decode_page_token",
    "encode_page_token",
    "lookup",
    "parse_filter",
    "parse_order_by",
]

_KINDS = {
    "tags": "tag",
    "tag": "tag",
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "parameters": "param",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
}
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
    | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<op><=|>=|!=|<>|=|<|>|\(|\)|,)
    | (?P<ident>(?:[A-Za-z_][\w]*)(?:\.(?:`[^`]+`|"[^"]+"|[\w.\-]+))?|`[^`]+`)
    )""",
    re.VERBOSE,
)
_WORD_OPS = {"LIKE", "ILIKE", "IN", "NOT", "AND"}


@dataclass(frozen=True)
class Comparison:
    """One ``entity op value`` of a filter. ``kind``: attribute, tag, metric or param."""

    kind: str
    key: str
    op: str
    value: Any


def _unquote(text: str) -> str:
    quote = text[0]
    body = text[1:-1]
    body = body.replace(quote * 2, quote)
    return re.sub(r"\\(.)", r"\1", body)


def _tokens(text: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidRegistryValueError(
                f"Cannot read the filter near {text[position : position + 30]!r}. Write comparisons such as "
                "name LIKE 'churn%' AND tags.team = 'risk', with text values in single quotes."
            )
        position = match.end()
        if match.group("string") is not None:
            found.append(("value", _unquote(match.group("string"))))
        elif match.group("number") is not None:
            number = match.group("number")
            found.append(("value", float(number) if any(c in number for c in ".eE") else int(number)))
        elif match.group("op") is not None:
            found.append(("op", "!=" if match.group("op") == "<>" else match.group("op")))
        else:
            word = match.group("ident")
            if word.upper() in _WORD_OPS:
                found.append(("word", word.upper()))
            else:
                found.append(("ident", word))
    return found


def _entity(identifier: str) -> tuple[str, str]:
    if identifier.startswith("`"):
        return "attribute", identifier.strip("`")
    head, dot, rest = identifier.partition(".")
    if dot and head.lower() in _KINDS:
        key = rest
        if len(key) >= 2 and key[0] == key[-1] and key[0] in '`"':
            key = key[1:-1]
        return _KINDS[head.lower()], key
    return "attribute", identifier


def parse_filter(text: str | None) -> list[Comparison]:
    """The comparisons of an MLflow filter string (empty for no filter).

    Raises:
        InvalidRegistryValueError: the text is not a filter; the message shows where and how to write one.
    """
    if text is None or not text.strip():
        return []
    tokens = _tokens(text)
    comparisons: list[Comparison] = []
    index = 0

    def expect_value(position: int) -> tuple[Any, int]:
        if position < len(tokens) and tokens[position][0] == "value":
            return tokens[position][1], position + 1
        raise InvalidRegistryValueError(
            f"The filter {text!r} compares to something that is not a value; put text in single quotes, "
            "e.g. name = 'churn'."
        )

    while index < len(tokens):
        kind, value = tokens[index]
        if kind != "ident":
            raise InvalidRegistryValueError(
                f"The filter {text!r} should start each comparison with a field such as name, "
                "tags.<key> or metrics.<key>."
            )
        entity_kind, key = _entity(value)
        index += 1
        if index >= len(tokens):
            raise InvalidRegistryValueError(f"The filter {text!r} ends without a comparison after {value!r}.")
        op_kind, op = tokens[index]
        if (
            op_kind == "word"
            and op == "NOT"
            and index + 1 < len(tokens)
            and tokens[index + 1] == ("word", "IN")
        ):
            op, index = "NOT IN", index + 1
        elif op_kind not in ("op", "word") or op in ("(", ")", ",", "AND", "NOT"):
            raise InvalidRegistryValueError(
                f"The filter {text!r} has no valid operator after {value!r}; use =, !=, <, <=, >, >=, "
                "LIKE, ILIKE, IN or NOT IN."
            )
        index += 1
        if op in ("IN", "NOT IN"):
            if index >= len(tokens) or tokens[index] != ("op", "("):
                raise InvalidRegistryValueError(
                    f"The filter {text!r} needs a list in parentheses after {op}, e.g. ('a', 'b')."
                )
            index += 1
            items: list[Any] = []
            while True:
                item, index = expect_value(index)
                items.append(item)
                if index < len(tokens) and tokens[index] == ("op", ","):
                    index += 1
                    continue
                if index < len(tokens) and tokens[index] == ("op", ")"):
                    index += 1
                    break
                raise InvalidRegistryValueError(f"The list after {op} in {text!r} is not closed with ')'.")
            comparisons.append(Comparison(entity_kind, key, op, tuple(items)))
        else:
            operand, index = expect_value(index)
            comparisons.append(Comparison(entity_kind, key, op, operand))
        if index < len(tokens):
            if tokens[index] != ("word", "AND"):
                raise InvalidRegistryValueError(
                    f"The filter {text!r} joins comparisons with something other than AND (OR is not supported)."
                )
            index += 1
            if index >= len(tokens):
                raise InvalidRegistryValueError(f"The filter {text!r} ends with AND.")
    return comparisons


def _like_regex(pattern: str) -> str:
    parts = []
    for character in pattern:
        if character == "%":
            parts.append(".*")
        elif character == "_":
            parts.append(".")
        else:
            parts.append(re.escape(character))
    return "^" + "".join(parts) + "$"


_OPS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


def lookup(field: str, op: str, value: Any, *, numeric: bool = False) -> Q:
    """The Django condition ``field op value`` (the value is always a bound parameter).

    Raises:
        InvalidRegistryValueError: the operator does not apply to the field's kind of value.
    """
    if numeric:
        if op in ("LIKE", "ILIKE", "IN", "NOT IN"):
            raise InvalidRegistryValueError(
                f"{op} does not apply to the number {field!r}; use =, !=, <, <=, > or >=."
            )
        if not isinstance(value, int | float):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise InvalidRegistryValueError(
                    f"{field!r} is a number; compare it to a number, not {value!r}."
                ) from None
    elif op in ("<", "<=", ">", ">=") and not isinstance(value, int | float):
        pass  # text comparison, as SQL does
    if op == "!=":
        return ~Q(**{f"{field}__exact": value})
    if op in _OPS:
        return Q(**{f"{field}__{_OPS[op]}": value})
    if op == "LIKE":
        return Q(**{f"{field}__regex": _like_regex(str(value))})
    if op == "ILIKE":
        return Q(**{f"{field}__iregex": _like_regex(str(value))})
    if op == "IN":
        return Q(**{f"{field}__in": [str(v) for v in value]})
    if op == "NOT IN":
        return ~Q(**{f"{field}__in": [str(v) for v in value]})
    raise InvalidRegistryValueError(f"Unknown operator {op!r}.")


@dataclass(frozen=True)
class OrderClause:
    """One ``order_by`` item: a field and its direction."""

    field: str
    ascending: bool


def parse_order_by(items: Any, allowed: dict[str, str]) -> list[OrderClause]:
    """``["name ASC", "last_updated_timestamp DESC"]`` → clauses on the model fields ``allowed`` maps to.

    Raises:
        InvalidRegistryValueError: an unknown field or direction; the message lists the valid fields.
    """
    if items in (None, "", []):
        return []
    if isinstance(items, str):
        items = [items]
    clauses = []
    for item in items:
        words = str(item).split()
        if not words or len(words) > 2:
            raise InvalidRegistryValueError(
                f"Cannot read the order_by clause {item!r}; write e.g. 'name ASC'."
            )
        name = words[0].strip("`")
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if direction not in ("ASC", "DESC"):
            raise InvalidRegistryValueError(f"The order_by clause {item!r} should end with ASC or DESC.")
        if name not in allowed:
            raise InvalidRegistryValueError(
                f"Invalid order_by field {name!r}; use one of {', '.join(sorted(allowed))}."
            )
        clauses.append(OrderClause(allowed[name], direction == "ASC"))
    return clauses


def encode_page_token(offset: int, context: str) -> str:
    """An opaque token for the next page: the offset, bound to the query it continues."""
    raw = json.dumps({"offset": offset, "query": context}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_page_token(token: str | None, context: str) -> int:
    """The offset a token names (0 without one).

    Raises:
        InvalidRegistryValueError: the token is not one this server made for the same query.
    """
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["offset"])
        same = data.get("query") == context
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidRegistryValueError(
            "Invalid page_token: pass the next_page_token of the previous answer unchanged."
        ) from None
    if offset < 0 or not same:
        raise InvalidRegistryValueError(
            "The page_token belongs to another search; repeat the same filter and order with it."
        )
    return offset
