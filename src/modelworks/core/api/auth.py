"""How API callers prove who they are: a bearer token, or the session of a signed-in browser.

* ``Authorization: Bearer <token>``: scripts and other services. A request that carries this
  header is judged on the token alone: an unknown, revoked or expired token is refused (401) even
  if a session cookie is present too, so a script learns at once that its token is dead.
* The Django session: the pages' own HTMX calls and the interactive docs. Unsafe methods must pass
  Django's CSRF check, exactly like a form post, or a hostile site could act with the cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from modelworks.core.auth import bearer_user
from modelworks.core.models import ApiToken
from modelworks.core.models.tokens import hash_token

__all__ = [
    "BearerTokenAuth",
    "CsrfRejected",
    "PasswordChangeRequired",
    "SessionAuth",
    "api_auth",
    "docs_login_required",
    "rejected_token_message",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfRejected(Exception):
    """A session-authenticated unsafe request without a valid CSRF token."""


class PasswordChangeRequired(PermissionDenied):
    """A session of an account that must still replace its one-time password."""


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` with a personal API token."""

    def __call__(self, request: HttpRequest) -> Any | None:
        if not request.headers.get("Authorization"):
            return None
        user = bearer_user(request)
        if user is None:
            # Remembered so the 401 can say why (revoked, expired…) instead of a bare refusal.
            request._modelworks_rejected_token = True  # type: ignore[attr-defined]
            return None
        # Routes and services read ``request.user`` the same way for both kinds of caller.
        request.user = user
        return user

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:  # pragma: no cover
        raise NotImplementedError("BearerTokenAuth.__call__ does the whole check")


class SessionAuth(APIKeyCookie):
    """The Django session of a signed-in browser, with Django's CSRF check on unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Any | None:
        if request.headers.get("Authorization"):
            return None  # the caller chose token auth; never fall back to a cookie
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if getattr(user, "must_change_password", False):
            # Same rule as the pages: an account on a one-time password does nothing else first.
            raise PasswordChangeRequired(
                "Choose your own password first: sign in to the web interface and follow the prompt "
                "(Settings → Change password). Your one-time password cannot be used for anything else."
            )
        if request.method not in SAFE_METHODS and not getattr(request, "_ninja_csrf_exempt", False):
            if check_csrf(request) is not None:
                raise CsrfRejected(
                    "CSRF check failed: a request signed in with the session cookie must send the "
                    "X-CSRFToken header with the value of the csrftoken cookie (or use an API token)."
                )
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:  # pragma: no cover
        raise NotImplementedError("SessionAuth.__call__ does the whole check")


def api_auth() -> list[Any]:
    """The authentication every API operation requires (token first, then session)."""
    return [BearerTokenAuth(), SessionAuth()]


def rejected_token_message(request: HttpRequest) -> str | None:
    """Why the bearer token of ``request`` was refused, or None when no token was sent."""
    if not getattr(request, "_modelworks_rejected_token", False):
        return None
    _, _, raw = request.headers.get("Authorization", "").partition(" ")
    raw = raw.strip()
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(raw)).first() if raw else None
    if token is None:
        reason = "is not a Modelworks API token (check that it was copied whole)"
    elif token.status == "revoked":
        reason = f"'{token.name}' ({token.key_prefix}…) was revoked"
    elif token.status == "expired":
        reason = f"'{token.name}' ({token.key_prefix}…) expired on {token.expires_at:%Y-%m-%d %H:%M} UTC"
    else:
        reason = f"'{token.name}' ({token.key_prefix}…) belongs to a deactivated account"
    return f"The API token {reason}. Create a new token under Settings → API tokens."


def docs_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Guard of the OpenAPI schema and the interactive docs: they describe the instance, so only
    signed-in users (session or token) may read them. A browser is sent to the login page; any
    other caller (the schema is JSON) gets the API's 401 body."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.headers.get("Authorization"):
            user = BearerTokenAuth()(request)
        else:
            user = SessionAuth()(request)  # GET only: no CSRF involved
        if user is not None:
            return view(request, *args, **kwargs)
        if request.path.endswith("/docs") and not getattr(request, "_modelworks_rejected_token", False):
            return redirect_to_login(request.get_full_path())
        message = (
            rejected_token_message(request) or "Sign in, or send an API token in the Authorization header."
        )
        return JsonResponse(
            {"code": "not_authenticated", "message": message, "details": {}},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="modelworks"'},
        )

    return guarded
