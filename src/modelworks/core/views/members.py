"""The members panel of a project page: list, add, change role, remove, and the people search.

Each change answers with the panel fragment (``core/partials/members.html``) for HTMX, or sends
the browser back to the project page without JavaScript. A refusal of the service (e.g. removing
the last admin) is shown inside the panel, next to the member concerned.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from modelworks.core import services
from modelworks.core.forms import AddMemberForm, ChangeRoleForm, add_service_error
from modelworks.core.htmx import hx_redirect, wants_fragment
from modelworks.core.models import ProjectMembership, Role, User
from modelworks.core.views.base import ProjectPageView, done
from modelworks.core.views.projects import ProjectView

SEARCH_LIMIT = 10


class MembersPanelView(ProjectView):
    """Base of the member actions: the panel fragment for HTMX, the project page otherwise."""

    fragment_template_name = "core/partials/members.html"
    http_method_names = ["post"]

    def panel(self, *, status: int = 200, **errors: Any) -> HttpResponse:
        """Answer a member change; ``errors`` is a form with errors or a row's error (``row_error``)."""
        self.refresh_role()
        if self.role is None:
            # The user removed their own access: nothing of the project is theirs to see any more.
            return done(self.request, reverse("core:home"), f"You left project “{self.project.name}”.")
        if status == 200 and not wants_fragment(self.request):
            return hx_redirect(self.request, reverse("core:project", kwargs={"slug": self.project.slug}))
        return self.render_to_response(self.get_context_data(**errors), status=status)

    def membership(self) -> ProjectMembership:
        return get_object_or_404(
            ProjectMembership.objects.select_related("user", "group"),
            pk=self.kwargs["pk"],
            project=self.project,
        )


class AddMemberView(MembersPanelView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = AddMemberForm(request.POST)
        if form.is_valid():
            principal = form.cleaned_data["principal"]
            is_group = isinstance(principal, Group)
            existing = ProjectMembership.objects.filter(
                project=self.project, **({"group": principal} if is_group else {"user": principal})
            ).first()
            if existing is not None:
                form.add_error(
                    "principal",
                    f"{existing.principal_name} is already {existing.get_role_display().lower()} here; "
                    "change the role in the list instead.",
                )
            else:
                try:
                    services.grant_membership(
                        self.project,
                        actor=request.user,
                        role=form.cleaned_data["role"],
                        request=request,
                        **({"group": principal} if is_group else {"user": principal}),
                    )
                except ValidationError as exc:
                    add_service_error(form, exc)
                else:
                    name = f"group {principal.name}" if is_group else principal.username
                    messages.success(request, f"{name} added as {form.cleaned_data['role']}.")
                    return self.panel()
        return self.panel(status=422, add_form=form)


class ChangeRoleView(MembersPanelView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = self.membership()
        form = ChangeRoleForm(request.POST)
        if not form.is_valid():
            return self.panel(status=422, row_error=(membership.pk, "Choose reader, contributor or admin."))
        try:
            services.grant_membership(
                self.project,
                actor=request.user,
                role=form.cleaned_data["role"],
                user=membership.user,
                group=membership.group,
                request=request,
            )
        except ValidationError as exc:
            return self.panel(status=422, row_error=(membership.pk, " ".join(exc.messages)))
        messages.success(request, f"{membership.principal_name} is now {form.cleaned_data['role']}.")
        return self.panel()


class RemoveMemberView(MembersPanelView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = self.membership()
        try:
            services.revoke_membership(membership, actor=request.user, request=request)
        except ValidationError as exc:
            return self.panel(status=422, row_error=(membership.pk, " ".join(exc.messages)))
        messages.success(request, f"{membership.principal_name} removed from the project.")
        return self.panel()


class MemberSearchView(ProjectPageView):
    """Suggestions for the "User or group" field: active users and groups not yet members."""

    template_name = "core/partials/member_suggestions.html"
    needed_role = Role.ADMIN

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        text = self.request.GET.get("principal", "").strip()
        if text.lower().startswith("group:"):
            text = text[len("group:") :].strip()
        users = User.objects.filter(is_active=True).exclude(memberships__project=self.project)
        groups = Group.objects.exclude(project_memberships__project=self.project)
        if text:
            users = users.filter(
                Q(username__icontains=text) | Q(first_name__icontains=text) | Q(last_name__icontains=text)
            )
            groups = groups.filter(name__icontains=text)
        context.update(users=users.distinct()[:SEARCH_LIMIT], groups=groups[:SEARCH_LIMIT])
        return context
