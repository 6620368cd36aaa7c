"""What a column *means*, beyond its storage type: email, URL, ID, category, free text…

Detection combines whole-column statistics (distinct count, row count, value range) with pattern
checks on a sample of the values. A pattern type is given when at least :data:`MATCH_SHARE` of the
sampled values fit it; the share is reported as the confidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MATCH_SHARE", "SEMANTIC_TYPES", "Semantic", "detect_semantic"]

MATCH_SHARE = 0.9

#: Every semantic type this module can report.
SEMANTIC_TYPES = (
    "email",
    "url",
    "phone",
    "date",
    "datetime",
    "boolean",
    "id",
    "categorical",
    "free_text",
    "numeric",
    "text",
    "nested",
    "binary",
    "empty",
)

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")),
    ("url", re.compile(r"(https?|ftp)://[^\s/$.?#].[^\s]*|www\.[^\s]+\.[a-z]{2,}[^\s]*", re.IGNORECASE)),
    ("datetime", re.compile(
        r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC)?"
        r"|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\s+\d{1,2}:\d{2}(:\d{2})?(\s*[AaPp][Mm])?"
    )),
    ("date", re.compile(
        r"\d{4}-\d{2}-\d{2}|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4}"
        r"|\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{4}",
        re.IGNORECASE,
    )),
    ("phone", re.compile(r"\+?\(?\d{1,4}\)?([ .-]?\(?\d{1,4}\)?){2,5}")),
    ("numeric", re.compile(r"[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?")),
)  # fmt: skip

_BOOLEAN_WORDS = {"true", "false", "yes", "no", "y", "n", "t", "f", "0", "1", "on", "off"}
_PHONE_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class Semantic:
    """A detected meaning and how sure we are (the share of sampled values that fit)."""

    type: str
    confidence: float


def detect_semantic(
    logical: str,
    *,
    count: int,
    distinct: int,
    min_value: object = None,
    max_value: object = None,
    sample: Sequence[str] = (),
    mean_length: float | None = None,
) -> Semantic:
    """Detect the semantic type of one column.

    Args:
        logical: the column's logical type (``string``, ``integer``…).
        count: non-null values in the column.
        distinct: distinct values (approximate is fine).
        min_value, max_value: the column's range.
        sample: up to a few thousand non-null values as text (strings only).
        mean_length: average text length (strings only).
    """
    if count == 0:
        return Semantic("empty", 1.0)
    unique_share = min(1.0, distinct / count)
    if logical == "boolean":
        return Semantic("boolean", 1.0)
    if logical in ("date",):
        return Semantic("date", 1.0)
    if logical == "timestamp":
        return Semantic("datetime", 1.0)
    if logical == "nested":
        return Semantic("nested", 1.0)
    if logical == "binary":
        return Semantic("binary", 1.0)
    if logical == "integer":
        if distinct <= 2 and min_value in (0, 1) and max_value in (0, 1):
            return Semantic("boolean", 1.0)
        # HyperLogLog counts are within ~2%: "all distinct" for IDs allows for that.
        if unique_share >= 0.98 and count >= 20:
            return Semantic("id", round(unique_share, 3))
        if distinct <= 20 and count >= 5 * distinct:
            return Semantic("categorical", 1.0)
        return Semantic("numeric", 1.0)
    if logical in ("float", "decimal"):
        return Semantic("numeric", 1.0)
    if logical != "string":
        return Semantic("text", 1.0)
    return _detect_text(
        sample, count=count, distinct=distinct, unique_share=unique_share, mean_length=mean_length
    )


def _detect_text(
    sample: Sequence[str], *, count: int, distinct: int, unique_share: float, mean_length: float | None
) -> Semantic:
    values = [v.strip() for v in sample if v is not None and v.strip()]
    if not values:
        return Semantic("text", 0.0)
    lowered = {v.lower() for v in values}
    if distinct <= 2 and lowered <= _BOOLEAN_WORDS:
        return Semantic("boolean", 1.0)
    for name, pattern in _PATTERNS:
        share = sum(1 for v in values if pattern.fullmatch(v) and _plausible(name, v)) / len(values)
        if share >= MATCH_SHARE:
            if name in ("numeric", "phone") and unique_share >= 0.98 and count >= 20:
                return Semantic("id", round(unique_share, 3))
            return Semantic(name, round(share, 3))
    spaced = sum(1 for v in values if len(v.split()) >= 3) / len(values)
    if (mean_length or 0) >= 30 and spaced >= 0.5:
        return Semantic("free_text", round(spaced, 3))
    if unique_share >= 0.98 and count >= 20 and spaced < 0.1:
        return Semantic("id", round(unique_share, 3))
    if distinct <= max(20, min(200, count // 20)) and count >= 2 * distinct:
        return Semantic("categorical", round(1 - unique_share, 3))
    return Semantic("text", 1.0)


def _plausible(name: str, value: str) -> bool:
    if name == "phone":
        digits = len(_PHONE_DIGITS.findall(value))
        return 7 <= digits <= 15 and (value.startswith("+") or " " in value or "-" in value or "(" in value)
    return True
