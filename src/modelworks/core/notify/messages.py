"""What every notification e-mail is made of: the ``Notice`` (one e-mail to one person), who cannot
or will not get one, and the pieces of text all messages share (greeting, quotes, links, footer)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

__all__ = [
    "MAX_QUOTE",
    "Notice",
    "email_enabled",
    "footer",
    "greeting",
    "one_line",
    "public_link",
    "quote",
    "same_user",
    "skip_reason",
]

MAX_QUOTE = 2000  # characters of a requester's note or a decider's comment quoted in an e-mail


@dataclass(frozen=True)
class Notice:
    """One e-mail to one person: ``event`` is a stable code such as ``promotion.requested``."""

    event: str
    user: Any
    subject: str
    text: str
    project: Any = None
    target: Any = None


def public_link(path: str) -> str:
    """``path`` prefixed with ``MODELWORKS_PUBLIC_URL`` when it is set; the bare path otherwise."""
    base = str(getattr(settings, "MODELWORKS_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def email_enabled() -> bool:
    """Whether this instance sends e-mail at all (an SMTP host is configured)."""
    return bool(getattr(settings, "MODELWORKS_EMAIL_ENABLED", False))


def skip_reason(user: Any) -> str | None:
    """Why ``user`` gets no e-mail (deactivated, no address, turned off), or None."""
    if user is None:
        return "the user was deleted"
    if not getattr(user, "is_active", False):
        return "deactivated"
    if not str(getattr(user, "email", "") or "").strip():
        return "no e-mail address"
    if not getattr(user, "notify_by_email", True):
        return "turned off in their settings"
    return None


def same_user(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are the same saved user (False when either is missing)."""
    return a is not None and b is not None and getattr(a, "pk", None) == getattr(b, "pk", None)


def one_line(text: str) -> str:
    """A subject line: whitespace collapsed, at most 200 characters."""
    return re.sub(r"\s+", " ", text).strip()[:200]


def greeting(user: Any) -> str:
    name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"Hello {name or user.get_username()},"


def quote(text: str) -> str:
    """``text`` indented as a quote (cut at MAX_QUOTE characters); "(none given)" when empty."""
    text = str(text or "").strip()
    if not text:
        return "(none given)"
    if len(text) > MAX_QUOTE:
        text = text[:MAX_QUOTE] + "…"
    return "\n".join("  " + line for line in text.splitlines())


def footer() -> str:
    settings_link = public_link(reverse("core:settings"))
    return (
        "\n-- \nModelworks. You get this e-mail because a request needs you or was yours. To stop these "
        f"e-mails, untick “E-mail me when I must approve or review” in your settings: {settings_link}\n"
    )
