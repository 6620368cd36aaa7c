"""``/projects/{slug}/export``: a project as a bundle (.zip of YAML files, optionally with its data);
``/projects/{slug}/import``: a new project ``slug`` from an uploaded bundle.

(The import names the new project in its path: ``POST /projects/import`` cannot be routed, since the
core API's ``/projects/{slug}``, mounted first, answers every ``/projects/<word>``.)"""

# No ``from __future__ import annotations``: ninja reads ``File``/``Form`` parameters at runtime.

import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from modelworks.core import audit
from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.core.permissions import get_project
from modelworks.core.schemas import ProjectOut
from modelworks.flows.bundles import BundleError, export_zip, import_bundle

router = Router(tags=["projects"])


class ImportOut(Schema):
    """The project created from a bundle, what was created in it, and what to do by hand."""

    project: ProjectOut
    datasets: int
    versions: int = Field(description="Dataset versions imported from the bundle's data files.")
    recipes: int
    scenarios: int
    warnings: list[str] = Field(description="Settings not restored (e.g. notification destinations).")


@router.get(
    "/projects/{slug}/export",
    response=responses({200: None}, 403, 404),
    operation_id="projects_export",
    summary="Export a project as a bundle",
    openapi_extra={
        "responses": {
            200: {"description": "The bundle, a .zip of YAML files.", "content": {"application/zip": {}}}
        }
    },
)
def projects_export(
    request: HttpRequest,
    slug: str,
    with_data: bool = Query(False, description="Include the current data of the source datasets."),
) -> Any:
    """A .zip of the project's definitions as YAML (datasets, recipes, scenarios), readable in Git,
    optionally with the data as Parquet (project admins). Never holds credentials, e-mail addresses or
    audit data; connections are named only."""
    project, _ = get_project(request.user, slug, Role.ADMIN)
    spool = tempfile.TemporaryFile(prefix="mw-export-")
    export_zip(project, spool, with_data=with_data)
    spool.seek(0)
    audit.record(
        "project.exported",
        actor=request.user,
        project=project,
        target=project,
        request=request,
        details={"with_data": with_data},
    )
    suffix = "-with-data" if with_data else ""
    return FileResponse(
        spool, as_attachment=True, filename=f"{project.slug}{suffix}.zip", content_type="application/zip"
    )


@router.post(
    "/projects/{slug}/import",
    response=responses({201: ImportOut}, 422),
    operation_id="projects_import",
    summary="Create a project from a bundle",
)
def projects_import(
    request: HttpRequest,
    slug: str,
    file: UploadedFile | None = File(None, description="The bundle .zip (multipart field 'file')."),  # noqa: B008
    name: str | None = Form(None, description="Name of the new project (default: the bundle's)."),
    drop_storage: bool = Form(
        False,
        description="Keep in Modelworks storage the recipe outputs the bundle stores in a PostgreSQL "
        "connection the new project cannot use (a warning each), instead of refusing the bundle.",
    ),
) -> Status:
    """Create the project ``slug`` from a bundle exported by Modelworks (any signed-in user may create projects;
    the caller becomes its admin). The whole bundle is checked first (format version, safe archive,
    references, every recipe compiled); if anything is wrong nothing is created and the answer says
    which file to fix."""
    if file is None:
        raise ValidationError({"file": "Send the bundle .zip as the multipart form field 'file'."})
    with tempfile.TemporaryDirectory(prefix="mw-import-") as folder:
        path = Path(folder) / "bundle.zip"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, 1 << 20)
        try:
            report = import_bundle(
                path,
                actor=request.user,
                slug=slug,
                name=name or None,
                request=request,
                drop_storage=drop_storage,
            )
        except BundleError as exc:
            raise ValidationError({"file": str(exc)}) from exc
    return Status(
        201,
        {
            "project": report.project,
            "datasets": report.datasets,
            "versions": report.versions,
            "recipes": report.recipes,
            "scenarios": report.scenarios,
            "warnings": report.warnings,
        },
    )
