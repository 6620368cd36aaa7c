"""Instance administration: users (create with a one-time password, deactivate) and groups."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from modelworks.core import audit, services
from modelworks.core.forms import (
    CreateGroupForm,
    CreateUserForm,
    GroupMemberForm,
    UserSearchForm,
    add_service_error,
)
from modelworks.core.models import User
from modelworks.core.views.base import InstanceAdminView, ListPageMixin, done

# No look-alike characters (0/o, 1/l): the password is read off a screen and typed once.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def one_time_password() -> str:
    """Four groups of five characters, about 100 bits: easy to pass on, must be changed at first sign-in."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(4))


class UsersView(ListPageMixin, InstanceAdminView):
    """Every account, a search, and the form to create one."""

    template_name = "core/admin_users.html"
    fragment_template_name = "core/partials/user_table.html"
    title = "Users"
    nav = "admin_users"
    filter_form_class = UserSearchForm
    paginate_by = 50

    def get_queryset(self) -> QuerySet:
        return User.objects.annotate(project_count=Count("memberships", distinct=True)).order_by("username")

    def filter_queryset(self, queryset: QuerySet, filters: dict[str, Any]) -> QuerySet:
        text = filters.get("q", "").strip()
        if text:
            queryset = queryset.filter(
                Q(username__icontains=text)
                | Q(first_name__icontains=text)
                | Q(last_name__icontains=text)
                | Q(email__icontains=text)
            )
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.list_context())
        context.setdefault("form", CreateUserForm())
        return context


class CreateUserView(UsersView):
    """Create an account with a one-time password, shown in this answer only."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CreateUserForm(request.POST)
        if form.is_valid():
            password = one_time_password()
            try:
                with transaction.atomic():
                    user = services.create_user(
                        actor=request.user,
                        username=form.cleaned_data["username"],
                        email=form.cleaned_data["email"],
                        password=password,
                        is_instance_admin=form.cleaned_data["is_instance_admin"],
                        request=request,
                    )
                    user.must_change_password = True
                    user.save(update_fields=["must_change_password"])
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                context = self.get_context_data(created_user=user, one_time_password=password)
                return self.render_to_response(context)
        return self.render_form_errors(form=form, show_new_user=True)


class UserActiveView(InstanceAdminView):
    """Deactivate an account (it can no longer sign in nor use its tokens) or reactivate it."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = get_object_or_404(User, pk=self.kwargs["pk"])
        active = request.POST.get("active") == "1"
        if user == request.user and not active:
            messages.error(request, "You cannot deactivate your own account; ask another administrator.")
            return done(request, reverse("core:admin_users"))
        if user.is_active != active:
            with transaction.atomic():
                user.is_active = active
                user.save(update_fields=["is_active"])
                audit.record(
                    "user.updated",
                    actor=request.user,
                    target=user,
                    request=request,
                    details={"is_active": active},
                )
        verb = "reactivated" if active else "deactivated: they can no longer sign in or use their tokens"
        return done(request, reverse("core:admin_users"), f"Account {user.username} {verb}.")


class GroupsView(InstanceAdminView):
    """Groups, their sizes, and the form to create one."""

    template_name = "core/admin_groups.html"
    title = "Groups"
    nav = "admin_groups"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["groups"] = Group.objects.annotate(
            member_count=Count("user", distinct=True),
            project_count=Count("project_memberships", distinct=True),
        ).order_by("name")
        context.setdefault("form", CreateGroupForm())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CreateGroupForm(request.POST)
        if form.is_valid():
            try:
                group = services.create_group(
                    actor=request.user, name=form.cleaned_data["name"], request=request
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(
                    request,
                    reverse("core:admin_group", kwargs={"pk": group.pk}),
                    f"Group “{group.name}” created. Add its members below.",
                )
        return self.render_form_errors(form=form)


class GroupView(InstanceAdminView):
    """One group: its members (add, remove) and the projects it has a role in."""

    template_name = "core/admin_group.html"
    nav = "admin_groups"

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        self.group = get_object_or_404(Group, pk=self.kwargs["pk"])

    def get_title(self) -> str:
        return f"Group {self.group.name}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            group=self.group,
            members=self.group.user_set.order_by("username"),
            memberships=self.group.project_memberships.select_related("project").order_by("project__name"),
        )
        context.setdefault("form", GroupMemberForm())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = GroupMemberForm(request.POST)
        if not form.is_valid():
            return self.render_form_errors(form=form)
        user = form.cleaned_data["username"]
        if self.group.user_set.filter(pk=user.pk).exists():
            form.add_error("username", f"{user.username} is already in this group.")
            return self.render_form_errors(form=form)
        services.add_group_member(self.group, user, actor=request.user, request=request)
        return done(request, request.path, f"{user.username} added to {self.group.name}.")


class RemoveGroupMemberView(GroupView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = get_object_or_404(self.group.user_set, pk=self.kwargs["user_pk"])
        services.remove_group_member(self.group, user, actor=request.user, request=request)
        return done(
            request,
            reverse("core:admin_group", kwargs={"pk": self.group.pk}),
            f"{user.username} removed from {self.group.name}.",
        )
