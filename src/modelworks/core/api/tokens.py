"""``/tokens``: the caller's personal API tokens.

A token's raw value is returned once, by the request that creates it; afterwards only its prefix
is shown (the database holds a hash). Revoking keeps the token listed, marked ``revoked``, so its
use stays traceable in the audit log.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status
from ninja.throttling import UserRateThrottle

from modelworks.core import services
from modelworks.core.api.errors import responses
from modelworks.core.models import ApiToken
from modelworks.core.permissions import require_instance_admin
from modelworks.core.schemas import TokenCreatedOut, TokenIn, TokenOut

__all__ = ["TOKEN_CREATION_RATE", "router"]

router = Router(tags=["tokens"])

# Creating tokens is rare; a burst means a runaway script or a stolen session minting keys.
TOKEN_CREATION_RATE = "20/min"  # noqa: S105 (a rate, not a secret)


@router.get(
    "/tokens",
    response=responses({200: list[TokenOut]}, 403, 422),
    operation_id="tokens_list",
    summary="List my API tokens",
)
@paginate
def tokens_list(
    request: HttpRequest, user: str | None = Query(None, description="Instance admins: whose tokens.")
) -> QuerySet:
    """The caller's tokens, newest first. Instance administrators may ask for another user's."""
    tokens = ApiToken.objects.select_related("user")
    if user is not None and user != request.user.username:
        require_instance_admin(request.user)
        tokens = tokens.filter(user__username=user)
    else:
        tokens = tokens.filter(user=request.user)
    return tokens.order_by("-created_at", "-id")


@router.post(
    "/tokens",
    response=responses({201: TokenCreatedOut}, 422, 429),
    operation_id="tokens_create",
    summary="Create an API token",
    throttle=[UserRateThrottle(TOKEN_CREATION_RATE)],
)
def tokens_create(request: HttpRequest, payload: TokenIn) -> Status:
    """Create a token for the caller. The response holds the token itself, shown this once only."""
    token, raw = services.issue_token(
        actor=request.user,
        user=request.user,
        name=payload.name,
        expires_at=payload.expires_at,
        request=request,
    )
    # The raw value rides on the instance for this one response only; it is never saved.
    token.token = raw  # type: ignore[attr-defined]
    return Status(201, token)


@router.delete(
    "/tokens/{token_id}",
    response=responses({204: None}, 404),
    operation_id="tokens_revoke",
    summary="Revoke an API token",
)
def tokens_revoke(request: HttpRequest, token_id: int) -> Status:
    """Revoke a token: it stops working at once. Own tokens; instance administrators any token."""
    tokens = ApiToken.objects.select_related("user")
    if not request.user.is_superuser:
        tokens = tokens.filter(user=request.user)  # someone else's token is "not found", not "forbidden"
    token = tokens.filter(pk=token_id).first()
    if token is None:
        raise Http404(f"No token {token_id} of yours.")
    services.revoke_token(token, actor=request.user, request=request)
    return Status(204, None)
