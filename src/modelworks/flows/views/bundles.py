"""Importing a bundle into the current (empty) project, from the project settings page. Exports are
plain downloads of the API's ``/projects/{slug}/export`` (linked from the same page)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.models import Role
from modelworks.core.views.base import ProjectPageView, done
from modelworks.flows.bundles import BundleError, import_bundle

__all__ = ["BundleImportView"]


class BundleImportView(ProjectPageView):
    """Import an uploaded bundle .zip into this project, which must have no dataset, recipe or
    scenario yet (project admins). Errors come back as messages on the settings page. The
    ``drop_storage`` checkbox keeps in Modelworks storage the outputs whose storage connection the
    project cannot use (see ``modelworks.flows.bundles``)."""

    http_method_names = ["post"]
    write_role = Role.ADMIN

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        back = reverse("core:project_settings", args=[self.project.slug])
        upload = request.FILES.get("bundle")
        if upload is None:
            messages.error(request, "Choose the bundle .zip to import, then press Import again.")
            return done(request, back)
        with tempfile.TemporaryDirectory(prefix="mw-import-") as folder:
            path = Path(folder) / "bundle.zip"
            with path.open("wb") as out:
                shutil.copyfileobj(upload.file, out, 1 << 20)
            try:
                report = import_bundle(
                    path,
                    actor=request.user,
                    project=self.project,
                    request=request,
                    drop_storage=request.POST.get("drop_storage") == "on",
                )
            except BundleError as exc:
                messages.error(request, f"Nothing was imported: {exc}")
                return done(request, back)
        for warning in report.warnings:
            messages.warning(request, warning)
        return done(
            request,
            reverse("flows:flow", args=[self.project.slug]),
            f"Imported {report.datasets} datasets ({report.versions} with data), {report.recipes} recipes and "
            f"{report.scenarios} scenarios.",
        )
