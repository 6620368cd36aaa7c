"""Creating, changing and deleting recipes (validated by the engine first, atomic and audited), and
previewing a recipe's output on samples of its inputs.

A change is checked completely before anything is written: the settings (``normalize_spec``), the
inputs and outputs, that the flow stays free of loops, and that the recipe compiles against its
inputs' current columns (``compile_recipe`` + ``output_schemas``). Errors are ``ValidationError``s
keyed by field (``name``, ``kind``, ``inputs``, ``outputs``, ``spec``), so a form and the API show
the same message.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from modelworks.core import audit
from modelworks.core.models import Project, User
from modelworks.datasets.models import Dataset, SourceKind
from modelworks.datasets.models.datasets import validate_dataset_name
from modelworks.flows.models import Build, Recipe, RecipeInput, RecipeKind, RecipeOutput
from modelworks.flows.services.graph import RecipeShape, propagate_schemas
from modelworks.flows.services.history import record_revision
from modelworks.flows.services.pushdown import (
    OutputChoice,
    apply_storage,
    check_storage,
    split_outputs,
    storage_of,
)

__all__ = [
    "ValidatedRecipe",
    "create_recipe",
    "delete_recipe",
    "kind_info",
    "recipes_using",
    "update_recipe",
    "validate_recipe",
]

_UNSET: Any = object()


@dataclass(frozen=True)
class ValidatedRecipe:
    """What ``validate_recipe`` returns: the normalised spec, the outputs (existing datasets, or
    names of datasets to create) and each output's columns by name (empty for a Python recipe,
    whose columns are only known once it ran)."""

    spec: dict[str, Any]
    outputs: tuple[Dataset | str, ...]
    output_columns: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def kind_info(kind: str) -> Any:
    """The engine's ``RecipeKindInfo`` of ``kind``, or a ValidationError keyed by ``kind``."""
    from modelworks.engine.recipes import RECIPE_KINDS

    if kind not in RecipeKind.values or kind not in RECIPE_KINDS:
        raise ValidationError(
            {"kind": f"'{kind}' is not a recipe kind; use one of {', '.join(RecipeKind.values)}."}
        )
    return RECIPE_KINDS[kind]


