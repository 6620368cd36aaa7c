"""The datasets of a project, one dataset's overview (schema, re-import with other types), its
versions (pin), its settings (description, tags, owner, column descriptions) and file downloads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.module_loading import import_string

from modelworks.core.forms import add_service_error
from modelworks.core.htmx import hx_redirect
from modelworks.core.models import Role
from modelworks.core.views.base import ListPageMixin, ProjectPageView, done
from modelworks.datasets import services
from modelworks.datasets.forms import DatasetSettingsForm, types_from_post
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.datasets.storage import data_store
from modelworks.datasets.views.base import DatasetPageView
from modelworks.engine.io import LOGICAL_TYPES

__all__ = [
    "DatasetDeleteView",
    "DatasetListView",
    "DatasetSettingsView",
    "DatasetView",
    "DownloadParquetView",
    "ExportCsvView",
    "PinVersionView",
    "ReimportView",
    "VersionsView",
]


class DatasetListView(ListPageMixin, ProjectPageView):
    """The project's datasets with their size and quality, newest change first."""

    template_name = "datasets/list.html"
    fragment_template_name = "datasets/partials/dataset_table.html"
    title = "Datasets"
    nav = "datasets"

    def get_queryset(self) -> QuerySet:
        latest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-number")
        return (
            Dataset.objects.filter(project=self.project)
            .select_related("owner")
            .annotate(
                version_count=Count("versions"),
                rows=Subquery(latest.values("row_count")[:1]),
                quality=Subquery(latest.values("quality_status")[:1]),
            )
            .order_by("-updated_at", "name")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.list_context())
        return context


class DatasetView(DatasetPageView):
    """Overview: description, facts of the current version, schema with type overrides."""

    template_name = "datasets/detail.html"
    tab = "overview"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        version = context["version"]
        context["logical_types"] = list(LOGICAL_TYPES)
        if version is not None:
            descriptions = self.dataset.column_descriptions
            context["columns"] = [
                {**c, "description": descriptions.get(c["name"], "")} for c in version.schema
            ]
            context["latest_run"] = version.quality_runs.first()
            name_locations([version])
        context["dataset_panels"] = dataset_panels(self.request, self.project, self.dataset)
        return context


