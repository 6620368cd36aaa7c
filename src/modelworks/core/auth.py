"""Authentication helpers shared by pages and the API: bearer tokens and login throttling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core import audit
from modelworks.core.models import ApiToken, AuditEvent, User

__all__ = ["LoginThrottled", "bearer_user", "login_with_password"]


class LoginThrottled(Exception):
    """Too many failed logins for this username or address; the message says when to retry."""

    def __init__(self, retry_after_seconds: int) -> None:
        minutes = max(1, (retry_after_seconds + 59) // 60)
        super().__init__(
            f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}, "
            "or ask an administrator to reset your password."
        )
        self.retry_after_seconds = retry_after_seconds


def bearer_user(request: HttpRequest) -> Any | None:
    """The user of a valid ``Authorization: Bearer <token>`` header, or None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = ApiToken.authenticate(raw.strip())
    if token is None:
        return None
    request.api_token = token  # type: ignore[attr-defined]
    return token.user


def _throttle_check(username: str, ip: str | None) -> None:
    window = settings.MODELWORKS_LOGIN_FAILURE_WINDOW_SECONDS
    since = timezone.now() - timedelta(seconds=window)
    who = Q(actor_name__iexact=username)
    if ip:
        who |= Q(ip_address=ip)
    failures = AuditEvent.objects.filter(who, action="auth.login_failed", time__gte=since).order_by("time")
    # Count per key: one address trying many names, or many addresses trying one name, are both stopped.
    by_name = failures.filter(actor_name__iexact=username)
    by_ip = failures.filter(ip_address=ip) if ip else failures.none()
    limit = settings.MODELWORKS_LOGIN_MAX_FAILURES
    for qs in (by_name, by_ip):
        if qs.count() >= limit:
            oldest_relevant = list(qs.values_list("time", flat=True))[-limit]
            retry = int((oldest_relevant + timedelta(seconds=window) - timezone.now()).total_seconds())
            raise LoginThrottled(max(retry, 1))


def login_with_password(request: HttpRequest, username: str, password: str) -> User | None:
    """Check a username and password, with throttling and auditing of failures.

    Successful logins are audited by the ``user_logged_in`` signal when the session is created.

    Returns:
        The user on success, None on wrong credentials (the caller shows one generic message).

    Raises:
        LoginThrottled: too many recent failures for this username or this address.
    """
    username = (username or "").strip()[:150]
    ip = audit.client_ip(request)
    _throttle_check(username, ip)
    user = authenticate(request, username=username, password=password)
    if user is None:
        known = User.objects.filter(username__iexact=username).first()
        audit.record(
            "auth.login_failed",
            actor_name=username,
            target_repr=username,
            outcome="failure",
            request=request,
            details={"reason": "wrong credentials or inactive account", "known_user": known is not None},
        )
        return None
    return user
