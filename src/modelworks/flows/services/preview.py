"""Previews: a recipe (saved, or a draft from the editor) run on samples of its inputs' versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset
from modelworks.flows.models import Recipe, RecipeKind
from modelworks.flows.services.graph import version_columns
from modelworks.flows.services.recipes import kind_info

if TYPE_CHECKING:
    from modelworks.engine.errors import EngineError

__all__ = [
    "PREVIEW_SAMPLE_ROWS",
    "PreviewError",
    "RecipeDraft",
    "join_preview_report",
    "python_preview_seconds",
    "recipe_preview",
]

#: The rows read from each input for a preview (and for the join's unmatched-rows report beside it).
PREVIEW_SAMPLE_ROWS = 10_000


class PreviewError(ValidationError):
    """The engine refused the recipe's settings: a ``ValidationError`` keyed by ``spec`` that keeps
    the engine error, so a page can point at the step and the column.

    Attributes:
        engine_error: the engine's error.
        code: its stable code (``recipe_missing_column``…).
        details: its facts that fit in JSON: ``step`` (1-based, for a Prepare step), ``column``,
            ``position``, ``recipe``…
    """

    def __init__(self, engine_error: EngineError) -> None:
        super().__init__({"spec": ValidationError(engine_error.message, code=engine_error.code)})
        self.engine_error = engine_error
        self.code = engine_error.code
        self.details: dict[str, Any] = {
            k: v for k, v in engine_error.details.items() if isinstance(v, str | int | float | bool)
        }

    @property
    def step(self) -> int | None:
        """The 1-based Prepare step the error is in, when the engine says."""
        value = self.details.get("step")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class RecipeDraft:
    """A recipe that may not be saved yet, as the editor holds it (for previews)."""

    project: Project
    kind: str
    spec: Mapping[str, Any]
    inputs: tuple[Dataset, ...]
    outputs: tuple[str, ...]
    name: str = "preview"

    @classmethod
    def of(cls, recipe: Recipe) -> RecipeDraft:
        return cls(
            project=recipe.project,
            kind=recipe.kind,
            spec=recipe.spec,
            inputs=tuple(recipe.input_datasets),
            outputs=tuple(d.name for d in recipe.output_datasets),
            name=recipe.name,
        )


def recipe_preview(target: Recipe | RecipeDraft, *, output: str | None = None, limit: int = 100) -> Any:
    """Run a recipe (saved or a draft) on a sample of its inputs' current versions.

    Args:
        target: the recipe, or a ``RecipeDraft`` of the editor's current settings.
        output: the output to show (default: the first).
        limit: rows to return (at most 1,000).

    Returns:
        The engine's ``PreviewResult`` (``columns``, ``rows``).

    Raises:
        PreviewError: a ``ValidationError`` keyed by ``spec`` when the engine refuses the settings
            (a missing column, a bad formula…); it keeps the engine error's ``code`` and
            ``details`` (``step``, ``column``…).
        ValidationError: keyed by ``inputs`` (an input has no data yet, or a Python recipe reads a
            dataset that is not stored) or ``output``.
        modelworks.engine.errors.EngineError: the preview query itself failed; for a Python recipe,
            the sandbox's errors (``python_user_error`` with ``details["traceback"]``, timeout…),
            each with what the code printed in ``details["log"]``.
    """
    from modelworks.engine.errors import EngineError
    from modelworks.engine.recipes import compile_recipe, normalize_spec, preview
    from modelworks.flows.services.graph import input_relations

    draft = RecipeDraft.of(target) if isinstance(target, Recipe) else target
    kind_info(draft.kind)
    if not draft.outputs:
        raise ValidationError({"outputs": "Give the recipe at least one output to preview."})
    chosen = output or draft.outputs[0]
    if chosen not in draft.outputs:
        raise ValidationError({"output": f"'{chosen}' is not an output of this recipe."})
    from modelworks.flows.services.pipeline import virtual_keys

    virtual = virtual_keys(draft.project)
    if draft.kind == RecipeKind.PYTHON:
        return _preview_python(draft, chosen, limit, virtual)
    if draft.kind == RecipeKind.SCORE:
        # Loading a model may unpickle it, which the web server never does: builds run it in the worker.
        raise ValidationError(
            {
                "kind": ValidationError(
                    "Score recipes cannot be previewed: the model only runs in a build. Build the "
                    "recipe, then look at its output dataset.",
                    code="score",
                )
            }
        )
    if any(str(d.pk) in virtual for d in draft.inputs):
        return _preview_through_virtual(draft, chosen, limit, virtual)
    paths, columns = _input_files(draft)
    try:
        spec = normalize_spec(draft.kind, dict(draft.spec), recipe=draft.name)
        relations = input_relations(draft.inputs, columns)
        compiled = compile_recipe(draft.kind, spec, relations, list(draft.outputs), recipe=draft.name)
        return preview(
            compiled.output(chosen),
            paths,
            relations,
            limit=max(1, min(int(limit), 1000)),
            sample_rows=PREVIEW_SAMPLE_ROWS,
            recipe=draft.name,
        )
    except EngineError as exc:
        if exc.code.startswith("recipe"):
            raise PreviewError(exc) from exc
        raise


def python_preview_seconds() -> float:
    """The time limit of a Python recipe's preview, in seconds (the configured limit, at most 30)."""
    from modelworks.engine.recipes.python import PythonLimits, preview_limits

    return preview_limits(PythonLimits.from_env()).timeout_s


