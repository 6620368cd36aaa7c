"""Test helpers of the deployments app, and its rows of the generated permission suite.

``DEPLOYMENTS_API_ROUTES`` and ``DEPLOYMENTS_PAGE_ROUTES`` are spliced into
``modelworks.core.testing.api_routes`` and ``page_routes``: every API operation and page of this app
needs a row, or the meta-test in ``tests/test_route_permissions.py`` fails naming it.

* ``world_deployment(w)``: the deployment ``world-delays`` (single, ``Delay model@champion``), made
  by the contributor on first use, with one token.
* ``fresh_deployment(w)``: a new deployment per call, for operations that consume it (delete).
"""

from __future__ import annotations

import itertools
from typing import Any

from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, ApiRouteCase, PageRouteCase, PermissionWorld
from modelworks.deployments import services
from modelworks.deployments.models import Deployment, EndpointToken
from modelworks.deployments.services import TargetSpec
from modelworks.registry.testing import world_model

__all__ = [
    "DEPLOYMENTS_API_ROUTES",
    "DEPLOYMENTS_PAGE_ROUTES",
    "fresh_deployment",
    "world_deployment",
    "world_token",
]

READER = Access.project(Role.READER)
CONTRIBUTOR = Access.project(Role.CONTRIBUTOR)
ADMIN = Access.project(Role.ADMIN)
REDIRECTED = (303,)
_counter = itertools.count(1)


def _champion(w: PermissionWorld) -> list[TargetSpec]:
    return [TargetSpec(model=world_model(w).name, alias="champion")]


def world_deployment(w: PermissionWorld) -> Deployment:
    if "deployments.deployment" not in w.extra:
        w.extra["deployments.deployment"] = services.create_deployment(
            w.project, actor=w.users["contributor"], name="world-delays", targets=_champion(w)
        )
    return w.extra["deployments.deployment"]


def world_token(w: PermissionWorld) -> EndpointToken:
    if "deployments.token" not in w.extra:
        w.extra["deployments.token"], _ = services.issue_token(
            world_deployment(w), actor=w.users["admin"], name="world app"
        )
    return w.extra["deployments.token"]


def fresh_deployment(w: PermissionWorld) -> Deployment:
    return services.create_deployment(
        w.project, actor=w.users["contributor"], name=f"spare-{next(_counter)}", targets=_champion(w)
    )


def _slug(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug}


def _one(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "name": world_deployment(w).name}


def _fresh(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "name": fresh_deployment(w).name}


def _token(w: PermissionWorld) -> dict[str, Any]:
    return {**_one(w), "token_id": world_token(w).pk}


def _new_body(w: PermissionWorld) -> dict[str, Any]:
    return {
        "name": f"new-{next(_counter)}",
        "targets": [{"model": world_model(w).name, "alias": "champion"}],
    }


def _new_form(w: PermissionWorld) -> dict[str, Any]:
    model = world_model(w)
    return {
        "name": f"page-{next(_counter)}",
        "mode": "single",
        "primary": f"alias:{model.pk}:champion",
        "log_percent": "100",
        "max_rows": "100",
    }


def _edit_form(w: PermissionWorld) -> dict[str, Any]:
    data = _new_form(w)
    del data["name"]
    return {**data, "title": "Delays"}


DEPLOYMENTS_API_ROUTES: list[ApiRouteCase] = [
    ApiRouteCase("deployments_list", READER, _slug),
    ApiRouteCase("deployments_create", CONTRIBUTOR, _slug, body=_new_body, ok_status=201),
    ApiRouteCase("deployments_get", READER, _one),
    ApiRouteCase("deployments_update", CONTRIBUTOR, _one, body=lambda w: {"log_sample_rate": 0.5}),
    ApiRouteCase("deployments_delete", ADMIN, _fresh, ok_status=204),
    ApiRouteCase("deployments_pause", CONTRIBUTOR, _fresh),
    ApiRouteCase("deployments_resume", CONTRIBUTOR, _one),
    ApiRouteCase("deployments_tokens_list", READER, _one),
    ApiRouteCase("deployments_tokens_create", ADMIN, _one, body=lambda w: {"name": "billing"}, ok_status=201),
    ApiRouteCase("deployments_tokens_revoke", ADMIN, _token),
    ApiRouteCase(
        "deployments_feedback", CONTRIBUTOR, _one, body=lambda w: [{"row_id": "r1", "label": "late"}]
    ),
    ApiRouteCase("deployments_predictions", READER, _one),
]

DEPLOYMENTS_PAGE_ROUTES: list[PageRouteCase] = [
    PageRouteCase("deployments:list", READER, _slug),
    PageRouteCase("deployments:create", CONTRIBUTOR, _slug),
    PageRouteCase(
        "deployments:create", CONTRIBUTOR, _slug, method="POST", data=_new_form, ok_statuses=REDIRECTED
    ),
    PageRouteCase("deployments:detail", READER, _one),
    PageRouteCase("deployments:edit", CONTRIBUTOR, _one),
    PageRouteCase(
        "deployments:edit", CONTRIBUTOR, _one, method="POST", data=_edit_form, ok_statuses=REDIRECTED
    ),
    PageRouteCase("deployments:pause", CONTRIBUTOR, _fresh, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase("deployments:resume", CONTRIBUTOR, _one, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase("deployments:delete", ADMIN, _fresh, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase("deployments:traffic", READER, _one, headers={"HX-Request": "true"}),
    PageRouteCase(
        "deployments:token_create",
        ADMIN,
        _one,
        method="POST",
        data=lambda w: {"name": "billing"},
        ok_statuses=(201,),
    ),
    PageRouteCase("deployments:token_revoke", ADMIN, _token, method="POST", ok_statuses=REDIRECTED),
]
