"""Notifications of a scenario run: a webhook POST or an e-mail. The only outbound calls of the product.

Nothing leaves the instance by default:

* a webhook goes only to a host on the ``MODELWORKS_WEBHOOK_ALLOWLIST`` setting (empty by default,
  so every webhook is refused). Entries are host names (``hooks.internal.example``), wildcards
  (``*.corp.example``: any sub-domain, not the domain itself) or addresses and networks
  (``192.0.2.7``, ``10.0.0.0/8``). The host is resolved once and **every** address must pass: an
  address inside an allow-listed network passes; for a host allowed by name, loopback, multicast,
  reserved and unspecified addresses are refused unless an entry names them. Link-local and cloud
  metadata addresses (169.254.169.254, fd00:ec2::254, 100.100.100.200, also written IPv4-mapped,
  6to4, Teredo or NAT64) are refused always, even inside an allow-listed network such as 0.0.0.0/0:
  there the machine answers with its own cloud credentials. The connection then goes to the checked address (no second resolution that DNS
  rebinding could change), without any proxy, with a 10 s timeout; a redirect to another host is
  refused. ``http://`` only when ``MODELWORKS_WEBHOOK_ALLOW_HTTP`` is on.
* e-mail goes only through the SMTP server of ``MODELWORKS_SMTP_HOST`` (``MODELWORKS_EMAIL_ENABLED``).

Messages are plain text with a few placeholders (``{scenario}``, ``{outcome}``, ``{url}``…) replaced
by a regular expression: user text is never run through Django's template engine or ``str.format``.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import json
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email

__all__ = [
    "PLACEHOLDERS",
    "NotificationError",
    "check_webhook_url",
    "render_message",
    "send_email",
    "send_webhook",
    "validate_message",
]

PLACEHOLDERS: Mapping[str, str] = {
    "scenario": "the scenario's name",
    "project": "the project's name",
    "outcome": "succeeded or failed (so far, when the step runs)",
    "url": "the address of the run's page",
    "run": "the run number",
    "trigger": "what started the run",
    "started": "when the run started (UTC)",
    "failed_steps": "names of the steps that failed, or 'none'",
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_RESPONSE_BYTES = 64 * 1024
_SETTING = "MODELWORKS_WEBHOOK_ALLOWLIST"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class NotificationError(Exception):
    """A notification could not be sent; the message says why and what to change."""


# ------------------------------------------------------------------------------------------ messages


def validate_message(text: str) -> str:
    """Check that ``text`` uses only known placeholders.

    Raises:
        ValidationError: keyed ``message``, naming the unknown placeholder and the known ones.
    """
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) not in PLACEHOLDERS:
            known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
            raise ValidationError({"message": f"'{match.group(0)[:40]}' is not a placeholder; use {known}."})
    return text


def render_message(text: str, values: Mapping[str, str]) -> str:
    """Replace each ``{name}`` by its value; anything else stays as written."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(replace, text)


# ------------------------------------------------------------------------------------------ webhooks


def _entries() -> tuple[list[str], list[Network]]:
    names: list[str] = []
    networks: list[Network] = []
    for raw in getattr(settings, _SETTING, []) or []:
        entry = str(raw).strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.append(entry)
    return names, networks


def _name_allowed(host: str, names: list[str]) -> bool:
    for entry in names:
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and host != entry[2:]:
                return True
        elif host == entry:
            return True
    return False


