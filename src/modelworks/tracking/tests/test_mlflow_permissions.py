"""The generated permission suite of the MLflow-compatible protocol (``/mlflow/<project>/...``).

Every operation in the ``mlflow`` URL namespace has one ``MlflowRouteCase`` row (tracking, artifacts,
registry); each row is called, in this order, by anonymous (401 UNAUTHENTICATED), an outsider (404
RESOURCE_DOES_NOT_EXIST, exactly like a missing project), then the project members from the weakest
role up: each member below the row's ``role`` gets 403 PERMISSION_DENIED, and the first one holding it
succeeds (reader for reads, contributor for writes, admin for the few admin operations). A meta-test fails naming any operation
without a row.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from modelworks.core.models import Role
from modelworks.core.testing.routes import PermissionWorld
from modelworks.registry.testing import REGISTRY_MLFLOW_ROUTES
from modelworks.tracking.artifacts.testing import ARTIFACT_MLFLOW_ROUTES, ARTIFACT_TOKEN_ROUTES
from modelworks.tracking.testing import TRACKING_MLFLOW_ROUTES, MlflowRouteCase

pytest_plugins = ["modelworks.core.testing.fixtures"]

ALL_ROUTES: list[MlflowRouteCase] = [
    *TRACKING_MLFLOW_ROUTES,
    *ARTIFACT_MLFLOW_ROUTES,
    *REGISTRY_MLFLOW_ROUTES,
]


def _call(client: Client, case: MlflowRouteCase, world: PermissionWorld, token: str | None) -> Any:
    url = reverse(case.url_name, kwargs={"project": world.project.slug, **case.kwargs(world)})
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    method = case.method.lower()
    if case.content is not None:
        return getattr(client, method)(
            url, data=case.content(world), content_type="application/octet-stream", **headers
        )
    body = case.body(world) if case.body else {}
    if case.method == "GET":
        return client.get(url, data=body, **headers)
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json", **headers)


def _error_code(response: Any) -> str:
    return json.loads(response.content).get("error_code", "")


# Project members from the weakest role up (actor name in the PermissionWorld, role held).
MEMBERS = (("reader", Role.READER), ("contributor", Role.CONTRIBUTOR), ("admin", Role.ADMIN))


@pytest.mark.django_db
@pytest.mark.parametrize("case", ALL_ROUTES, ids=str)
def test_mlflow_route_permissions(case: MlflowRouteCase, permission_world: PermissionWorld) -> None:
    """Refused callers first (they must change nothing), then the weakest member allowed succeeds."""
    client = Client()
    anonymous = _call(client, case, permission_world, None)
    assert (anonymous.status_code, _error_code(anonymous)) == (401, "UNAUTHENTICATED")

    outsider = _call(client, case, permission_world, permission_world.tokens["outsider"])
    assert (outsider.status_code, _error_code(outsider)) == (404, "RESOURCE_DOES_NOT_EXIST")

    for actor, held in MEMBERS:
        response = _call(client, case, permission_world, permission_world.tokens[actor])
        if held.allows(case.role):
            assert response.status_code in case.ok_statuses, (actor, response.content[:500])
            break
        assert (response.status_code, _error_code(response)) == (403, "PERMISSION_DENIED"), actor


def _mlflow_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = (
                    f"{namespace}:{entry.namespace}"
                    if namespace and entry.namespace
                    else (entry.namespace or namespace)
                )
                walk(entry.url_patterns, ns)
            elif isinstance(entry, URLPattern) and namespace == "mlflow":
                names.add(f"mlflow:{entry.name}" if entry.name else f"mlflow:<unnamed {entry.pattern}>")

    walk(get_resolver().url_patterns, "")
    return names


def test_every_mlflow_operation_has_a_permission_row() -> None:
    # The multipart part upload is authorised by its own signed, single-use token, not a user's role;
    # its cases (forged, expired, reused, other project) are in test_artifacts_protocol.py.
    covered = {case.url_name for case in ALL_ROUTES} | set(ARTIFACT_TOKEN_ROUTES)
    missing = sorted(_mlflow_url_names() - covered)
    assert not missing, f"MLflow protocol URLs without a row in a *_MLFLOW_ROUTES table: {missing}"


def test_no_row_names_a_missing_url() -> None:
    stale = sorted({case.url_name for case in ALL_ROUTES} - _mlflow_url_names())
    assert not stale, f"rows naming URLs that do not exist: {stale}"
