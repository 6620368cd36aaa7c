"""Previews: a recipe (saved, or a draft from the editor) run on samples of its inputs' versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset
from modelworks.flows.models import Recipe, RecipeKind
from modelworks.flows.services.graph import version_columns
from modelworks.flows.services.recipes import kind_info

__all__ = ["RecipeDraft", "recipe_preview"]


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
        ValidationError: keyed by ``spec`` (settings, missing column…), ``inputs`` (an input has
            no data yet) or ``output``; ``kind`` for a Python recipe (run it in a build instead).
        modelworks.engine.errors.EngineError: the preview query itself failed.
    """
    from modelworks.engine.errors import EngineError
    from modelworks.engine.recipes import compile_recipe, normalize_spec, preview
    from modelworks.flows.services.graph import input_relations

    draft = RecipeDraft.of(target) if isinstance(target, Recipe) else target
    kind_info(draft.kind)
    if draft.kind == RecipeKind.PYTHON:
        raise ValidationError(
            {"kind": "Python recipes cannot be previewed here; build the recipe to see its output."}
        )
    if not draft.outputs:
        raise ValidationError({"outputs": "Give the recipe at least one output to preview."})
    chosen = output or draft.outputs[0]
    if chosen not in draft.outputs:
        raise ValidationError({"output": f"'{chosen}' is not an output of this recipe."})
    paths: dict[str, Any] = {}
    columns = []
    for dataset in draft.inputs:
        version = dataset.current_version
        if version is None:
            raise ValidationError(
                {"inputs": f"'{dataset.name}' has no data yet; import it or build it first to preview."}
            )
        from modelworks.datasets.services import version_path

        paths[dataset.name] = version_path(version)
        known = version_columns(version)
        assert known is not None
        columns.append(known)
    try:
        spec = normalize_spec(draft.kind, dict(draft.spec), recipe=draft.name)
        relations = input_relations(draft.inputs, columns)
        compiled = compile_recipe(draft.kind, spec, relations, list(draft.outputs), recipe=draft.name)
        return preview(
            compiled.output(chosen),
            paths,
            relations,
            limit=max(1, min(int(limit), 1000)),
            recipe=draft.name,
        )
    except EngineError as exc:
        if exc.code.startswith("recipe"):
            raise ValidationError({"spec": exc.message}, code=exc.code) from exc
        raise
