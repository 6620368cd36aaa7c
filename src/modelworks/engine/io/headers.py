"""Column names from a header row: trimmed, never empty, never duplicated.

DuckDB compares identifiers case-insensitively, so ``Price`` and ``price`` are duplicates too. The
renaming is deterministic and reported: an empty header at position 3 becomes ``column_3``; the second
``a`` becomes ``a_2`` (or the next free ``a_<n>`` when the file already has an ``a_2``). Rejecting
duplicates instead is an import option.

A header written over several rows ("Sales 2024" above "Q1", "Q2") becomes one name per column
("Sales 2024 / Q1") with :func:`join_header_rows`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from modelworks.engine.io.errors import DuplicateHeaderError

__all__ = ["HEADER_PART_SEPARATOR", "Rename", "clean_headers", "join_header_rows"]

#: What joins the parts of a header written over several rows.
HEADER_PART_SEPARATOR = " / "

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Rename:
    """A column whose header could not be used as is.

    Attributes:
        position: 1-based column position.
        original: the header as found in the file ("" when empty).
        name: the name it was given.
        reason: ``empty`` or ``duplicate``.
    """

    position: int
    original: str
    name: str
    reason: str


def clean_headers(
    raw: Sequence[object], *, duplicates: str = "rename", label: str = "the file"
) -> tuple[list[str], list[Rename]]:
    """Make a usable, unique list of column names from a header row.

    Args:
        raw: header values in file order (``None`` for an empty cell).
        duplicates: ``rename`` (``a``, ``a_2``…) or ``reject`` (raise).
        label: the file, for messages.

    Returns:
        The names, and the list of columns that were renamed.

    Raises:
        DuplicateHeaderError: ``duplicates="reject"`` and two headers are equal.
    """
    trimmed = [
        _CONTROL.sub(" ", "" if value is None else str(value)).strip().lstrip("\ufeff") for value in raw
    ]
    if duplicates == "reject":
        seen: dict[str, int] = {}
        clashes = []
        for position, name in enumerate(trimmed, start=1):
            if name and name.lower() in seen:
                clashes.append(f"{name!r} (columns {seen[name.lower()]} and {position})")
            seen.setdefault(name.lower(), position)
        if clashes:
            raise DuplicateHeaderError(
                f"{label!r} has duplicate column names: {', '.join(clashes[:10])}; rename them in the file, "
                "or import with duplicate headers renamed automatically",
                file=label,
                duplicates=clashes,
            )
    # Names written in the file win over generated ones: reserve them all first.
    taken = {name.lower() for name in trimmed if name}
    used: set[str] = set()
    names: list[str] = []
    renames: list[Rename] = []
    for position, name in enumerate(trimmed, start=1):
        if name and name.lower() not in used:
            final, reason = name, ""
        else:
            if name:
                base, reason, number = name, "duplicate", 2
                final = f"{base}_{number}"
            else:
                base, reason, number = f"column_{position}", "empty", 1
                final = base
            while final.lower() in used or final.lower() in taken:
                number += 1
                final = f"{base}_{number}"
        used.add(final.lower())
        names.append(final)
        if reason:
            renames.append(Rename(position=position, original=name, name=final, reason=reason))
    return names, renames


def join_header_rows(rows: Sequence[Sequence[str | None]]) -> list[str]:
    """Join a header written over several rows into one name per column.

    A merged cell holds its text only in its first column, so an empty cell of every row but the
    last takes the text on its left, within the span of the row above: under "Sales" | "" | "Costs" | "",
    a second row "2024" | "" | "" | "" fills to "2024" | "2024" | "" | "" (the third column starts a new
    group above). Empty parts are left out, and a part repeated from the row above (a cell merged
    downwards whose text every row repeats) is kept once.

    Args:
        rows: the header rows, top first, as text (None or "" for an empty cell).

    Returns:
        One name per column (as wide as the widest row); "" for a column no row names.
    """
    width = max((len(row) for row in rows), default=0)
    grid = [[(row[i] if i < len(row) else None) or "" for i in range(width)] for row in rows]
    grid = [[_CONTROL.sub(" ", cell).strip() for cell in row] for row in grid]
    # A group starts where any row above (already filled) starts a new value.
    starts = [False] * width
    for level, row in enumerate(grid):
        if level == len(grid) - 1:
            break  # the last row names single columns: never filled
        for index in range(width):
            starts[index] = starts[index] or index == 0 or bool(row[index])
            if not row[index] and not starts[index]:
                row[index] = row[index - 1]
    names = []
    for index in range(width):
        parts: list[str] = []
        for row in grid:
            part = row[index]
            if part and (not parts or parts[-1] != part):
                parts.append(part)
        names.append(HEADER_PART_SEPARATOR.join(parts))
    return names
