"""Test helpers of the flows app, and its API rows of the generated permission suite.

* ``world_recipe(w)``: a sort recipe over the world's dataset (``Flights`` → ``Flights by delay``).
* ``world_build(w)``: a queued build of that recipe (no worker runs it, so it stays queued).

``FLOWS_API_ROUTES`` is spliced into ``modelworks.core.testing.api_routes``: every API operation of
this app needs a row, or the meta-test in ``tests/test_route_permissions.py`` fails naming it. The
page rows live in ``modelworks.flows.page_testing`` (``FLOWS_PAGE_ROUTES``, also reachable here).
"""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, ApiRouteCase, PermissionWorld
from modelworks.datasets.testing import world_dataset
from modelworks.flows.models import Build, Recipe

__all__ = [
    "FLOWS_API_ROUTES",
    "build_args",
    "recipe_args",
    "revised_recipe_args",
    "world_build",
    "world_recipe",
]


def world_recipe(w: PermissionWorld) -> Recipe:
    """The world's recipe: Flights sorted by delay (made on first use, by bob)."""
    if "flows.recipe" not in w.extra:
        from modelworks.flows.services import create_recipe

        w.extra["flows.recipe"] = create_recipe(
            w.project,
            actor=w.users["contributor"],
            name="Sort flights",
            kind="sort",
            inputs=[world_dataset(w)],
            outputs=["Flights by delay"],
            spec={"columns": [{"column": "dep_delay", "direction": "desc"}]},
        )
    return w.extra["flows.recipe"]


def world_build(w: PermissionWorld) -> Build:
    """A queued build of the world's recipe."""
    if "flows.build" not in w.extra:
        from modelworks.flows.services import submit_build

        world_recipe(w)
        w.extra["flows.build"] = submit_build(w.project, actor=w.users["contributor"])
    return w.extra["flows.build"]


def project_with_recipe(w: PermissionWorld) -> dict[str, Any]:
    world_recipe(w)
    return {"slug": w.project.slug}


def recipe_args(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "recipe_id": world_recipe(w).pk}


def build_args(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "build_id": world_build(w).pk}


def _new_recipe(w: PermissionWorld) -> dict[str, Any]:
    return {
        "name": "By carrier",
        "kind": "sort",
        "inputs": [world_dataset(w).pk],
        "outputs": ["Flights by carrier"],
        "spec": {"columns": ["carrier"]},
    }


def _draft(w: PermissionWorld) -> dict[str, Any]:
    return {"kind": "sort", "inputs": ["Flights"], "spec": {"columns": ["carrier"]}}


READER = Access.project(Role.READER)
CONTRIBUTOR = Access.project(Role.CONTRIBUTOR)

FLOWS_API_ROUTES: list[ApiRouteCase] = [
    ApiRouteCase("recipe_kinds", Access.signed_in()),
    ApiRouteCase("recipes_list", READER, project_with_recipe),
    ApiRouteCase("recipes_create", CONTRIBUTOR, project_with_recipe, body=_new_recipe, ok_status=201),
    ApiRouteCase("recipes_preview_draft", CONTRIBUTOR, project_with_recipe, body=_draft),
    ApiRouteCase("recipes_get", READER, recipe_args),
    ApiRouteCase("recipes_update", CONTRIBUTOR, recipe_args, body=lambda w: {"description": "Worst first."}),
    ApiRouteCase("recipes_delete", CONTRIBUTOR, recipe_args, ok_status=204),
    ApiRouteCase("recipes_preview", READER, recipe_args),
    ApiRouteCase("flow_get", READER, project_with_recipe),
    ApiRouteCase("flow_check", READER, project_with_recipe),
    ApiRouteCase("builds_list", READER, build_args),
    ApiRouteCase("builds_submit", CONTRIBUTOR, project_with_recipe, body=lambda w: {}, ok_status=202),
    ApiRouteCase("builds_get", READER, build_args),
    ApiRouteCase("builds_cancel", CONTRIBUTOR, build_args),
    # Recipe history (helper J)
    ApiRouteCase("recipe_revisions_list", READER, recipe_args),
    ApiRouteCase("recipe_revisions_get", READER, lambda w: {**revised_recipe_args(w), "number": 2}),
    ApiRouteCase("recipe_revisions_revert", CONTRIBUTOR, lambda w: {**revised_recipe_args(w), "number": 1}),
    # Project bundles (helper J). The suite sends JSON, so an import without its multipart file is a
    # 422 for everyone allowed (any signed-in user may create projects).
    ApiRouteCase("projects_export", Access.project(Role.ADMIN), project_with_recipe),
    ApiRouteCase(
        "projects_import",
        Access.signed_in(),
        lambda w: {"slug": "imported-copy"},
        body=lambda w: {},
        ok_status=422,
    ),
]


def revised_recipe_args(w: PermissionWorld) -> dict[str, Any]:
    """The world's recipe after one change (so it has revisions 1 and 2, and 1 can be restored)."""
    if "flows.revised" not in w.extra:
        from modelworks.flows.services import update_recipe

        w.extra["flows.revised"] = update_recipe(
            world_recipe(w), actor=w.users["contributor"], description="Changed once."
        )
    return recipe_args(w)


def __getattr__(name: str) -> Any:
    # Lazily, so that ``page_testing`` may import the helpers above without an import cycle.
    if name == "FLOWS_PAGE_ROUTES":
        from modelworks.flows.page_testing import FLOWS_PAGE_ROUTES

        return FLOWS_PAGE_ROUTES
    raise AttributeError(name)


# ---------------------------------------------------------------------------------- test data

CARRIERS_CSV = b"code,carrier_name,country\nAF,Air France,FR\nLH,Lufthansa,DE\nBA,British Airways,GB\n"
"""The carriers of ``datasets.testing.SAMPLE_CSV`` (joined on ``carrier`` = ``code``)."""


def stored_objects() -> set[str]:
    """IDs of every object in the data store (to check that a failed step left no file behind)."""
    from modelworks.datasets.storage import data_store

    return set(data_store().object_ids())


def staging_files() -> list[str]:
    """Half-written (staged) files left in the data store's folders."""
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.MODELWORKS_DATA_DIR)
    return sorted(str(p) for p in root.rglob(".staging-*")) if root.exists() else []
