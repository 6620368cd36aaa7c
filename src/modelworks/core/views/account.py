"""The user's own settings: profile, password (see ``auth.py``) and personal API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from modelworks.core import audit, services
from modelworks.core.forms import CreateTokenForm, ProfileForm, add_service_error
from modelworks.core.htmx import wants_fragment
from modelworks.core.models import ApiToken
from modelworks.core.views.base import PageView, done


class SettingsView(PageView):
    """Profile, a link to change the password, and the API tokens."""

    template_name = "core/settings.html"
    title = "Your settings"
    nav = "settings"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("profile_form", ProfileForm(instance=self.request.user))
        context.setdefault("token_form", CreateTokenForm())
        context["tokens"] = ApiToken.objects.filter(user=self.request.user)
        return context


class ProfileView(SettingsView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        fields = ProfileForm.Meta.fields
        before = {name: getattr(user, name) for name in fields}
        form = ProfileForm(request.POST, instance=user)
        if not form.is_valid():
            return self.render_form_errors(profile_form=form)
        changed = {
            name: form.cleaned_data[name] for name in fields if form.cleaned_data[name] != before[name]
        }
        if changed:
            with transaction.atomic():
                form.save()
                audit.record(
                    "user.updated",
                    actor=user,
                    target=user,
                    request=request,
                    details={"before": {k: before[k] for k in changed}, "after": changed},
                )
        return done(
            request,
            reverse("core:settings"),
            "Profile saved." if changed else "Nothing to save: no field changed.",
        )


class TokensView(SettingsView):
    """Create a token (its value is shown in this answer only) or revoke one."""

    fragment_template_name = "core/partials/tokens.html"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CreateTokenForm(request.POST)
        if form.is_valid():
            try:
                token, raw = services.issue_token(
                    actor=request.user,
                    user=request.user,
                    name=form.cleaned_data["name"],
                    expires_at=form.expires_at(),
                    request=request,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                # Rendered, never redirected: the raw value must not travel through the session.
                return self.render_to_response(self.get_context_data(new_token=token, new_token_value=raw))
        return self.render_form_errors(token_form=form)


class RevokeTokenView(TokensView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # One's own tokens (instance admins: any token, as in the API); another user's is "not found".
        tokens = ApiToken.objects.select_related("user")
        if not request.user.is_superuser:
            tokens = tokens.filter(user=request.user)
        token = get_object_or_404(tokens, pk=self.kwargs["pk"])
        services.revoke_token(token, actor=request.user, request=request)
        messages.success(request, f"Token “{token.name}” revoked; programs using it are now refused.")
        if wants_fragment(request):
            return self.render_to_response(self.get_context_data())
        return done(request, reverse("core:settings"))