def name_locations(versions: list[DatasetVersion]) -> list[DatasetVersion]:
    """Set ``location_connection_name`` on each version that lives in a database table (its
    connection's name; "" when that connection was deleted), in one query."""
    from modelworks.connections.models import Connection

    ids = {v.location.get("connection_id") for v in versions if v.location}
    names = dict(Connection.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    for version in versions:
        if version.location:
            version.location_connection_name = names.get(version.location.get("connection_id"), "")  # type: ignore[attr-defined]
    return versions


def dataset_panels(request: HttpRequest, project: Any, dataset: Dataset) -> list[dict[str, Any]]:
    """The panels other apps add to the overview (``MODELWORKS_DATASET_PANELS``), in setting order.

    Each entry names a function ``(request, project, dataset) -> {"template", "context"} | None``;
    the page includes each template with its context as ``panel``. The setting is explicit, so the
    datasets app never imports the apps that build on it.
    """
    panels = []
    for path in getattr(settings, "MODELWORKS_DATASET_PANELS", []):
        panel = import_string(path)(request, project, dataset)
        if panel is not None:
            panels.append({"template": panel["template"], "context": panel.get("context") or {}})
    return panels


class ReimportView(DatasetView):
    """Import the source again with the column types chosen in the schema table (contributors)."""

    http_method_names = ["post"]
    write_role = Role.CONTRIBUTOR

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = self.get_version()
        if version is None:
            raise Http404("This dataset has no version yet.")
        try:
            types = types_from_post(request.POST, version)
            if not types:
                raise ValidationError({"types": "Change the type of at least one column first."})
            job = services.submit_reimport(
                actor=request.user, dataset=self.dataset, version=version, types=types, request=request
            )
        except ValidationError as exc:
            return self.render_form_errors(reimport_errors=exc.messages)
        url = reverse("datasets:import_status", args=[self.project.slug, job.pk])
        return done(
            request, url, f"Importing “{self.dataset.name}” again with {len(types)} new column type(s)."
        )


class VersionsView(DatasetPageView):
    """Every version with who, when and how; pin one (contributors)."""

    template_name = "datasets/versions.html"
    tab = "versions"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["versions"] = name_locations(
            list(self.dataset.versions.select_related("created_by", "connection").order_by("-number"))
        )
        return context


class PinVersionView(VersionsView):
    """Pin a version (``version`` = its number) or unpin (empty)."""

    http_method_names = ["post"]
    write_role = Role.CONTRIBUTOR

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        number = request.POST.get("version") or ""
        version = None
        if number:
            version = self.dataset.versions.filter(number=int(number) if number.isdigit() else -1).first()
            if version is None:
                raise Http404(f"'{self.dataset.name}' has no version {number[:20]}.")
        services.pin_version(self.dataset, version, actor=request.user, request=request)
        message = (
            f"Version {version.number} pinned."
            if version
            else "Unpinned: later steps use the latest version."
        )
        return done(request, reverse("datasets:versions", args=[self.project.slug, self.dataset.pk]), message)


class DatasetSettingsView(DatasetPageView):
    """Name, description, tags, owner and column descriptions (contributors change them)."""

    template_name = "datasets/settings.html"
    tab = "settings"
    write_role = Role.CONTRIBUTOR

    def _form(self, data: Any = None) -> DatasetSettingsForm:
        version = self.dataset.current_version
        columns = version.column_names if version is not None else []
        initial = {
            "name": self.dataset.name,
            "description": self.dataset.description,
            "tags": ", ".join(self.dataset.tags),
            "owner": self.dataset.owner,
        }
        return DatasetSettingsForm(data, initial=initial, dataset=self.dataset, columns=columns)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self._form())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self._form(request.POST)
        if form.is_valid():
            try:
                services.update_dataset(self.dataset, actor=request.user, request=request, **form.changes())
            except ValidationError as exc:
                add_service_error(form, exc)
                self.dataset.refresh_from_db()
            else:
                return done(request, request.path, "Dataset settings saved.")
        return self.render_form_errors(form=form)


class DatasetDeleteView(DatasetSettingsView):
    """Delete the dataset and every version (project admins)."""

    http_method_names = ["post"]
    write_role = Role.ADMIN

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        name = self.dataset.name
        try:
            services.delete_dataset(self.dataset, actor=request.user, request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            # The form posts with HTMX: a plain redirect would be followed inside the request and
            # the whole settings page swapped into the form.
            return hx_redirect(
                request, reverse("datasets:settings", args=[self.project.slug, self.dataset.pk])
            )
        return done(request, reverse("datasets:list", args=[self.project.slug]), f"Dataset “{name}” deleted.")


class ExportCsvView(DatasetPageView):
    """Download a version as spreadsheet-safe CSV (audited as data.exported)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = self.get_version()
        if version is None:
            raise Http404("This dataset has no version yet.")
        # Written under MODELWORKS_HOME and unlinked as soon as it is open: the open handle streams it,
        # and nothing is left behind whatever happens to the download.
        with data_store().scratch_dir() as scratch:
            target = scratch / "export.csv"
            from modelworks.engine.io import export_csv  # loads DuckDB: only on export

            rows = export_csv(services.version_path(version), target)
            handle = target.open("rb")
        services.record_access(
            version, actor=request.user, what="export", request=request, details={"rows": rows}
        )
        return FileResponse(
            handle, as_attachment=True, filename=download_name(version, "csv"), content_type="text/csv"
        )


class DownloadParquetView(DatasetPageView):
    """Download a version's Parquet file as stored (audited as data.accessed)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = self.get_version()
        if version is None:
            raise Http404("This dataset has no version yet.")
        path = services.version_path(version)
        services.record_access(version, actor=request.user, what="download", request=request)
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=download_name(version, "parquet"),
            content_type="application/vnd.apache.parquet",
        )


def download_name(version: DatasetVersion, extension: str) -> str:
    """A download name made only of safe characters (the dataset name is a free label)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in version.dataset.name).strip("-")[:80]
    return f"{safe or 'dataset'}-v{version.number}.{extension}"
