"""Running one build step, in two halves so that only the job's own thread touches the database.

* :func:`prepare_step` (job thread, database): what the step reads (the current version of each
  input, its file and columns), its fingerprint, and any reason it must not run (a blocked input).
* :func:`execute_step` (a runner thread, no database): compile against the *current* input columns
  (a missing column stops the step before anything runs, naming the column and the recipe), check
  the output columns over empty tables, then run in DuckDB (visual and SQL recipes) or in the
  Python sandbox, writing each output into a staged file of the data store.
* :func:`register_outputs` (job thread, database): commit the staged files and register each as a
  new ``DatasetVersion`` (``how="recipe"``); if anything fails, every file of the step is removed
  and no version is registered, so earlier versions stay as they were.

Push-down (:mod:`modelworks.flows.services.pushdown`): when a recipe's inputs and outputs live in one
PostgreSQL connection it runs inside that database (the staged files are then the new tables'
snapshots); outputs stored in a connection but computed here are loaded into it after the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from modelworks.core.models import Job, Project, User
from modelworks.datasets.models import Dataset, DatasetVersion, SourceKind
from modelworks.datasets.services import create_version, version_path
from modelworks.datasets.storage import data_store
from modelworks.flows.models import Recipe, RecipeKind, StepEngine
from modelworks.flows.services.graph import dataset_key, fingerprint_spec, version_columns
from modelworks.flows.services.join_report import (
    REPORT_KEY,
    JoinReport,
    is_join,
    join_report_in_session,
)
from modelworks.flows.services.pushdown import (
    Placement,
    StoredTable,
    drop_tables,
    plan_placement,
    run_pushdown,
    store_outputs,
)

if TYPE_CHECKING:
    from modelworks.engine.io import ColumnSchema, StagedFile
    from modelworks.engine.recipes.types import Column, CompiledRecipe
    from modelworks.flows.services.scoring import ScoreTarget

__all__ = [
    "ExecutedStep",
    "PreparedStep",
    "choose_engine",
    "discard",
    "execute_step",
    "prepare_step",
    "register_outputs",
]


@dataclass
class PreparedStep:
    """Everything a runner thread needs to run a step, read from the database beforehand.

    ``blocked`` holds an engine error to raise instead of running (e.g. an input whose new version
    failed a blocking rule earlier in this build).
    """

    recipe_id: int
    name: str
    kind: str
    spec: dict[str, Any]
    input_names: list[str]
    input_paths: dict[str, Path]
    input_columns: dict[str, tuple[Column, ...]]
    input_versions: dict[str, str]
    outputs: list[Dataset]
    fingerprint: str
    engine: str
    blocked: Exception | None = None
    placement: Placement | None = None  # push-down: where the outputs go, where it runs
    score: ScoreTarget | None = None  # score recipes: the model version resolved for this build

    @property
    def output_names(self) -> list[str]:
        return [d.name for d in self.outputs]


@dataclass
class ExecutedStep:
    """A step that ran: its staged (not yet committed) output files, rows, log and compiled plan."""

    staged: dict[str, StagedFile]
    rows: dict[str, int]
    log: str = ""
    compiled: CompiledRecipe | None = None
    sql: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    stored: dict[str, StoredTable] = field(default_factory=dict)  # output → its new database table
    engine: str = ""
    details: dict[str, Any] = field(default_factory=dict)  # kept as ``BuildStep.details`` (JSON)
    # Output → its file's columns, read by the connection that wrote it (else read at registration).
    columns: dict[str, tuple[ColumnSchema, ...]] = field(default_factory=dict)


def choose_engine(recipe: Recipe, placement: Placement | None = None) -> str:
    """Where a step runs: inside PostgreSQL when :func:`~.pushdown.plan_placement` found every input
    and output in one connection and the recipe portable; else Python recipes in the sandbox and
    the others in DuckDB."""
    if placement is not None and placement.runs_in is not None:
        return StepEngine.POSTGRES
    if recipe.kind == RecipeKind.SCORE:
        return StepEngine.SCORING
    return StepEngine.PYTHON if recipe.kind == RecipeKind.PYTHON else StepEngine.DUCKDB


def prepare_step(recipe: Recipe, *, blocked_reason: str | None = None, reread: bool = True) -> PreparedStep:
    """Read the recipe and its inputs' current versions (job thread).

    ``reread=False``: ``recipe`` was read with its links and project already (by the build that
    planned it) and is used as it is; its inputs' versions are always read now.

    Raises:
        modelworks.engine.flow.BlockedInputError: an input has no data or its current version
            failed a blocking quality rule (the message names recipe, dataset and version).
    """
    from modelworks.engine.flow import fingerprint
    from modelworks.engine.flow.errors import BlockedInputError
    from modelworks.engine.recipes import normalize_spec

    if reread:
        recipe = Recipe.objects.with_links().select_related("project").get(pk=recipe.pk)
    paths: dict[str, Path] = {}
    columns: dict[str, tuple[Column, ...]] = {}
    versions: dict[str, str] = {}
    names: list[str] = []
    blocked: Exception | None = None
    for dataset in recipe.input_datasets:
        dataset = Dataset.objects.select_related("pinned_version").get(pk=dataset.pk)
        version = dataset.current_version
        names.append(dataset.name)
        if version is None or not version.usable:
            why = (
                "has no data yet; import or build it first"
                if version is None
                else f"is at version {version.number}, which failed a blocking quality rule"
            )
            blocked = blocked or BlockedInputError(
                f"recipe {recipe.name!r} cannot run: input {dataset.name!r} {why}; fix the data or "
                "unblock the rule",
                recipe=recipe.name,
                dataset=dataset.name,
            )
            continue
        paths[dataset.name] = version_path(version)
        known = version_columns(version)
        assert known is not None
        columns[dataset.name] = known
        versions[dataset_key(dataset)] = str(version.pk)
    if blocked_reason and blocked is None:
        blocked = BlockedInputError(
            f"recipe {recipe.name!r} cannot run: {blocked_reason}", recipe=recipe.name
        )
    placement = None
    score = None
    covered = fingerprint_spec(recipe.spec, recipe.output_settings())
    if recipe.kind == RecipeKind.SCORE:
        # Resolved here, once per build: the runner thread scores with exactly this version.
        from modelworks.engine.errors import EngineError
        from modelworks.flows.services.scoring import MODEL_VERSION_KEY, score_target

        try:
            spec = normalize_spec(recipe.kind, recipe.spec, recipe=recipe.name)
            score = score_target(recipe.project_id, spec, recipe=recipe.name)
        except EngineError as exc:
            blocked = blocked or exc
        covered[MODEL_VERSION_KEY] = score.version_id if score is not None else None
    elif blocked is None:
        placement = plan_placement(recipe, input_versions=versions, input_columns=columns, input_names=names)
    return PreparedStep(
        recipe_id=recipe.pk,
        name=recipe.name,
        kind=recipe.kind,
        spec=dict(recipe.spec),
        input_names=names,
        input_paths=paths,
        input_columns=columns,
        input_versions=versions,
        outputs=recipe.output_datasets,
        fingerprint=fingerprint(recipe.kind, covered, versions),
        engine=choose_engine(recipe, placement),
        blocked=blocked,
        placement=placement,
        score=score,
    )


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def execute_step(
    prepared: PreparedStep,
    *,
    cancelled: Callable[[], bool],
    progress: Callable[[float, str], None] | None = None,
) -> ExecutedStep:
    """Compile and run a prepared step into staged files (runner thread; no database access).

    Raises:
        RecipeError / MissingColumnError: the recipe does not fit its inputs' current columns.
        ExecutionError and subclasses: the run failed, timed out or was cancelled.
        Whatever the error, the step's staged files are removed.

    ``progress(fraction, message)`` hears how far a long step is (a score step: rows scored so far);
    it is called from this runner thread and must be thread-safe.
    """
    if prepared.blocked is not None:
        raise prepared.blocked
    store = data_store()
    staged: dict[str, StagedFile] = {}
    started = time.monotonic()
    result: ExecutedStep | None = None
    try:
        for name in prepared.output_names:
            staged[name] = store.stage()
        if prepared.engine == StepEngine.POSTGRES:
            result = run_pushdown(prepared, staged, cancelled)
        elif prepared.kind == RecipeKind.PYTHON:
            result = _run_python(prepared, staged, cancelled)
        elif prepared.kind == RecipeKind.SCORE:
            result = _run_score(prepared, staged, cancelled, progress)
        else:
            result = _run_duckdb(prepared, staged, cancelled)
        result.engine = prepared.engine
        store_outputs(prepared, result, cancelled)
    except BaseException:
        discard(staged)
        if result is not None:
            drop_tables(result.stored.values())
        raise
    result.seconds = time.monotonic() - started
    return result


def _run_duckdb(
    prepared: PreparedStep, staged: dict[str, StagedFile], cancelled: Callable[[], bool]
) -> ExecutedStep:
    from modelworks.engine.flow import execute_in_duckdb, relations_for
    from modelworks.engine.recipes import compile_recipe, normalize_spec, output_schemas

    relations = relations_for({name: prepared.input_columns[name] for name in prepared.input_names})
    spec = normalize_spec(prepared.kind, prepared.spec, recipe=prepared.name)
    compiled = compile_recipe(prepared.kind, spec, relations, prepared.output_names, recipe=prepared.name)
    # Checked over empty tables first: a column lost upstream is reported before any data is read.
    schemas = output_schemas(compiled, relations)
    store = data_store()
    for file in staged.values():
        # DuckDB writes through a temporary sibling when the target exists, and the locked
        # connection may only touch the named path: let DuckDB create the staged file itself.
        file.path.unlink(missing_ok=True)

    def join_report(con: Any) -> JoinReport | None:
        # In the step's own connection, over the same input views: no second database to open.
        if not is_join(prepared.kind):
            return None
        return join_report_in_session(con, spec, relations, recipe=prepared.name)

    with store.scratch_dir() as spill:
        ran = execute_in_duckdb(
            compiled,
            prepared.input_paths,
            {name: file.path for name, file in staged.items()},
            threads=_setting("MODELWORKS_FLOW_THREADS", None),
            memory_limit=_setting("MODELWORKS_FLOW_MEMORY_LIMIT", None),
            spill_dir=spill,
            timeout_s=float(_setting("MODELWORKS_FLOW_STEP_TIMEOUT", 3600)),
            cancelled=cancelled,
            recipe=prepared.name,
            then=join_report,
        )
    rows, report = ran.rows, ran.extra
    sql = ";\n\n".join(f"-- {out.name}\n{out.sql('duckdb')}" for out in compiled.outputs)
    lines = [
        f"{name}: {rows.get(name, 0):,} rows, {len(schemas.get(name, ()))} columns"
        for name in prepared.output_names
    ]
    lines += list(compiled.notes)
    details: dict[str, Any] = {}
    if report is not None:
        lines += [report.log_text()] if report.log_text() else []
        details[REPORT_KEY] = report.to_dict()
    return ExecutedStep(
        staged=staged,
        rows=dict(rows),
        log="\n".join(lines),
        compiled=compiled,
        sql=sql,
        details=details,
        columns=ran.columns,
    )


def _run_python(
    prepared: PreparedStep, staged: dict[str, StagedFile], cancelled: Callable[[], bool]
) -> ExecutedStep:
    from modelworks.engine.recipes import normalize_spec
    from modelworks.engine.recipes.python import PythonLimits, run_python_recipe

    spec = normalize_spec(prepared.kind, prepared.spec, recipe=prepared.name)
    store = data_store()
    with store.scratch_dir() as workdir:
        result = run_python_recipe(
            str(spec.get("code", "")),
            inputs={name: prepared.input_paths[name] for name in prepared.input_names},
            outputs=prepared.output_names,
            workdir=Path(workdir) / "run",
            limits=PythonLimits.from_env(),
            cancelled=cancelled,
            recipe=prepared.name,
        )
        for name, file in staged.items():
            os.unlink(file.path)
            shutil.move(result.outputs[name], file.path)
    lines = [f"{name}: {result.rows.get(name, 0):,} rows" for name in prepared.output_names]
    if result.log:
        lines += ["", "Output of the recipe:", result.log]
    return ExecutedStep(staged=staged, rows=dict(result.rows), log="\n".join(lines))


def _run_score(
    prepared: PreparedStep,
    staged: dict[str, StagedFile],
    cancelled: Callable[[], bool],
    progress: Callable[[float, str], None] | None = None,
) -> ExecutedStep:
    """Score the input with the model version resolved by ``prepare_step``, in a child process.

    The output columns are checked first, as for compiled recipes: an input lacking a column the
    model needs stops the step before the model is loaded. With ``log_predictions`` the scored rows
    then go to the prediction log (source ``recipe-<id>``), read back from the files in chunks.
    """
    from modelworks.engine.flow import relations_for
    from modelworks.engine.recipes import normalize_spec, score_output_columns
    from modelworks.engine.recipes.score import check_score_inputs
    from modelworks.engine.scoring import run_batch_scoring
    from modelworks.flows.services.scoring import log_scored_rows

    target = prepared.score
    assert target is not None, "prepare_step resolves the model of a score recipe"
    spec = normalize_spec(prepared.kind, prepared.spec, recipe=prepared.name)
    relations = relations_for({name: prepared.input_columns[name] for name in prepared.input_names})
    check_score_inputs(relations, prepared.output_names, recipe=prepared.name)
    expected = score_output_columns(spec, relations[0], target.facts, recipe=prepared.name)
    (output,) = prepared.output_names
    (source,) = prepared.input_names
    path = staged[output].path
    path.unlink(missing_ok=True)  # written atomically by the child (temporary sibling, then renamed)
    chunk_rows = int(_setting("MODELWORKS_SCORING_CHUNK_ROWS", 50_000))
    result = run_batch_scoring(
        target.model_dir,
        prepared.input_paths[source],
        path,
        chunk_rows=chunk_rows,
        keep_columns=spec.get("keep_columns"),
        probabilities=bool(spec.get("probabilities", True)),
        version_label=target.label,
        progress=progress,
        cancelled=cancelled,
        timeout_s=float(_setting("MODELWORKS_FLOW_STEP_TIMEOUT", 3600)),
    )
    how = f"alias {target.alias!r} → {target.label}" if target.alias else target.label
    lines = [
        f"Scored {result.rows:,} rows of {source!r} with model {how} in {result.seconds:.1f} s",
        f"{output}: {result.rows:,} rows, {len(result.columns)} columns",
    ]
    missing = [c.name for c in expected if c.name not in result.columns]
    if missing:
        lines.append(f"Note: expected columns not written: {', '.join(missing)}")
    details: dict[str, Any] = {"model_version_id": target.version_id, "model_version": target.label}
    if spec.get("log_predictions", True):
        logged = log_scored_rows(
            recipe_id=prepared.recipe_id,
            target=target,
            input_path=prepared.input_paths[source],
            output_path=path,
            output_columns=result.columns,
            chunk_rows=chunk_rows,
            id_column=spec.get("id_column"),
            time_column=spec.get("time_column"),
        )
        details["prediction_log"] = logged
        lines.append(f"Logged {logged['rows']:,} predictions for monitoring ({logged['source']})")
    return ExecutedStep(staged=staged, rows={output: result.rows}, log="\n".join(lines), details=details)


def discard(staged: dict[str, StagedFile]) -> None:
    """Remove staged files that were not committed (leaving their context)."""
    for file in staged.values():
        with contextlib.suppress(Exception):
            file.__exit__(None, None, None)


def register_outputs(
    prepared: PreparedStep,
    executed: ExecutedStep,
    *,
    project: Project,
    build_id: int,
    job: Job | None,
    actor: User | None,
) -> list[DatasetVersion]:
    """Commit the step's staged files and register one new version per output, all or nothing.

    Each ``create_version`` locks its dataset row (``select_for_update``); the whole step is one
    transaction, and on any failure every file this step committed is deleted again.

    Raises:
        modelworks.engine.errors.EngineError: the output could not be read back (its message is shown).
        ValidationError: the output dataset was deleted meanwhile.
    """
    from modelworks.engine.io import SourceInfo, VersionInfo, read_schema

    store = data_store()
    committed: list[str] = []
    try:
        with transaction.atomic():
            versions = []
            for dataset in prepared.outputs:
                file = executed.staged[dataset.name]
                columns = executed.columns.get(dataset.name) or read_schema(file.path)
                stored = file.commit()
                committed.append(stored.object_id)
                info = VersionInfo(
                    object_id=stored.object_id,
                    content_hash=f"sha256:{stored.sha256}",
                    row_count=int(executed.rows.get(dataset.name, 0)),
                    columns=columns,
                    byte_size=stored.size,
                    source=SourceInfo(format="parquet", byte_size=stored.size),
                    timings={"total": round(executed.seconds, 3)},
                )
                table = executed.stored.get(dataset.name)  # push-down: its new database table
                try:
                    version = create_version(
                        project=project,
                        info=info,
                        how=SourceKind.RECIPE,
                        how_details={
                            "recipe_id": prepared.recipe_id,
                            "recipe": prepared.name,
                            "build_id": build_id,
                            "fingerprint": prepared.fingerprint,
                            **({"engine": executed.engine} if executed.engine else {}),
                            **(
                                {"model_version_id": prepared.score.version_id}
                                if prepared.score is not None
                                else {}
                            ),
                        },
                        actor=actor,
                        job=job,
                        dataset=dataset,  # read again there, locked
                        location=table.location() if table is not None else None,
                    )
                except Dataset.DoesNotExist:
                    raise ValidationError(
                        f"Output '{dataset.name}' of recipe '{prepared.name}' was deleted during the build."
                    ) from None
                versions.append(version)
    except BaseException:
        for object_id in committed:
            store.delete(object_id)
        discard(executed.staged)
        drop_tables(executed.stored.values())
        raise
    return versions
