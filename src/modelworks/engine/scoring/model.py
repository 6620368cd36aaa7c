"""``ScoringModel``: load an MLflow model folder once, then parse request bodies and score them fast.

Loading picks the most specific flavor the folder has: ``lightgbm`` and ``xgboost`` (native booster
files, read by the boosting library itself), ``sklearn`` (cloudpickle/pickle through MLflow; the skops
format with the trusted-type rule below), then the generic ``python_function`` through
``mlflow.pyfunc``. Pickled files can run code when loaded: only the scoring service, the worker's job
processes and their child processes load models, never the web server.

The fast path: boosters and scikit-learn estimators on purely numeric columns are scored from a
float64 NumPy matrix built straight from the parsed JSON, without pandas (MLflow's
``dataframe_split`` rows in one ``numpy.asarray`` call, records row by row); pipelines with text,
date or category columns get a typed DataFrame. Any value that is not a plain finite number sends
the body down the column-by-column path, which reports it exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from modelworks.engine.scoring.adapters import (
    Adapter,
    LightGBMAdapter,
    PyfuncAdapter,
    SklearnAdapter,
    Task,
    XGBoostAdapter,
)
from modelworks.engine.scoring.errors import ModelLoadError, ScoringInputError
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

__all__ = ["TRUSTED_PREFIXES", "InputBatch", "Predictions", "ScoringModel"]

#: Types a skops file may name: the model libraries and the Lab's own steps (never "trust all").
TRUSTED_PREFIXES = (
    "sklearn.",
    "lightgbm.",
    "xgboost.",
    "numpy.",
    "scipy.",
    "collections.",
    "builtins.",
    "modelworks.engine.automl.",
)
_FLAVORS = ("lightgbm", "xgboost", "sklearn", "python_function")
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


def _did_you_mean(name: str, given: list[str]) -> str:
    from modelworks.engine.errors import did_you_mean

    return did_you_mean(name, [g for g in given if g != name]) or "."


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


def _read_mlmodel(model_dir: Path) -> dict[str, Any]:
    import yaml

    file = model_dir / "MLmodel"
    if not model_dir.is_dir():
        raise ModelLoadError(f"The model folder {model_dir} does not exist; was the model version deleted?")
    if not file.is_file():
        raise ModelLoadError(
            f"The folder {model_dir.name!r} has no MLmodel file, so it is not an MLflow model; register a "
            "model saved with mlflow.<flavor>.save_model or log_model."
        )
    try:
        meta = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelLoadError(f"The MLmodel file of {model_dir.name!r} is not readable YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise ModelLoadError(f"The MLmodel file of {model_dir.name!r} is not an MLflow model description.")
    return meta


def _lab_info(model_dir: Path) -> dict[str, Any]:
    """``modelworks.json`` of a Lab model (task, classes), or ``{}``."""
    file = model_dir / "modelworks.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _inside(model_dir: Path, relative: Any, what: str) -> Path:
    if not isinstance(relative, str) or not relative:
        raise ModelLoadError(f"The MLmodel file of {model_dir.name!r} does not name its {what} file.")
    path = (model_dir / relative).resolve()
    if not path.is_relative_to(model_dir.resolve()):
        raise ModelLoadError(
            f"The MLmodel file of {model_dir.name!r} points to a {what} file outside the model folder "
            f"({relative!r}); the scoring service only reads files inside the folder.",
        )
    if not path.exists():
        raise ModelLoadError(
            f"The {what} file {relative!r} is missing from the model folder {model_dir.name!r}."
        )
    return path


def _load_skops(path: Path) -> Any:
    import skops.io  # type: ignore[import-untyped]

    untrusted = skops.io.get_untrusted_types(file=str(path))
    refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise ModelLoadError(
            f"The model file names types that are not trusted: {', '.join(refused[:5])}. Only "
            "scikit-learn, LightGBM, XGBoost, NumPy and SciPy types are loaded from skops files.",
            refused=refused[:20],
        )
    return skops.io.load(str(path), trusted=untrusted)


def _quiet_mlflow() -> None:
    import mlflow  # noqa: F401  (importing MLflow configures its loggers: set the level afterwards)

    logging.getLogger("mlflow").setLevel(logging.ERROR)


def _load_adapter(
    model_dir: Path,
    flavor: str,
    config: dict[str, Any],
    info: dict[str, Any],
    schema: InputSchema | None,
    meta: dict[str, Any],
) -> Adapter:
    task = info.get("task")
    if flavor == "lightgbm":
        path = _inside(model_dir, config.get("data", "model.lgb"), "LightGBM model")
        model_class = str(config.get("model_class", "lightgbm.basic.Booster"))
        if model_class == "lightgbm.basic.Booster":
            import lightgbm as lgb

            return LightGBMAdapter(lgb.Booster(model_file=str(path)))
        if not model_class.startswith("lightgbm."):
            raise ModelLoadError(
                f"The LightGBM flavor names the class {model_class!r}, which is not LightGBM's."
            )
        estimator = _load_sklearn_file(path, config)
        return _unwrap(estimator, info)
    if flavor == "xgboost":
        path = _inside(model_dir, config.get("data", "model.xgb"), "XGBoost model")
        model_class = str(config.get("model_class", "xgboost.core.Booster"))
        if not model_class.startswith("xgboost."):
            raise ModelLoadError(
                f"The XGBoost flavor names the class {model_class!r}, which is not XGBoost's."
            )
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(str(path))
        return XGBoostAdapter(booster)
    if flavor == "sklearn":
        path = _inside(model_dir, config.get("pickled_model", "model.pkl"), "scikit-learn model")
        if config.get("serialization_format") == "skops":
            estimator = _load_skops(path)
        else:
            _quiet_mlflow()
            import mlflow.sklearn

            estimator = mlflow.sklearn.load_model(str(model_dir))
        return _unwrap(estimator, info)
    _quiet_mlflow()
    import mlflow.pyfunc

    return PyfuncAdapter(
        mlflow.pyfunc.load_model(str(model_dir)), task=task if isinstance(task, str) else None
    )


def _load_sklearn_file(path: Path, config: dict[str, Any]) -> Any:
    if config.get("serialization_format") == "skops":
        return _load_skops(path)
    import cloudpickle  # type: ignore[import-untyped]

    with path.open("rb") as handle:
        return cloudpickle.load(handle)


def _unwrap(estimator: Any, info: dict[str, Any]) -> Adapter:
    """The booster inside a bare LightGBM/XGBoost sklearn estimator (fast path, exact SHAP), else sklearn."""
    classes = getattr(estimator, "classes_", None)
    raw = list(np.asarray(classes).tolist()) if classes is not None else None
    module = type(estimator).__module__
    if module.startswith("lightgbm.") and hasattr(estimator, "booster_"):
        return LightGBMAdapter(estimator.booster_, raw)
    if module.startswith("xgboost.") and hasattr(estimator, "get_booster"):
        return XGBoostAdapter(estimator.get_booster(), raw)
    task = info.get("task")
    info_classes = info.get("classes")
    return SklearnAdapter(
        estimator,
        task=task if isinstance(task, str) else None,
        classes=list(info_classes) if isinstance(info_classes, list) else None,
    )


def _input_example(model_dir: Path, meta: dict[str, Any]) -> bytes | None:
    """The folder's input example as a ``dataframe_split`` body (or ``None``)."""
    saved = meta.get("saved_input_example_info")
    if not isinstance(saved, dict) or saved.get("type") != "dataframe":
        return None
    try:
        path = _inside(model_dir, saved.get("artifact_path", "input_example.json"), "input example")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ModelLoadError, OSError, ValueError):
        return None
    if saved.get("pandas_orient", "split") == "split" and isinstance(data, dict):
        return json.dumps({"dataframe_split": data}).encode()
    if isinstance(data, list):
        return json.dumps({"dataframe_records": data}).encode()
    return None


def _zeros_body(order: Sequence[str]) -> bytes:
    return json.dumps({"records": [dict.fromkeys(order, 0.0), dict.fromkeys(order, 1.0)]}).encode()


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
