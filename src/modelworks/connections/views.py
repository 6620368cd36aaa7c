"""Connection pages: a project's connections (its own and those shared with it) and the instance's
shared connections (instance administrators).

Credentials are write-only everywhere: a page shows "••• set" and never a stored value.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.connections import services
from modelworks.connections.access import get_instance_connection, get_project_connection
from modelworks.connections.forms import ConnectionForm
from modelworks.connections.models import Connection, ConnectionKind
from modelworks.core.forms import add_service_error
from modelworks.core.htmx import render_page
from modelworks.core.models import Role
from modelworks.core.views.base import InstanceAdminView, ProjectPageView, done

_KIND_HELP = {
    ConnectionKind.POSTGRESQL: "Read tables or the result of a SQL query from a PostgreSQL database.",
    ConnectionKind.S3: "Read CSV, Parquet, Excel or JSON Lines files from a bucket of an S3-compatible service.",
}


def _kind(request: HttpRequest) -> str | None:
    kind = request.GET.get("kind") or request.POST.get("kind")
    return kind if kind in ConnectionKind.values else None


def _kinds() -> list[dict[str, str]]:
    return [{"value": k.value, "label": k.label, "help": _KIND_HELP[k]} for k in ConnectionKind]


def _create(request: HttpRequest, form: ConnectionForm, project: Any) -> Connection | None:
    """Create from a valid form; return None (errors put on the form) when the service refuses."""
    try:
        return services.create_connection(
            actor=request.user,
            project=project,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            kind=form.kind,
            config=form.config(),
            secrets=form.secrets(),
            shared_with=list(form.cleaned_data.get("shared_with") or []),
            request=request,
        )
    except ValidationError as exc:
        add_service_error(form, exc)
        return None


def _update(request: HttpRequest, form: ConnectionForm, connection: Connection) -> bool:
    try:
        services.update_connection(
            connection,
            actor=request.user,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            config=form.config(),
            secrets=form.secrets(),
            clear_secrets=form.cleared(),
            shared_with=list(form.cleaned_data["shared_with"]) if "shared_with" in form.fields else None,
            request=request,
        )
    except ValidationError as exc:
        add_service_error(form, exc)
        connection.refresh_from_db()
        return False
    return True


# ------------------------------------------------------------------------------------ project pages


class ConnectionListView(ProjectPageView):
    """The project's connections and those the instance shares with it."""

    template_name = "connections/list.html"
    title = "Connections"
    nav = "connections"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            connections=Connection.objects.usable_in(self.project).select_related("created_by"),
            kinds=_kinds(),
        )
        return context


class ConnectionCreateView(ProjectPageView):
    """A new connection of the kind chosen on the list page (``?kind=postgresql``)."""

    template_name = "connections/create.html"
    title = "New connection"
    nav = "connections"
    needed_role = Role.ADMIN
    write_role = Role.ADMIN

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        kind = _kind(self.request)
        context.update(
            kind=kind, kinds=_kinds(), cancel_url=reverse("connections:list", args=[self.project.slug])
        )
        if kind:
            context.setdefault("form", ConnectionForm(kind=kind))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        kind = _kind(request)
        if kind is None:
            return self.render_form_errors(kind_error="Choose PostgreSQL or S3-compatible storage.")
        form = ConnectionForm(request.POST, kind=kind)
        if form.is_valid() and (connection := _create(request, form, self.project)):
            url = reverse("connections:detail", args=[self.project.slug, connection.pk])
            return done(request, url, f"Connection “{connection.name}” created. Test it below.")
        return self.render_form_errors(form=form)


class ConnectionView(ProjectPageView):
    """One connection: its settings, a "Test connection" button and, for admins, the edit form."""

    template_name = "connections/detail.html"
    nav = "connections"
    write_role = Role.ADMIN
    connection: Connection

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        change = request.method not in ("GET", "HEAD") and self.write_role == Role.ADMIN
        _, self.connection = get_project_connection(
            request.user, self.project.slug, self.kwargs["pk"], Role.READER, change=change
        )

    def get_title(self) -> str:
        return f"{self.connection.name} · Connections"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        connection = self.connection
        editable = self.role.allows(Role.ADMIN) and (
            connection.project_id is not None or self.request.user.is_superuser
        )
        slug = self.project.slug
        context.update(
            connection=connection,
            editable=editable,
            can_test=self.role.allows(Role.CONTRIBUTOR),
            test_url=reverse("connections:test", args=[slug, connection.pk]),
            delete_url=reverse("connections:delete", args=[slug, connection.pk]),
            form_action=reverse("connections:detail", args=[slug, connection.pk]),
            list_url=reverse("connections:list", args=[slug]),
        )
        if editable:
            context.setdefault(
                "form",
                ConnectionForm(
                    kind=connection.kind, connection=connection, instance_level=connection.project_id is None
                ),
            )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        instance_level = self.connection.project_id is None
        form = ConnectionForm(
            request.POST, kind=self.connection.kind, connection=self.connection, instance_level=instance_level
        )
        if form.is_valid() and _update(request, form, self.connection):
            return done(request, request.path, "Connection saved.")
        return self.render_form_errors(form=form)


