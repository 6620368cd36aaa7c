"""Deterministic pseudo-random row picking, identical in DuckDB and PostgreSQL.

A row's place comes from the md5 of a seed and the row's values (or an ID column), read as a
fraction in ``[0, 1)`` with functions both engines have, never from ``random()``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from modelworks.engine.recipes.types import Relation
from modelworks.engine.recipes.visual.common import col

__all__ = ["hash_fraction", "row_hash_note", "row_text", "seeded_digest"]

_HEX_DIGITS = 7  # 28 bits of the md5: 268 million buckets, and the sum fits a 32-bit integer in PostgreSQL


def row_text(columns: Sequence[str], table: str | None = None) -> exp.Expr:
    """The row's values as one text (nulls spelled ``<null>``), the same in DuckDB and PostgreSQL for
    integers, text, booleans, dates and timestamps."""
    parts: list[exp.Expr] = []
    for name in columns:
        value = exp.Coalesce(
            this=exp.cast(col(name, table), exp.DataType.build("VARCHAR")),
            expressions=[exp.Literal.string("<null>")],
        )
        if parts:
            parts.append(exp.Literal.string("|"))
        parts.append(value)
    text = parts[0]
    for part in parts[1:]:
        text = exp.DPipe(this=text, expression=part, safe=True)
    return text


def hash_fraction(hex_digest: exp.Expr) -> exp.Expr:
    """A number in ``[0, 1)`` from the first hex digits of an md5 digest, computed with functions
    DuckDB and PostgreSQL both have (so a seeded sample or split picks the same rows in both)."""
    total: exp.Expr | None = None
    digits = exp.Literal.string("0123456789abcdef")
    for i in range(_HEX_DIGITS):
        digit = exp.Sub(
            this=exp.StrPosition(
                this=digits.copy(),
                substr=exp.Substring(
                    this=hex_digest.copy(), start=exp.Literal.number(i + 1), length=exp.Literal.number(1)
                ),
            ),
            expression=exp.Literal.number(1),
        )
        term = exp.Mul(this=exp.paren(digit), expression=exp.Literal.number(16 ** (_HEX_DIGITS - 1 - i)))
        total = term if total is None else exp.Add(this=total, expression=term)
    assert total is not None
    return exp.Div(
        this=exp.cast(exp.paren(total), exp.DataType.build("DOUBLE")),
        expression=exp.Literal.number(float(16**_HEX_DIGITS)),
    )


def seeded_digest(seed: int, text: exp.Expr) -> exp.Expr:
    """``md5('<seed>:' || text)``: a stable pseudo-random value per row for a given seed."""
    return exp.MD5(this=exp.DPipe(this=exp.Literal.string(f"{seed}:"), expression=text, safe=True))


def row_hash_note(relation: Relation, id_column: str | None) -> list[str]:
    """A note when hashing whole rows may differ between DuckDB and PostgreSQL."""
    if id_column:
        return []
    fuzzy = [c.name for c in relation.columns if c.type in ("float", "nested", "other", "binary")]
    if not fuzzy:
        return []
    return [
        "rows are picked by hashing their values; columns "
        + ", ".join(repr(n) for n in fuzzy)
        + " print differently in DuckDB and PostgreSQL, so choose an ID column to get the same rows in both"
    ]
