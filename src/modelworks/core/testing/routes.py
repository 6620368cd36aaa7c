"""The machinery of the generated permission suite (like NetBox's ``utilities/testing/api.py``).

Each route of the API and each page is described once, by a row in a table
(``api_routes.API_ROUTES``, ``page_routes.PAGE_ROUTES``): which route, who may use it (an
``Access``), how to build its arguments and body from a ``PermissionWorld``, and what success looks
like. From one row the suite derives what each of six callers must get:

=================  ==========================================================================
actor              who
=================  ==========================================================================
``anonymous``      nobody signed in                 → 401 (API) / redirect to login (pages)
``outsider``       dave: signed in, member of nothing → 404 for anything in a project or group
``reader``         carol: reader of the project, member of the group
``contributor``    bob: contributor of the project, owner of a spare token
``admin``          alice: admin of the project
``instance_admin`` root: instance administrator     → allowed (unless ``admin_override=False``)
=================  ==========================================================================

A member whose role is too weak gets 403. A meta-test (``tests/test_route_permissions.py``)
enumerates every URL pattern and every API operation and fails naming any without a row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver

from modelworks.core.models import ApiToken, Job, Project, ProjectMembership, Role, User

__all__ = [
    "ACTORS",
    "PROTOCOL_NAMESPACES",
    "Access",
    "ApiOperation",
    "ApiRouteCase",
    "PageRouteCase",
    "PermissionWorld",
    "api_operations",
    "expected_outcome",
    "page_url_names",
]

# The outcomes a caller can get, independent of API or page.
OK, NOT_AUTHENTICATED, FORBIDDEN, NOT_FOUND = "ok", "not_authenticated", "forbidden", "not_found"

ACTORS = ("anonymous", "outsider", "reader", "contributor", "admin", "instance_admin")

# The project role each actor holds in the world's project.
_PROJECT_ROLE = {"reader": Role.READER, "contributor": Role.CONTRIBUTOR, "admin": Role.ADMIN}


@dataclass(frozen=True)
class Access:
    """Who may use a route. Build one with the class methods below, not directly.

    ``scope`` is one of:

    * ``signed_in``: any signed-in user;
    * ``instance_admin``: instance administrators; other signed-in users get 403;
    * ``project``: members of the project holding at least ``role``; non-members 404, weaker 403;
    * ``group_member``: members of the group (reader); anyone else 404;
    * ``group_admin``: instance administrators; group members 403, anyone else 404;
    * ``any_project``: users holding at least ``role`` in some project (no project named, so no
      existence to hide: anyone else 403);
    * ``owner``: the owner of the object (contributor bob); anyone else 404;
    * ``hidden``: instance administrators; for anyone else the object does not exist (404).

    ``admin_override=False`` marks a route where instance administrators have no special power
    (e.g. revoking another user's token from the settings page): they get what a non-owner gets.
    """

    scope: str
    role: Role | None = None
    admin_override: bool = True

    @classmethod
    def signed_in(cls) -> Access:
        return cls("signed_in")

    @classmethod
    def instance_admin(cls) -> Access:
        return cls("instance_admin")

    @classmethod
    def project(cls, role: Role) -> Access:
        return cls("project", Role(role))

    @classmethod
    def group_member(cls) -> Access:
        return cls("group_member")

    @classmethod
    def group_admin(cls) -> Access:
        return cls("group_admin")

    @classmethod
    def any_project(cls, role: Role) -> Access:
        return cls("any_project", Role(role))

    @classmethod
    def owner(cls, *, admin_override: bool = True) -> Access:
        return cls("owner", admin_override=admin_override)

    @classmethod
    def hidden(cls) -> Access:
        return cls("hidden")

    def __str__(self) -> str:
        text = f"{self.scope}:{self.role.value}" if self.role else self.scope
        return text if self.admin_override else f"{text}:no-admin-override"


def expected_outcome(access: Access, actor: str) -> str:
    """What ``actor`` must get from a route guarded by ``access``: ok, not_authenticated, forbidden or not_found."""
    if actor == "anonymous":
        return NOT_AUTHENTICATED
    if access.scope == "signed_in" or (actor == "instance_admin" and access.admin_override):
        return OK
    if access.scope == "instance_admin":
        return FORBIDDEN
    if access.scope == "project":
        held = _PROJECT_ROLE.get(actor)
        if held is None:
            return NOT_FOUND
        assert access.role is not None
        return OK if held.allows(access.role) else FORBIDDEN
    if access.scope == "any_project":
        held = _PROJECT_ROLE.get(actor)
        assert access.role is not None
        return OK if held is not None and held.allows(access.role) else FORBIDDEN
    if access.scope == "group_member":
        return OK if actor == "reader" else NOT_FOUND
    if access.scope == "group_admin":
        return FORBIDDEN if actor == "reader" else NOT_FOUND
    if access.scope == "owner":
        return OK if actor == "contributor" else NOT_FOUND
    if access.scope == "hidden":
        return NOT_FOUND
    raise ValueError(f"unknown access scope {access.scope!r}; use one of the Access class methods")


@dataclass
class PermissionWorld:
    """The objects the route tables build URLs and bodies from (made by the ``permission_world`` fixture)."""

    users: dict[str, User]
    project: Project
    group: Group
    reader_membership: ProjectMembership
    spare_token: ApiToken
    queued_job: Job
    failed_job: Job
    instance_job: Job
    tokens: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    def user(self, actor: str) -> User | None:
        return self.users.get(actor)


ArgsBuilder = Callable[[PermissionWorld], dict[str, Any]]


def _no_args(world: PermissionWorld) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class ApiRouteCase:
    """One API operation in the permission suite.

    Attributes:
        operation_id: the operation's ``operation_id`` in the NinjaAPI (the method and path come from it).
        access: who may call it.
        path_args: builds the path parameters, e.g. ``lambda w: {"slug": w.project.slug}``.
        body: builds the JSON body of a write (None: no body).
        ok_status: the status of success.
        method: for an operation answering several methods, the one to test (default: its first).
    """

    operation_id: str
    access: Access
    path_args: ArgsBuilder = _no_args
    body: ArgsBuilder | None = None
    ok_status: int = 200
    method: str | None = None

    def __str__(self) -> str:
        return self.operation_id


@dataclass(frozen=True)
class PageRouteCase:
    """One page (Django URL pattern) in the permission suite.

    Attributes:
        url_name: the namespaced URL name, e.g. ``"core:project_detail"``.
        access: who may open (or post to) it.
        kwargs: builds the URL's keyword arguments.
        method: ``"GET"`` or ``"POST"``.
        data: builds the form data of a POST.
        ok_statuses: statuses that mean success (a form post usually redirects: 302).
        anonymous: ``"login"`` (redirect to the login page) or ``"401"`` (JSON resources).
        headers: extra request headers (e.g. ``{"HX-Request": "true"}`` for a fragment).
    """

    url_name: str
    access: Access
    kwargs: ArgsBuilder = _no_args
    method: str = "GET"
    data: ArgsBuilder | None = None
    ok_statuses: tuple[int, ...] = (200,)
    anonymous: str = "login"
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.url_name}[{self.method}]"


@dataclass(frozen=True)
class ApiOperation:
    """One operation of the NinjaAPI as the meta-test sees it."""

    operation_id: str
    methods: tuple[str, ...]
    path: str  # relative to the API root, with plain {placeholders} (converters removed)


def api_operations(api: Any) -> list[ApiOperation]:
    """Every operation of ``api``, including those hidden from the schema.

    Reads ninja's bound routers (``NinjaAPI._get_bound_routers``, django-ninja ≥ 1.5): the OpenAPI
    schema alone would miss operations declared with ``include_in_schema=False``.
    """
    found: list[ApiOperation] = []
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            full = "/" + "/".join(p.strip("/") for p in (bound.prefix, path) if p.strip("/"))
            full = re.sub(r"\{(?:\w+:)?(\w+)\}", r"{\1}", full)  # {path:rest} -> {rest}
            for operation in path_view.operations:
                op_id = operation.operation_id or api.get_openapi_operation_id(operation)
                found.append(ApiOperation(op_id, tuple(m.upper() for m in operation.methods), full))
    return found


def _walk(patterns: list[Any], namespace: str, prefix: str) -> Iterator[tuple[str, str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry.url_patterns, full_ns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or "")
            yield name, prefix + str(entry.pattern), entry


# The MLflow-compatible protocol (``/mlflow/<project>/...``) answers in MLflow's JSON error shape,
# never with a login redirect; its own generated suite (``modelworks.tracking.testing``) covers it.
PROTOCOL_NAMESPACES = ("mlflow:",)


def page_url_names(api_namespace: str = "api") -> list[tuple[str, str]]:
    """``(url name, route)`` of every URL pattern outside the API's operations.

    The API namespace's own views (schema, docs, root) are included; its operation views are not
    (they are covered operation by operation), nor are the MLflow protocol's (``PROTOCOL_NAMESPACES``).
    An unnamed pattern is returned with name ``""``.
    """
    api_own = {f"{api_namespace}:openapi-json", f"{api_namespace}:openapi-view", f"{api_namespace}:api-root"}
    result = []
    for name, route, _ in _walk(get_resolver().url_patterns, "", "/"):
        if name.startswith(f"{api_namespace}:") and name not in api_own:
            continue
        if name.startswith(PROTOCOL_NAMESPACES):
            continue
        result.append((name, route))
    return result
