"""``/projects/{slug}/lab/analyses``: create, read, change the design of and delete analyses."""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.core.permissions import get_project
from modelworks.datasets.models import Dataset
from modelworks.lab import services
from modelworks.lab.api.common import get_analysis
from modelworks.lab.models import Analysis
from modelworks.lab.schemas import AnalysisIn, AnalysisOut, AnalysisPatch

router = Router(tags=["lab"])

_LIST = "/projects/{slug}/lab/analyses"
_ONE = _LIST + "/{analysis_id}"


@router.get(
    _LIST,
    response=responses({200: list[AnalysisOut]}, 404, 422),
    operation_id="lab_analyses_list",
    summary="List a project's Lab analyses",
)
@paginate
def lab_analyses_list(request: HttpRequest, slug: str) -> QuerySet:
    """The project's analyses by name, with their design, data checks and latest training (readers)."""
    project, _ = get_project(request.user, slug, Role.READER)
    return (
        Analysis.objects.filter(project=project)
        .select_related("project", "dataset", "created_by")
        .order_by("name", "id")
    )


@router.post(
    _LIST,
    response=responses({201: AnalysisOut}, 403, 404, 422),
    operation_id="lab_analyses_create",
    summary="Create a Lab analysis",
)
def lab_analyses_create(request: HttpRequest, slug: str, payload: AnalysisIn) -> Status:
    """Create an analysis from a dataset and a target; the task (unless given), the handling of each
    column, the algorithms and the metric are proposed, and the data is checked (contributors)."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    dataset = Dataset.objects.filter(project=project, pk=payload.dataset).first()
    if dataset is None:
        raise ValidationError({"dataset": f"No dataset {payload.dataset} in project '{slug}'."})
    analysis = services.create_analysis(
        project,
        actor=request.user,
        name=payload.name,
        dataset=dataset,
        target=payload.target,
        task=payload.task,
        time_column=payload.time_column,
        request=request,
    )
    return Status(201, get_analysis(request.user, slug, analysis.pk)[1])


@router.get(
    _ONE,
    response=responses({200: AnalysisOut}, 404),
    operation_id="lab_analyses_get",
    summary="Get a Lab analysis",
)
def lab_analyses_get(request: HttpRequest, slug: str, analysis_id: int) -> Analysis:
    """An analysis: its design, the data checks (errors block training) and its latest training."""
    return get_analysis(request.user, slug, analysis_id)[1]


@router.patch(
    _ONE,
    response=responses({200: AnalysisOut}, 403, 404, 422),
    operation_id="lab_analyses_update",
    summary="Change a Lab analysis's design",
)
def lab_analyses_update(
    request: HttpRequest, slug: str, analysis_id: int, payload: AnalysisPatch
) -> Analysis:
    """Change the design; ``features`` lists only the columns whose handling changes. The data is
    checked again (contributors)."""
    _, analysis = get_analysis(request.user, slug, analysis_id, Role.CONTRIBUTOR)
    changes = payload.dict(exclude_unset=True)
    if "features" in changes:
        changes["features"] = [
            {k: v for k, v in f.items() if v is not None} for f in changes["features"] or []
        ]
    services.update_design(analysis, actor=request.user, request=request, **changes)
    return get_analysis(request.user, slug, analysis_id)[1]


@router.delete(
    _ONE,
    response=responses({204: None}, 403, 404),
    operation_id="lab_analyses_delete",
    summary="Delete a Lab analysis",
)
def lab_analyses_delete(request: HttpRequest, slug: str, analysis_id: int) -> Status:
    """Delete an analysis and its trainings; tracked runs and registered models stay (project admins)."""
    _, analysis = get_analysis(request.user, slug, analysis_id, Role.ADMIN)
    services.delete_analysis(analysis, actor=request.user, request=request)
    return Status(204, None)
