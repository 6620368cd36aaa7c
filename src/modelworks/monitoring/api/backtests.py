"""``/projects/{slug}/backtests``: evaluate model versions over past windows of labelled data."""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core import audit
from modelworks.core.api.errors import responses
from modelworks.core.models import Role
from modelworks.core.permissions import get_project
from modelworks.monitoring import services
from modelworks.monitoring.api.common import dataset_version, get_backtest, resolve_model_version_ref
from modelworks.monitoring.models import Backtest
from modelworks.monitoring.schemas import BacktestIn, BacktestOut

router = Router(tags=["monitoring"])

_LIST = "/projects/{slug}/backtests"
_ONE = _LIST + "/{backtest_id}"


@router.get(
    _LIST,
    response=responses({200: list[BacktestOut]}, 404, 422),
    operation_id="monitoring_backtests_list",
    summary="List a project's back-tests",
)
@paginate
def monitoring_backtests_list(request: HttpRequest, slug: str) -> QuerySet:
    project, _ = get_project(request.user, slug, Role.READER)
    return (
        Backtest.objects.filter(project=project)
        .select_related("project", "dataset_version__dataset", "created_by")
        .prefetch_related("model_versions__registered_model")
        .order_by("-created_at", "-id")
    )


@router.post(
    _LIST,
    response=responses({202: BacktestOut}, 403, 404, 422),
    operation_id="monitoring_backtests_create",
    summary="Back-test model versions",
)
def monitoring_backtests_create(request: HttpRequest, slug: str, payload: BacktestIn) -> Status:
    """Queue a back-test: each version scores the labelled rows, and its metrics are computed per
    window of ``time_column`` (contributors). Poll the back-test (or its job) for the result."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    version = dataset_version(project, payload.dataset, payload.version, "dataset")
    versions = [resolve_model_version_ref(project, ref) for ref in payload.model_versions]
    backtest = services.create_backtest(
        project,
        actor=request.user,
        name=payload.name,
        dataset_version=version,
        time_column=payload.time_column,
        target_column=payload.target_column,
        model_versions=versions,
        window=payload.window,
        metric=payload.metric,
        request=request,
    )
    return Status(202, get_backtest(request.user, slug, backtest.pk)[1])


@router.get(
    _ONE,
    response=responses({200: BacktestOut}, 404),
    operation_id="monitoring_backtests_get",
    summary="Get a back-test and its result",
)
def monitoring_backtests_get(request: HttpRequest, slug: str, backtest_id: int) -> Backtest:
    """A back-test; ``result.versions[i].values[j]`` holds the metrics of version i in window j."""
    return get_backtest(request.user, slug, backtest_id)[1]


@router.delete(
    _ONE,
    response=responses({204: None}, 403, 404),
    operation_id="monitoring_backtests_delete",
    summary="Delete a back-test",
)
def monitoring_backtests_delete(request: HttpRequest, slug: str, backtest_id: int) -> Status:
    """Delete a back-test and its result (project admins)."""
    project, backtest = get_backtest(request.user, slug, backtest_id, Role.ADMIN)
    with transaction.atomic():
        audit.record(
            "monitoring.backtest_deleted",
            actor=request.user,
            project=project,
            target=backtest,
            request=request,
        )
        backtest.delete()
    return Status(204, None)