# Cloud instance metadata services: 169.254.169.254 is link-local already; AWS also answers on
# fd00:ec2::254 and Alibaba Cloud on 100.100.100.200, neither of them link-local.
_METADATA = (ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _metadata_or_link_local(address: Address) -> Address | None:
    """The link-local or metadata address ``address`` is or embeds (IPv4-mapped, 6to4, Teredo,
    NAT64), or None."""
    candidates: list[Address | None] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        candidates += [address.ipv4_mapped, address.sixtofour, address.teredo[1] if address.teredo else None]
        if address in _NAT64:
            candidates.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    for candidate in candidates:
        if candidate is not None and (candidate.is_link_local or candidate in _METADATA):
            return candidate
    return None


def _risky(address: Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return bool(
        address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _resolve(host: str, port: int) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise NotificationError(f"The webhook host '{host}' could not be resolved: {exc}.") from exc
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


def check_webhook_url(url: str, *, resolve: bool = True) -> tuple[str, int, list[Address]]:
    """Check ``url`` against the scheme setting and the allow-list; return host, port and the addresses to use.

    With ``resolve=False`` only the URL's shape and host name are checked (when a step is saved).

    Raises:
        NotificationError: the URL is malformed, uses http while only https is allowed, its host is
            not on the allow-list, or one of the host's addresses is not allowed.
    """
    parts = urlsplit(url)
    allowed_schemes = (
        ("https", "http") if getattr(settings, "MODELWORKS_WEBHOOK_ALLOW_HTTP", False) else ("https",)
    )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotificationError(
            f"'{url[:100]}' is not a web address; give one such as https://hooks.example/notify."
        )
    if parts.scheme not in allowed_schemes:
        raise NotificationError(
            f"'{url[:100]}' uses plain http; only https webhooks are allowed. Use https, or ask an "
            "administrator to turn on MODELWORKS_WEBHOOK_ALLOW_HTTP."
        )
    if parts.username or parts.password:
        raise NotificationError(
            "Put no user name or password in the webhook address; use a secret in its path."
        )
    host = parts.hostname.lower().rstrip(".")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise NotificationError(f"'{url[:100]}' has an invalid port.") from exc
    names, networks = _entries()
    if not names and not networks:
        raise NotificationError(
            f"Webhooks are turned off on this instance: {_SETTING} is empty. Ask an administrator to add "
            f"'{host}' to {_SETTING} (in modelworks.toml as webhook_allowlist)."
        )
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not any(literal in net for net in networks):
            raise NotificationError(
                f"The address {host} is not on the webhook allow-list ({_SETTING}); ask an administrator "
                "to add it or its network."
            )
    elif not _name_allowed(host, names):
        raise NotificationError(
            f"The host '{host}' is not on the webhook allow-list ({_SETTING}); ask an administrator to add "
            "it (or a wildcard such as '*.example.org')."
        )
    if not resolve:
        if literal is not None:
            _refuse_metadata(host, literal)
        return host, port, [literal] if literal is not None else []
    addresses = [literal] if literal is not None else _resolve(host, port)
    for address in addresses:
        _refuse_metadata(host, address)
        in_network = any(address in net for net in networks)
        if not in_network and (literal is not None or _risky(address)):
            raise NotificationError(
                f"The host '{host}' resolves to {address}, a loopback, link-local or reserved address that "
                f"is not on the allow-list ({_SETTING}); webhooks may not reach it unless an administrator "
                "adds that address or network."
            )
    return host, port, addresses


def _refuse_metadata(host: str, address: Address) -> None:
    found = _metadata_or_link_local(address)
    if found is not None:
        raise NotificationError(
            f"The host '{host}' is or resolves to {address}, a link-local or cloud metadata address "
            f"({found}) where the server's own cloud credentials can be read; webhooks never go there, "
            "whatever the allow-list says. Give the address of the service that receives the webhook."
        )


def _pinned(connection_class: type[http.client.HTTPConnection], addresses: list[str]) -> Any:
    """A connection class that connects to the checked ``addresses`` (in order), never resolving again."""

    def factory(host: str, **kwargs: Any) -> http.client.HTTPConnection:
        conn = connection_class(host, **kwargs)

        def connect(addr: tuple[str, int], *args: Any, **kw: Any) -> socket.socket:
            error: OSError | None = None
            for address in addresses:
                try:
                    return socket.create_connection((address, addr[1]), *args, **kw)
                except OSError as exc:
                    error = exc
            assert error is not None
            raise error

        conn._create_connection = connect  # type: ignore[attr-defined]
        return conn

    return factory


class _PinnedHTTP(urllib.request.HTTPHandler):
    def __init__(self, addresses: list[str]) -> None:
        super().__init__()
        self.addresses = addresses

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_pinned(http.client.HTTPConnection, self.addresses), req)


class _PinnedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, addresses: list[str]) -> None:
        super().__init__()
        self.addresses = addresses

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        factory = _pinned(http.client.HTTPSConnection, self.addresses)
        return self.do_open(functools.partial(factory, context=self._context), req)  # type: ignore[attr-defined]


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the same scheme, host and port; anything else is refused."""

    max_redirections = 3

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        if (old.scheme, old.hostname, old.port) != (new.scheme, new.hostname, new.port):
            raise NotificationError(
                f"The webhook answered with a redirect ({code}) to another host, {new.hostname or newurl[:80]}; "
                "redirects to other hosts are refused. Use the final address in the step."
            )
        if code in (307, 308):  # keep method and body
            headers = dict(req.header_items())
            return urllib.request.Request(newurl, data=req.data, headers=headers, method="POST")  # noqa: S310
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def send_webhook(url: str, payload: Mapping[str, Any]) -> str:
    """POST ``payload`` as JSON to ``url`` after the allow-list checks; return a short description.

    Raises:
        NotificationError: refused by the checks, or the request failed (non-2xx, timeout…).
    """
    host, _port, addresses = check_webhook_url(url)
    pinned = [str(a) for a in addresses]
    body = json.dumps(payload, default=str).encode()
    request = urllib.request.Request(  # noqa: S310 (the scheme was checked: http or https only)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Modelworks-Scenarios/1"},
    )
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),  # never an environment proxy: the address was checked
        _PinnedHTTP(pinned),
        _PinnedHTTPS(pinned),
        _SameOriginRedirects(),
    )
    timeout = float(getattr(settings, "MODELWORKS_WEBHOOK_TIMEOUT_SECONDS", 10))
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read(MAX_RESPONSE_BYTES)
            status = response.status
    except urllib.error.HTTPError as exc:
        raise NotificationError(f"The webhook at {host} answered HTTP {exc.code} {exc.reason}.") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, NotificationError):
            raise reason from exc
        raise NotificationError(f"The webhook at {host} could not be reached: {reason}.") from exc
    return f"POST to {host} answered HTTP {status}."


# ---------------------------------------------------------------------------------------------- e-mail


def validate_recipients(recipients: list[str]) -> list[str]:
    """Normalised addresses; raises ValidationError keyed ``recipients``."""
    cleaned = []
    for raw in recipients:
        address = str(raw).strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationError({"recipients": f"'{address[:80]}' is not an e-mail address."}) from exc
        cleaned.append(address)
    if not cleaned:
        raise ValidationError({"recipients": "Give at least one e-mail address."})
    if len(cleaned) > 50:
        raise ValidationError({"recipients": "Give at most 50 addresses (use a mailing list for more)."})
    return cleaned


def send_email(recipients: list[str], subject: str, text: str) -> str:
    """Send ``text`` through the configured SMTP server; return a short description.

    Raises:
        NotificationError: e-mail is not configured, or the server refused or could not be reached.
    """
    if not getattr(settings, "MODELWORKS_EMAIL_ENABLED", False):
        raise NotificationError(
            "E-mail is not configured on this instance; an administrator sets MODELWORKS_SMTP_HOST (and "
            "MODELWORKS_SMTP_PORT, _USER, _PASSWORD, _SECURITY, _FROM) to send notifications."
        )
    try:
        send_mail(subject[:200], text, None, recipients, fail_silently=False)
    except Exception as exc:  # smtplib errors, a refused connection, a TLS failure…
        raise NotificationError(
            f"The e-mail could not be sent through {settings.EMAIL_HOST}: {exc}."
        ) from exc
    return f"E-mail sent to {len(recipients)} recipient{'s' if len(recipients) != 1 else ''}."
