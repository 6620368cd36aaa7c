"""Score recipes on the database side: which model version a recipe scores with, what is known of
it without loading it, and writing a build's scored rows to the prediction log.

The alias is resolved when a build plans and prepares the step (job thread); the resolved version's
id joins the recipe's fingerprint (``graph.RecipeShape.fingerprint_spec``), so moving the alias makes
the next build score again while an unchanged alias leaves the output up to date. The model itself
is only loaded by ``engine.scoring.run_batch_scoring``, in a sandboxed child process of the worker.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from modelworks.engine.recipes.score import ModelFacts
    from modelworks.registry.models import ModelVersion

__all__ = [
    "MODEL_VERSION_KEY",
    "ScoreTarget",
    "log_scored_rows",
    "model_facts",
    "resolve_score_version",
    "resolved_version_id",
    "score_target",
]

#: The key under which the resolved model version joins a score recipe's fingerprint.
MODEL_VERSION_KEY = "~model_version"

_MLFLOW_TYPES = {
    "double": "float",
    "float": "float",
    "long": "integer",
    "integer": "integer",
    "boolean": "boolean",
    "string": "string",
    "datetime": "timestamp",
    "binary": "binary",
}


@dataclass(frozen=True)
class ScoreTarget:
    """The model version a score step uses, resolved in the job thread (no database needed later)."""

    version_id: int
    label: str  # "<model>/<version>"
    model_dir: Path
    alias: str
    facts: ModelFacts


def _error(message: str, *, recipe: str, **details: Any) -> Exception:
    from modelworks.engine.recipes.types import RecipeSpecError

    return RecipeSpecError(message, recipe=recipe, **details)


def resolve_score_version(project_id: int, spec: Mapping[str, Any], *, recipe: str) -> ModelVersion:
    """The model version a score recipe uses now: its alias's target, or its fixed version.

    Raises:
        RecipeSpecError: the model does not exist in the project, has no such alias or version (the
            message names the recipe, the model and how to fix it).
    """
    from modelworks.engine.errors import did_you_mean
    from modelworks.registry.models import ModelAlias, ModelVersion, RegisteredModel

    name = str(spec.get("model") or "")
    model = RegisteredModel.objects.filter(project_id=project_id, name=name).first()
    if model is None:
        names = list(RegisteredModel.objects.filter(project_id=project_id).values_list("name", flat=True))
        listed = f" (its models: {', '.join(sorted(names)[:10])})" if names else " (it has none yet)"
        raise _error(
            f"recipe {recipe!r}: there is no registered model {name!r} in this project"
            f"{did_you_mean(name, names)}{listed}; register the model or choose another",
            recipe=recipe,
            model=name,
        )
    alias = str(spec.get("alias") or "")
    if alias:
        found = ModelAlias.objects.filter(registered_model=model, alias=alias).select_related("model_version")
        link = found.first()
        if link is None:
            aliases = sorted(model.aliases.values_list("alias", flat=True))
            known = f" (its aliases: {', '.join(aliases)})" if aliases else " (it has no alias yet)"
            raise _error(
                f"recipe {recipe!r}: model {name!r} has no alias {alias!r}{known}; point the alias at a "
                "version in the registry, or choose a fixed version",
                recipe=recipe,
                model=name,
                alias=alias,
            )
        return ModelVersion.objects.select_related("registered_model").get(pk=link.model_version_id)
    number = spec.get("version")
    version = model.versions.filter(version=number).select_related("registered_model").first()
    if version is None:
        raise _error(
            f"recipe {recipe!r}: model {name!r} has no version {number}; choose one of its versions",
            recipe=recipe,
            model=name,
            version=number,
        )
    return version


def resolved_version_id(project_id: int | None, spec: Mapping[str, Any]) -> int | None:
    """The id of the version a score recipe would use now (None: the spec does not resolve)."""
    from modelworks.engine.errors import EngineError

    if project_id is None:
        return None
    try:
        return resolve_score_version(project_id, spec, recipe="").pk
    except EngineError:
        return None


def model_dir(version: ModelVersion) -> Path:
    """The local MLflow folder of a version."""
    from modelworks.registry.services.common import artifact_store
    from modelworks.registry.services.sources import storage_key

    return Path(artifact_store().path_of(storage_key(version.storage_location)))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _prediction_type(signature: Any, task: Any, classes: list[str] | None) -> str:
    """The output's logical type: the signature's single output type, else by task."""
    outputs = signature.get("outputs") if isinstance(signature, dict) else None
    try:
        specs = json.loads(outputs) if isinstance(outputs, str) else outputs
    except ValueError:
        specs = None
    if isinstance(specs, list) and len(specs) == 1 and isinstance(specs[0], dict):
        spec = specs[0]
        kind = spec.get("type")
        if kind == "tensor":
            dtype = str((spec.get("tensor-spec") or {}).get("dtype", ""))
            kind = "double" if "float" in dtype else "long" if "int" in dtype else "string"
        if isinstance(kind, str) and kind in _MLFLOW_TYPES:
            return _MLFLOW_TYPES[kind]
    if task == "regression":
        return "float"
    return "string"


def model_facts(version: ModelVersion) -> ModelFacts:
    """What is known of a version without loading it: signature columns, classes (Lab models keep
    them in ``modelworks.json``), the type of its predictions."""
    from modelworks.engine.recipes.score import ModelFacts
    from modelworks.engine.scoring import ScoringError
    from modelworks.engine.scoring.schema import schema_from_signature

    try:
        schema = schema_from_signature(version.signature)
    except ScoringError:
        schema = None
    info = _read_json(model_dir(version) / "modelworks.json")
    raw = info.get("classes")
    classes = [str(c) for c in raw] if isinstance(raw, list) and info.get("task") != "regression" else None
    return ModelFacts(
        label=f"{version.registered_model.name}/{version.version}",
        input_columns=schema.names if schema is not None else None,
        classes=tuple(classes) if classes else None,
        prediction_type=_prediction_type(version.signature, info.get("task"), classes),
    )


def score_target(project_id: int, spec: Mapping[str, Any], *, recipe: str) -> ScoreTarget:
    """Resolve a score recipe's model version and gather what the runner thread needs.

    Raises:
        RecipeSpecError: see :func:`resolve_score_version`; also when the version's files are missing.
    """
    version = resolve_score_version(project_id, spec, recipe=recipe)
    folder = model_dir(version)
    label = f"{version.registered_model.name}/{version.version}"
    if not (folder / "MLmodel").is_file():
        raise _error(
            f"recipe {recipe!r}: the files of model version {label} are missing from the artifact store; "
            "register the model again",
            recipe=recipe,
            model=version.registered_model.name,
        )
    return ScoreTarget(
        version_id=version.pk,
        label=label,
        model_dir=folder,
        alias=str(spec.get("alias") or ""),
        facts=model_facts(version),
    )


def _aligned_batches(paths: list[Path], columns: list[list[str]], rows: int) -> Iterator[list[Any]]:
    """Batches of ``rows`` rows read in step from several Parquet files with the same row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    readers = [
        pq.ParquetFile(path).iter_batches(batch_size=rows, columns=cols)
        for path, cols in zip(paths, columns, strict=True)
    ]
    buffers: list[Any] = [None] * len(paths)
    exhausted = [False] * len(paths)
    while True:
        for i, reader in enumerate(readers):
            while not exhausted[i] and (buffers[i] is None or buffers[i].num_rows < rows):
                batch = next(reader, None)
                if batch is None:
                    exhausted[i] = True
                    break
                table = pa.Table.from_batches([batch])
                buffers[i] = table if buffers[i] is None else pa.concat_tables([buffers[i], table])
        available = min(b.num_rows if b is not None else 0 for b in buffers)
        if available == 0:
            return
        take = min(rows, available)
        yield [b.slice(0, take) for b in buffers]
        buffers = [b.slice(take) for b in buffers]


