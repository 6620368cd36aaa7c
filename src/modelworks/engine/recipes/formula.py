"""The safe formula language of prepare steps, parsed by our own code into SQLGlot expressions.

Formulas look like spreadsheet formulas: ``if(dep_delay > 15, 'late', 'on time')``,
``[Unit price] * quantity``, ``round(distance / 1.609, 1)``. The text is read by a tokenizer and a
precedence-climbing parser here; it is never evaluated by Python nor handed to a SQL parser, so a
formula can only contain literals, column references, operators and the functions of
:data:`~modelworks.engine.recipes.formula_functions.FUNCTIONS`.

Syntax, from loosest to tightest binding: ``or``/``||``; ``and``/``&&``; ``not``/``!``; comparisons
``= == != <> < <= > >=`` (not chained); ``&`` (join texts); ``+ -``; ``* / %``; unary ``-``; ``^``
(right-associative, so ``-2^2`` is -4). Columns are bare names (``dep_delay``) or quoted
(``[Unit price]``, ```Unit price```); texts use ``'…'`` or ``"…"``; ``true``, ``false``, ``null``.

``x = null`` means "x is missing" (unlike SQL, where it is never true); ``/`` always divides as
decimals and gives a missing value when dividing by zero.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from modelworks.engine.errors import did_you_mean
from modelworks.engine.recipes.formula_functions import (
    FUNCTIONS,
    Call,
    FormulaColumnError,
    FormulaError,
    Typed,
)
from modelworks.engine.recipes.formula_sql import (
    NUMERIC,
    TEMPORAL,
    arithmetic,
    cast,
    column_ref,
    describe_type,
    node_count,
    operand,
    paren,
    parse_iso,
    string,
    to_text,
    tree_depth,
)
from modelworks.engine.recipes.types import Relation

__all__ = [
    "MAX_FORMULA_LENGTH",
    "MAX_NESTING",
    "MAX_TREE_DEPTH",
    "MAX_TREE_SIZE",
    "Formula",
    "FormulaColumnError",
    "FormulaError",
    "analyze_formula",
    "formula_columns",
    "formula_functions",
    "parse_formula",
]

MAX_FORMULA_LENGTH = 10_000
MAX_NESTING = 100
# Depth of the SQL tree a formula becomes: SQLGlot writes SQL recursively, so a formula nesting
# (round(round(…)) or a+b+c… 500 times) deeper than this is refused instead of overflowing the stack.
MAX_TREE_DEPTH = 120
# Some functions use an argument twice (round, sqrt…); nesting them would grow the SQL exponentially.
MAX_TREE_SIZE = 5_000

_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_OPERATORS = ("==", "!=", "<>", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%", "^", "=", "<", ">", "!", "&")
_KEYWORDS = {"and", "or", "not", "true", "false", "null"}
_COMPARISONS: dict[str, type[exp.Expression]] = {
    "=": exp.EQ,
    "==": exp.EQ,
    "!=": exp.NEQ,
    "<>": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}
# Left binding power of each infix operator (higher binds tighter).
_BINDING = {
    "or": 10,
    "||": 10,
    "and": 20,
    "&&": 20,
    **dict.fromkeys(_COMPARISONS, 30),
    "&": 40,
    "+": 50,
    "-": 50,
    "*": 60,
    "/": 60,
    "%": 60,
    "^": 80,
}
_TOO_COMPLEX = "the formula is too complex once translated to SQL; split it over several steps"
_NOT_POWER = 25  # `not a = b` is `not (a = b)`; `not a and b` is `(not a) and b`
_NEGATE_POWER = 70  # `-a * b` is `(-a) * b`; `-2 ^ 2` is `-(2 ^ 2)`


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, name, column, op, (, ), ",", end
    value: str
    pos: int  # 1-based


@dataclass(frozen=True)
class Formula:
    """A parsed formula.

    Attributes:
        expression: the SQLGlot expression (columns as quoted, unqualified references).
        type: its logical type (``integer``, ``float``, ``string``, ``boolean``, ``date``…,
            ``null`` for a bare null, ``any`` when it cannot be told).
        columns: the columns it reads.
        non_portable: reasons it cannot run inside PostgreSQL (empty when it can).
    """

    expression: exp.Expression
    type: str
    columns: frozenset[str]
    non_portable: tuple[str, ...] = ()


def _error(where: str, message: str, pos: int) -> FormulaError:
    prefix = f"{where}: " if where else ""
    return FormulaError(f"{prefix}{message}", position=pos)


def _tokenize(text: str, where: str) -> list[_Token]:
    if len(text) > MAX_FORMULA_LENGTH:
        raise FormulaError(
            f"{where + ': ' if where else ''}the formula is {len(text):,} characters long; "
            f"the limit is {MAX_FORMULA_LENGTH:,} (split it over several steps)",
            length=len(text),
        )
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char.isdigit() or (char == "." and i + 1 < n and text[i + 1].isdigit()):
            match = _NUMBER.match(text, i)
            assert match is not None
            tokens.append(_Token("number", match.group(0), i + 1))
            i = match.end()
            if i < n and (text[i].isalpha() or text[i] == "_"):
                raise _error(where, f"unexpected {text[i]!r} right after a number at position {i + 1}", i + 1)
        elif char in "'\"":
            value, i = _read_string(text, i, where)
            tokens.append(_Token("string", value, i))
        elif char in "[`":
            closing = "]" if char == "[" else "`"
            end = text.find(closing, i + 1)
            if end < 0:
                raise _error(
                    where,
                    f"the column name opened with {char!r} at position {i + 1} is not closed; add {closing!r}",
                    i + 1,
                )
            name = text[i + 1 : end]
            if not name.strip():
                raise _error(where, f"empty column name at position {i + 1}", i + 1)
            tokens.append(_Token("column", name, i + 1))
            i = end + 1
        elif char.isalpha() or char == "_":
            start = i
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            tokens.append(_Token("name", text[start:i], start + 1))
        elif char in "(),":
            tokens.append(_Token(char, char, i + 1))
            i += 1
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                raise _error(where, f"unexpected character {char!r} at position {i + 1}", i + 1)
            tokens.append(_Token("op", op, i + 1))
            i += len(op)
    tokens.append(_Token("end", "", n + 1))
    return tokens


def _read_string(text: str, start: int, where: str) -> tuple[str, int]:
    """Read a quoted text starting at ``start``; doubled quotes and backslash escapes are allowed."""
    quote, i, out = text[start], start + 1, []
    escapes = {"n": "\n", "t": "\t", "\\": "\\", "'": "'", '"': '"'}
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in escapes:
            out.append(escapes[text[i + 1]])
            i += 2
        elif char == quote and text.startswith(quote * 2, i):
            out.append(quote)
            i += 2
        elif char == quote:
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise _error(
        where, f"the text starting at position {start + 1} is not closed; add a closing {quote}", start + 1
    )


class _Parser:
    def __init__(self, text: str, columns: Mapping[str, str], where: str) -> None:
        self.tokens = _tokenize(text, where)
        self.columns = columns
        self.where = where
        self.index = 0
        self.depth = 0
        self.used: set[str] = set()
        self.non_portable: list[str] = []

    # -- token helpers -------------------------------------------------------------------------
    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, message: str, pos: int) -> FormulaError:
        return _error(self.where, message, pos)

    def infix(self, token: _Token) -> str | None:
        if token.kind == "op" and token.value in _BINDING:
            return token.value
        if token.kind == "name" and token.value.lower() in ("and", "or"):
            return token.value.lower()
        return None

    # -- grammar -------------------------------------------------------------------------------
    def parse(self) -> Typed:
        if self.peek().kind == "end":
            raise self.fail("the formula is empty", 1)
        result = self.expression(0)
        token = self.peek()
        if token.kind == ")":
            raise self.fail(
                f"unbalanced parentheses: ')' at position {token.pos} has no matching '('", token.pos
            )
        if token.kind != "end":
            raise self.fail(
                f"unexpected {token.value!r} at position {token.pos}; is an operator or a comma missing?",
                token.pos,
            )
        return result

    def expression(self, min_power: int) -> Typed:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(
                f"the formula nests more than {MAX_NESTING} levels deep; simplify it", self.peek().pos
            )
        left = self.prefix()
        while True:
            token = self.peek()
            op = self.infix(token)
            if op is None or _BINDING[op] <= min_power:
                break
            self.advance()
            power = _BINDING[op] - 1 if op == "^" else _BINDING[op]  # ^ is right-associative
            right = self.expression(power)
            left = self.binary(op, left, right, token.pos)
            if op in _COMPARISONS and self.infix(self.peek()) in _COMPARISONS:
                raise self.fail(
                    f"comparisons cannot be chained (position {self.peek().pos}); join them with 'and'",
                    self.peek().pos,
                )
        self.depth -= 1
        return left

    def prefix(self) -> Typed:
        token = self.advance()
        if token.kind == "number":
            is_int = token.value.isdigit()
            literal: Any = int(token.value) if is_int else float(token.value)
            if not is_int and not math.isfinite(literal):
                raise self.fail(f"the number at position {token.pos} is too large", token.pos)
            return Typed(exp.Literal.number(str(literal)), "integer" if is_int else "float", literal, True)
        if token.kind == "string":
            return Typed(string(token.value), "string", token.value, True)
        if token.kind == "column":
            return self.column(token.value, token.pos)
        if token.kind == "(":
            inner = self.expression(0)
            if self.peek().kind != ")":
                raise self.fail(
                    f"unbalanced parentheses: '(' at position {token.pos} is never closed", token.pos
                )
            self.advance()
            return Typed(paren(inner.expr), inner.type, inner.literal, inner.is_literal)
        if token.kind == "op" and token.value in ("-", "+"):
            operand = self.expression(_NEGATE_POWER)
            self.expect_number(operand, token)
            if token.value == "+":
                return operand
            literal = -operand.literal if isinstance(operand.literal, int | float) else None
            return Typed(exp.Neg(this=paren(operand.expr)), operand.type, literal, literal is not None)
        if (token.kind == "op" and token.value == "!") or (
            token.kind == "name" and token.value.lower() == "not"
        ):
            operand = self.expression(_NOT_POWER)
            self.expect_boolean(operand, token)
            return Typed(exp.Not(this=paren(operand.expr)), "boolean")
        if token.kind == "name":
            return self.name(token)
        if token.kind == "end":
            last = self.tokens[self.index - 2] if self.index >= 2 else token
            raise self.fail(
                f"the formula ends too early, after {last.value!r} at position {last.pos}", token.pos
            )
        raise self.fail(f"expected a value at position {token.pos}, found {token.value!r}", token.pos)

    def name(self, token: _Token) -> Typed:
        lowered = token.value.lower()
        if self.peek().kind == "(":
            return self.call(token)
        if lowered in ("true", "false"):
            return Typed(exp.Boolean(this=lowered == "true"), "boolean", lowered == "true", True)
        if lowered == "null":
            return Typed(exp.Null(), "null", None, True)
        if lowered in _KEYWORDS:
            raise self.fail(f"expected a value at position {token.pos}, found {token.value!r}", token.pos)
        return self.column(token.value, token.pos)

    def column(self, name: str, pos: int) -> Typed:
        if name not in self.columns:
            hint = did_you_mean(name, self.columns)
            if not hint and name.lower() in FUNCTIONS:
                hint = f"; did you mean the function {name.lower()}()?"
            prefix = f"{self.where}: " if self.where else ""
            raise FormulaColumnError(
                f"{prefix}unknown column {name!r} at position {pos}{hint}", column=name, position=pos
            )
        self.used.add(name)
        return Typed(column_ref(name), self.columns[name])

    def call(self, token: _Token) -> Typed:
        name = token.value.lower()
        function = FUNCTIONS.get(name)
        if function is None:
            raise self.fail(
                f"unknown function {token.value!r} at position {token.pos}{did_you_mean(name, FUNCTIONS)}",
                token.pos,
            )
        opening = self.advance()
        args: list[Typed] = []
        if self.peek().kind != ")":
            while True:
                args.append(self.expression(0))
                if self.peek().kind == ",":
                    self.advance()
                    continue
                break
        if self.peek().kind != ")":
            after = self.peek()
            if after.kind == "end":
                raise self.fail(
                    f"unbalanced parentheses: '(' at position {opening.pos} is never closed", opening.pos
                )
            raise self.fail(
                f"expected ',' or ')' at position {after.pos} in {name}(), found {after.value!r}", after.pos
            )
        self.advance()
        low, high = function.min_args, function.max_args
        if len(args) < low or (high is not None and len(args) > high):
            expected = str(low) if low == high else f"{low} or more" if high is None else f"{low} to {high}"
            raise self.fail(
                f"{name}() at position {token.pos} takes {expected} argument{'s' if expected != '1' else ''}, "
                f"got {len(args)} (usage: {function.signature})",
                token.pos,
            )
        call = Call(name, args, token.pos, self.where, self.non_portable)
        return self.bounded(function.build(call), token.pos)

    def bounded(self, result: Typed, pos: int) -> Typed:
        if node_count(result.expr, MAX_TREE_SIZE) > MAX_TREE_SIZE:
            raise self.fail(_TOO_COMPLEX + f" (at position {pos})", pos)
        return result

    # -- operators -----------------------------------------------------------------------------
    def expect_number(self, operand: Typed, token: _Token) -> None:
        if operand.type not in NUMERIC and operand.type not in ("null", "any"):
            raise self.fail(
                f"{token.value!r} at position {token.pos} needs a number, not {describe_type(operand.type)}",
                token.pos,
            )

    def expect_boolean(self, operand: Typed, token: _Token) -> None:
        if operand.type not in ("boolean", "null", "any"):
            raise self.fail(
                f"{token.value!r} at position {token.pos} needs a condition (true/false), not {describe_type(operand.type)}",
                token.pos,
            )

    def binary(self, op: str, left: Typed, right: Typed, pos: int) -> Typed:
        token = _Token("op", op, pos)
        if op in ("and", "&&", "or", "||"):
            self.expect_boolean(left, token)
            self.expect_boolean(right, token)
            connector: type[exp.Expression] = exp.And if op in ("and", "&&") else exp.Or
            a, b = operand(left.expr, connector, right=False), operand(right.expr, connector, right=True)
            return Typed(connector(this=a, expression=b), "boolean")
        if op in _COMPARISONS:
            return self.compare(op, left, right, pos)
        if op == "&":
            parts = [to_text(left.expr, left.type), to_text(right.expr, right.type)]
            return Typed(exp.Concat(expressions=parts, coalesce=True), "string")
        for side in (left, right):
            if side.type == "string":
                hint = "; to join texts use & or concat()" if op == "+" else ""
                raise self.fail(f"{op!r} at position {pos} needs numbers, not text{hint}", pos)
            if side.type in TEMPORAL:
                hint = "date_add(date, n, 'day')" if op == "+" else "date_diff('day', start, end)"
                raise self.fail(f"{op!r} at position {pos} needs numbers, not dates; use {hint}", pos)
            self.expect_number(side, token)
        node, logical = arithmetic(op, left.expr, left.type, right.expr, right.type)
        return Typed(node, logical)

    def compare(self, op: str, left: Typed, right: Typed, pos: int) -> Typed:
        if "null" in (left.type, right.type) and op in ("=", "==", "!=", "<>"):
            value = right if left.type == "null" else left
            test: exp.Expression = exp.Is(this=paren(value.expr), expression=exp.Null())
            return Typed(exp.Not(this=test) if op in ("!=", "<>") else test, "boolean")
        left, right = self.coerce_date(left, right, pos), self.coerce_date(right, left, pos)
        kinds = {left.type, right.type} - {"null", "any"}
        comparable = len(kinds) <= 1 or kinds <= NUMERIC or kinds <= TEMPORAL
        if not comparable:
            described = " with ".join(describe_type(t) for t in (left.type, right.type))
            raise self.fail(
                f"cannot compare {described} at position {pos}; convert one side (to_number(), to_string(), to_date())",
                pos,
            )
        node = _COMPARISONS[op]
        a, b = operand(left.expr, node, right=False), operand(right.expr, node, right=True)
        return Typed(node(this=a, expression=b), "boolean")

    def coerce_date(self, side: Typed, other: Typed, pos: int) -> Typed:
        """A quoted ISO date compared with a date column becomes a date literal."""
        if other.type in TEMPORAL and side.is_literal and isinstance(side.literal, str):
            if parse_iso(side.literal, other.type) is None:
                raise self.fail(
                    f"'{side.literal}' at position {pos} is not a date; write it as 'YYYY-MM-DD'", pos
                )
            return Typed(cast(side.expr, other.type), other.type)
        return side


def analyze_formula(text: str, columns: Mapping[str, str], *, where: str = "") -> Formula:
    """Parse ``text`` against columns of known logical types.

    Args:
        text: the formula.
        columns: the columns it may use, name → logical type.
        where: prefix of error messages (e.g. ``step 3 (Formula)``).

    Returns:
        The parsed :class:`Formula`.

    Raises:
        FormulaError: the formula cannot be read (the message gives the position and a hint);
            :class:`FormulaColumnError` (also a ``MissingColumnError``) for an unknown column.
    """
    parser = _Parser(text, columns, where)
    result = parser.parse()
    too_big = node_count(result.expr, MAX_TREE_SIZE) > MAX_TREE_SIZE
    if too_big or tree_depth(result.expr) > MAX_TREE_DEPTH:
        raise _error(where, _TOO_COMPLEX, 1)
    return Formula(result.expr, result.type, frozenset(parser.used), tuple(parser.non_portable))


def parse_formula(text: str, relation: Relation, *, recipe: str) -> exp.Expression:
    """The SQLGlot expression of formula ``text`` over the columns of ``relation``.

    Raises:
        FormulaError: as :func:`analyze_formula`; messages start with the recipe's name.
    """
    columns = {c.name: c.type for c in relation.columns}
    return analyze_formula(text, columns, where=f"recipe {recipe!r}").expression


def formula_columns(text: str) -> set[str]:
    """The column names a formula mentions (for lineage), without checking they exist.

    Raises:
        FormulaError: the formula cannot even be split into words (e.g. an unclosed text).
    """
    tokens = _tokenize(text, "")
    names: set[str] = set()
    for token, following in itertools.pairwise(tokens):
        if token.kind == "column":
            names.add(token.value)
        elif token.kind == "name" and token.value.lower() not in _KEYWORDS and following.kind != "(":
            names.add(token.value)
    return names


def formula_functions() -> list[dict[str, str]]:
    """The functions of the language for the formula editor's help: name, usage, description."""
    return [
        {"name": name, "signature": function.signature, "help": function.help}
        for name, function in sorted(FUNCTIONS.items())
    ]
