"""One adapter per kind of model: how to score a NumPy matrix or a DataFrame, and how to explain it.

* :class:`LightGBMAdapter` and :class:`XGBoostAdapter` wrap native boosters (also the booster inside
  an ``LGBMClassifier``/``XGBClassifier``): scored straight from a float64 matrix, explained with the
  booster's own exact tree SHAP values (``pred_contrib``). LightGBM's OpenMP threads are chosen per
  call by batch size (:func:`threads_for`): one thread below a few hundred rows, where waking a
  thread team costs more than it saves (a single row takes ~30 µs), up to the usable cores above.
* :class:`SklearnAdapter`: any sklearn estimator or pipeline; a plain estimator on numeric columns
  takes the matrix, a Lab pipeline a DataFrame with the original column names.
* :class:`PyfuncAdapter`: anything else MLflow can load as ``python_function``; predictions only.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Adapter", "LightGBMAdapter", "PyfuncAdapter", "SklearnAdapter", "Task", "XGBoostAdapter"]

Task = Literal["binary", "multiclass", "regression", "unknown"]
Array = np.ndarray[Any, Any]

#: Rows per OpenMP thread when a booster scores a batch (below twice this, one thread).
ROWS_PER_THREAD = 256


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_CORES = _usable_cores()


def threads_for(rows: int) -> int:
    """OpenMP threads for scoring ``rows`` rows: ``rows // ROWS_PER_THREAD``, at least 1, at most the
    cores this process may use. Passed to every LightGBM call, so a small request never wakes the team
    a large one used (``OMP_NUM_THREADS`` only sets the default of libraries that are not told)."""
    return max(1, min(_CORES, rows // ROWS_PER_THREAD))


class Scores:
    """What a model gives for a batch: predictions and, for classifiers, probabilities per class."""

    __slots__ = ("predictions", "probabilities")

    def __init__(self, predictions: list[Any], probabilities: Array | None) -> None:
        self.predictions = predictions
        self.probabilities = probabilities


class Adapter:
    """The common interface; subclasses set the attributes in ``__init__``."""

    kind: str = "model"
    task: Task = "unknown"
    raw_classes: list[Any] | None = None
    feature_names: tuple[str, ...] | None = None
    #: Takes a float64 matrix (columns in ``feature_names`` order, else the schema's order).
    fast: bool = False

    @property
    def classes(self) -> tuple[str, ...] | None:
        return None if self.raw_classes is None else tuple(str(c) for c in self.raw_classes)

    def score_matrix(self, matrix: Array) -> Scores:
        raise NotImplementedError

    def score_frame(self, frame: pd.DataFrame) -> Scores:
        raise NotImplementedError

    def explain_note(self) -> str | None:
        """Why this model cannot be explained, or ``None`` when it can."""
        return f"Per-row explanations are not available for {self.kind} models."

    def contributions(self, matrix: Array | None, frame: pd.DataFrame | None) -> list[dict[str, Any]]:
        raise NotImplementedError

    def classify(self, proba: Array) -> Scores:
        assert self.raw_classes is not None
        labels = np.asarray(self.raw_classes, dtype=object)[np.argmax(proba, axis=1)]
        return Scores(_native(labels), proba)


def _native(values: Any) -> list[Any]:
    """A column of predictions as JSON-ready Python values (NumPy scalars unwrapped, NaN → None)."""
    array = np.asarray(values)
    if array.dtype.kind == "f":
        return [None if not math.isfinite(v) else v for v in array.tolist()]
    if array.dtype.kind == "O":
        return [v.item() if isinstance(v, np.generic) else v for v in array.tolist()]
    return list(array.tolist())


def _binary(p: Array) -> Array:
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    return np.column_stack((1.0 - p, p))


def _sigmoid(x: Array) -> Array:
    out: Array = 1.0 / (1.0 + np.exp(-x))
    return out


def _softmax(x: Array) -> Array:
    shifted = np.exp(x - x.max(axis=1, keepdims=True))
    out: Array = shifted / shifted.sum(axis=1, keepdims=True)
    return out


def _explanation(
    names: tuple[str, ...] | list[str], values: Array, base: float, method: str, output: str
) -> dict[str, Any]:
    order = np.argsort(-np.abs(values), kind="stable")
    return {
        "available": True,
        "method": method,
        "output": output,
        "base_value": float(base),
        "contributions": {names[j]: float(values[j]) for j in order},
    }


_LGB_CLASSIFIERS = {"binary": "binary", "multiclass": "multiclass", "softmax": "multiclass",
                    "multiclassova": "multiclass", "multiclass_ova": "multiclass", "ova": "multiclass",
                    "ovr": "multiclass"}  # fmt: skip
_LGB_RANKING = {"lambdarank", "rank_xendcg", "xendcg", "xe_ndcg", "xe_ndcg_mart", "xendcg_mart"}


class LightGBMAdapter(Adapter):
    """A native LightGBM booster (``lightgbm.Booster``)."""

    kind = "LightGBM"

    def __init__(self, booster: Any, raw_classes: list[Any] | None = None) -> None:
        self.booster = booster
        objective = str(booster.params.get("objective", "regression")).split()[0]
        self.objective = objective
        if objective in _LGB_CLASSIFIERS:
            self.task = _LGB_CLASSIFIERS[objective]  # type: ignore[assignment]
            count = 2 if self.task == "binary" else int(booster.params.get("num_class", 2))
            self.raw_classes = list(raw_classes) if raw_classes is not None else list(range(count))
        else:
            self.task = "unknown" if objective in _LGB_RANKING else "regression"
        self.feature_names = tuple(booster.feature_name())
        # A booster trained on pandas categories needs a DataFrame with the same categories.
        self.fast = not booster.pandas_categorical

    def _scores(self, raw: Array) -> Scores:
        if self.task == "binary":
            return self.classify(_binary(raw))
        if self.task == "multiclass":
            return self.classify(np.asarray(raw, dtype=np.float64))
        return Scores(_native(raw), None)

    def score_matrix(self, matrix: Array) -> Scores:
        return self._scores(self.booster.predict(matrix, num_threads=threads_for(len(matrix))))

    def score_frame(self, frame: pd.DataFrame) -> Scores:
        return self._scores(self.booster.predict(_categories(frame), num_threads=threads_for(len(frame))))

    def explain_note(self) -> str | None:
        return None

    def contributions(self, matrix: Array | None, frame: pd.DataFrame | None) -> list[dict[str, Any]]:
        data = matrix if matrix is not None else _categories(frame)
        threads = threads_for(len(data) * 8)  # SHAP values cost several predictions per row
        values = np.asarray(
            self.booster.predict(data, pred_contrib=True, num_threads=threads), dtype=np.float64
        )
        names = self.feature_names or ()
        width = len(names) + 1
        out = []
        if self.task == "multiclass":
            assert self.raw_classes is not None
            per_class = values.reshape(len(values), len(self.raw_classes), width)
            winners = np.argmax(per_class.sum(axis=2), axis=1)
            for r, k in enumerate(winners):
                label = self.raw_classes[int(k)]
                out.append(
                    _explanation(
                        names,
                        per_class[r, k, :-1],
                        per_class[r, k, -1],
                        "tree_shap",
                        f"raw score (log-odds) of class {str(label)!r}",
                    )
                )
            return out
        output = "log-odds of the positive class" if self.task == "binary" else "predicted value (raw score)"
        return [_explanation(names, row[:-1], row[-1], "tree_shap", output) for row in values]


def _categories(frame: Any) -> Any:
    """Text columns as pandas categories (what LightGBM/XGBoost take for categorical features)."""
    text = [
        c for c in frame.columns if frame[c].dtype.kind in "OUT" or str(frame[c].dtype) in ("str", "string")
    ]
    if not text:
        return frame
    return frame.astype({c: "category" for c in text})


class XGBoostAdapter(Adapter):
    """A native XGBoost booster (``xgboost.Booster``)."""

    kind = "XGBoost"

    def __init__(self, booster: Any, raw_classes: list[Any] | None = None) -> None:
        import json

        self.booster = booster
        config = json.loads(booster.save_config())
        learner = config["learner"]
        self.objective = str(learner["objective"]["name"])
        num_class = int(float(learner["learner_model_param"].get("num_class", "0")))
        family = self.objective.split(":")[0]
        if family == "binary":
            self.task = "binary"
            self.raw_classes = list(raw_classes) if raw_classes is not None else [0, 1]
        elif family == "multi":
            self.task = "multiclass"
            self.raw_classes = list(raw_classes) if raw_classes is not None else list(range(num_class))
        else:
            self.task = "unknown" if family == "rank" else "regression"
        self.feature_names = tuple(booster.feature_names) if booster.feature_names else None
        self.fast = True

    def _scores(self, margin: Array) -> Scores:
        if self.task == "binary":
            return self.classify(_binary(_sigmoid(np.asarray(margin, dtype=np.float64).reshape(-1))))
        if self.task == "multiclass":
            return self.classify(_softmax(np.asarray(margin, dtype=np.float64)))
        return Scores(_native(margin), None)

    def _predict_type(self) -> str:
        # Classifiers: margins then sigmoid/softmax, so multi:softmax and binary:hinge give probabilities too.
        return "margin" if self.task in ("binary", "multiclass") else "value"

    def score_matrix(self, matrix: Array) -> Scores:
        return self._scores(self.booster.inplace_predict(matrix, predict_type=self._predict_type()))

    def score_frame(self, frame: pd.DataFrame) -> Scores:
        import xgboost as xgb

        data = xgb.DMatrix(_categories(frame), enable_categorical=True)
        return self._scores(self.booster.predict(data, output_margin=self._predict_type() == "margin"))

    def explain_note(self) -> str | None:
        return None

    def contributions(self, matrix: Array | None, frame: pd.DataFrame | None) -> list[dict[str, Any]]:
        import xgboost as xgb

        data = (
            xgb.DMatrix(matrix, feature_names=list(self.feature_names) if self.feature_names else None)
            if matrix is not None
            else xgb.DMatrix(_categories(frame), enable_categorical=True)
        )
        values = np.asarray(self.booster.predict(data, pred_contribs=True), dtype=np.float64)
        names = self.feature_names or tuple(f"f{j}" for j in range(values.shape[-1] - 1))
        if self.task == "multiclass":
            assert self.raw_classes is not None
            winners = np.argmax(values.sum(axis=2), axis=1)
            return [
                _explanation(
                    names,
                    values[r, k, :-1],
                    values[r, k, -1],
                    "tree_shap",
                    f"margin (log-odds) of class {str(self.raw_classes[int(k)])!r}",
                )
                for r, k in enumerate(winners)
            ]
        output = "log-odds of the positive class" if self.task == "binary" else "predicted value (margin)"
        return [_explanation(names, row[:-1], row[-1], "tree_shap", output) for row in values]


class SklearnAdapter(Adapter):
    """An sklearn estimator or pipeline (Lab models are ``Pipeline([("prepare", ...), ("model", ...)])``)."""

    kind = "scikit-learn"

    def __init__(
        self,
        estimator: Any,
        *,
        task: str | None = None,
        classes: list[Any] | None = None,
        background: pd.DataFrame | None = None,
    ) -> None:
        self.estimator = estimator
        self.background = background
        final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
        raw = getattr(final, "classes_", None)
        has_proba = hasattr(estimator, "predict_proba")
        if raw is not None and has_proba:
            self.raw_classes = list(np.asarray(raw).tolist())
            self.task = "binary" if len(self.raw_classes) == 2 else "multiclass"
        elif task in ("binary", "multiclass", "regression"):
            self.task = task  # type: ignore[assignment]
        else:
            from sklearn.base import is_regressor  # type: ignore[import-untyped]

            self.task = "regression" if is_regressor(final) else "unknown"
        if classes is not None and self.raw_classes is None and self.task in ("binary", "multiclass"):
            self.raw_classes = list(classes)
        self.has_proba = has_proba and raw is not None
        # SVMs' predict_proba (Platt scaling) may disagree with predict: ask predict for the labels.
        self.labels_from_predict = type(final).__name__ in ("SVC", "NuSVC")
        names = getattr(estimator, "feature_names_in_", None)
        self.feature_names = tuple(str(n) for n in names) if names is not None else None
        self.lab_pipeline = hasattr(estimator, "named_steps") and {"prepare", "model"} <= set(
            estimator.named_steps
        )

    def probe_fast(self, matrix: Array, frame: pd.DataFrame) -> None:
        """Enable the matrix path when the estimator gives the same answer on ``matrix`` as on ``frame``."""
        if self.lab_pipeline:
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fast = self._score(matrix)
            slow = self._score(frame)
        except Exception:  # any failure on a matrix means: keep the DataFrame path
            return
        same = _same(fast.predictions, slow.predictions) and (
            fast.probabilities is None
            or (slow.probabilities is not None and np.allclose(fast.probabilities, slow.probabilities))
        )
        self.fast = bool(same)

    def _score(self, data: Any) -> Scores:
        if self.has_proba:
            proba = np.asarray(self.estimator.predict_proba(data), dtype=np.float64)
            if self.labels_from_predict:
                return Scores(_native(self.estimator.predict(data)), proba)
            return self.classify(proba)
        return Scores(_native(self.estimator.predict(data)), None)

    def score_matrix(self, matrix: Array) -> Scores:
        with warnings.catch_warnings():
            # fitted on a DataFrame: sklearn warns that a matrix has no column names (checked by probe_fast)
            warnings.simplefilter("ignore", UserWarning)
            return self._score(matrix)

    def score_frame(self, frame: pd.DataFrame) -> Scores:
        return self._score(frame)

    def explain_note(self) -> str | None:
        if not self.lab_pipeline:
            return (
                "Per-row explanations are available for Lab models and LightGBM/XGBoost boosters; "
                "this scikit-learn model is neither."
            )
        if self.background is None or not len(self.background):
            return (
                "Per-row explanations need typical rows to compare with, and the model folder has no "
                "input example; save the model with an input example to enable them."
            )
        return None

    def contributions(self, matrix: Array | None, frame: pd.DataFrame | None) -> list[dict[str, Any]]:
        from modelworks.engine.automl.explain import explain_rows

        assert frame is not None and self.background is not None
        explained = explain_rows(self.estimator, frame, self.background)
        out = []
        for item in explained:
            out.append(
                {
                    "available": True,
                    "method": item.method,
                    "output": item.output,
                    "base_value": item.base_value,
                    "contributions": {c.column: float(c.contribution) for c in item.contributions},
                }
            )
        return out


class PyfuncAdapter(Adapter):
    """A generic MLflow ``python_function`` model: predictions only, from a DataFrame."""

    kind = "python_function"

    def __init__(self, model: Any, *, task: str | None = None) -> None:
        self.model = model
        if task in ("binary", "multiclass", "regression"):
            self.task = task  # type: ignore[assignment]

    def score_frame(self, frame: pd.DataFrame) -> Scores:
        import pandas as pd

        result = self.model.predict(frame)
        if isinstance(result, pd.DataFrame):
            if result.shape[1] == 1:
                return Scores(_native(result.iloc[:, 0].to_numpy()), None)
            return Scores(
                [{str(k): _plain(v) for k, v in row.items()} for row in result.to_dict("records")], None
            )
        if isinstance(result, pd.Series):
            return Scores(_native(result.to_numpy()), None)
        array = np.asarray(result)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim == 1:
            return Scores(_native(array), None)
        return Scores([_native(row) for row in array], None)


def _same(a: list[Any], b: list[Any]) -> bool:
    """Equal predictions (numbers up to rounding: a matrix and a DataFrame may sum in another order)."""
    if a == b:
        return True
    try:
        return bool(
            np.allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), equal_nan=True)
        )
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
