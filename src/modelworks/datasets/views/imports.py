"""Bringing data in from the pages: upload a file (with a progress bar), import from a connection,
and follow the import job until the dataset is ready."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.connections.models import Connection
from modelworks.connections.services import open_source
from modelworks.connections.sources import SourceError
from modelworks.core.forms import add_service_error
from modelworks.core.htmx import hx_redirect, wants_fragment
from modelworks.core.models import Job, JobState, Role
from modelworks.core.views.base import ProjectPageView, done
from modelworks.datasets import services
from modelworks.datasets.forms import ConnectionImportForm, UploadForm
from modelworks.datasets.models import Dataset
from modelworks.datasets.storage import upload_path
from modelworks.datasets.uploads import keep_upload, too_large_response, upload_too_large

__all__ = ["ConnectionImportView", "ImportItemsView", "ImportStatusView", "UploadView"]


class UploadView(ProjectPageView):
    """Upload a file as a new dataset (or, with ``?dataset=<id>``, as a new version of one)."""

    template_name = "datasets/upload.html"
    fragment_template_name = "datasets/partials/upload_form.html"
    title = "Upload a file"
    nav = "datasets"
    needed_role = Role.CONTRIBUTOR
    write_role = Role.CONTRIBUTOR

    def target_dataset(self) -> Dataset | None:
        pk = self.request.GET.get("dataset") or self.request.POST.get("dataset")
        if not pk:
            return None
        dataset = Dataset.objects.filter(project=self.project, pk=int(pk) if str(pk).isdigit() else 0).first()
        if dataset is None:
            raise Http404("No such dataset in this project.")
        return dataset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        dataset = self.target_dataset()
        context.setdefault("form", UploadForm(dataset=dataset))
        context.update(target=dataset, max_upload_bytes=_max_upload())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if upload_too_large(request):
            return too_large_response(request)
        dataset = self.target_dataset()
        form = UploadForm(request.POST, request.FILES, dataset=dataset)
        if not form.is_valid():
            return self.render_form_errors(form=form)
        uploaded = form.cleaned_data["file"]
        upload_id = keep_upload(uploaded)
        try:
            job = services.submit_upload_import(
                actor=request.user,
                project=self.project,
                upload_id=upload_id,
                file_name=uploaded.name,
                dataset=dataset,
                name=form.dataset_name(),
                description=form.cleaned_data.get("description", ""),
                options=form.options(),
                request=request,
            )
        except ValidationError as exc:
            upload_path(upload_id).unlink(missing_ok=True)
            add_service_error(form, exc)
            return self.render_form_errors(form=form)
        url = reverse("datasets:import_status", args=[self.project.slug, job.pk])
        return done(request, url, f"“{uploaded.name}” uploaded; importing it now.")


class ConnectionImportView(ProjectPageView):
    """Import a table or query (PostgreSQL) or a file (S3) through one of the project's connections."""

    template_name = "datasets/import.html"
    title = "Import from a connection"
    nav = "datasets"
    needed_role = Role.CONTRIBUTOR
    write_role = Role.CONTRIBUTOR

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        initial = (
            {"connection": self.request.GET.get("connection")} if self.request.GET.get("connection") else None
        )
        context.setdefault("form", ConnectionImportForm(initial=initial, project=self.project))
        context["has_connections"] = Connection.objects.usable_in(self.project).exists()
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ConnectionImportForm(request.POST, project=self.project)
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = services.submit_connection_import(
                    actor=request.user,
                    project=self.project,
                    connection=data["connection"],
                    table=data.get("table"),
                    query=data.get("query"),
                    path=data.get("path"),
                    name=data["name"],
                    description=data.get("description", ""),
                    keep_in_database=bool(data.get("keep_in_database")),
                    request=request,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = reverse("datasets:import_status", args=[self.project.slug, job.pk])
                return done(request, url, f"Importing into “{data['name']}”.")
        return self.render_form_errors(form=form)


class ImportItemsView(ProjectPageView):
    """The tables or files a connection offers, as ``<option>``s for the import form (HTMX)."""

    template_name = "datasets/partials/import_items.html"
    needed_role = Role.CONTRIBUTOR

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        pk = self.request.GET.get("connection") or ""
        connection = (
            Connection.objects.usable_in(self.project).filter(pk=int(pk) if pk.isdigit() else 0).first()
        )
        if connection is None:
            raise Http404("No such connection in this project.")
        try:
            source = open_source(connection)
            items = (
                source.list_tables()
                if connection.kind == "postgresql"
                else [f.key for f in source.list_files()]
            )
            context.update(items=items, error="")
        except SourceError as exc:
            context.update(items=[], error=str(exc))
        context["connection"] = connection
        return context


class ImportStatusView(ProjectPageView):
    """An import job's progress; once it succeeds, the browser is sent to the dataset."""

    template_name = "datasets/import_status.html"
    fragment_template_name = "datasets/partials/import_progress.html"
    title = "Import"
    nav = "datasets"
    job: Job

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        try:
            job_id = uuid.UUID(str(self.kwargs["job_id"]))
        except ValueError as exc:
            raise Http404("No such import.") from exc
        job = Job.objects.filter(pk=job_id, project=self.project, kind="datasets.import").first()
        if job is None:
            raise Http404("No such import in this project.")
        self.job = job

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        job = self.job
        if job.state == JobState.SUCCEEDED and wants_fragment(request) and isinstance(job.result, dict):
            dataset_id = job.result.get("dataset_id")
            if Dataset.objects.filter(pk=dataset_id, project=self.project).exists():
                return hx_redirect(request, reverse("datasets:detail", args=[self.project.slug, dataset_id]))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        job = self.job
        dataset = None
        if job.state == JobState.SUCCEEDED and isinstance(job.result, dict):
            dataset = Dataset.objects.filter(pk=job.result.get("dataset_id"), project=self.project).first()
        context.update(job=job, dataset=dataset, progress_percent=max(0, min(100, round(job.progress))))
        return context


def _max_upload() -> int:
    from django.conf import settings

    return int(settings.MODELWORKS_MAX_UPLOAD_BYTES)
