"""The flows app's rows of the generated permission suite for pages (``FLOWS_PAGE_ROUTES``), spliced
into ``modelworks.core.testing.page_routes``: every page of this app needs a row.

Readers see the flow, recipes and builds; contributors create, edit, preview, build, cancel and
delete. The editor's operation and preview URLs take the whole form by POST, so they are
contributor-only like the pages that use them.
"""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, PageRouteCase, PermissionWorld
from modelworks.datasets.testing import world_dataset
from modelworks.flows.testing import revised_recipe_args, world_build, world_recipe

__all__ = ["FLOWS_PAGE_ROUTES", "sort_recipe_form"]

READER = Access.project(Role.READER)
CONTRIBUTOR = Access.project(Role.CONTRIBUTOR)
REDIRECTED = (303,)
HTMX = {"HX-Request": "true"}


def sort_recipe_form(
    w: PermissionWorld, *, name: str = "By delay", output: str = "Flights sorted"
) -> dict[str, Any]:
    """The editor form of a sort recipe over the world's dataset (by ``dep_delay``, descending)."""
    return {
        "name": name,
        "description": "",
        "inputs": [str(world_dataset(w).pk)],
        "outputs": [output],
        "spec.columns.n": "1",
        "spec.columns.0.column": "dep_delay",
        "spec.columns.0.direction": "desc",
    }


def _flow(w: PermissionWorld) -> dict[str, Any]:
    world_recipe(w)
    return {"slug": w.project.slug}


def _new_sort(w: PermissionWorld) -> dict[str, Any]:
    world_dataset(w)
    return {"slug": w.project.slug, "kind": "sort"}


def _recipe(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": world_recipe(w).pk}


def _build(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": world_build(w).pk}


def _edit_form(w: PermissionWorld) -> dict[str, Any]:
    return sort_recipe_form(w, name="Sort flights", output="Flights by delay")


FLOWS_PAGE_ROUTES: list[PageRouteCase] = [
    # The flow, its canvas refresh and its check panel
    PageRouteCase("flows:flow", READER, _flow),
    PageRouteCase("flows:flow", READER, _flow, headers=HTMX),
    PageRouteCase("flows:check", READER, _flow, headers=HTMX),
    PageRouteCase(
        "flows:build_submit",
        CONTRIBUTOR,
        _flow,
        method="POST",
        data=lambda w: {"node": f"recipe:{world_recipe(w).pk}", "force": "on"},
        ok_statuses=REDIRECTED,
    ),
    # Builds
    PageRouteCase("flows:builds", READER, _flow),
    PageRouteCase("flows:build", READER, _build),
    PageRouteCase("flows:build", READER, _build, headers=HTMX),
    PageRouteCase("flows:build_cancel", CONTRIBUTOR, _build, method="POST", ok_statuses=REDIRECTED),
    # New recipe: the page, its editor operations, its preview, and saving
    PageRouteCase("flows:recipe_new", CONTRIBUTOR, _new_sort),
    PageRouteCase(
        "flows:recipe_new",
        CONTRIBUTOR,
        _new_sort,
        method="POST",
        data=sort_recipe_form,
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "flows:recipe_new_editor",
        CONTRIBUTOR,
        _new_sort,
        method="POST",
        data=lambda w: {**sort_recipe_form(w), "op": "add:spec.columns"},
        headers=HTMX,
    ),
    PageRouteCase(
        "flows:recipe_new_preview", CONTRIBUTOR, _new_sort, method="POST", data=sort_recipe_form, headers=HTMX
    ),
    # One recipe: its page, editing, previewing and deleting it
    PageRouteCase("flows:recipe", READER, _recipe),
    PageRouteCase("flows:recipe_edit", CONTRIBUTOR, _recipe),
    PageRouteCase(
        "flows:recipe_edit", CONTRIBUTOR, _recipe, method="POST", data=_edit_form, ok_statuses=REDIRECTED
    ),
    PageRouteCase(
        "flows:recipe_editor",
        CONTRIBUTOR,
        _recipe,
        method="POST",
        data=lambda w: {**_edit_form(w), "op": "del:spec.columns.0"},
        headers=HTMX,
    ),
    PageRouteCase("flows:recipe_preview", CONTRIBUTOR, _recipe, method="POST", data=_edit_form, headers=HTMX),
    PageRouteCase(
        "flows:recipe_delete",
        CONTRIBUTOR,
        _recipe,
        method="POST",
        data=lambda w: {"confirm": "yes"},
        ok_statuses=REDIRECTED,
    ),
    # Recipe history (helper J): the page, and reverting to revision 1
    PageRouteCase("flows:recipe_history", READER, _recipe),
    PageRouteCase(
        "flows:recipe_revert",
        CONTRIBUTOR,
        lambda w: {"slug": w.project.slug, "pk": revised_recipe_args(w)["recipe_id"], "number": 1},
        method="POST",
        data=lambda w: {"confirm": "yes"},
        ok_statuses=REDIRECTED,
    ),
    # The Score editor's alias and version choices of a model (a fragment of the registry's listing)
    PageRouteCase(
        "flows:score_model_choices",
        READER,
        _flow,
        data=lambda w: {"spec.model": "delays", "inputs": str(world_dataset(w).pk)},
        headers=HTMX,
    ),
    # Importing a bundle from the project settings page (without a file: back with a message)
    PageRouteCase(
        "flows:bundle_import",
        Access.project(Role.ADMIN),
        _flow,
        method="POST",
        data=lambda w: {},
        ok_statuses=REDIRECTED,
    ),
]
