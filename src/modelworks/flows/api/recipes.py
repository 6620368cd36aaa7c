"""``/projects/{slug}/recipes``: list, create, read, change, delete and preview recipes;
``/recipe-kinds``: the kinds of recipe and the prepare processors, for building editors."""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

import dataclasses
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.core.permissions import get_project
from modelworks.flows import services
from modelworks.flows.api.common import engine_error, get_recipe, resolve_datasets, resolve_outputs
from modelworks.flows.models import Recipe
from modelworks.flows.schemas import (
    OutputIn,
    PreviewIn,
    PreviewOut,
    RecipeIn,
    RecipeKindsOut,
    RecipeOut,
    RecipePatch,
)
from modelworks.flows.services.pushdown import OutputChoice, OutputStorage

router = Router(tags=["flows"])


def _outputs(project: Any, entries: list[Any]) -> list[Any]:
    """The outputs of a request: datasets or new names, with their storage when an entry gives one."""
    found: list[Any] = []
    for entry in entries:
        if isinstance(entry, OutputIn):
            (target,) = resolve_outputs(project, [entry.name])
            storage = OutputStorage(entry.connection_id, entry.schema_name or "")
            found.append(OutputChoice(target, storage))
        else:
            found.extend(resolve_outputs(project, [entry]))
    return found


def _not_stored(project: Any, entries: list[Any], recipe: Any = None) -> list[str]:
    """The names of the outputs not to store: objects with ``"virtual": true``, and outputs given
    plainly that ``recipe`` already does not store."""
    kept = {link.dataset_id for link in recipe.output_links.all() if link.virtual} if recipe else set()
    names: list[str] = []
    for entry in entries:
        (target,) = resolve_outputs(project, [entry.name if isinstance(entry, OutputIn) else entry])
        virtual = entry.virtual if isinstance(entry, OutputIn) else getattr(target, "pk", None) in kept
        if virtual:
            names.append(target if isinstance(target, str) else target.name)
    return names


def _as_dict(value: Any) -> dict[str, Any]:
    if hasattr(value, "to_dict"):
        data: dict[str, Any] = value.to_dict()
        return data
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return dict(value)


@router.get(
    "/recipe-kinds",
    response=responses({200: RecipeKindsOut}),
    operation_id="recipe_kinds",
    summary="Recipe kinds and prepare processors",
)
def recipe_kinds(request: HttpRequest) -> dict[str, Any]:
    """Every recipe kind (inputs, outputs, settings) and every processor of prepare recipes, with
    their settings described so an editor can be generated (any signed-in user)."""
    from modelworks.engine.recipes import RECIPE_KINDS
    from modelworks.engine.recipes.prepare import PROCESSORS

    kinds = [{"name": name, **_as_dict(info)} for name, info in RECIPE_KINDS.items()]
    processors = [{"name": name, **_as_dict(info)} for name, info in PROCESSORS.items()]
    return {"kinds": kinds, "processors": processors}


@router.get(
    "/projects/{slug}/recipes",
    response=responses({200: list[RecipeOut]}, 404, 422),
    operation_id="recipes_list",
    summary="List a project's recipes",
)
@paginate
def recipes_list(request: HttpRequest, slug: str) -> QuerySet:
    """The project's recipes by name, with their inputs and outputs (readers and above)."""
    project, _ = get_project(request.user, slug, Role.READER)
    return (
        Recipe.objects.filter(project=project)
        .select_related("project", "created_by", "updated_by")
        .with_links()
        .order_by("name", "id")
    )


