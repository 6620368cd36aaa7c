"""What reading and typing share: :class:`RawTable` (the body as columns of Python values), the
``ABSENT`` marker for a value a row does not give, :data:`MAX_DEPTH` and the helpers that raise and
describe input errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from modelworks.engine.scoring.errors import ScoringInputError

#: Deepest nesting of arrays/objects a body may have (``{"dataframe_split": {"data": [[v]]}}`` is 3).
MAX_DEPTH = 8


class _Absent:
    """A value a row does not give at all (different from an explicit null)."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


class RawTable:
    """The body as columns of Python values, before type checks.

    For a list of records (``records``) or of positional rows named by ``header`` (``positional``,
    MLflow's ``dataframe_split``), ``columns`` is built on first use: the fast path turns the rows
    straight into a matrix instead.
    """

    __slots__ = ("_columns", "from_csv", "given", "header", "keys", "positional", "records", "rows")

    def __init__(
        self,
        columns: dict[str, list[Any]] | None,
        rows: int,
        *,
        from_csv: bool = False,
        given: Callable[[], list[str]] | None = None,
        records: list[dict[str, Any]] | None = None,
        positional: list[list[Any]] | None = None,
        header: Sequence[str] = (),
        keys: Sequence[str] = (),
    ) -> None:
        self._columns = columns
        self.rows = rows
        self.from_csv = from_csv
        #: Every column name the body gives (for "did you mean" hints; computed only on errors).
        self.given = given
        self.records = records
        self.positional = positional
        self.header = header
        self.keys = keys

    @property
    def columns(self) -> dict[str, list[Any]]:
        if self._columns is None:
            if self.positional is not None:
                data = self.positional
                position = {c: j for j, c in enumerate(self.header)}
                self._columns = {
                    k: [r[position[k]] for r in data] if k in position else [ABSENT] * len(data)
                    for k in self.keys
                }
            else:
                records = self.records or []
                self._columns = {k: [r.get(k, ABSENT) for r in records] for k in self.keys}
        return self._columns


def _fail(code: str, message: str, **where: Any) -> ScoringInputError:
    return ScoringInputError(code, message, **where)


def _depth_of(value: Any, limit: int) -> int:
    """Nesting depth of ``value`` (stops counting past ``limit``)."""
    if limit <= 0 or not isinstance(value, list | dict):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth_of(c, limit - 1) for c in children), default=0)


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
