"""Home (the user's projects), new project, project overview and project settings."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core import services
from modelworks.core.forms import (
    AddMemberForm,
    CreateProjectForm,
    DeleteProjectForm,
    ProjectSettingsForm,
    add_service_error,
)
from modelworks.core.models import Job, Project, ProjectMembership, Role
from modelworks.core.views.base import PageView, ProjectPageView, done


def roles_by_project(user: Any, projects: list[Project]) -> dict[int, Role]:
    """The user's strongest role in each project, in one query (instance admins: admin everywhere)."""
    if user.is_superuser:
        return {p.id: Role.ADMIN for p in projects}
    best: dict[int, Role] = {}
    rows = ProjectMembership.objects.filter(
        Q(user=user) | Q(group__user=user), project__in=[p.id for p in projects]
    ).values_list("project_id", "role")
    for project_id, value in rows:
        role = Role(value)
        if project_id not in best or role.rank > best[project_id].rank:
            best[project_id] = role
    return best


def members_context(project: Project, role: Role | None) -> dict[str, Any]:
    """What the members panel (``core/partials/members.html``) shows."""
    memberships = ProjectMembership.objects.filter(project=project).select_related("user", "group")
    users = sorted((m for m in memberships if m.user_id), key=lambda m: (-Role(m.role).rank, m.user.username))
    groups = sorted((m for m in memberships if m.group_id), key=lambda m: (-Role(m.role).rank, m.group.name))
    return {
        "user_members": users,
        "group_members": groups,
        "member_count": len(users) + len(groups),
        "can_manage_members": role is not None and role.allows(Role.ADMIN),
        "add_form": AddMemberForm(),
        "role_choices": Role.choices,
    }


class HomeView(PageView):
    """The signed-in user's projects, and the "New project" form (which posts here)."""

    template_name = "core/home.html"
    title = "Projects"
    nav = "home"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        projects = list(
            Project.objects.visible_to(self.request.user)
            .annotate(
                people=Count("memberships", filter=Q(memberships__user__isnull=False), distinct=True),
                groups=Count("memberships", filter=Q(memberships__group__isnull=False), distinct=True),
                active_jobs=Count("jobs", filter=Q(jobs__state__in=["queued", "running"]), distinct=True),
            )
            .order_by("name")
        )
        roles = roles_by_project(self.request.user, projects)
        for project in projects:
            project.my_role = roles.get(project.id)
        context["projects"] = projects
        context.setdefault("form", CreateProjectForm())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CreateProjectForm(request.POST)
        if form.is_valid():
            try:
                project = services.create_project(actor=request.user, request=request, **form.cleaned_data)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(
                    request,
                    reverse("core:project", kwargs={"slug": project.slug}),
                    f"Project “{project.name}” created. You are its admin: add members below.",
                )
        return self.render_form_errors(form=form, show_new_project=True)


class ProjectView(ProjectPageView):
    """A project's overview: what it is, recent jobs, and its members and roles."""

    template_name = "core/project.html"
    nav = "project"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        jobs = Job.objects.filter(project=self.project)
        context.update(
            recent_jobs=jobs.select_related("created_by")[:5],
            active_job_count=jobs.filter(state__in=["queued", "running"]).count,
            job_count=jobs.count,
        )
        # Values passed in (a form with errors, a row's error) win over the defaults.
        for key, value in members_context(self.project, self.role).items():
            context.setdefault(key, value)
        return context


class ProjectSettingsView(ProjectPageView):
    """Name and description, and deleting the project (admins)."""

    template_name = "core/project_settings.html"
    title = "Settings"
    nav = "project_settings"
    needed_role = Role.ADMIN

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault(
            "form",
            ProjectSettingsForm(initial={"name": self.project.name, "description": self.project.description}),
        )
        context.setdefault("delete_form", DeleteProjectForm(project=self.project))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ProjectSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_project(
                    self.project, actor=request.user, request=request, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(request, request.path, "Project settings saved.")
        return self.render_form_errors(form=form)


class DeleteProjectView(ProjectSettingsView):
    """Delete a project after its short name is typed, as a guard against the wrong tab."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = DeleteProjectForm(request.POST, project=self.project)
        if not form.is_valid():
            return self.render_form_errors(delete_form=form)
        name = self.project.name
        services.delete_project(self.project, actor=request.user, request=request)
        return done(request, reverse("core:home"), f"Project “{name}” and everything in it was deleted.")
