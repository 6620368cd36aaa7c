"""One column of reference or current data, prepared once for every statistic.

:class:`TableSource` reads a ``pyarrow.Table`` or Parquet (a file or a folder of files) **one column
at a time**, so a report over 25 columns of 1M rows never holds more than the columns being compared.
:func:`numeric_sample` turns a column into a sorted float64 array of its finite values;
:func:`categorical_sample` into distinct values and counts (Arrow ``value_counts``). Missing values
(null, NaN, ±inf) are counted, then left out, as Evidently does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from modelworks.engine.errors import did_you_mean
from modelworks.engine.monitoring.errors import DriftInputError
from modelworks.engine.monitoring.stats import FloatArray, IntArray, unique_count

__all__ = [
    "CategoricalSample",
    "ColumnKind",
    "NumericSample",
    "Side",
    "TableSource",
    "align_categories",
    "as_chunked",
    "categorical_pair",
    "categorical_sample",
    "check_kind",
    "infer_kind",
    "numeric_sample",
    "resolve_columns",
]

ColumnKind = Literal["numeric", "categorical"]
_KINDS: tuple[ColumnKind, ...] = get_args(ColumnKind)
Side = Literal["reference", "current"]


class TableSource:
    """The columns of a ``pyarrow.Table``, or of Parquet data read column by column on demand.

    Args:
        data: A table, or the path of a Parquet file or of a folder of Parquet files.
        side: ``"reference"`` or ``"current"``: named in error messages.

    Raises:
        DriftInputError: The path does not exist or is not readable Parquet.
    """

    def __init__(self, data: pa.Table | Path | str, side: Side) -> None:
        self.side = side
        self._table: pa.Table | None = None
        self._dataset: Any = None
        self._file: Path | None = None
        if isinstance(data, pa.Table):
            self._table = data
            self.schema: pa.Schema = data.schema
            self.num_rows: int = data.num_rows
            return
        import pyarrow.dataset as ds  # type: ignore[import-untyped]

        path = Path(data)
        if not path.exists():
            raise DriftInputError(
                f"The {side} data {str(path)!r} does not exist; give the path of a Parquet file or folder.",
                side=side,
                path=str(path),
            )
        try:
            self._dataset = ds.dataset(str(path), format="parquet")
            self._file = path if path.is_file() else None
            self.schema = self._dataset.schema
            self.num_rows = int(self._dataset.count_rows())
        except (pa.ArrowInvalid, OSError) as exc:
            raise DriftInputError(
                f"The {side} data {str(path)!r} is not readable Parquet ({exc}); "
                "write it with a Parquet writer (DuckDB, pyarrow, pandas).",
                side=side,
                path=str(path),
            ) from exc

    @property
    def names(self) -> list[str]:
        return list(self.schema.names)

    def column(self, name: str) -> pa.ChunkedArray:
        """The values of one column (read from disk now when the source is Parquet)."""
        if name not in self.schema.names:
            raise DriftInputError(
                f"Column {name!r} is not in the {self.side} data{did_you_mean(name, self.names)}",
                column=name,
                side=self.side,
            )
        if self._table is not None:
            return self._table.column(name)
        if self._file is not None:
            import pyarrow.parquet as pq  # type: ignore[import-untyped]

            # A reader per call: threads never share one; opening reads only the footer.
            table = pq.ParquetFile(self._file).read(columns=[name], use_threads=False)
        else:
            table = self._dataset.to_table(columns=[name], use_threads=False)
        column: pa.ChunkedArray = table.column(0)
        return column


def as_chunked(values: Any) -> pa.ChunkedArray:
    """Any column-like value (Arrow array, NumPy array, pandas Series, list) as an Arrow chunked array."""
    if isinstance(values, pa.ChunkedArray):
        return values
    if isinstance(values, pa.Array):
        return pa.chunked_array([values])
    try:
        return pa.chunked_array([pa.array(values)])
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise DriftInputError(
            f"Values of type {type(values).__name__} cannot be read as one column ({exc}); "
            "pass an Arrow array, a NumPy array, a pandas Series or a list of plain values.",
        ) from exc


def _is_numeric_type(data_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or pa.types.is_decimal(data_type)
        or pa.types.is_boolean(data_type)
        or pa.types.is_null(data_type)
    )


def infer_kind(data_type: pa.DataType) -> ColumnKind | None:
    """``numeric`` for numbers, ``categorical`` for text, booleans and dictionaries, ``None`` otherwise
    (dates, binary, nested values: not compared unless the caller names their kind)."""
    if pa.types.is_dictionary(data_type):
        return "categorical"
    if pa.types.is_boolean(data_type) or pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "categorical"
    if pa.types.is_string_view(data_type):
        return "categorical"
    if pa.types.is_integer(data_type) or pa.types.is_floating(data_type) or pa.types.is_decimal(data_type):
        return "numeric"
    return None


@dataclass(frozen=True)
class NumericSample:
    """The finite values of a numeric column, sorted, and how many values were missing.

    Attributes:
        values: Sorted float64 array of the finite values.
        missing: Nulls, NaN and ±inf: left out of every statistic.
    """

    values: FloatArray
    missing: int

    @property
    def size(self) -> int:
        return int(self.values.size)

    @property
    def rows(self) -> int:
        return self.size + self.missing

    def unique(self) -> int:
        return unique_count(self.values)


def numeric_sample(column: pa.ChunkedArray, name: str, side: Side) -> NumericSample:
    """Sort the finite values of a numeric column.

    Raises:
        DriftInputError: The column holds text, dates or other values that are not numbers.
    """
    data_type = column.type
    if not _is_numeric_type(data_type):
        raise DriftInputError(
            f"Column {name!r} holds {data_type} values in the {side} data, but it is compared as numbers; "
            "declare it 'categorical' or convert it to numbers first.",
            column=name,
            side=side,
        )
    rows = len(column)
    present = column.drop_null() if column.null_count else column
    if len(present) == 0:
        return NumericSample(np.empty(0, dtype=np.float64), rows)
    if data_type != pa.float64():
        present = present.cast(pa.float64())
    values = present.to_numpy()
    del present, column  # the Arrow buffers are not needed once the values are in NumPy
    if values.flags.writeable:
        values.sort()  # an array NumPy owns (several chunks were concatenated): sort in place
    else:
        values = np.sort(values)  # a zero-copy view of an Arrow buffer: sorting copies it
    if values.size and not (np.isfinite(values[0]) and np.isfinite(values[-1])):
        # NaN sorts last, -inf first, +inf before NaN: only then is a filtering pass needed.
        values = values[np.isfinite(values)]
    return NumericSample(np.ascontiguousarray(values, dtype=np.float64), rows - int(values.size))


@dataclass(frozen=True)
class CategoricalSample:
    """The distinct values of a categorical column and their counts.

    Attributes:
        values: Distinct non-missing values (an Arrow array).
        counts: How often each occurs (int64, aligned with ``values``).
        missing: Nulls (and NaN for floating columns declared categorical).
    """

    values: pa.Array
    counts: IntArray
    missing: int

    @property
    def size(self) -> int:
        return int(self.counts.sum())

    @property
    def rows(self) -> int:
        return self.size + self.missing


def _common_type(reference: pa.DataType, current: pa.DataType) -> pa.DataType | None:
    if reference == current:
        return None
    if _is_numeric_type(reference) and _is_numeric_type(current):
        return pa.float64()
    return pa.large_string()


def categorical_sample(
    column: pa.ChunkedArray, name: str, side: Side, *, cast_to: pa.DataType | None = None
) -> CategoricalSample:
    """Count the distinct values of a column (Arrow ``value_counts``), nulls apart.

    Args:
        column: The values.
        name: The column name, for messages.
        side: ``reference`` or ``current``, for messages.
        cast_to: A type to cast to first, when the two sides store the column with different types.

    Raises:
        DriftInputError: The values cannot be counted (nested lists or structs).
    """
    rows = len(column)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if cast_to is not None:
        column = column.cast(cast_to)
    if pa.types.is_floating(column.type):
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
    present = column.drop_null() if column.null_count else column
    try:
        counted = pc.value_counts(present)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid) as exc:
        raise DriftInputError(
            f"Column {name!r} holds {column.type} values in the {side} data, which cannot be counted as "
            "categories; compare a plain text or number column instead.",
            column=name,
            side=side,
        ) from exc
    values = counted.field("values")
    counts = np.asarray(counted.field("counts").to_numpy(zero_copy_only=False), dtype=np.int64)
    return CategoricalSample(values, counts, rows - int(counts.sum()))


def align_categories(
    reference: CategoricalSample, current: CategoricalSample
) -> tuple[pa.Array, IntArray, IntArray]:
    """Every category of either side (reference's first) with both sides' counts in that order."""
    keys = pc.unique(pa.concat_arrays([reference.values, current.values]))
    ref_counts = np.zeros(len(keys), dtype=np.int64)
    cur_counts = np.zeros(len(keys), dtype=np.int64)
    if len(reference.values):
        ref_counts[
            np.asarray(pc.index_in(reference.values, value_set=keys).to_numpy(zero_copy_only=False))
        ] = reference.counts
    if len(current.values):
        cur_counts[np.asarray(pc.index_in(current.values, value_set=keys).to_numpy(zero_copy_only=False))] = (
            current.counts
        )
    return keys, ref_counts, cur_counts


def categorical_pair(
    reference: pa.ChunkedArray, current: pa.ChunkedArray, name: str
) -> tuple[CategoricalSample, CategoricalSample]:
    """Both sides counted with one value type (cast to a common one when they differ)."""
    ref_type = reference.type.value_type if pa.types.is_dictionary(reference.type) else reference.type
    cur_type = current.type.value_type if pa.types.is_dictionary(current.type) else current.type
    common = _common_type(ref_type, cur_type)
    return (
        categorical_sample(reference, name, "reference", cast_to=common),
        categorical_sample(current, name, "current", cast_to=common),
    )


def smallest_key_index(keys: pa.Array) -> int:
    """The position of the smallest key (the z-test's "first" category, as Evidently's sorted keys)."""
    if len(keys) == 0:
        return 0
    return int(pc.index(keys, pc.min(keys)).as_py())


def keys_as_text(keys: pa.Array) -> Sequence[str]:
    """Category labels as strings (for charts and messages)."""
    return [str(value) for value in keys.to_pylist()]


def check_kind(kind: Any, column: str) -> None:
    """Raise an actionable error unless ``kind`` is ``numeric`` or ``categorical``."""
    if kind not in _KINDS:
        raise DriftInputError(
            f"Column {column!r} has kind {kind!r}; choose 'numeric' or 'categorical'.", column=column
        )


def resolve_columns(
    reference: TableSource, current: TableSource, columns: Mapping[str, ColumnKind] | None
) -> tuple[dict[str, ColumnKind], dict[str, str]]:
    """The columns to compare and their kinds: those given (each checked on both sides), or the
    reference's columns of a known kind that the current data also has; plus the skipped ones and why."""
    skipped: dict[str, str] = {}
    if columns is not None:
        kinds: dict[str, ColumnKind] = {}
        for name, kind in columns.items():
            check_kind(kind, name)
            for source in (reference, current):
                if name not in source.names:
                    raise DriftInputError(
                        f"Column {name!r} is not in the {source.side} data{did_you_mean(name, source.names)}",
                        column=name,
                        side=source.side,
                    )
            kinds[name] = kind
        return kinds, skipped
    kinds = {}
    for name in reference.names:
        inferred = infer_kind(reference.schema.field(name).type)
        if inferred is None:
            skipped[name] = (
                f"{reference.schema.field(name).type} values are not compared; name its kind to do so"
            )
        elif name not in current.names:
            skipped[name] = "missing from the current data"
        else:
            kinds[name] = inferred
    return kinds, skipped
