"""The last route of the API: any other path under /api/v1 answers the API's 404 body, not a page.

Mounted last by ``modelworks.config.api``. Authentication still comes first, so an anonymous caller
learns nothing about which paths exist (401 everywhere).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Router

__all__ = ["router"]

router = Router()


@router.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"],
    "/{path:rest}",
    operation_id="unknown_path",
    include_in_schema=False,
)
def unknown_path(request: HttpRequest, rest: str) -> None:
    """No such API route."""
    raise Http404(f"No API route {request.method} /api/v1/{rest}; the routes are listed at /api/v1/docs.")
