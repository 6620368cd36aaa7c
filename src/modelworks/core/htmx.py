"""The one place that decides whether a request gets a whole page or an HTMX fragment.

Pages are server-rendered. When HTMX asks for part of a page (a filtered table, the members panel,
a job's live status), the view renders only the fragment template from ``templates/<app>/partials/``;
a normal navigation, a boosted link or a history restore gets the full page. NetBox's
``utilities/htmx.py`` follows the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

__all__ = ["hx_redirect", "is_htmx", "render_page", "wants_fragment"]


def is_htmx(request: HttpRequest) -> bool:
    """True when the request was sent by HTMX (any kind)."""
    return request.headers.get("HX-Request") == "true"


def wants_fragment(request: HttpRequest) -> bool:
    """True when HTMX swaps the answer into part of the current page.

    Boosted navigation and history restores replace the whole page, so they get the full page.
    """
    return (
        is_htmx(request)
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page(
    request: HttpRequest,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render ``fragment`` for an HTMX swap, ``template`` (the whole page) otherwise.

    Args:
        request: the current request.
        template: the full page template.
        context: template context, shared by both templates.
        fragment: the partial template; without one the full page is always rendered.
        status: the HTTP status (422 for a form with errors: HTMX is configured to swap it).

    Returns:
        The rendered response, marked ``Vary: HX-Request`` so caches never mix the two forms.
    """
    chosen = fragment if fragment is not None and wants_fragment(request) else template
    response = render(request, chosen, dict(context or {}), status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def hx_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """Send the browser to ``url``: an ``HX-Redirect`` for HTMX requests, a 303 otherwise.

    A plain redirect answered to HTMX would be followed inside the XHR and the next page swapped
    into a fragment; ``HX-Redirect`` makes the browser navigate instead.
    """
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    response = HttpResponse(status=303)
    response["Location"] = url
    return response
