"""Rows in and predictions out: :class:`InputBatch` (parsed, validated columns, the float64 matrix of
the fast path or a typed DataFrame) and :class:`Predictions`, with the conversions between request
values, NumPy matrices and pandas columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from modelworks.engine.scoring.errors import ScoringInputError
from modelworks.engine.scoring.schema import ColumnSpec

if TYPE_CHECKING:
    import pandas as pd


_FLOATS = frozenset({int, float})
Array = np.ndarray[Any, Any]


class InputBatch:
    """Parsed, validated rows ready for :meth:`ScoringModel.predict`.

    ``columns`` holds each schema column typed (NumPy arrays for numbers and booleans, lists for text);
    ``matrix`` the float64 matrix of the fast path (``None`` on the DataFrame path) and
    ``matrix_columns`` the names of its columns, in order; ``frame`` builds a typed pandas DataFrame
    on first use (the fast path never needs it).
    """

    __slots__ = ("_frame", "columns", "ids", "matrix", "matrix_columns", "rows")

    def __init__(
        self,
        columns: dict[str, Any],
        rows: int,
        *,
        ids: list[str] | None = None,
        matrix: Array | None = None,
        matrix_columns: tuple[str, ...] | None = None,
    ) -> None:
        self.columns = columns
        self.rows = rows
        self.ids = ids
        self.matrix = matrix
        self.matrix_columns = matrix_columns if matrix is not None else None
        self._frame: pd.DataFrame | None = None

    @property
    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame with one typed column per schema column."""
        if self._frame is None:
            import pandas as pd

            if self.matrix is not None and not self.columns:
                self._frame = pd.DataFrame(self.matrix)
            else:
                self._frame = pd.DataFrame(
                    {k: v for k, v in self.columns.items()}, index=pd.RangeIndex(self.rows)
                )
        return self._frame


@dataclass
class Predictions:
    """What :meth:`ScoringModel.predict` returns, one entry per row in every list.

    ``predictions``: labels (classifiers) or numbers; ``probabilities``: ``{class: p}`` per row for
    classifiers (``None`` otherwise); ``explanations``: per row ``{"available", "method", "output",
    "base_value", "contributions": {column: value}}`` (largest first), or ``{"available": False,
    "reason": ...}``; ``None`` when not asked.
    """

    predictions: list[Any]
    probabilities: list[dict[str, float]] | None = None
    explanations: list[dict[str, Any]] | None = None
    classes: tuple[str, ...] | None = field(default=None, repr=False)
    probability_matrix: Array | None = field(default=None, repr=False)

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per row: ``prediction`` and, when present, ``probabilities`` and ``explanation``."""
        rows: list[dict[str, Any]] = [{"prediction": p} for p in self.predictions]
        if self.probabilities is not None:
            for row, proba in zip(rows, self.probabilities, strict=True):
                row["probabilities"] = proba
        if self.explanations is not None:
            for row, explanation in zip(rows, self.explanations, strict=True):
                row["explanation"] = explanation
        return rows


# ------------------------------------------------------------------------------------------- helpers


def _positional_matrix(data: list[list[Any]], header: Sequence[str], order: Sequence[str]) -> Array | None:
    """The float64 matrix of positional rows (``dataframe_split``) in ``order``, or ``None`` when a
    column is missing or a value is not a plain finite number (the column path then reports it)."""
    position = {c: j for j, c in enumerate(header)}
    try:
        index = [position[name] for name in order]
    except KeyError:
        return None
    if not set(map(type, chain.from_iterable(data))) <= _FLOATS:
        return None  # text in a column the model ignores also lands here: the column path is exact
    try:
        matrix = np.asarray(data, dtype=np.float64)
    except OverflowError:  # an integer beyond float64: the column path says "not_finite"
        return None
    if index != list(range(matrix.shape[1])):
        matrix = matrix[:, index]
    if not np.isfinite(matrix).all():
        return None
    return np.ascontiguousarray(matrix)


def _frame_ready(spec: ColumnSpec, values: Any) -> Any:
    """Dates as pandas timestamps (what Lab pipelines were trained on); other types unchanged."""
    if spec.type != "datetime":
        return values
    import pandas as pd

    try:
        stamps = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ScoringInputError(
            "wrong_type",
            f"Column {spec.name!r} holds a value that is not an ISO date/time ({exc}); send text like "
            "'2024-07-01' or '2024-07-01T14:30:00'.",
            column=spec.name,
        ) from None
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.to_numpy()


def _plain_values(series: Any) -> list[Any]:
    """A DataFrame column as the JSON-like values a request body would hold (dates as ISO text)."""
    if series.dtype.kind == "M":
        return [None if t is None or t != t else t.isoformat() for t in series.tolist()]
    if series.dtype.kind == "f":
        return [None if v != v else v for v in series.tolist()]
    values = series.astype(object).where(series.notna(), None).tolist()
    # Dates and times held as objects (a Parquet date column) become ISO text too.
    return [
        v.item() if isinstance(v, np.generic) else v.isoformat() if isinstance(v, dt.date | dt.time) else v
        for v in values
    ]
