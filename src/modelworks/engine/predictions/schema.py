"""The columns of a prediction log segment, and how one scored batch becomes an Arrow table.

Fixed columns first (see :data:`BASE_SCHEMA`), then one ``in_<feature>`` column per input feature
with the feature's own type. Each version of a model may have its own features: readers combine
segments by column name, so a feature added later is simply null in older rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]

from modelworks.engine.predictions.errors import PredictionRowsError

__all__ = [
    "BASE_COLUMNS",
    "BASE_SCHEMA",
    "FEATURE_PREFIX",
    "ROLES",
    "PredictionsLike",
    "batch_table",
    "feature_name",
    "prediction_text",
    "prediction_value",
    "to_utc_naive",
]

FEATURE_PREFIX = "in_"
ROLES = ("primary", "challenger", "shadow")

BASE_SCHEMA = pa.schema(
    [
        ("row_id", pa.string()),
        ("request_id", pa.string()),
        ("ts", pa.timestamp("us")),
        ("model_version_id", pa.int64()),
        ("model_version", pa.string()),
        ("role", pa.string()),
        ("answered", pa.bool_()),
        ("prediction", pa.string()),
        ("prediction_value", pa.float64()),
        ("probabilities", pa.string()),
        ("latency_ms", pa.float64()),
    ]
)
BASE_COLUMNS: tuple[str, ...] = tuple(BASE_SCHEMA.names)


class PredictionsLike(Protocol):
    """What :meth:`PredictionLogWriter.append` needs of a scoring result (``engine.scoring.Predictions``)."""

    @property
    def predictions(self) -> Sequence[Any]: ...

    @property
    def probabilities(self) -> Sequence[Mapping[str, float]] | None: ...


def to_utc_naive(moment: datetime) -> datetime:
    """``moment`` in UTC without a time zone (naive datetimes are taken as UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def feature_name(column: str) -> str:
    """The log column of input feature ``column``."""
    return f"{FEATURE_PREFIX}{column}"


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        try:
            return item()
        except (ValueError, TypeError):
            return value
    return value


def prediction_text(value: Any) -> str | None:
    """A prediction as text: a class label as is, a number in its shortest exact form."""
    value = _plain(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return repr(value)
    return str(value)


def prediction_value(prediction: Any, probabilities: Mapping[str, float] | None) -> float | None:
    """The number monitors chart for one row.

    The probability of the positive (second) class for a binary classifier, the top probability
    for a multiclass one, the predicted value for a regression; ``None`` when there is none.
    """
    if probabilities:
        values = [float(v) for v in probabilities.values()]
        return values[-1] if len(values) == 2 else max(values)
    prediction = _plain(prediction)
    if isinstance(prediction, bool) or not isinstance(prediction, (int, float)):
        return None
    number = float(prediction)
    return number if math.isfinite(number) else None


def _clean_type(field: pa.Field) -> pa.DataType:
    kind = field.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    if pa.types.is_large_binary(kind):
        return pa.binary()
    return kind


def _inputs_table(inputs: pd.DataFrame) -> pa.Table:
    columns = [str(c) for c in inputs.columns]
    if len(set(columns)) != len(columns):
        raise PredictionRowsError("the input rows have two columns with the same name")
    arrays: list[pa.Array | pa.ChunkedArray] = []
    fields: list[pa.Field] = []
    for name in columns:
        series = inputs[name]
        try:
            array = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # Mixed Python objects: keep them readable as text rather than losing the row.
            array = pa.array([None if v is None or v is pd.NA else str(v) for v in series], pa.string())
        field = pa.field(feature_name(name), array.type)
        kind = _clean_type(field)
        if kind != array.type:
            array = array.cast(kind)
        arrays.append(array)
        fields.append(pa.field(feature_name(name), kind))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def batch_table(
    *,
    request_id: str,
    ts: datetime,
    model_version_id: int,
    model_version: str,
    role: str,
    answered: bool,
    inputs: pd.DataFrame,
    predictions: PredictionsLike,
    row_ids: Sequence[str] | None,
    latency_ms: float | None,
) -> pa.Table:
    """One scored batch as a table of the log's schema (fixed columns, then ``in_<feature>``).

    Raises:
        PredictionRowsError: the inputs, predictions, probabilities and row ids differ in length,
            or ``role`` is not one of :data:`ROLES`.
    """
    if role not in ROLES:
        raise PredictionRowsError(f"role {role!r} is not one of {', '.join(ROLES)}", role=role)
    rows = len(inputs)
    preds = list(predictions.predictions)
    probas = predictions.probabilities
    if len(preds) != rows:
        raise PredictionRowsError(
            f"{len(preds)} predictions for {rows} input rows: give one prediction per row",
            predictions=len(preds),
            rows=rows,
        )
    if probas is not None and len(probas) != rows:
        raise PredictionRowsError(f"{len(probas)} probability rows for {rows} input rows", rows=rows)
    if row_ids is not None and len(row_ids) != rows:
        raise PredictionRowsError(f"{len(row_ids)} row ids for {rows} input rows", rows=rows)
    ids = [str(r) for r in row_ids] if row_ids is not None else [f"{request_id}:{i}" for i in range(rows)]
    proba_rows: list[Mapping[str, float] | None] = list(probas) if probas is not None else [None] * rows
    stamp = to_utc_naive(ts)
    base = pa.table(
        {
            "row_id": pa.array(ids, pa.string()),
            "request_id": pa.array([request_id] * rows, pa.string()),
            "ts": pa.array([stamp] * rows, pa.timestamp("us")),
            "model_version_id": pa.array([model_version_id] * rows, pa.int64()),
            "model_version": pa.array([model_version] * rows, pa.string()),
            "role": pa.array([role] * rows, pa.string()),
            "answered": pa.array([answered] * rows, pa.bool_()),
            "prediction": pa.array([prediction_text(p) for p in preds], pa.string()),
            "prediction_value": pa.array(
                [prediction_value(p, q) for p, q in zip(preds, proba_rows, strict=True)],
                pa.float64(),
            ),
            "probabilities": pa.array(
                [None if q is None else json.dumps({k: float(v) for k, v in q.items()}) for q in proba_rows],
                pa.string(),
            ),
            "latency_ms": pa.array([latency_ms] * rows, pa.float64()),
        },
        schema=BASE_SCHEMA,
    )
    features = _inputs_table(inputs.reset_index(drop=True))
    for field, column in zip(features.schema, features.columns, strict=True):
        base = base.append_column(field, column)
    return base
