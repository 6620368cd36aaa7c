"""Sign in, sign out and change password."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from modelworks.core import audit
from modelworks.core.auth import LoginThrottled, login_with_password
from modelworks.core.forms import LoginForm, PasswordChangeForm
from modelworks.core.views.base import PageView, done

WRONG_CREDENTIALS = "Wrong username or password. Check both and try again."


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("core:home")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """The sign-in page. Failures say one generic thing, so usernames cannot be probed."""
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                user = login_with_password(
                    request, form.cleaned_data["username"], form.cleaned_data["password"]
                )
            except LoginThrottled as exc:
                form.add_error(None, str(exc))
                status = 429
            else:
                if user is not None:
                    auth_login(request, user)
                    return redirect(_safe_next(request))
                form.add_error(None, WRONG_CREDENTIALS)
    context = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "title": "Sign in",
    }
    return render(request, "core/login.html", context, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out (POST only, so a link or an image on another site cannot sign anyone out)."""
    auth_logout(request)
    messages.info(request, "You are signed out.")
    return redirect("core:login")


class PasswordChangeView(PageView):
    """Change one's password; required first thing for accounts created with a one-time password."""

    template_name = "core/password_change.html"
    title = "Change password"
    nav = "settings"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", PasswordChangeForm(self.request.user))
        context["forced"] = self.request.user.must_change_password
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = PasswordChangeForm(request.user, request.POST)
        if not form.is_valid():
            return self.render_form_errors(form=form)
        forced = request.user.must_change_password
        with transaction.atomic():
            user = form.save()
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
            audit.record("auth.password_changed", actor=user, target=user, request=request)
        update_session_auth_hash(request, user)
        return done(
            request,
            reverse("core:home" if forced else "core:settings"),
            "Your password is changed. Use the new one next time you sign in.",
        )


password_change = sensitive_post_parameters("old_password", "new_password1", "new_password2")(
    PasswordChangeView.as_view()
)
