"""The audit log pages: read-only, filterable, paginated.

``/audit/`` shows instance administrators everything and project admins the entries of their
projects (``AuditEvent.objects.visible_to``); ``/projects/<slug>/audit/`` shows one project's entries.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from modelworks.core.forms import AuditFilterForm, ProjectAuditFilterForm
from modelworks.core.models import AuditEvent, Project, Role
from modelworks.core.views.base import ListPageMixin, PageView, ProjectPageView

NOT_AN_ADMIN = (
    "The audit log is shown to project admins, for their own projects, and to instance administrators. "
    "You are not an admin of any project. If you need to know who changed what, ask an admin of the project."
)


class AuditListMixin(ListPageMixin):
    fragment_template_name = "core/partials/audit_results.html"
    paginate_by = 50

    def filter_queryset(self, queryset: QuerySet, filters: dict[str, Any]) -> QuerySet:
        if "action" in filters:
            queryset = queryset.filter(action__icontains=filters["action"].strip())
        if "user" in filters:
            queryset = queryset.filter(actor_name__icontains=filters["user"].strip())
        if "project" in filters:
            queryset = queryset.filter(project_slug__iexact=filters["project"].strip())
        if "date_from" in filters:
            queryset = queryset.filter(time__date__gte=filters["date_from"])
        if "date_to" in filters:
            queryset = queryset.filter(time__date__lte=filters["date_to"])
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(self.list_context())
        context["known_actions"] = (
            self.get_queryset().order_by("action").values_list("action", flat=True).distinct()
        )
        return context


class AuditView(AuditListMixin, PageView):
    """Every entry the user may see: all for instance admins, their projects' for project admins."""

    template_name = "core/audit.html"
    title = "Audit log"
    nav = "audit"
    filter_form_class = AuditFilterForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["show_project"] = True  # entries of several projects: say which
        return context

    def check_access(self, request: HttpRequest) -> None:
        user = request.user
        if not user.is_superuser and not Project.objects.with_role(user, Role.ADMIN).exists():
            raise PermissionDenied(NOT_AN_ADMIN)

    def get_queryset(self) -> QuerySet:
        return AuditEvent.objects.visible_to(self.request.user)


class ProjectAuditView(AuditListMixin, ProjectPageView):
    """One project's entries, for its admins."""

    template_name = "core/project_audit.html"
    title = "Audit log"
    nav = "project_audit"
    needed_role = Role.ADMIN
    filter_form_class = ProjectAuditFilterForm

    def get_queryset(self) -> QuerySet:
        return AuditEvent.objects.filter(project=self.project)