@dataclass
class _Scored:
    predictions: list[Any]
    probabilities: list[dict[str, float]] | None


def _row_times(values: Any, default: datetime) -> list[datetime]:
    """Each row's time as an aware UTC datetime (dates at midnight UTC); missing ones: ``default``."""
    import pandas as pd

    stamps = pd.to_datetime(values, errors="coerce", utc=True)
    return [default if pd.isna(t) else t.to_pydatetime() for t in stamps]


def _runs(times: list[datetime]) -> list[tuple[datetime, list[int]]]:
    """Row positions grouped by their time, in first-seen order: the log takes one time per append."""
    groups: dict[datetime, list[int]] = {}
    for i, t in enumerate(times):
        groups.setdefault(t, []).append(i)
    return list(groups.items())


def log_scored_rows(
    *,
    recipe_id: int,
    target: ScoreTarget,
    input_path: Path,
    output_path: Path,
    output_columns: list[str],
    chunk_rows: int = 50_000,
    id_column: str | None = None,
    time_column: str | None = None,
) -> dict[str, Any]:
    """Write the rows of a finished score step to the prediction log (source ``recipe-<id>``).

    The model's input columns are read from the input file and the predictions from the output file,
    chunk by chunk in step (the scorer keeps the row order), so memory stays bounded. With
    ``id_column`` each row is logged under that column's value (labels are matched on it later), and
    with ``time_column`` at that column's time (monitoring windows then follow the data's own time);
    rows without a time are logged at the build's time.

    Returns:
        ``{"source", "request_id", "rows"}`` for the step's details.
    """
    import pyarrow.parquet as pq

    from modelworks.engine.predictions import PredictionLogWriter
    from modelworks.engine.scoring.batch import output_names

    source = f"recipe-{recipe_id}"
    request_id = f"build-{uuid.uuid4().hex[:12]}"
    input_names = pq.ParquetFile(input_path).schema_arrow.names
    features = [c for c in (target.facts.input_columns or input_names) if c in input_names]
    output_set = set(output_columns)
    kept = [c for c in output_columns if c in input_names]
    prediction, probas, _ = output_names(kept, target.facts.classes)
    if prediction not in output_set:
        prediction = "prediction"
    probas_here = [p for p in probas if p in output_set]
    classes = [c for c, p in zip(target.facts.classes or (), probas, strict=False) if p in output_set]
    wanted = [prediction, *probas_here]
    extra = [c for c in (id_column, time_column) if c and c not in features]
    writer = PredictionLogWriter(
        Path(settings.MODELWORKS_PREDICTIONS_DIR), source, max_buffer_rows=max(chunk_rows, 1) * 4
    )
    stamp = datetime.now(UTC)
    written = 0
    for inputs, outputs in _aligned_batches(
        [input_path, output_path], [[*features, *extra], wanted], chunk_rows
    ):
        frame = inputs.to_pandas()
        row_ids = (
            [
                str(v) if v is not None else f"{request_id}:{written + i}"
                for i, v in enumerate(frame[id_column])
            ]
            if id_column
            else [f"{request_id}:{written + i}" for i in range(len(frame))]
        )
        times = _row_times(frame[time_column], stamp) if time_column else None
        frame = frame[features]
        predictions = outputs.column(prediction).to_pylist()
        probabilities = None
        if probas_here and len(classes) == len(probas_here):
            matrix = [outputs.column(p).to_pylist() for p in probas_here]
            probabilities = [
                {c: float(v) for c, v in zip(classes, row, strict=True) if v is not None}
                for row in zip(*matrix, strict=True)
            ]
        groups = [(stamp, list(range(len(frame))))] if times is None else _runs(times)
        for ts, rows in groups:
            writer.append(
                request_id=request_id,
                ts=ts,
                model_version_id=target.version_id,
                model_version=target.label,
                role="primary",
                answered=True,
                inputs=frame.iloc[rows].reset_index(drop=True),
                predictions=_Scored(
                    [predictions[i] for i in rows],
                    [probabilities[i] for i in rows] if probabilities is not None else None,
                ),
                row_ids=[row_ids[i] for i in rows],
                latency_ms=None,
            )
        written += len(frame)
    writer.close()
    return {"source": source, "request_id": request_id, "rows": written}
