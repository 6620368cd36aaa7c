"""Middleware of the UI shell: a strict Content-Security-Policy and the one-time password flow."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

# Everything is served by this instance: no CDN, no external font, no beacon. Inline scripts are
# refused; inline style attributes are allowed for progress bars and chart sizes.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response


class PasswordChangeRequiredMiddleware:
    """Accounts created with a one-time password must choose their own before doing anything else."""

    ALLOWED_PREFIXES = ("/static/", "/api/", "/health")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(self.ALLOWED_PREFIXES)
        ):
            allowed = {reverse("core:password_change"), reverse("core:logout")}
            if request.path not in allowed:
                return redirect("core:password_change")
        return self.get_response(request)
