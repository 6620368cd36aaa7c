"""The generated permission suite: every API operation and every page, for six kinds of caller.

Rows come from ``modelworks.core.testing.api_routes`` and ``page_routes``; what each caller must get
is derived from the row's ``Access`` (see ``modelworks.core.testing.routes``). The meta-tests at the
end fail, naming the route, when an operation or a URL pattern has no row.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse

from modelworks.config.api import api
from modelworks.core.models import AuditEvent, Role
from modelworks.core.testing.api_routes import API_ROUTES, EXEMPT_API_OPERATIONS, HIDDEN_OBJECT_ROUTES
from modelworks.core.testing.client import ApiClient, expect_error
from modelworks.core.testing.page_routes import EXEMPT_PAGES, PAGE_ROUTES
from modelworks.core.testing.routes import (
    ACTORS,
    Access,
    ApiRouteCase,
    PageRouteCase,
    PermissionWorld,
    api_operations,
    expected_outcome,
    page_url_names,
)

_FORM = "application/x-www-form-urlencoded"
OPERATIONS = {op.operation_id: op for op in api_operations(api)}
API_CASES = API_ROUTES + HIDDEN_OBJECT_ROUTES
ERROR_OF = {
    "not_authenticated": (401, "not_authenticated"),
    "forbidden": (403, "permission_denied"),
    "not_found": (404, "not_found"),
}


def _case_id(case: ApiRouteCase | PageRouteCase) -> str:
    return f"{case}-{case.access}"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", API_CASES, ids=_case_id)
def test_api_route(case: ApiRouteCase, actor: str, permission_world: PermissionWorld) -> None:
    operation = OPERATIONS[case.operation_id]
    path = operation.path.format(**case.path_args(permission_world))
    client = ApiClient(token=permission_world.tokens.get(actor))
    body = case.body(permission_world) if case.body else None
    audit_before = AuditEvent.objects.count()

    method = case.method or operation.methods[0]
    response = client.request(method, path, body)

    outcome = expected_outcome(case.access, actor)
    if outcome == "ok":
        assert response.status_code == case.ok_status, (
            f"{actor} should succeed on {method} {path}: {response.status_code} {response.content[:300]!r}"
        )
    else:
        status, code = ERROR_OF[outcome]
        expect_error(response, status, code)
        # A refused request changes nothing, so it leaves no trace of a change either.
        assert AuditEvent.objects.count() == audit_before


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", PAGE_ROUTES, ids=_case_id)
def test_page_route(case: PageRouteCase, actor: str, permission_world: PermissionWorld) -> None:
    client = Client()
    user = permission_world.user(actor)
    if user is not None:
        client.force_login(user)
    url = reverse(case.url_name, kwargs=case.kwargs(permission_world))
    data = case.data(permission_world) if case.data else {}
    if case.method == "GET":
        response = client.get(url, data, headers=case.headers)
    elif case.method == "POST":
        response = client.post(url, data, headers=case.headers)
    else:
        response = client.generic(case.method, url, urlencode(data, doseq=True), _FORM, headers=case.headers)

    outcome = expected_outcome(case.access, actor)
    if outcome == "not_authenticated" and case.anonymous == "login":
        # A browser is redirected; an HTMX request is told to navigate there (HX-Redirect).
        location = response.get("HX-Redirect") if case.headers.get("HX-Request") else response.get("Location")
        assert response.status_code in (302, 204) and location, (
            f"anonymous {case.method} {url}: {response.status_code}, expected a redirect to the login page"
        )
        target = urlsplit(location)
        assert target.path == resolve_url(settings.LOGIN_URL), location
        assert "next=" in target.query, location
    elif outcome == "not_authenticated":
        expect_error(response, 401, "not_authenticated")
    elif outcome == "ok":
        assert response.status_code in case.ok_statuses, (
            f"{actor} should succeed on {case.method} {url}: {response.status_code}"
        )
    else:
        expected = ERROR_OF[outcome][0]
        assert response.status_code == expected, f"{actor} on {case.method} {url}: {response.status_code}"


# --- Meta-tests: every route has a row, and the rows make sense -------------------------------------


def test_every_api_operation_has_a_permission_case() -> None:
    covered = {case.operation_id for case in API_ROUTES} | set(EXEMPT_API_OPERATIONS)
    missing = sorted(
        f"{'/'.join(op.methods)} /api/v1{op.path} (operation_id={op.operation_id})"
        for op in OPERATIONS.values()
        if op.operation_id not in covered
    )
    assert not missing, (
        "These API operations have no row in modelworks/core/testing/api_routes.py; add one saying "
        "who may call them:\n  " + "\n  ".join(missing)
    )


def test_every_page_has_a_permission_case() -> None:
    covered = {case.url_name for case in PAGE_ROUTES} | set(EXEMPT_PAGES)
    unnamed = sorted(route for name, route in page_url_names() if not name)
    assert not unnamed, f"These URL patterns have no name, so no permission case can refer to them: {unnamed}"
    missing = sorted(f"{name} ({route})" for name, route in page_url_names() if name not in covered)
    assert not missing, (
        "These pages have no row in modelworks/core/testing/page_routes.py; add one saying who may "
        "open them (or list them in EXEMPT_PAGES with the reason they are public):\n  " + "\n  ".join(missing)
    )


def test_permission_tables_name_only_existing_routes() -> None:
    named_ops = {c.operation_id for c in API_CASES} | set(EXEMPT_API_OPERATIONS)
    stale_api = sorted(op_id for op_id in named_ops if op_id not in OPERATIONS)
    names = {name for name, _ in page_url_names()}
    stale_pages = sorted(n for n in {c.url_name for c in PAGE_ROUTES} | set(EXEMPT_PAGES) if n not in names)
    assert not stale_api, f"api_routes.py names operations that do not exist: {stale_api}"
    assert not stale_pages, f"page_routes.py names URL patterns that do not exist: {stale_pages}"


def test_operation_ids_are_unique() -> None:
    ids = [op.operation_id for op in api_operations(api)]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicated, f"operation ids used twice: {duplicated}"


def test_every_write_is_refused_to_readers() -> None:
    """A project-scoped write that a reader could do would make "reader cannot write → 403" vacuous."""
    weak = [
        str(case)
        for case in API_CASES
        if (case.method or OPERATIONS[case.operation_id].methods[0]) != "GET"
        and case.access.scope == "project"
        and case.access.role == Role.READER
    ]
    weak += [
        str(case)
        for case in PAGE_ROUTES
        if case.method != "GET" and case.access.scope == "project" and case.access.role == Role.READER
    ]
    assert not weak, f"these writes are allowed to project readers: {weak}"


def test_audit_log_has_no_write_route() -> None:
    writes = [
        f"{op.methods} {op.path}"
        for op in OPERATIONS.values()
        if "audit" in op.path and op.methods != ("GET",)
    ]
    assert not writes, f"the audit log is append-only, yet these routes write to it: {writes}"


@pytest.mark.parametrize(
    ("access", "outcomes"),
    [
        # anonymous, outsider, reader, contributor, admin, instance_admin
        (Access.signed_in(), "401 ok ok ok ok ok"),
        (Access.instance_admin(), "401 403 403 403 403 ok"),
        (Access.project(Role.READER), "401 404 ok ok ok ok"),
        (Access.project(Role.CONTRIBUTOR), "401 404 403 ok ok ok"),
        (Access.project(Role.ADMIN), "401 404 403 403 ok ok"),
        (Access.any_project(Role.ADMIN), "401 403 403 403 ok ok"),
        (Access.group_member(), "401 404 ok 404 404 ok"),
        (Access.group_admin(), "401 404 403 404 404 ok"),
        (Access.owner(), "401 404 404 ok 404 ok"),
        (Access.owner(admin_override=False), "401 404 404 ok 404 404"),
        (Access.hidden(), "401 404 404 404 404 ok"),
    ],
    ids=str,
)
def test_expected_outcomes_of_each_access(access: Access, outcomes: str) -> None:
    """The rules the whole suite derives its expectations from, spelt out once."""
    short = {"ok": "ok", "not_authenticated": "401", "forbidden": "403", "not_found": "404"}
    assert " ".join(short[expected_outcome(access, actor)] for actor in ACTORS) == outcomes