class ConnectionDeleteView(ConnectionView):
    """Delete a project connection (admins). Datasets imported through it keep their versions."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        name = self.connection.name
        services.delete_connection(self.connection, actor=request.user, request=request)
        return done(
            request, reverse("connections:list", args=[self.project.slug]), f"Connection “{name}” deleted."
        )


class ConnectionTestView(ConnectionView):
    """Try the connection now; HTMX swaps in the answer, a plain post returns to the page."""

    http_method_names = ["post"]
    write_role = Role.CONTRIBUTOR

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        result = services.test_connection(
            self.connection, actor=request.user, project=self.project, request=request
        )
        return _test_answer(
            request,
            self.connection,
            result,
            reverse("connections:detail", args=[self.project.slug, self.connection.pk]),
        )


def _test_answer(request: HttpRequest, connection: Connection, result: Any, page_url: str) -> HttpResponse:
    context = {"connection": connection, "result": result}
    response = render_page(
        request,
        "connections/partials/test_result.html",
        context,
        fragment="connections/partials/test_result.html",
    )
    if request.headers.get("HX-Request") == "true":
        return response
    return done(request, page_url, result.message)


# ----------------------------------------------------------------------------- instance administration


class InstanceConnectionsView(InstanceAdminView):
    """Connections shared by the instance administrators with chosen projects."""

    template_name = "connections/admin_list.html"
    title = "Shared connections"
    nav = "admin_connections"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        kind = _kind(self.request)
        context.update(
            connections=Connection.objects.filter(project__isnull=True).prefetch_related("shared_with"),
            kinds=_kinds(),
            kind=kind,
        )
        if kind:
            context.setdefault("form", ConnectionForm(kind=kind, instance_level=True))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        kind = _kind(request)
        if kind is None:
            raise Http404("Choose PostgreSQL or S3-compatible storage.")
        form = ConnectionForm(request.POST, kind=kind, instance_level=True)
        if form.is_valid() and (connection := _create(request, form, None)):
            url = reverse("connections:admin_detail", args=[connection.pk])
            return done(request, url, f"Connection “{connection.name}” created. Test it below.")
        return self.render_form_errors(form=form, kind=kind)


class InstanceConnectionView(InstanceAdminView):
    """One shared connection: settings, projects it is shared with, test, edit."""

    template_name = "connections/detail.html"
    nav = "admin_connections"
    connection: Connection

    def check_access(self, request: HttpRequest) -> None:
        self.connection = get_instance_connection(request.user, self.kwargs["pk"])

    def get_title(self) -> str:
        return f"{self.connection.name} · Shared connections"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        pk = self.connection.pk
        context.update(
            connection=self.connection,
            editable=True,
            can_test=True,
            instance_level=True,
            test_url=reverse("connections:admin_test", args=[pk]),
            delete_url=reverse("connections:admin_delete", args=[pk]),
            form_action=reverse("connections:admin_detail", args=[pk]),
            list_url=reverse("connections:admin_list"),
        )
        context.setdefault(
            "form", ConnectionForm(kind=self.connection.kind, connection=self.connection, instance_level=True)
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ConnectionForm(
            request.POST, kind=self.connection.kind, connection=self.connection, instance_level=True
        )
        if form.is_valid() and _update(request, form, self.connection):
            return done(request, request.path, "Connection saved.")
        return self.render_form_errors(form=form)


class InstanceConnectionDeleteView(InstanceConnectionView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        name = self.connection.name
        services.delete_connection(self.connection, actor=request.user, request=request)
        return done(request, reverse("connections:admin_list"), f"Connection “{name}” deleted.")


class InstanceConnectionTestView(InstanceConnectionView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        result = services.test_connection(self.connection, actor=request.user, request=request)
        return _test_answer(
            request, self.connection, result, reverse("connections:admin_detail", args=[self.connection.pk])
        )
