"""``/projects/{slug}/recipes/{recipe_id}/revisions``: a recipe's history, one revision with its diff
to the previous one, and reverting to a revision.

The history stays readable after the recipe is deleted (``recipe_id`` is then the former id).
"""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from modelworks.core.api.errors import responses
from modelworks.core.models import Project, Role
from modelworks.core.permissions import get_project
from modelworks.core.schemas import UserRef
from modelworks.flows.api.common import get_recipe
from modelworks.flows.models import Recipe, RecipeRevision
from modelworks.flows.services import history

router = Router(tags=["flows"])


class RevisionOut(Schema):
    """One revision of a recipe: what changed, who, when, and the recipe's state after it."""

    number: int
    change: str = Field(description="created, updated, renamed, reverted or deleted.")
    reverted_from: int | None = Field(None, description="For a revert: the revision restored.")
    recipe_id: int = Field(description="The recipe's id (kept after the recipe is deleted).")
    name: str
    kind: str
    description: str
    inputs: list[str] = Field(description="Input dataset names, in order.")
    outputs: list[str] = Field(description="Output dataset names, in order.")
    spec: dict[str, Any]
    output_settings: dict[str, Any] | None = Field(
        None,
        description="Output name → its storage when not Modelworks storage ({storage: {connection, "
        "connection_id, schema}} or {virtual: true}); null for revisions older than this record.",
    )
    created_by: UserRef | None
    created_at: datetime

    @staticmethod
    def resolve_recipe_id(obj: Any) -> int:
        return int(obj["recipe_id"] if isinstance(obj, dict) else obj.recipe_pk)


class RevisionDetailOut(RevisionOut):
    """A revision with its canonical YAML and the unified diff from the revision before it."""

    yaml: str = Field(description="The state as canonical YAML (what the diff compares).")
    diff: str = Field(description="Unified diff from the previous revision (empty when nothing changed).")
    previous: int | None = Field(None, description="The number of the revision compared to.")


def _revisions(user: Any, slug: str, recipe_id: int) -> tuple[Project, Any]:
    """The project and the revisions of recipe ``recipe_id`` (404 when there is neither recipe nor history)."""
    project, _ = get_project(user, slug, Role.READER)
    rows = RecipeRevision.objects.of_recipe(project.pk, recipe_id).select_related("created_by")
    if not rows.exists() and not Recipe.objects.filter(project=project, pk=recipe_id).exists():
        raise Http404(f"No recipe {recipe_id} in project '{slug}'.")
    return project, rows


def _detail(revision: RecipeRevision, previous: RecipeRevision | None) -> dict[str, Any]:
    return {
        **{name: getattr(revision, name) for name in ("number", "change", "reverted_from", "name", "kind")},
        "recipe_id": revision.recipe_pk,
        "description": revision.description,
        "inputs": list(revision.inputs),
        "outputs": list(revision.outputs),
        "spec": revision.spec,
        "output_settings": revision.output_settings,
        "created_by": revision.created_by,
        "created_at": revision.created_at,
        "yaml": history.revision_yaml(revision),
        "diff": history.diff_revisions(previous, revision),
        "previous": previous.number if previous is not None else None,
    }


@router.get(
    "/projects/{slug}/recipes/{recipe_id}/revisions",
    response=responses({200: list[RevisionOut]}, 404, 422),
    operation_id="recipe_revisions_list",
    summary="List a recipe's revisions",
)
@paginate
def recipe_revisions_list(request: HttpRequest, slug: str, recipe_id: int) -> Any:
    """Every revision of the recipe, newest first: who changed it, when, and how (readers and above).
    Works for a deleted recipe too, by its former id."""
    _, rows = _revisions(request.user, slug, recipe_id)
    return rows.order_by("-number")


@router.get(
    "/projects/{slug}/recipes/{recipe_id}/revisions/{number}",
    response=responses({200: RevisionDetailOut}, 404),
    operation_id="recipe_revisions_get",
    summary="Get a revision and its diff",
)
def recipe_revisions_get(request: HttpRequest, slug: str, recipe_id: int, number: int) -> dict[str, Any]:
    """One revision with its state as YAML and the unified diff from the revision before it."""
    _, rows = _revisions(request.user, slug, recipe_id)
    revision = rows.filter(number=number).first()
    if revision is None:
        raise Http404(f"Recipe {recipe_id} has no revision {number}.")
    previous = rows.filter(number__lt=number).order_by("-number").first()
    return _detail(revision, previous)


@router.post(
    "/projects/{slug}/recipes/{recipe_id}/revisions/{number}/revert",
    response=responses({200: RevisionDetailOut}, 403, 404, 422),
    operation_id="recipe_revisions_revert",
    summary="Revert a recipe to a revision",
)
def recipe_revisions_revert(request: HttpRequest, slug: str, recipe_id: int, number: int) -> dict[str, Any]:
    """Give the recipe the state of revision ``number`` again (contributors). It is checked like any
    edit, so settings that no longer fit today's inputs are refused with the reason; the result is a
    new ``reverted`` revision, returned with its diff."""
    _, recipe = get_recipe(request.user, slug, recipe_id, Role.CONTRIBUTOR)
    _, revision = history.revert_recipe(recipe, to=number, actor=request.user, request=request)
    previous = (
        RecipeRevision.objects.filter(recipe_pk=recipe.pk, number__lt=revision.number)
        .order_by("-number")
        .first()
    )
    return _detail(revision, previous)
