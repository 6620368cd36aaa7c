"""Base views of the pages: sign-in required, project resolution and permissions, HTMX fragments.

Concrete views are declarative: they set a few class attributes on one of these bases.

* ``PageView``: a signed-in page. Attributes: ``template_name`` (the full page),
  ``fragment_template_name`` (what HTMX swaps, optional), ``title``, ``nav`` (the current menu item).
* ``ProjectPageView``: a page inside a project. Adds ``needed_role`` (to read, default reader) and
  ``write_role`` (for POST, default admin). Non-members get 404, weaker roles 403
  (``core.permissions.get_project``).
* ``ListPageMixin``: mixed into one of the above for a paginated, filterable table. Adds
  ``filter_form_class``, ``paginate_by``, ``get_queryset()`` and ``filter_queryset()``; the view puts
  ``list_context()`` in its context, and HTMX filter requests get only the table fragment.
* ``InstanceAdminView``: a page for instance administrators only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.views.generic import TemplateView

from modelworks.core.forms import PageForm
from modelworks.core.htmx import hx_redirect, is_htmx, render_page
from modelworks.core.models import Project, Role
from modelworks.core.permissions import get_project, require_instance_admin

__all__ = ["InstanceAdminView", "ListPageMixin", "PageView", "ProjectPageView", "done"]


def done(request: HttpRequest, url: str, message: str | None = None) -> HttpResponse:
    """Finish a successful form post: flash ``message`` and send the browser to ``url``."""
    if message:
        messages.success(request, message)
    return hx_redirect(request, url)


class PageView(LoginRequiredMixin, TemplateView):
    """A page for signed-in users (see the module docstring for the attributes)."""

    fragment_template_name: str | None = None
    title: str = ""
    nav: str = ""
    status: int = 200

    def handle_no_permission(self) -> HttpResponse:
        if self.request.user.is_authenticated:
            return super().handle_no_permission()
        if is_htmx(self.request):
            # The session ended while the page was open: send the whole window to the login page.
            login = redirect_to_login(
                self.request.headers.get("HX-Current-URL") or self.request.get_full_path()
            )
            return hx_redirect(self.request, login["Location"])
        return super().handle_no_permission()

    def check_access(self, request: HttpRequest) -> None:
        """Raise ``Http404``/``PermissionDenied`` when the signed-in user may not see this page."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.check_access(request)
        return super().dispatch(request, *args, **kwargs)

    def get_title(self) -> str:
        return self.title

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("title", self.get_title())
        context.setdefault("nav", self.nav)
        return context

    def render_to_response(self, context: dict[str, Any], **response_kwargs: Any) -> HttpResponse:
        return render_page(
            self.request,
            self.template_name,
            context,
            fragment=self.fragment_template_name,
            status=response_kwargs.get("status", self.status),
        )

    def render_form_errors(self, **context: Any) -> HttpResponse:
        """The page again with a form's errors, as 422 (HTMX swaps 422 answers, see base.html)."""
        return self.render_to_response(self.get_context_data(**context), status=422)


class InstanceAdminView(PageView):
    """A page for instance administrators; others get a 403 page that says who can use it."""

    def check_access(self, request: HttpRequest) -> None:
        require_instance_admin(request.user)


class ProjectPageView(PageView):
    """A page inside the project named by the ``slug`` URL argument."""

    needed_role: Role = Role.READER
    write_role: Role = Role.ADMIN
    project: Project
    role: Role

    def check_access(self, request: HttpRequest) -> None:
        needed = self.needed_role if request.method in ("GET", "HEAD") else self.write_role
        self.project, self.role = get_project(request.user, self.kwargs["slug"], needed)

    def refresh_role(self) -> None:
        """Read the caller's role again (after a change to the members)."""
        self.role = self.project.role_of(self.request.user)  # type: ignore[assignment]

    def get_title(self) -> str:
        return f"{self.title} · {self.project.name}" if self.title else self.project.name

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        role = self.role
        context.update(
            project=self.project,
            role=role,
            can_contribute=role is not None and role.allows(Role.CONTRIBUTOR),
            is_project_admin=role is not None and role.allows(Role.ADMIN),
        )
        return context


class ListPageMixin:
    """Pagination and filters for a table page (see the module docstring)."""

    filter_form_class: type[PageForm] | None = None
    paginate_by: int = 25
    request: HttpRequest

    def get_queryset(self) -> QuerySet:
        raise NotImplementedError

    def filter_queryset(self, queryset: QuerySet, filters: dict[str, Any]) -> QuerySet:
        """Apply the valid filter values; the default applies none."""
        return queryset

    def list_context(self) -> dict[str, Any]:
        form = self.filter_form_class(self.request.GET or None) if self.filter_form_class else None
        queryset = self.get_queryset()
        filtered = False
        if form is not None and form.is_valid():
            filters = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
            filtered = bool(filters)
            queryset = self.filter_queryset(queryset, filters)
        elif form is not None and form.is_bound:
            # Invalid filters show their error and an empty table, never an unfiltered one.
            queryset = queryset.none()
            filtered = True
        paginator = Paginator(queryset, self.paginate_by)
        page: Page = paginator.get_page(self.request.GET.get("page"))
        return {
            "filter_form": form,
            "filtered": filtered,
            "page_obj": page,
            "object_list": page.object_list,
            "list_url": self.request.path,
        }