def _check_name(project: Project, name: str, recipe: Recipe | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the recipe a name, e.g. 'Clean flights'."})
    if len(name) > 200:
        raise ValidationError({"name": "Use at most 200 characters."})
    try:
        validate_dataset_name(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from exc
    taken = Recipe.objects.filter(project=project, name=name)
    if recipe is not None:
        taken = taken.exclude(pk=recipe.pk)
    if taken.exists():
        raise ValidationError({"name": f"A recipe named '{name}' already exists here; choose another name."})
    return name


def _check_links(
    project: Project,
    kind: str,
    inputs: Sequence[Dataset],
    outputs: Sequence[Dataset | str],
    recipe: Recipe | None,
) -> tuple[Dataset | str, ...]:
    """Check inputs and outputs; return the outputs with names of existing datasets resolved."""
    info = kind_info(kind)
    label = getattr(info, "label", kind)
    low, high = getattr(info, "min_inputs", 1), getattr(info, "max_inputs", None)
    if len(inputs) < low or (high is not None and len(inputs) > high):
        wanted = (
            f"exactly {low}" if high == low else f"at least {low}" if high is None else f"{low} to {high}"
        )
        raise ValidationError(
            {"inputs": f"A {label} recipe reads {wanted} input dataset(s); {len(inputs)} given."}
        )
    seen: set[int] = set()
    for dataset in inputs:
        if dataset.project_id != project.pk:
            raise ValidationError({"inputs": f"Dataset '{dataset.name}' belongs to another project."})
        if dataset.pk in seen:
            raise ValidationError(
                {"inputs": f"Dataset '{dataset.name}' is given twice; list each input once."}
            )
        seen.add(dataset.pk)
    out_low = getattr(info, "min_outputs", 1)
    out_high = getattr(info, "max_outputs", 1)
    if len(outputs) < out_low or (out_high is not None and len(outputs) > out_high):
        wanted = f"exactly {out_low}" if out_high == out_low else f"{out_low} or more"
        raise ValidationError(
            {"outputs": f"A {label} recipe writes {wanted} output dataset(s); {len(outputs)} given."}
        )
    resolved: list[Dataset | str] = []
    names: set[str] = set()
    for output in outputs:
        if isinstance(output, str):
            name = output.strip()
            existing = Dataset.objects.filter(project=project, name=name).first()
            if existing is None:
                if not name:
                    raise ValidationError({"outputs": "Give each output dataset a name."})
                if len(name) > 200:
                    raise ValidationError(
                        {"outputs": f"'{name[:40]}…' is too long; use at most 200 characters."}
                    )
                try:
                    validate_dataset_name(name)
                except ValidationError as exc:
                    raise ValidationError({"outputs": exc.messages}) from exc
                output = name
            else:
                output = existing
        name = output if isinstance(output, str) else output.name
        if name in names:
            raise ValidationError(
                {"outputs": f"Output '{name}' is given twice; each output needs its own dataset."}
            )
        names.add(name)
        if isinstance(output, Dataset):
            if output.project_id != project.pk:
                raise ValidationError({"outputs": f"Dataset '{output.name}' belongs to another project."})
            if output.pk in seen:
                raise ValidationError(
                    {
                        "outputs": f"'{output.name}' is an input of this recipe; a recipe cannot write its own input."
                    }
                )
            producer = RecipeOutput.objects.filter(dataset=output).select_related("recipe").first()
            if producer is not None and (recipe is None or producer.recipe_id != recipe.pk):
                raise ValidationError(
                    {
                        "outputs": f"'{output.name}' is already written by recipe '{producer.recipe.name}'; "
                        "a dataset has one producing recipe, so choose a new dataset name."
                    }
                )
        resolved.append(output)
    return tuple(resolved)


def validate_recipe(
    project: Project,
    *,
    name: str,
    kind: str,
    inputs: Sequence[Dataset],
    outputs: Sequence[Dataset | str | OutputChoice],
    spec: Mapping[str, Any] | None,
    recipe: Recipe | None = None,
) -> ValidatedRecipe:
    """Check a recipe (new, or a change of ``recipe``) completely, without writing anything.

    Checks, in order: the name, the kind, the inputs and outputs (counts, projects, a dataset
    written by one recipe only, never its own input), the settings (``normalize_spec``), that the
    flow has no loop with this recipe in it, and that it compiles against the current columns of its
    inputs (propagated through upstream recipes not built yet).

    Returns:
        The normalised spec and the output columns.

    Raises:
        ValidationError: keyed by ``name``, ``kind``, ``inputs``, ``outputs`` or ``spec``; the
            message names the recipe, the column or the loop.
    """
    from modelworks.engine.errors import EngineError
    from modelworks.engine.flow import GraphError
    from modelworks.engine.recipes import normalize_spec

    name = _check_name(project, name, recipe)
    outputs, storage = split_outputs(outputs)  # outputs may say where they are stored (push-down)
    resolved = _check_links(project, kind, list(inputs), list(outputs), recipe)
    check_storage(project, storage, [o if isinstance(o, str) else o.name for o in resolved])
    try:
        normalized = normalize_spec(kind, dict(spec or {}), recipe=name)
    except EngineError as exc:
        raise ValidationError({"spec": exc.message}, code=exc.code) from exc
    shape = RecipeShape(
        id=recipe.pk if recipe is not None else None,
        name=name,
        kind=kind,
        spec=normalized,
        inputs=tuple(inputs),
        outputs=resolved,
    )
    try:
        propagation = propagate_schemas(project, replace=shape)
    except GraphError as exc:
        field_name = "outputs" if "written by two" in exc.message else "inputs"
        raise ValidationError({field_name: exc.message}, code=exc.code) from exc
    problem = propagation.problems.get(shape.key)
    if problem is not None:
        field_name = "inputs" if problem.code in ("flow_unknown_schema", "flow_upstream_error") else "spec"
        raise ValidationError({field_name: problem.message}, code=problem.code)
    columns = propagation.output_schemas.get(shape.key, {})
    return ValidatedRecipe(
        spec=normalized,
        outputs=resolved,
        output_columns={out: [c.to_dict() for c in cols] for out, cols in columns.items()},
    )


def _write_links(
    recipe: Recipe, inputs: Sequence[Dataset], outputs: Sequence[Dataset | str], actor: User | None
) -> list[Dataset]:
    """Replace the recipe's input and output rows; create the new output datasets. Returns them."""
    created: list[Dataset] = []
    recipe.input_links.all().delete()
    recipe.output_links.all().delete()
    for position, dataset in enumerate(inputs):
        RecipeInput.objects.create(recipe=recipe, dataset=dataset, position=position)
    for position, output in enumerate(outputs):
        if isinstance(output, str):
            dataset = Dataset(
                project=recipe.project,
                name=output,
                description=f"Written by recipe '{recipe.name}'.",
                owner=actor,
                created_by=actor,
                source_kind=SourceKind.RECIPE,
            )
            dataset.full_clean()
            dataset.save()
            audit.record(
                "dataset.created",
                actor=actor,
                project=recipe.project,
                target=dataset,
                details={"how": SourceKind.RECIPE, "recipe": recipe.name},
            )
            created.append(dataset)
        else:
            dataset = output
        RecipeOutput.objects.create(recipe=recipe, dataset=dataset, position=position)
    return created


def create_recipe(
    project: Project,
    *,
    actor: User,
    name: str,
    kind: str,
    inputs: Sequence[Dataset],
    outputs: Sequence[Dataset | str | OutputChoice],
    spec: Mapping[str, Any] | None = None,
    description: str = "",
    virtual_outputs: Collection[str] = (),
    request: HttpRequest | None = None,
) -> Recipe:
    """Create a recipe, and its new output datasets (empty until built, ``source_kind=recipe``).

    Args:
        project: the project.
        actor: who creates it.
        name: unique in the project.
        kind: one of ``RecipeKind``.
        inputs: the datasets read, in order.
        outputs: existing datasets (not written by another recipe, not inputs) or names of new ones;
            an :class:`~.pushdown.OutputChoice` also says where the output's versions are stored
            (a PostgreSQL connection of the project and a schema; default: Modelworks storage).
        spec: the engine settings of ``kind`` (normalised before saving).
        description: free text.
        virtual_outputs: names of outputs not to store: the recipes reading them compute them on the
            fly (see ``services.pipeline``; not for Python recipes).
        request: for the audit log.

    Raises:
        ValidationError: see :func:`validate_recipe` and ``pipeline.check_virtual_outputs``.
    """
    from modelworks.flows.services import pipeline

    checked = validate_recipe(project, name=name, kind=kind, inputs=inputs, outputs=outputs, spec=spec)
    resolved = checked.outputs
    virtual = pipeline.check_virtual_outputs(
        project,
        kind=kind,
        inputs=inputs,
        outputs=resolved,
        virtual=virtual_outputs,
        storage=split_outputs(outputs)[1],
    )
    storage = split_outputs(outputs)[1]
    with transaction.atomic():
        recipe = Recipe(
            project=project,
            name=name.strip(),
            kind=kind,
            spec=checked.spec,
            description=description or "",
            created_by=actor,
            updated_by=actor,
        )
        recipe.full_clean()
        recipe.save()
        created = _write_links(recipe, inputs, resolved, actor)
        apply_storage(recipe, storage, {})
        pipeline.set_virtual_outputs(recipe, virtual)
        recipe.spec_hash = recipe.compute_spec_hash()
        recipe.save(update_fields=["spec_hash"])
        record_revision(recipe, actor=actor, change="created")
        audit.record(
            "flows.recipe_created",
            actor=actor,
            project=project,
            target=recipe,
            request=request,
            details={
                "kind": kind,
                "inputs": [d.name for d in inputs],
                "outputs": [o if isinstance(o, str) else o.name for o in resolved],
                "new_datasets": [d.name for d in created],
                "not_stored": sorted(virtual),
            },
        )
    return recipe


def update_recipe(
    recipe: Recipe,
    *,
    actor: User,
    name: str = _UNSET,
    inputs: Sequence[Dataset] = _UNSET,
    outputs: Sequence[Dataset | str | OutputChoice] = _UNSET,
    spec: Mapping[str, Any] = _UNSET,
    description: str = _UNSET,
    virtual_outputs: Collection[str] = _UNSET,
    request: HttpRequest | None = None,
) -> Recipe:
    """Change a recipe; arguments left out keep their value. The kind cannot change.

    Outputs dropped from the recipe stay as datasets with their versions (no recipe writes them
    any more); new output names create datasets as in :func:`create_recipe`. An output given as an
    :class:`~.pushdown.OutputChoice` sets its storage; given plainly, it keeps the storage it had.
    ``virtual_outputs`` names the outputs not to store (left out: the outputs that were not stored
    stay so).

    Raises:
        ValidationError: see :func:`validate_recipe` and ``pipeline.check_virtual_outputs``.
    """
    from modelworks.flows.services import pipeline

    recipe = Recipe.objects.with_links().get(pk=recipe.pk)
    new_name = recipe.name if name is _UNSET else name
    new_inputs = recipe.input_datasets if inputs is _UNSET else list(inputs)
    new_outputs, storage = split_outputs(recipe.output_datasets if outputs is _UNSET else list(outputs))
    new_spec = recipe.spec if spec is _UNSET else spec
    checked = validate_recipe(
        recipe.project,
        name=new_name,
        kind=recipe.kind,
        inputs=new_inputs,
        outputs=new_outputs,
        spec=new_spec,
        recipe=recipe,
    )
    resolved = checked.outputs
    was_virtual = sorted(link.dataset.name for link in recipe.output_links.all() if link.virtual)
    virtual = pipeline.check_virtual_outputs(
        recipe.project,
        kind=recipe.kind,
        inputs=new_inputs,
        outputs=resolved,
        virtual=(
            [n for n in was_virtual if n in {o if isinstance(o, str) else o.name for o in resolved}]
            if virtual_outputs is _UNSET
            else virtual_outputs
        ),
        recipe=recipe,
        storage=storage,
    )
    before = {
        "name": recipe.name,
        "spec": recipe.spec,
        "description": recipe.description,
        "inputs": [d.pk for d in recipe.input_datasets],
        "outputs": [d.pk for d in recipe.output_datasets],
        "output_storage": storage_of(recipe),
        "not_stored": was_virtual,
    }
    with transaction.atomic():
        recipe.name = new_name.strip()
        recipe.spec = checked.spec
        if description is not _UNSET:
            recipe.description = description or ""
        recipe.updated_by = actor
        recipe.full_clean()
        recipe.save()
        created: list[Dataset] = []
        links_changed = [d.pk for d in new_inputs] != before["inputs"] or [
            o if isinstance(o, str) else o.pk for o in resolved
        ] != before["outputs"]
        if links_changed:
            created = _write_links(recipe, new_inputs, resolved, actor)
        apply_storage(Recipe.objects.with_links().get(pk=recipe.pk), storage, before["output_storage"])
        pipeline.set_virtual_outputs(recipe, virtual)
        recipe = Recipe.objects.with_links().get(pk=recipe.pk)
        recipe.spec_hash = recipe.compute_spec_hash()
        recipe.save(update_fields=["spec_hash"])
        record_revision(recipe, actor=actor)
        after = {
            "name": recipe.name,
            "spec": recipe.spec,
            "description": recipe.description,
            "inputs": [d.pk for d in recipe.input_datasets],
            "outputs": [d.pk for d in recipe.output_datasets],
            "output_storage": storage_of(recipe),
            "not_stored": sorted(virtual),
        }
        audit.record(
            "flows.recipe_updated",
            actor=actor,
            project=recipe.project,
            target=recipe,
            request=request,
            details={
                "changed": sorted(k for k in after if after[k] != before[k]),
                "new_datasets": [d.name for d in created],
            },
        )
    return recipe


def delete_recipe(recipe: Recipe, *, actor: User, request: HttpRequest | None = None) -> None:
    """Delete a recipe. Its output datasets stay, with every version (no recipe writes them any more).

    Raises:
        ValidationError: a build that may run this recipe is queued or running (cancel it or wait).
    """
    busy = Build.objects.unfinished().filter(project=recipe.project_id)
    for build in busy:
        if recipe.pk in (build.scope or []):
            raise ValidationError(
                {
                    "__all__": f"Build {build.pk} may still run recipe '{recipe.name}'; wait for it to end "
                    "or cancel it, then delete the recipe."
                }
            )
    outputs = [d.name for d in Recipe.objects.with_links().get(pk=recipe.pk).output_datasets]
    with transaction.atomic():
        audit.record(
            "flows.recipe_deleted",
            actor=actor,
            project=recipe.project,
            target=recipe,
            request=request,
            details={"kind": recipe.kind, "outputs_kept": outputs},
        )
        record_revision(recipe, actor=actor, change="deleted")
        recipe.delete()


def recipes_using(dataset: Dataset) -> dict[str, list[str]]:
    """The recipes that read (``reads``) and write (``writes``) ``dataset``, by name.

    The datasets app can call this before deleting a dataset: recipe inputs and outputs protect
    their datasets (deleting one raises ``ProtectedError``), so the message can name the recipes.
    """
    return {
        "reads": sorted(RecipeInput.objects.filter(dataset=dataset).values_list("recipe__name", flat=True)),
        "writes": sorted(RecipeOutput.objects.filter(dataset=dataset).values_list("recipe__name", flat=True)),
    }
