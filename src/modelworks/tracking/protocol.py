"""The MLflow wire protocol shared by every MLflow-compatible endpoint (tracking, artifacts, registry).

* **Authentication**: ``Authorization: Bearer <Modelworks API token>`` (what ``MLFLOW_TRACKING_TOKEN``
  sends) or ``Basic`` with a username and either an API token or the account password
  (``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``). Prefer tokens: a password is
  checked with the slow password hash and the login throttle on every request.
* **Project**: the address ``/mlflow/<project-slug>/...`` names the project; a non-member gets
  ``RESOURCE_DOES_NOT_EXIST`` (404) exactly like a missing project, a reader writing gets
  ``PERMISSION_DENIED`` (403), anonymous callers ``UNAUTHENTICATED`` (401).
* **Errors**: ``{"error_code": ..., "message": ...}`` with MLflow's codes and HTTP statuses, because
  the client branches on them (e.g. ``RESOURCE_ALREADY_EXISTS`` when creating an experiment).
* **Payloads**: JSON bodies for POST/PATCH/DELETE, query strings for GET (repeated keys become lists).

Views are written as ``@mlflow_endpoint(Role.CONTRIBUTOR)`` functions taking ``(call: MlflowCall)``
(plus the address's own parts, e.g. ``artifact_path``) and returning a dict (sent as JSON) or an ``HttpResponse``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from modelworks.core.models import ApiToken, Project, Role, User
from modelworks.core.models.tokens import TOKEN_PREFIX

__all__ = [
    "ERROR_STATUS",
    "MlflowCall",
    "MlflowError",
    "authenticate_caller",
    "clear_auth_cache",
    "mlflow_endpoint",
    "require_param",
]

# MLflow's error codes and the HTTP status its server answers them with.
ERROR_STATUS = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "MALFORMED_REQUEST": 400,
    "INVALID_STATE": 400,
    "RESOURCE_LIMIT_EXCEEDED": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_ALREADY_EXISTS": 400,
    "RESOURCE_CONFLICT": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
}


class MlflowError(Exception):
    """An error answered in MLflow's shape. ``code`` is one of :data:`ERROR_STATUS`."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or ERROR_STATUS.get(code, 400)

    def response(self) -> JsonResponse:
        headers = {"WWW-Authenticate": 'Bearer realm="modelworks"'} if self.status == 401 else None
        return JsonResponse(
            {"error_code": self.code, "message": self.message}, status=self.status, headers=headers
        )


@dataclass
class MlflowCall:
    """One authenticated, authorised call: who, in which project, with which role and payload."""

    request: HttpRequest
    user: User
    project: Project
    role: Role
    payload: dict[str, Any]

    def get(self, name: str, default: Any = None) -> Any:
        return self.payload.get(name, default)

    def require_write(self) -> None:
        """Raise PERMISSION_DENIED unless the caller may change things in the project."""
        self.require_role(Role.CONTRIBUTOR)

    def require_role(self, needed: Role) -> None:
        """Raise PERMISSION_DENIED, naming the role needed, unless the caller holds ``needed``."""
        if self.role.allows(needed):
            return
        what = (
            "logging and changing runs, experiments and models"
            if needed == Role.CONTRIBUTOR
            else "this operation (deleting registered models and versions, as on the pages)"
        )
        raise MlflowError(
            "PERMISSION_DENIED",
            f"You are {self.role.label.lower()} of project '{self.project.slug}'; "
            f"{what} needs the {Role(needed).label.lower()} role.",
        )


def require_param(payload: dict[str, Any], name: str) -> Any:
    """The value of a required request field, or MLflow's INVALID_PARAMETER_VALUE naming it."""
    value = payload.get(name)
    if value is None or value == "":
        raise MlflowError("INVALID_PARAMETER_VALUE", f"Missing value for required parameter '{name}'.")
    return value


