"""The tokenizer of MLflow's search language (see ``parser``): strings, numbers, operators,
identifiers (``metrics.rmse``, ``tags.`a key```, ``run_name``) and keywords, with 1-based positions."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["KEYWORDS", "SearchSyntaxError", "Token", "tokenize"]

KEYWORDS = {"AND", "LIKE", "ILIKE", "IN", "NOT", "IS", "NULL", "OR"}


class SearchSyntaxError(ValueError):
    """A filter or order_by the parser cannot accept; the message says where and what to write."""


@dataclass(frozen=True)
class Token:
    kind: str  # ident, string, number, op, keyword, lparen, rparen, comma
    text: str
    position: int  # 1-based character position, for messages
    value: object = None


_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_OPERATOR = re.compile(r"<=|>=|!=|<>|==|=|<|>")
_WORD = re.compile(r"[A-Za-z_][\w\-:/]*")
_BARE_KEY = re.compile(r"[\w\-:/.]+")


def _quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    """The content of the quoted string starting at ``start`` and the index after it.

    A doubled quote (``'it''s'``) or a backslash escapes the quote character, as in SQL and MLflow.
    """
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == quote:
            if i + 1 < len(text) and text[i + 1] == quote and quote != "`":
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    name = {"'": "single quote", '"': "double quote", "`": "backtick"}[quote]
    raise SearchSyntaxError(f"At character {start + 1}: the {name} opened here is never closed.")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
            continue
        if ch in "'\"":
            value, end = _quoted(text, i, ch)
            tokens.append(Token("string", text[i:end], i + 1, value))
            i = end
            continue
        if ch == "(":
            tokens.append(Token("lparen", ch, i + 1))
            i += 1
            continue
        if ch == ")":
            tokens.append(Token("rparen", ch, i + 1))
            i += 1
            continue
        if ch == ",":
            tokens.append(Token("comma", ch, i + 1))
            i += 1
            continue
        op = _OPERATOR.match(text, i)
        if op:
            symbol = {"<>": "!=", "==": "="}.get(op.group(), op.group())
            tokens.append(Token("op", symbol, i + 1))
            i = op.end()
            continue
        number = _NUMBER.match(text, i)
        if number and (ch.isdigit() or ch in "+-."):
            literal = number.group()
            is_int = re.fullmatch(r"[+-]?\d+", literal) is not None
            tokens.append(Token("number", literal, i + 1, int(literal) if is_int else float(literal)))
            i = number.end()
            continue
        if ch == "`" or _WORD.match(text, i):
            token, i = _identifier(text, i)
            tokens.append(token)
            continue
        raise SearchSyntaxError(f"At character {i + 1}: unexpected character {ch!r}.")
    return tokens


def _identifier(text: str, start: int) -> tuple[Token, int]:
    """An identifier (``metrics.rmse``, ``tags.`a b```, ``run_name``) or a keyword."""
    if text[start] == "`":
        head, i = _quoted(text, start, "`")
    else:
        match = _WORD.match(text, start)
        assert match is not None
        head, i = match.group(), match.end()
        if head.upper() in KEYWORDS and (i >= len(text) or text[i] != "."):
            return Token("keyword", head.upper(), start + 1), i
    if i < len(text) and text[i] == ".":
        i += 1
        if i < len(text) and text[i] in "`'\"":
            key, i = _quoted(text, i, text[i])
        else:
            match = _BARE_KEY.match(text, i)
            if match is None:
                raise SearchSyntaxError(
                    f"At character {i + 1}: expected a key after '{head}.' (e.g. {head}.accuracy, "
                    f"or {head}.`my key` for a key with spaces)."
                )
            key, i = match.group(), match.end()
        return Token("ident", text[start:i], start + 1, (head, key)), i
    return Token("ident", text[start:i], start + 1, (None, head)), i
