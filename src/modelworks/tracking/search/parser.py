"""MLflow's search syntax: filter strings and ``order_by`` clauses, parsed into plain data.

A filter is comparisons joined by ``AND`` (MLflow has no ``OR``)::

    metrics.rmse < 0.5 AND params.model = 'forest' AND tags.`mlflow.runName` LIKE 'sweep-%'
    attributes.status IN ('FINISHED', 'FAILED') AND dataset.context = 'training'

* identifiers are ``<entity>.<key>`` (entities: ``metric(s)``, ``param(s)``/``parameter(s)``,
  ``tag(s)``, ``attribute(s)``/``attr``/``run``, ``dataset(s)``) or a bare attribute name
  (``run_name``, ``status`` …); a key with spaces or other characters is backticked or quoted;
* values are quoted strings (``'…'`` or ``"…"``), numbers, or a parenthesised list of strings;
* operators: ``= != <> < <= > >= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL`` (which ones an
  entity accepts follows MLflow: numbers compare with ``<``, strings match with ``LIKE``).

Nothing here touches the database: :mod:`modelworks.tracking.search.queries` compiles the result
into Django ORM expressions with bound parameters. Errors are :class:`SearchSyntaxError` with the
character position and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from modelworks.tracking.search.tokens import SearchSyntaxError, Token, tokenize

__all__ = [
    "EXPERIMENT_ATTRIBUTES",
    "RUN_ATTRIBUTES",
    "Comparison",
    "OrderBy",
    "SearchSyntaxError",
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "parse_run_filter",
    "parse_run_order_by",
]

Entity = Literal["metric", "param", "tag", "attribute", "dataset"]
Value = str | int | float | tuple[str, ...] | None

_ENTITY_ALIASES: dict[str, Entity] = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
    "dataset": "dataset",
    "datasets": "dataset",
}

# Run attributes: name → kind. Aliases as in MLflow ("created" is the start time, "Run name" the name).
RUN_ATTRIBUTES: dict[str, str] = {
    "run_id": "string",
    "run_name": "string",
    "status": "string",
    "user_id": "string",
    "artifact_uri": "string",
    "start_time": "number",
    "end_time": "number",
}
_RUN_ATTRIBUTE_ALIASES = {"created": "start_time", "Created": "start_time", "run name": "run_name"}
EXPERIMENT_ATTRIBUTES: dict[str, str] = {
    "name": "string",
    "experiment_id": "string",
    "creation_time": "number",
    "last_update_time": "number",
}
_DATASET_KEYS = ("name", "digest", "context")

_NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=")
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")


@dataclass(frozen=True)
class Comparison:
    """One ``<entity>.<key> <op> <value>`` clause. ``value`` is None for IS [NOT] NULL."""

    entity: Entity
    key: str
    op: str
    value: Value


@dataclass(frozen=True)
class OrderBy:
    entity: Entity
    key: str
    ascending: bool = True


class _Parser:
    def __init__(self, text: str, *, experiments: bool) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.experiments = experiments

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str) -> Token:
        token = self.peek()
        if token is None:
            raise SearchSyntaxError(f"The filter ends too early: expected {expected} at the end.")
        self.pos += 1
        return token

    def parse(self) -> list[Comparison]:
        clauses = [self.clause()]
        while (token := self.peek()) is not None:
            if token.kind == "keyword" and token.text == "AND":
                self.pos += 1
                clauses.append(self.clause())
                continue
            if token.kind == "keyword" and token.text == "OR":
                raise SearchSyntaxError(
                    f"At character {token.position}: OR is not supported (MLflow filters combine "
                    "clauses with AND only); run one search per alternative instead."
                )
            raise SearchSyntaxError(
                f"At character {token.position}: expected AND between two comparisons, found '{token.text}'."
            )
        return clauses

    def clause(self) -> Comparison:
        token = self.take("a name such as metrics.rmse or params.model")
        if token.kind != "ident":
            raise SearchSyntaxError(
                f"At character {token.position}: expected a name such as metrics.rmse, params.model, "
                f"tags.team or attributes.status, found '{token.text}'."
            )
        entity, key = self.resolve(token)
        op = self.operator(token)
        if op in ("IS NULL", "IS NOT NULL"):
            if entity not in ("param", "tag"):
                raise SearchSyntaxError(
                    f"At character {token.position}: IS NULL / IS NOT NULL work on params and tags only, "
                    f"not on '{token.text}'."
                )
            return Comparison(entity, key, op, None)
        value_position = self.peek().position if self.peek() is not None else len(self.text)
        value = self.value(op)
        return self.checked(Comparison(entity, key, op, value), token, value_position)

    def resolve(self, token: Token) -> tuple[Entity, str]:
        head, key = token.value  # type: ignore[misc]
        if head is None:
            entity: Entity = "attribute"
        else:
            found = _ENTITY_ALIASES.get(head.lower())
            if found is None:
                raise SearchSyntaxError(
                    f"At character {token.position}: unknown kind '{head}' in '{token.text}'; use metrics., "
                    "params., tags., attributes. or datasets. before the name."
                )
            entity = found
        if self.experiments:
            if entity == "attribute":
                if key not in EXPERIMENT_ATTRIBUTES:
                    raise SearchSyntaxError(
                        f"At character {token.position}: experiments have no attribute '{key}'; "
                        f"use one of {', '.join(EXPERIMENT_ATTRIBUTES)} or tags.<key>."
                    )
            elif entity != "tag":
                raise SearchSyntaxError(
                    f"At character {token.position}: experiments are searched by attributes "
                    f"({', '.join(EXPERIMENT_ATTRIBUTES)}) and tags only, not '{token.text}'."
                )
        elif entity == "attribute":
            key = _RUN_ATTRIBUTE_ALIASES.get(key, _RUN_ATTRIBUTE_ALIASES.get(key.lower(), key))
            if key not in RUN_ATTRIBUTES:
                raise SearchSyntaxError(
                    f"At character {token.position}: runs have no attribute '{key}'; use one of "
                    f"{', '.join(RUN_ATTRIBUTES)} (or metrics., params., tags. before a name you logged)."
                )
        elif entity == "dataset" and key not in _DATASET_KEYS:
            raise SearchSyntaxError(
                f"At character {token.position}: datasets are searched by {', '.join(_DATASET_KEYS)}, "
                f"not '{key}'."
            )
        if not key:
            raise SearchSyntaxError(f"At character {token.position}: '{token.text}' has an empty name.")
        return entity, key

    def operator(self, ident: Token) -> str:
        token = self.take(f"a comparison after '{ident.text}' (=, !=, <, >, LIKE, IN …)")
        if token.kind == "op":
            return token.text
        if token.kind == "keyword":
            if token.text in ("LIKE", "ILIKE", "IN"):
                return token.text
            if token.text == "NOT":
                following = self.take("IN after NOT")
                if following.kind == "keyword" and following.text == "IN":
                    return "NOT IN"
                raise SearchSyntaxError(f"At character {following.position}: expected IN after NOT.")
            if token.text == "IS":
                following = self.take("NULL or NOT NULL after IS")
                if following.kind == "keyword" and following.text == "NULL":
                    return "IS NULL"
                if following.kind == "keyword" and following.text == "NOT":
                    last = self.take("NULL after IS NOT")
                    if last.kind == "keyword" and last.text == "NULL":
                        return "IS NOT NULL"
                raise SearchSyntaxError(
                    f"At character {following.position}: expected NULL or NOT NULL after IS."
                )
        raise SearchSyntaxError(
            f"At character {token.position}: expected a comparison after '{ident.text}' "
            f"(=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN), found '{token.text}'."
        )

    def value(self, op: str) -> Value:
        token = self.take("a value (a number, a quoted string or a list in parentheses)")
        if op in ("IN", "NOT IN"):
            if token.kind != "lparen":
                raise SearchSyntaxError(
                    f"At character {token.position}: {op} needs a list in parentheses, e.g. ('a', 'b')."
                )
            items: list[str] = []
            while True:
                item = self.take("a quoted string in the list")
                if item.kind != "string":
                    raise SearchSyntaxError(
                        f"At character {item.position}: the list of {op} holds quoted strings only, "
                        f"found '{item.text}'."
                    )
                items.append(str(item.value))
                after = self.take("',' or ')' in the list")
                if after.kind == "rparen":
                    return tuple(items)
                if after.kind != "comma":
                    raise SearchSyntaxError(
                        f"At character {after.position}: expected ',' or ')' in the list."
                    )
        if token.kind in ("string", "number"):
            return token.value  # type: ignore[return-value]
        if token.kind == "ident" and token.value[0] is None:  # type: ignore[index]
            raise SearchSyntaxError(
                f"At character {token.position}: the value {token.text} must be quoted: '{token.text}'."
            )
        raise SearchSyntaxError(
            f"At character {token.position}: expected a value (a number or a quoted string), found '{token.text}'."
        )

    def checked(self, comparison: Comparison, token: Token, value_position: int) -> Comparison:
        entity, key, op, value = comparison.entity, comparison.key, comparison.op, comparison.value
        where = f"At character {token.position}"
        at_value = f"At character {value_position}"
        numeric = entity == "metric" or (
            entity == "attribute"
            and (EXPERIMENT_ATTRIBUTES if self.experiments else RUN_ATTRIBUTES).get(key) == "number"
        )
        if numeric:
            if op not in _NUMBER_OPS:
                raise SearchSyntaxError(
                    f"{where}: '{token.text}' is a number; compare it with {', '.join(_NUMBER_OPS)}, not {op}."
                )
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise SearchSyntaxError(
                    f"{at_value}: '{token.text}' is a number; write the value without quotes, e.g. {token.text} {op} 0.5."
                )
            return comparison
        if op not in _STRING_OPS:
            raise SearchSyntaxError(
                f"{where}: '{token.text}' is text; compare it with =, !=, LIKE, ILIKE, IN or NOT IN, not {op}."
            )
        if isinstance(value, int | float):
            raise SearchSyntaxError(
                f"{at_value}: '{token.text}' is text; quote the value: {token.text} {op} '{value}'."
            )
        return comparison


def parse_run_filter(text: str | None) -> list[Comparison]:
    """The comparisons of a runs filter string (empty for no filter).

    Raises:
        SearchSyntaxError: the filter is not valid; the message gives the character position.
    """
    if not text or not text.strip():
        return []
    return _Parser(text, experiments=False).parse()


def parse_experiment_filter(text: str | None) -> list[Comparison]:
    """The comparisons of an experiments filter (attributes name, times, experiment_id; tags)."""
    if not text or not text.strip():
        return []
    return _Parser(text, experiments=True).parse()


def _parse_order_by(clause: str, *, experiments: bool) -> OrderBy:
    text = clause.strip()
    ascending = True
    match = re.search(r"\s+(ASC|DESC)\s*$", text, flags=re.IGNORECASE)
    if match:
        ascending = match.group(1).upper() == "ASC"
        text = text[: match.start()]
    if not text:
        raise SearchSyntaxError(f"Invalid order_by clause '{clause}': give a name, e.g. 'metrics.rmse DESC'.")
    parser = _Parser(text, experiments=experiments)
    if len(parser.tokens) != 1 or parser.tokens[0].kind != "ident":
        raise SearchSyntaxError(
            f"Invalid order_by clause '{clause}': expected one name and optionally ASC or DESC, "
            "e.g. 'metrics.rmse DESC' or 'attributes.start_time'."
        )
    entity, key = parser.resolve(parser.tokens[0])
    if entity == "dataset":
        raise SearchSyntaxError(f"Invalid order_by clause '{clause}': runs cannot be sorted by a dataset.")
    return OrderBy(entity, key, ascending)


def parse_run_order_by(clauses: list[str] | tuple[str, ...] | None) -> list[OrderBy]:
    """The ``order_by`` clauses of a runs search (``metrics.rmse DESC``, ``start_time``)."""
    return [_parse_order_by(c, experiments=False) for c in clauses or () if c and c.strip()]


def parse_experiment_order_by(clauses: list[str] | tuple[str, ...] | None) -> list[OrderBy]:
    """The ``order_by`` clauses of an experiments search (``name``, ``creation_time DESC`` …)."""
    result = [_parse_order_by(c, experiments=True) for c in clauses or () if c and c.strip()]
    for order in result:
        if order.entity != "attribute":
            raise SearchSyntaxError(
                f"Experiments are sorted by {', '.join(EXPERIMENT_ATTRIBUTES)}, not by tags.{order.key}."
            )
    return result
