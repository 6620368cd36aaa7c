"""A test client for the REST API: JSON in, JSON out, authenticated like a real script.

client = ApiClient(token=raw_token)        # or ApiClient() for an anonymous caller
response = client.post("/projects", {"slug": "p", "name": "P"})
body = expect(response, 201)                # asserts the status, returns the decoded body
expect_error(client.get("/projects/nope"), 404, "not_found")
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.test import Client

__all__ = ["API_PREFIX", "ApiClient", "expect", "expect_error"]

API_PREFIX = "/api/v1"


class ApiClient:
    """Calls ``/api/v1`` with an optional ``Authorization: Bearer`` token.

    Paths are relative to ``/api/v1`` (``"/projects"``); absolute paths starting with ``/api/``
    are used as they are. ``client`` may be a Django test client with a session (``force_login``),
    to test the session flavour of authentication.
    """

    def __init__(self, token: str | None = None, client: Client | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.token = token
        self.client = client or Client(headers=headers)
        self._headers = headers if client is not None else {}

    @staticmethod
    def url(path: str) -> str:
        return path if path.startswith("/api/") else API_PREFIX + path

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        **headers: str,
    ) -> HttpResponse:
        """Send ``method`` to ``path``; ``body`` is sent as JSON, ``params`` as the query string."""
        call = getattr(self.client, method.lower())
        kwargs: dict[str, Any] = {"headers": {**self._headers, **headers}}
        if method.upper() in ("GET", "HEAD", "OPTIONS"):
            return call(self.url(path), data=params or {}, **kwargs)
        url = self.url(path)
        if params:
            from urllib.parse import urlencode

            url = f"{url}?{urlencode(params)}"
        data = json.dumps(body) if body is not None else ""
        return call(url, data=data, content_type="application/json", **kwargs)

    def get(self, path: str, **params: Any) -> HttpResponse:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, **headers: str) -> HttpResponse:
        return self.request("POST", path, body, **headers)

    def patch(self, path: str, body: Any = None, **headers: str) -> HttpResponse:
        return self.request("PATCH", path, body, **headers)

    def delete(self, path: str, **headers: str) -> HttpResponse:
        return self.request("DELETE", path, **headers)


def _describe(response: HttpResponse) -> str:
    content = response.content.decode("utf-8", "replace")
    return f"{response.status_code} {content[:500]}"


def expect(response: HttpResponse, status: int) -> Any:
    """Assert ``response`` has ``status`` and return its decoded JSON body (None if empty)."""
    assert response.status_code == status, f"expected {status}, got {_describe(response)}"
    return json.loads(response.content) if response.content else None


def expect_error(response: HttpResponse, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is an API error with ``status`` and ``code``, in the ``{code, message, details}`` shape."""
    body = expect(response, status)
    assert set(body) == {"code", "message", "details"}, f"not an error body: {body}"
    assert body["code"] == code, f"expected code {code!r}, got {body}"
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["details"], dict), body
    return body
