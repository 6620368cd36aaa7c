""":class:`ScoringModel`: a model folder loaded once, then request bodies parsed and validated against
its signature and scored (fast NumPy path or typed DataFrame), with explanations when asked.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from modelworks.engine.scoring.adapters import Adapter, LightGBMAdapter, SklearnAdapter, Task, XGBoostAdapter
from modelworks.engine.scoring.errors import ModelLoadError, ScoringInputError
from modelworks.engine.scoring.model.batches import (
    _FLOATS,
    Array,
    InputBatch,
    Predictions,
    _frame_ready,
    _plain_values,
    _positional_matrix,
)
from modelworks.engine.scoring.model.loading import (
    _FLAVORS,
    _input_example,
    _lab_info,
    _load_adapter,
    _read_mlmodel,
    _zeros_body,
)
from modelworks.engine.scoring.parsing import (
    ABSENT,
    RawTable,
    check_ids,
    infer_schema,
    read_payload,
    typed_column,
)
from modelworks.engine.scoring.schema import ColumnSpec, InputSchema, schema_from_signature

if TYPE_CHECKING:
    import pandas as pd


class ScoringModel:
    """A loaded model ready to score request bodies; see the module docstring.

    Attributes:
        name: A free label (the caller sets it, e.g. ``"churn/3"``); defaults to the folder name.
        schema: The signature's input columns, or ``None`` when the folder has no (column) signature.
        task: ``binary``, ``multiclass``, ``regression`` or ``unknown`` (generic python_function models).
        classes: Class labels as strings in probability order (classifiers only).
        flavor: The MLflow flavor used to load the model.
    """

    def __init__(self, adapter: Adapter, *, name: str, schema: InputSchema | None, flavor: str) -> None:
        self.adapter = adapter
        self.name = name
        self.schema = schema
        self.flavor = flavor
        self.task: Task = adapter.task
        self.classes = adapter.classes
        # The columns to validate against: the signature, else the booster's own feature names.
        self._schema = schema
        if schema is None and adapter.feature_names and isinstance(adapter, LightGBMAdapter | XGBoostAdapter):
            self._schema = InputSchema(tuple(ColumnSpec(n, "double") for n in adapter.feature_names))
        self._names = list(self._schema.names) if self._schema is not None else []
        self._order = self._matrix_order()
        self._fast = adapter.fast and self._order is not None

    # ----------------------------------------------------------------------------------------- loading

    @classmethod
    def load(cls, model_dir: Path, *, name: str | None = None) -> ScoringModel:
        """Load the MLflow model folder ``model_dir``.

        Raises:
            ModelLoadError: No ``MLmodel`` file, no flavor this service can load, a model file outside the
                folder, a skops file naming untrusted types, or the library failing to read the file.
        """
        model_dir = Path(model_dir)
        meta = _read_mlmodel(model_dir)
        flavors = meta.get("flavors") or {}
        flavor = next((f for f in _FLAVORS if isinstance(flavors.get(f), dict)), None)
        if flavor is None:
            raise ModelLoadError(
                f"The model in {model_dir.name!r} has the flavors {', '.join(sorted(flavors)) or '(none)'}; "
                "the scoring service loads lightgbm, xgboost, sklearn and python_function models. "
                "Log the model with one of these MLflow flavors.",
                flavors=sorted(flavors),
            )
        schema = schema_from_signature(meta.get("signature"))
        info = _lab_info(model_dir)
        config = flavors[flavor]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                adapter = _load_adapter(model_dir, flavor, config, info, schema, meta)
        except ModelLoadError:
            raise
        except Exception as exc:  # the libraries raise anything; the user needs one message
            raise ModelLoadError(
                f"The {flavor} model in {model_dir.name!r} could not be loaded: {exc}. Check that it was "
                "saved with compatible library versions (see requirements.txt in the folder).",
                flavor=flavor,
            ) from exc
        model = cls(adapter, name=name or model_dir.name, schema=schema, flavor=flavor)
        if isinstance(adapter, SklearnAdapter):
            model._prepare_sklearn(_input_example(model_dir, meta))
        return model

    def _prepare_sklearn(self, example: bytes | None) -> None:
        """Keep the input example as background rows for explanations, and turn on the fast path when
        the estimator takes a plain matrix of the numeric columns (checked on the example)."""
        adapter = self.adapter
        assert isinstance(adapter, SklearnAdapter)
        if example is not None and self._schema is not None:
            try:
                adapter.background = self.parse(example, max_rows=10_000).frame
            except ScoringInputError:
                adapter.background = None
        if self._order is None or adapter.lab_pipeline:
            return
        body = example if example is not None else _zeros_body(self._order)
        try:
            batch = self._batch(read_payload(body, names=None, wanted=self._wanted(None), max_rows=100), None)
        except ScoringInputError:
            return
        matrix = self._matrix_from(batch.columns, batch.rows)
        adapter.probe_fast(matrix, batch.frame)
        self._fast = adapter.fast

    # ----------------------------------------------------------------------------------------- parsing

    def _matrix_order(self) -> tuple[str, ...] | None:
        """Column order of the float64 matrix, or ``None`` when the model needs a DataFrame."""
        schema = self._schema
        if schema is None or not schema.numeric:
            return None
        names = schema.names
        known = self.adapter.feature_names
        if known and sorted(known) == sorted(names):
            return tuple(known)
        if known and len(known) != len(names):
            return None
        return names  # MLflow feeds boosters positionally: the signature order is the training order

    def _wanted(self, id_column: str | None) -> list[str] | None:
        if self._schema is None:
            return None
        if not id_column:
            return self._names
        wanted = list(self._names)
        if id_column and id_column not in wanted:
            wanted.append(id_column)
        return wanted

    def parse(
        self,
        payload: bytes,
        *,
        max_rows: int,
        content_type: str = "application/json",
        id_column: str | None = None,
    ) -> InputBatch:
        """Read and validate a request body (formats and rules: :mod:`modelworks.engine.scoring.parsing`).

        Columns that are not in the signature are ignored. With ``id_column``, that column's values
        (text or numbers, one per row) come back in ``InputBatch.ids`` and stay out of the model's input
        unless the model itself takes that column.

        Raises:
            ScoringInputError: ``invalid_json``, ``not_utf8``, ``too_deep``, ``too_many_rows``, ``empty``,
                ``missing_column``, ``missing_value``, ``wrong_type``, ``not_finite``, ``bad_shape`` or
                ``unknown_format``, naming the column and row.
        """
        names = self._order or (self._names or None)
        raw = read_payload(
            payload, names=names, wanted=self._wanted(id_column), max_rows=max_rows, content_type=content_type
        )
        return self._batch(raw, id_column)

    def _batch(self, raw: RawTable, id_column: str | None, *, allow_missing: bool = False) -> InputBatch:
        ids: list[str] | None = None
        schema = self._schema
        if self._fast and not raw.from_csv and not id_column and schema is not None:
            matrix = self._fast_matrix(raw, None)
            if matrix is not None:
                return self._matrix_batch(matrix, raw.rows, None)
        columns = raw.columns
        if id_column and id_column in columns:
            id_values = columns[id_column]
            if not all(v is ABSENT for v in id_values):
                ids = check_ids(id_column, id_values)
            if schema is None or id_column not in schema.names:
                columns = {k: v for k, v in columns.items() if k != id_column}
        if schema is None:
            schema = infer_schema(columns)
        if self._fast and not raw.from_csv:
            matrix = self._fast_matrix(raw, columns) if id_column else None
            if matrix is not None:
                return self._matrix_batch(matrix, raw.rows, ids)
        typed = {}
        for spec in schema.columns:
            found = columns.get(spec.name)
            values: list[Any] = [ABSENT] * raw.rows if found is None else found
            if all(v is ABSENT for v in values):
                if spec.required:
                    raise ScoringInputError(
                        "missing_column",
                        f"The required column {spec.name!r} is missing; the model expects {spec.describe()} "
                        f"in every row{_did_you_mean(spec.name, raw.given() if raw.given else list(columns))}",
                        column=spec.name,
                    )
            checked = replace(spec, required=False) if allow_missing else spec
            typed[spec.name] = _frame_ready(spec, typed_column(checked, values, from_csv=raw.from_csv))
        matrix = self._matrix_from(typed, raw.rows) if self._fast else None
        return InputBatch(typed, raw.rows, ids=ids, matrix=matrix, matrix_columns=self._order)

    def _matrix_batch(self, matrix: Array, rows: int, ids: list[str] | None) -> InputBatch:
        order = self._order or ()
        return InputBatch(
            dict(zip(order, matrix.T, strict=True)), rows, ids=ids, matrix=matrix, matrix_columns=order
        )

    def _fast_matrix(self, raw: RawTable, columns: dict[str, list[Any]] | None) -> Array | None:
        """The float64 matrix in one NumPy call when every value is a plain number (else ``None``:
        the column-by-column path then finds and reports the bad value, or fills nulls)."""
        order = self._order
        assert order is not None
        if raw.positional is not None and columns is None:
            return _positional_matrix(raw.positional, raw.header, order)
        if raw.records is not None and columns is None:
            lists = [list(map(r.get, order)) for r in raw.records]  # absent keys give None: slow path
            transposed = False
        else:
            source = raw.columns if columns is None else columns
            try:
                lists = [source[name] for name in order]
            except KeyError:
                return None
            transposed = True
        if not set(map(type, chain.from_iterable(lists))) <= _FLOATS:
            return None
        try:
            matrix = np.asarray(lists, dtype=np.float64)
        except OverflowError:  # an integer beyond float64: the column path says "not_finite"
            return None
        if transposed:
            matrix = matrix.T
        if not np.isfinite(matrix).all():
            return None
        return np.ascontiguousarray(matrix)

    def _matrix_from(self, typed: dict[str, Any], rows: int) -> Array:
        order = self._order
        assert order is not None
        matrix = np.empty((rows, len(order)), dtype=np.float64)
        for j, name in enumerate(order):
            matrix[:, j] = np.asarray(typed[name], dtype=np.float64)
        return matrix

    def batch_from_frame(
        self, frame: pd.DataFrame, *, id_column: str | None = None, allow_missing: bool = False
    ) -> InputBatch:
        """An :class:`InputBatch` from a DataFrame (batch scoring), validated like a request body.

        Args:
            frame: The rows; columns not in the schema are ignored.
            id_column: As in :meth:`parse`.
            allow_missing: Accept nulls/NaN in every column (tables are scored with their missing
                values; boosters and Lab pipelines handle them), not only in optional ones.
        """
        if not len(frame):
            raise ScoringInputError("empty", "The table has no rows to score.")
        order = self._order
        if (
            self._fast
            and order is not None
            and id_column is None
            and all(n in frame.columns and frame[n].dtype.kind in "iuf" for n in order)
        ):
            matrix = np.ascontiguousarray(frame[list(order)].to_numpy(dtype=np.float64))
            bad = ~np.isfinite(matrix) if not allow_missing else np.isinf(matrix)
            if bad.any():
                row, col = (int(v[0]) for v in np.nonzero(bad))
                spec = ColumnSpec(order[col], "double", required=not allow_missing)
                typed_column(spec, [float(matrix[row, col])])  # raises the right error
            return self._matrix_batch(matrix, len(frame), None)
        columns: dict[str, list[Any]] = {}
        wanted = self._wanted(id_column) or list(map(str, frame.columns))
        for name in wanted:
            if name in frame.columns:
                columns[name] = _plain_values(frame[name])
        return self._batch(RawTable(columns, len(frame)), id_column, allow_missing=allow_missing)

    # -------------------------------------------------------------------------------------- predicting

    def predict(self, batch: InputBatch, *, explain: bool = False) -> Predictions:
        """Score the rows of ``batch``; with ``explain``, add each column's contribution per row.

        Raises:
            ScoringError: The model failed on these rows (the message says which model and why).
        """
        adapter = self.adapter
        try:
            if batch.matrix is not None and self._fast:
                scores = adapter.score_matrix(batch.matrix)
            else:
                scores = adapter.score_frame(batch.frame)
        except Exception as exc:  # the model's own error: report it as a scoring failure of this model
            from modelworks.engine.scoring.errors import ScoringError

            raise ScoringError(f"The model {self.name!r} failed to score the rows: {exc}") from exc
        probabilities = None
        classes = self.classes
        if scores.probabilities is not None and classes is not None:
            keys = classes
            probabilities = [dict(zip(keys, row, strict=True)) for row in scores.probabilities.tolist()]
        explanations = self._explain(batch) if explain else None
        return Predictions(scores.predictions, probabilities, explanations, classes, scores.probabilities)

    def _explain(self, batch: InputBatch) -> list[dict[str, Any]]:
        note = self.adapter.explain_note()
        if note is None:
            try:
                fast = batch.matrix is not None and self._fast
                return self.adapter.contributions(
                    batch.matrix if fast else None, None if fast else batch.frame
                )
            except Exception as exc:  # explanations are extra: say why they are missing, keep the predictions
                note = f"The explanation could not be computed: {exc}"
        return [{"available": False, "reason": note}] * batch.rows


def _did_you_mean(name: str, given: list[str]) -> str:
    from modelworks.engine.errors import did_you_mean

    return did_you_mean(name, [g for g in given if g != name]) or "."