def _basic_credentials(raw: str) -> tuple[str, str] | None:
    """``(username, secret)`` of a Basic header value, or None when it is malformed."""
    try:
        decoded = base64.b64decode(raw.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, secret = decoded.partition(":")
    return (username, secret) if sep and username and secret else None


def _basic_user(request: HttpRequest, username: str, secret: str) -> User | None:
    """Basic auth: the secret is an API token of that user, or the account password (throttled and
    audited like a sign-in)."""
    if secret.startswith(TOKEN_PREFIX):
        token = ApiToken.authenticate(secret)
        if token is None or token.user.username.lower() != username.lower():
            return None
        return token.user
    from modelworks.core.auth import LoginThrottled, login_with_password

    try:
        user = login_with_password(request, username, secret)
    except LoginThrottled as exc:
        raise MlflowError("REQUEST_LIMIT_EXCEEDED", str(exc), status=429) from exc
    if user is not None and getattr(user, "must_change_password", False):
        raise MlflowError(
            "PERMISSION_DENIED", "Choose your own password first in the web interface, or use an API token."
        )
    return user


def authenticate_caller(request: HttpRequest) -> User | None:
    """The user behind the Authorization header (Bearer token or Basic), or None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, raw = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        token = ApiToken.authenticate(raw.strip())
        return token.user if token is not None else None
    if scheme == "basic":
        credentials = _basic_credentials(raw)
        return _basic_user(request, *credentials) if credentials is not None else None
    # A signed-in browser session (the pages link to artifacts); only for safe methods.
    user = getattr(request, "user", None)
    if request.method in ("GET", "HEAD") and user is not None and user.is_authenticated and user.is_active:
        return user
    return None


# A tiny per-process cache of token callers: (header digest, project slug) → (expiry, user, project,
# role). A training loop logs a metric per step; without it each call pays three queries (token, project,
# membership) before its own work. Only token authentication is cached (Bearer, or Basic with a token),
# never passwords. Consequence, documented: revoking a token, deactivating a user or changing a role
# takes effect within AUTH_CACHE_SECONDS in a server process that saw the token just before.
AUTH_CACHE_SECONDS = 5.0
_AUTH_CACHE_SIZE = 2048
_auth_cache: dict[tuple[str, str], tuple[float, User, Project, Role]] = {}


def clear_auth_cache() -> None:
    """Forget every cached caller (tests; or after revoking tokens in this process)."""
    _auth_cache.clear()


def _cache_key(request: HttpRequest, project: str) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() == "bearer":
        secret = raw.strip()
    elif scheme.lower() == "basic":
        try:
            secret = base64.b64decode(raw.strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return None
    else:
        return None
    if not secret.startswith(TOKEN_PREFIX):
        return None
    return hashlib.sha256(header.encode()).hexdigest(), project


def _caller(request: HttpRequest, project: str) -> tuple[User, Project, Role]:
    """Who calls, in which project, with which role; MlflowError (401/404) otherwise."""
    key = _cache_key(request, project)
    now = time.monotonic()
    if key is not None:
        cached = _auth_cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2], cached[3]
    user = authenticate_caller(request)
    if user is None:
        raise MlflowError(
            "UNAUTHENTICATED",
            "Authentication required: set MLFLOW_TRACKING_TOKEN to a Modelworks API token "
            "(Settings → API tokens), or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.",
        )
    found = Project.objects.filter(slug=project).first()
    role = found.role_of(user) if found is not None else None
    if found is None or role is None:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST",
            f"No project '{project}' that you can see. Check the project part of "
            "MLFLOW_TRACKING_URI (http://host:port/mlflow/<project>).",
        )
    if key is not None:
        if len(_auth_cache) >= _AUTH_CACHE_SIZE:
            _auth_cache.clear()
        _auth_cache[key] = (now + AUTH_CACHE_SECONDS, user, found, role)
    return user, found, role


def _payload(request: HttpRequest) -> dict[str, Any]:
    try:
        request.body  # noqa: B018 - read once here: Django refuses bodies over its limit when read
    except RequestDataTooBig as exc:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raise MlflowError(
            "RESOURCE_LIMIT_EXCEEDED",
            f"The request body is larger than the {limit:,} bytes a request may have; log fewer values "
            "per call (log_batch takes at most 1,000 metrics, 100 params and 100 tags).",
            status=413,
        ) from exc
    if request.method in ("GET", "HEAD", "DELETE") and not request.body:
        result: dict[str, Any] = {}
        for key in request.GET:
            values = request.GET.getlist(key)
            result[key] = values if len(values) > 1 or key.endswith("[]") else values[0]
        return result
    content_type = request.content_type or ""
    if request.body and "json" not in content_type and content_type not in ("", "text/plain"):
        return {}
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MlflowError("MALFORMED_REQUEST", f"The request body is not valid JSON: {exc}.") from exc
    except RecursionError as exc:
        raise MlflowError(
            "MALFORMED_REQUEST", "The request body nests objects or lists too deeply to be read."
        ) from exc
    if not isinstance(data, dict):
        raise MlflowError("MALFORMED_REQUEST", "The request body must be a JSON object.")
    return data


def mlflow_endpoint(
    needed: Role = Role.READER, *, methods: tuple[str, ...] = ("GET",), parse_body: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., HttpResponse]]:
    """Turn ``view(call) -> dict | HttpResponse`` into a Django view speaking MLflow's protocol.

    Args:
        needed: the project role the operation needs (reader for reads, contributor for writes).
        methods: the HTTP methods accepted; others get 405 in MLflow's shape.
        parse_body: False for endpoints that stream the raw body themselves (artifact uploads).
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def django_view(request: HttpRequest, project: str, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise MlflowError(
                        "ENDPOINT_NOT_FOUND",
                        f"{request.method} is not supported here; use {' or '.join(methods)}.",
                        status=405,
                    )
                user, found, role = _caller(request, project)
                call = MlflowCall(
                    request=request,
                    user=user,
                    project=found,
                    role=role,
                    payload=_payload(request) if parse_body else {},
                )
                call.require_role(needed)
                result = view(call, **kwargs)
            except MlflowError as exc:
                return exc.response()
            if isinstance(result, HttpResponseBase):  # streamed downloads included
                return result
            return JsonResponse(result if result is not None else {}, safe=True)

        return django_view

    return decorate
