"""``/projects/{slug}/datasets/{id}/rules`` and ``…/quality``: rules, runs on demand, history."""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.jobs import enqueue
from modelworks.core.models import Role
from modelworks.core.schemas import JobOut
from modelworks.datasets import services
from modelworks.datasets.api.common import get_dataset, get_version
from modelworks.datasets.models import QualityRule, QualityRun
from modelworks.datasets.schemas import QualityRunIn, QualityRunOut, RuleIn, RuleOut, RulePatch

_RULES = "/projects/{slug}/datasets/{dataset_id}/rules"

router = Router(tags=["quality"])


def _rule(request: HttpRequest, slug: str, dataset_id: int, rule_id: int, needed: Role) -> QualityRule:
    _, dataset = get_dataset(request.user, slug, dataset_id, needed)
    rule = dataset.rules.filter(pk=rule_id).select_related("dataset__project").first()
    if rule is None:
        raise Http404(f"No rule {rule_id} on '{dataset.name}'.")
    return rule


@router.get(
    _RULES,
    response=responses({200: list[RuleOut]}, 404, 422),
    operation_id="quality_rules_list",
    summary="List quality rules",
)
@paginate
def quality_rules_list(request: HttpRequest, slug: str, dataset_id: int) -> QuerySet:
    """The dataset's rules (readers and above)."""
    return get_dataset(request.user, slug, dataset_id)[1].rules.all()


@router.post(
    _RULES,
    response=responses({201: RuleOut}, 403, 404, 422),
    operation_id="quality_rules_create",
    summary="Add a quality rule",
)
def quality_rules_create(request: HttpRequest, slug: str, dataset_id: int, payload: RuleIn) -> Status:
    """Add a rule; ``blocking`` rules make a failing version unusable for later builds (contributors)."""
    _, dataset = get_dataset(request.user, slug, dataset_id, Role.CONTRIBUTOR)
    rule = services.add_rule(
        dataset,
        actor=request.user,
        kind=payload.kind,
        params=payload.params,
        blocking=payload.blocking,
        name=payload.name,
        request=request,
    )
    return Status(201, rule)


@router.patch(
    _RULES + "/{rule_id}",
    response=responses({200: RuleOut}, 403, 404, 422),
    operation_id="quality_rules_update",
    summary="Change a quality rule",
)
def quality_rules_update(
    request: HttpRequest, slug: str, dataset_id: int, rule_id: int, payload: RulePatch
) -> QualityRule:
    """Change a rule's name, parameters, blocking or enabled flag (contributors)."""
    rule = _rule(request, slug, dataset_id, rule_id, Role.CONTRIBUTOR)
    return services.update_rule(rule, actor=request.user, request=request, **payload.dict(exclude_unset=True))


@router.delete(
    _RULES + "/{rule_id}",
    response=responses({204: None}, 403, 404),
    operation_id="quality_rules_delete",
    summary="Delete a quality rule",
)
def quality_rules_delete(request: HttpRequest, slug: str, dataset_id: int, rule_id: int) -> Status:
    """Delete a rule; past results keep their copy of it (contributors)."""
    services.delete_rule(
        _rule(request, slug, dataset_id, rule_id, Role.CONTRIBUTOR), actor=request.user, request=request
    )
    return Status(204, None)


@router.post(
    "/projects/{slug}/datasets/{dataset_id}/quality/run",
    response=responses({202: JobOut}, 403, 404),
    operation_id="quality_run",
    summary="Run the quality rules",
)
def quality_run(request: HttpRequest, slug: str, dataset_id: int, payload: QualityRunIn) -> Status:
    """Queue a check of the rules against a version (default: the current one) (contributors)."""
    project, dataset = get_dataset(request.user, slug, dataset_id, Role.CONTRIBUTOR)
    version = get_version(dataset, payload.version)
    job = enqueue(
        "datasets.quality",
        title=f"Check {dataset.name} v{version.number}",
        project=project,
        created_by=request.user,
        params={"version_id": version.pk},
        request=request,
    )
    return Status(202, job)


@router.get(
    "/projects/{slug}/datasets/{dataset_id}/quality/runs",
    response=responses({200: list[QualityRunOut]}, 404, 422),
    operation_id="quality_runs_list",
    summary="List quality check results",
)
@paginate
def quality_runs_list(request: HttpRequest, slug: str, dataset_id: int) -> QuerySet:
    """Past checks, newest first, with each rule's result and a sample of failing rows (readers)."""
    _, dataset = get_dataset(request.user, slug, dataset_id)
    return (
        QualityRun.objects.filter(version__dataset=dataset)
        .select_related("version")
        .prefetch_related("results")
    )