def _preview_python(draft: RecipeDraft, chosen: str, limit: int, virtual: set[str]) -> Any:
    """Run a Python recipe's code in the sandbox on the first ``PREVIEW_SAMPLE_ROWS`` rows of each
    input (samples and outputs in a scratch folder of the data store, removed afterwards)."""
    from modelworks.datasets.storage import data_store
    from modelworks.engine.recipes import normalize_spec
    from modelworks.engine.recipes.python import PythonLimits, preview_python_recipe

    unstored = [d.name for d in draft.inputs if str(d.pk) in virtual]
    if unstored:
        raise ValidationError(
            {
                "inputs": f"'{unstored[0]}' is not stored (it is computed on the fly) and a Python recipe "
                "reads stored files: store it, or read another dataset."
            }
        )
    names = [d.name for d in draft.inputs]
    if len(set(names)) != len(names):
        raise ValidationError({"inputs": "Choose each input dataset once."})
    paths, _ = _input_files(draft)
    spec = normalize_spec(draft.kind, dict(draft.spec), recipe=draft.name)
    with data_store().scratch_dir() as scratch:
        shown = preview_python_recipe(
            str(spec.get("code", "")),
            inputs={name: paths[name] for name in names},
            outputs=list(draft.outputs),
            workdir=Path(scratch) / "preview",
            limit=max(1, min(int(limit), 1000)),
            sample_rows=PREVIEW_SAMPLE_ROWS,
            limits=PythonLimits.from_env(),
            recipe=draft.name,
        )
    return shown.outputs[chosen]