@router.post(
    "/projects/{slug}/recipes",
    response=responses({201: RecipeOut}, 403, 404, 422),
    operation_id="recipes_create",
    summary="Create a recipe",
)
def recipes_create(request: HttpRequest, slug: str, payload: RecipeIn) -> Status:
    """Create a recipe; outputs named but not existing are created as empty datasets (contributors).
    An output may be stored in a PostgreSQL connection of the project (``{"name", "connection_id",
    "schema"}``): recipes whose inputs live there too then run inside that database. ``{"name",
    "virtual": true}`` does not store it: the recipes reading it compute it on the fly. The settings
    are checked against the inputs' current columns before anything is saved."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    recipe = services.create_recipe(
        project,
        actor=request.user,
        name=payload.name,
        kind=payload.kind,
        inputs=resolve_datasets(project, payload.inputs, "inputs"),
        outputs=_outputs(project, payload.outputs),
        spec=payload.spec,
        description=payload.description,
        virtual_outputs=_not_stored(project, payload.outputs),
        request=request,
    )
    return Status(201, get_recipe(request.user, slug, recipe.pk)[1])


@router.post(
    "/projects/{slug}/recipes/preview",
    response=responses({200: PreviewOut}, 403, 404, 422),
    operation_id="recipes_preview_draft",
    summary="Preview unsaved recipe settings",
)
def recipes_preview_draft(request: HttpRequest, slug: str, payload: PreviewIn) -> Any:
    """Run settings that are not saved yet on a sample of the inputs' current versions (contributors,
    who edit recipes). Errors name the column and the setting to fix. A Python recipe's code runs in
    the sandbox on the sample (at most 30 s); its errors carry ``details.traceback`` and
    ``details.log``."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    draft = services.RecipeDraft(
        project=project,
        kind=payload.kind,
        spec=payload.spec,
        inputs=tuple(resolve_datasets(project, payload.inputs, "inputs")),
        outputs=tuple(payload.outputs),
        name="preview",
    )
    return _preview(draft, payload.output, payload.limit)


def _preview(target: Any, output: str | None, limit: int) -> Any:
    from modelworks.engine.errors import EngineError

    try:
        result = services.recipe_preview(target, output=output, limit=limit)
    except services.PreviewError as exc:
        # The engine's own code (recipe_missing_column…) and details (step, column), not a generic 422.
        return engine_error(exc.engine_error)
    except EngineError as exc:
        return engine_error(exc)
    return {
        "columns": [_as_dict(c) for c in result.columns],
        "rows": [list(row) for row in result.rows],
        "row_count_sampled": result.row_count_sampled,
        "log": result.log,
    }


@router.get(
    "/projects/{slug}/recipes/{recipe_id}",
    response=responses({200: RecipeOut}, 404),
    operation_id="recipes_get",
    summary="Get a recipe",
)
def recipes_get(request: HttpRequest, slug: str, recipe_id: int) -> Recipe:
    """A recipe with its settings, inputs and outputs (readers and above)."""
    return get_recipe(request.user, slug, recipe_id)[1]


@router.patch(
    "/projects/{slug}/recipes/{recipe_id}",
    response=responses({200: RecipeOut}, 403, 404, 422),
    operation_id="recipes_update",
    summary="Change a recipe",
)
def recipes_update(request: HttpRequest, slug: str, recipe_id: int, payload: RecipePatch) -> Recipe:
    """Change the name, inputs, outputs, settings or description (contributors); fields left out
    keep their value. Checked like a new recipe before anything is saved."""
    project, recipe = get_recipe(request.user, slug, recipe_id, Role.CONTRIBUTOR)
    changes: dict[str, Any] = payload.dict(exclude_unset=True)
    if changes.get("inputs") is not None:
        changes["inputs"] = resolve_datasets(project, changes["inputs"], "inputs")
    if changes.get("outputs") is not None:
        changes["outputs"] = _outputs(project, list(payload.outputs or []))
        changes["virtual_outputs"] = _not_stored(project, list(payload.outputs or []), recipe)
    changes = {k: v for k, v in changes.items() if v is not None}
    services.update_recipe(recipe, actor=request.user, request=request, **changes)
    return get_recipe(request.user, slug, recipe_id)[1]


@router.delete(
    "/projects/{slug}/recipes/{recipe_id}",
    response=responses({204: None}, 403, 404, 422),
    operation_id="recipes_delete",
    summary="Delete a recipe",
)
def recipes_delete(request: HttpRequest, slug: str, recipe_id: int) -> Status:
    """Delete a recipe; its output datasets stay, with every version (contributors)."""
    _, recipe = get_recipe(request.user, slug, recipe_id, Role.CONTRIBUTOR)
    services.delete_recipe(recipe, actor=request.user, request=request)
    return Status(204, None)


@router.get(
    "/projects/{slug}/recipes/{recipe_id}/preview",
    response=responses({200: PreviewOut}, 404, 422),
    operation_id="recipes_preview",
    summary="Preview a recipe's output",
)
def recipes_preview(
    request: HttpRequest,
    slug: str,
    recipe_id: int,
    output: str | None = Query(None, description="The output to show (default: the first)."),
    limit: int = Query(100, ge=1, le=1000),
) -> Any:
    """The saved recipe run on a sample of its inputs' current versions (readers and above)."""
    _, recipe = get_recipe(request.user, slug, recipe_id)
    return _preview(recipe, output, limit)
