"""The tokens panel of a deployment's page: issue (the secret shown once) and revoke, for project
admins. HTMX swaps the panel; without JavaScript the whole page comes back."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse

from modelworks.core.forms import add_service_error
from modelworks.core.models import Role
from modelworks.core.views.base import done
from modelworks.deployments import services
from modelworks.deployments.forms import EndpointTokenForm
from modelworks.deployments.views.deployments import DeploymentDetailView

__all__ = ["TokenCreateView", "TokenRevokeView"]


class _TokenPanelView(DeploymentDetailView):
    """The detail page, whose tokens panel HTMX swaps."""

    fragment_template_name = "deployments/partials/tokens.html"
    http_method_names = ["post"]
    write_role = Role.ADMIN


class TokenCreateView(_TokenPanelView):
    """Issue a token; its secret appears once, in the answer to this request only."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = EndpointTokenForm(request.POST)
        if form.is_valid():
            try:
                token, raw = services.issue_token(
                    self.deployment,
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    expires_in_days=form.cleaned_data.get("expires_in_days"),
                    request=request,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                # Rendered, not redirected: the secret must never travel in a URL or a stored message.
                context = self.get_context_data(new_token=token, new_token_value=raw)
                response = self.render_to_response(context, status=201)
                response["Cache-Control"] = "no-store"
                return response
        return self.render_form_errors(token_form=form)


class TokenRevokeView(_TokenPanelView):
    """Revoke a token: calls with it are refused within a second."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = self.deployment.tokens.filter(pk=self.kwargs["token_id"]).first()
        if token is None:
            raise Http404(f"Deployment '{self.deployment.name}' has no token {self.kwargs['token_id']}.")
        services.revoke_token(token, actor=request.user, request=request)
        return done(request, self.detail_url() + "#tokens", f"Token '{token.name}' revoked.")