def _preview_through_virtual(draft: RecipeDraft, chosen: str, limit: int, virtual: set[str]) -> Any:
    """Preview a recipe that reads virtual datasets: the recipes computing them are compiled inline
    (as the build does), and the sample is taken from the stored datasets at the start of the chain."""
    from modelworks.datasets.services import version_path
    from modelworks.engine.errors import EngineError
    from modelworks.engine.flow import PipelineRecipe, compile_pipeline
    from modelworks.engine.recipes import preview
    from modelworks.flows.services.graph import flow_graph
    from modelworks.flows.services.pipeline.running import _pipeline_recipe

    graph = flow_graph(draft.project)
    chain: dict[str, None] = {}  # recipe ids computing the virtual inputs, in dependency order

    def visit(key: str) -> None:
        producer = graph.producer(key)
        if producer is None or producer in chain:
            return
        for upstream in graph.recipe(producer).inputs:
            if upstream in virtual:
                visit(upstream)
        chain[producer] = None

    for dataset in draft.inputs:
        if str(dataset.pk) in virtual:
            visit(str(dataset.pk))
    recipes = {str(r.pk): r for r in Recipe.objects.filter(pk__in=[int(i) for i in chain]).with_links()}
    upstream = [_pipeline_recipe(recipes[rid]) for rid in chain]
    stored_keys = {key for rid in chain for key in graph.recipe(rid).inputs if key not in virtual} | {
        str(d.pk) for d in draft.inputs if str(d.pk) not in virtual
    }
    paths: dict[str, Any] = {}
    columns: dict[str, Any] = {}
    for dataset in Dataset.objects.filter(pk__in=[int(k) for k in stored_keys]).select_related(
        "pinned_version"
    ):
        version = dataset.current_version
        if version is None:
            raise ValidationError(
                {"inputs": f"'{dataset.name}' has no data yet; import it or build it first to preview."}
            )
        paths[dataset.name] = version_path(version)
        columns[dataset.name] = version_columns(version)
    step = PipelineRecipe(
        id="preview",
        name=draft.name,
        kind=draft.kind,
        spec=dict(draft.spec),
        inputs=tuple(d.name for d in draft.inputs),
        outputs=tuple(draft.outputs),
    )
    try:
        fused = compile_pipeline(step, upstream, columns)
        return preview(
            fused.compiled.output(chosen),
            paths,
            list(fused.relations),
            limit=max(1, min(int(limit), 1000)),
            sample_rows=PREVIEW_SAMPLE_ROWS,
            recipe=draft.name,
        )
    except EngineError as exc:
        if exc.code.startswith("recipe") or exc.code.startswith("flow"):
            raise PreviewError(exc) from exc
        raise


def _input_files(draft: RecipeDraft) -> tuple[dict[str, Any], list[Any]]:
    """Each input's current Parquet file and columns, or a ValidationError keyed by ``inputs``."""
    from modelworks.datasets.services import version_path

    paths: dict[str, Any] = {}
    columns = []
    for dataset in draft.inputs:
        version = dataset.current_version
        if version is None:
            raise ValidationError(
                {"inputs": f"'{dataset.name}' has no data yet; import it or build it first to preview."}
            )
        paths[dataset.name] = version_path(version)
        known = version_columns(version)
        assert known is not None
        columns.append(known)
    return paths, columns


def join_preview_report(draft: RecipeDraft) -> list[Any]:
    """The unmatched-rows report of a join recipe (saved or a draft) on the preview's sample: the
    first ``PREVIEW_SAMPLE_ROWS`` rows of each input, as the preview reads them.

    Returns:
        The engine's ``UnmatchedCount``s (one per join and side); empty for other kinds.

    Raises:
        ValidationError: an input has no data yet. ``EngineError``: the settings do not fit the
            inputs, or the counts failed (the preview shows the same problem).
    """
    from modelworks.engine.flow import count_unmatched_in_duckdb
    from modelworks.engine.recipes import normalize_spec
    from modelworks.engine.recipes.sampling import PREVIEW_TIMEOUT_S
    from modelworks.flows.services.graph import input_relations
    from modelworks.flows.services.join_report import is_join

    if not is_join(draft.kind):
        return []
    paths, columns = _input_files(draft)
    spec = normalize_spec(draft.kind, dict(draft.spec), recipe=draft.name)
    relations = input_relations(draft.inputs, columns)
    return list(
        count_unmatched_in_duckdb(
            spec,
            relations,
            paths,
            recipe=draft.name,
            sample_rows=PREVIEW_SAMPLE_ROWS,
            timeout_s=PREVIEW_TIMEOUT_S,
        )
    )
