"""Panels the flows app adds to pages of other apps.

The datasets app cannot import this app (the flows app depends on it), so its dataset page reads
the ``MODELWORKS_DATASET_PANELS`` setting: dotted paths of functions
``(request, project, dataset) -> {"template": ..., "context": {...}} | None`` whose templates it
includes in its side column, each with its ``context`` as ``panel`` (next to the page's own
context: ``project``, ``dataset``, ``can_contribute``…). The page has already checked that the user
may see the dataset.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset
from modelworks.flows.models import Recipe, RecipeKind, RecipeOutput

__all__ = ["dataset_flow_panel", "flow_focus_url"]


def flow_focus_url(project: Project, dataset: Dataset) -> str:
    """The flow page with ``dataset`` selected and centred."""
    return reverse("flows:flow", args=[project.slug]) + f"?focus=dataset:{dataset.pk}"


def _link(project: Project, recipe: Recipe) -> dict[str, Any]:
    label = RecipeKind(recipe.kind).label if recipe.kind in RecipeKind.values else recipe.kind
    return {
        "name": recipe.name,
        "kind_label": label,
        "url": reverse("flows:recipe", args=[project.slug, recipe.pk]),
    }


def dataset_flow_panel(request: HttpRequest, project: Project, dataset: Dataset) -> dict[str, Any]:
    """ "In the Flow": the recipe that writes ``dataset``, the recipes that read it (links to their
    pages), and a link to the flow page focused on it.

    Args:
        request: the dataset page's request (its user may see the project).
        project: the dataset's project.
        dataset: the dataset the page shows.

    Returns:
        ``{"template": "flows/partials/dataset_flow_panel.html", "context": {...}}``.
    """
    link = RecipeOutput.objects.filter(dataset=dataset).select_related("recipe").first()
    readers = Recipe.objects.filter(project=project, input_links__dataset=dataset).distinct().order_by("name")
    return {
        "template": "flows/partials/dataset_flow_panel.html",
        "context": {
            "writer": _link(project, link.recipe) if link is not None else None,
            "virtual": bool(link is not None and link.virtual),
            "readers": [_link(project, r) for r in readers],
            "flow_url": flow_focus_url(project, dataset),
            "new_recipe_url": reverse("flows:recipe_new", args=[project.slug, "prepare"])
            + f"?input={dataset.pk}",
        },
    }
