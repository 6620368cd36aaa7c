"""Reading a version's data: rows (explore), the profile, and the CSV export (each audited)."""

# No ``from __future__ import annotations``: ninja reads the query parameter annotations at runtime.

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.jobs import enqueue
from modelworks.core.models import Role
from modelworks.core.schemas import JobOut
from modelworks.datasets import services
from modelworks.datasets.api.common import get_dataset, get_version
from modelworks.datasets.schemas import ProfileOut, RowsOut
from modelworks.datasets.storage import data_store
from modelworks.datasets.views.datasets import download_name
from modelworks.engine.errors import EngineError
from modelworks.engine.explore import MAX_PAGE_SIZE, Filter, Sort, sample_page

router = Router(tags=["datasets"])


def _filters(text: str) -> list[Filter]:
    try:
        raw = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise ValidationError({"filters": f"filters must be a JSON list: {exc.msg}."}) from exc
    if not isinstance(raw, list) or not all(isinstance(f, dict) and {"column", "op"} <= set(f) for f in raw):
        raise ValidationError(
            {"filters": 'Give a JSON list such as [{"column": "age", "op": "gt", "value": 30}].'}
        )
    return [Filter(str(f["column"]), str(f["op"]), f.get("value")) for f in raw]


@router.get(
    "/projects/{slug}/datasets/{dataset_id}/versions/{number}/rows",
    response=responses({200: RowsOut}, 404, 422),
    operation_id="datasets_rows",
    summary="Read rows of a version",
)
def datasets_rows(
    request: HttpRequest,
    slug: str,
    dataset_id: int,
    number: int,
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
    sort: list[str] = Query([], description="Columns to sort by; '-name' sorts descending."),  # noqa: B008
    filters: str = Query(
        "[]",
        description='JSON list of {"column", "op", "value"}; ops: eq ne lt le gt ge between in not_in contains starts_with ends_with is_null not_null.',
    ),
) -> dict[str, Any]:
    """A page of rows, filtered and sorted (readers and above; audited as data.accessed)."""
    _, dataset = get_dataset(request.user, slug, dataset_id)
    version = get_version(dataset, number)
    keys = [Sort(k[1:], False) if k.startswith("-") else Sort(k) for k in sort if k.strip("-")]
    try:
        page = sample_page(
            services.version_path(version), offset=offset, limit=limit, sort=keys, filters=_filters(filters)
        )
    except EngineError as exc:
        raise ValidationError({"query": str(exc)}) from exc
    services.record_access(
        version,
        actor=request.user,
        what="rows",
        request=request,
        details={"offset": offset, "rows": len(page.rows)},
    )
    return {
        "columns": [c.to_dict() for c in page.columns],
        "rows": [[_json(v) for v in row] for row in page.rows],
        "total": page.total,
        "offset": page.offset,
        "limit": page.limit,
        "elapsed": page.elapsed,
    }


def _json(value: Any) -> Any:
    from modelworks.engine.profiling.model import json_value

    return json_value(value)


@router.get(
    "/projects/{slug}/datasets/{dataset_id}/versions/{number}/profile",
    response=responses({200: ProfileOut}, 404),
    operation_id="datasets_profile",
    summary="Get the profile of a version",
)
def datasets_profile(request: HttpRequest, slug: str, dataset_id: int, number: int) -> dict[str, Any]:
    """Per-column statistics, histograms, top values and semantic types (readers and above). 404 while
    it is not computed yet: POST to the same address to compute it."""
    _, dataset = get_dataset(request.user, slug, dataset_id)
    version = get_version(dataset, number)
    profile = getattr(version, "profile", None)
    if profile is None:
        raise Http404(
            f"Version {number} of '{dataset.name}' has no profile yet; POST to this address to compute it."
        )
    return {"version": version.number, "computed_at": profile.computed_at, "profile": profile.data}


@router.post(
    "/projects/{slug}/datasets/{dataset_id}/versions/{number}/profile",
    response=responses({202: JobOut}, 403, 404),
    operation_id="datasets_profile_run",
    summary="Compute the profile of a version",
)
def datasets_profile_run(request: HttpRequest, slug: str, dataset_id: int, number: int) -> Status:
    """Queue the profile job of a version (contributors)."""
    project, dataset = get_dataset(request.user, slug, dataset_id, Role.CONTRIBUTOR)
    version = get_version(dataset, number)
    job = enqueue(
        "datasets.profile",
        title=f"Profile {dataset.name} v{version.number}",
        project=project,
        created_by=request.user,
        params={"version_id": version.pk},
        request=request,
    )
    return Status(202, job)


@router.get(
    "/projects/{slug}/datasets/{dataset_id}/versions/{number}/export",
    response=responses({200: None}, 404),
    operation_id="datasets_export",
    summary="Export a version as CSV",
    openapi_extra={"responses": {200: {"description": "The CSV file.", "content": {"text/csv": {}}}}},
)
def datasets_export(request: HttpRequest, slug: str, dataset_id: int, number: int) -> FileResponse:
    """The version as UTF-8 CSV, safe to open in a spreadsheet (cells starting with = + - @ are
    escaped). Readers and above; audited as data.exported."""
    _, dataset = get_dataset(request.user, slug, dataset_id)
    version = get_version(dataset, number)
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
