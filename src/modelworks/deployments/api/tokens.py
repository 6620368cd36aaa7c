"""``/projects/{slug}/deployments/{name}/tokens``: the endpoint's own bearer tokens.

Readers see the list (names, prefixes, status; never a secret). Issuing and revoking need the
project admin role: a token lets anyone holding it use the model and put rows in the prediction
log, outside the project's membership, so handing out that access is an administrator's decision.
"""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.deployments import services
from modelworks.deployments.api.common import get_deployment, get_token
from modelworks.deployments.models import EndpointToken
from modelworks.deployments.schemas import TokenCreatedOut, TokenIn, TokenOut

router = Router(tags=["deployments"])

_TOKENS = "/projects/{slug}/deployments/{name}/tokens"


@router.get(
    _TOKENS,
    response=responses({200: list[TokenOut]}, 404, 422),
    operation_id="deployments_tokens_list",
    summary="List a deployment's endpoint tokens",
)
@paginate
def deployments_tokens_list(request: HttpRequest, slug: str, name: str) -> QuerySet:
    """The endpoint's tokens, newest first, with status and last use; never the secrets (readers)."""
    _, deployment = get_deployment(request.user, slug, name)
    return deployment.tokens.select_related("created_by").order_by("-created_at", "-id")


@router.post(
    _TOKENS,
    response=responses({201: TokenCreatedOut}, 403, 404, 422),
    operation_id="deployments_tokens_create",
    summary="Issue an endpoint token",
)
def deployments_tokens_create(request: HttpRequest, slug: str, name: str, payload: TokenIn) -> Status:
    """A new ``mwe_…`` token, returned this once in ``token`` (only a hash is kept). Callers send
    ``Authorization: Bearer <token>`` to ``/score/<name>`` (project admins)."""
    _, deployment = get_deployment(request.user, slug, name, Role.ADMIN)
    token, raw = services.issue_token(
        deployment,
        actor=request.user,
        name=payload.name,
        expires_in_days=payload.expires_in_days,
        request=request,
    )
    token.token = raw  # type: ignore[attr-defined]  (answered once, never stored)
    return Status(201, token)


@router.post(
    _TOKENS + "/{token_id}/revoke",
    response=responses({200: TokenOut}, 403, 404),
    operation_id="deployments_tokens_revoke",
    summary="Revoke an endpoint token",
)
def deployments_tokens_revoke(request: HttpRequest, slug: str, name: str, token_id: int) -> EndpointToken:
    """Revoke a token: calls with it are refused within a second. Idempotent (project admins)."""
    _, deployment = get_deployment(request.user, slug, name, Role.ADMIN)
    return services.revoke_token(get_token(deployment, token_id), actor=request.user, request=request)
