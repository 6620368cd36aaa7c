"""``/governance/...``: the use-case portfolio (portfolio-level, not inside a project).

* ``/governance/use-cases``: list (filters, sort), create (governance leads), get, change (leads and
  the business owner), delete (leads), ``/stage`` to move it through the pipeline;
* ``/governance/ideas``: submit an idea (anyone signed in), your own ideas, the intake queue and
  ``/qualify`` / ``/reject`` (leads);
* ``/governance/stages`` (the pipeline) and ``/governance/members``: see ``portfolio_admin``.

Anonymous callers get 401. A use case the caller may not see is a 404 (never a 403 that would
reveal it exists); one they see but may not change is a 403.
"""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.models import Project, User
from modelworks.core.schemas import InputSchema, UserRef
from modelworks.governance.models import RiskLevel, UseCase
from modelworks.governance.services import portfolio as services
from modelworks.governance.services import portfolio_intake as intake
from modelworks.governance.services.access import is_lead, is_portfolio_viewer

router = Router(tags=["governance"])

_USE_CASES = "/governance/use-cases"
_ONE = _USE_CASES + "/{slug}"
_IDEAS = "/governance/ideas"


# --------------------------------------------------------------------------------------------- schemas


class StageOut(Schema):
    key: str
    label: str
    order: int
    kind: str = Field(description="intake, active, production or closed.")
    description: str


class StageChangeOut(Schema):
    from_stage: str | None = Field(description="Key of the stage left; null when the use case was created.")
    to_stage: str
    actor: str | None
    comment: str
    created_at: datetime

    @staticmethod
    def resolve_from_stage(obj: Any) -> str | None:
        return obj.from_stage.key if obj.from_stage_id else None

    @staticmethod
    def resolve_to_stage(obj: Any) -> str:
        return obj.to_stage.key

    @staticmethod
    def resolve_actor(obj: Any) -> str | None:
        return obj.actor.username if obj.actor_id else None


class UseCaseOut(Schema):
    slug: str
    title: str
    problem_statement: str
    business_unit: str
    business_owner: UserRef | None
    sponsor: str
    submitted_by: UserRef | None
    stage: StageOut
    stage_changed_at: datetime
    expected_value_one_off: Decimal
    expected_value_recurring: Decimal = Field(description="Per year.")
    currency: str
    value_formula: str
    value_assumptions: str
    expected_benefit: str = Field(description="The benefit in words, as submitted through demand intake.")
    cost_people_days: Decimal
    cost_compute: Decimal
    feasibility_score: int | None
    data_readiness_score: int | None
    risk_level: str
    projects: list[str] = Field(description="Slugs of the linked projects you can see.")
    rejection_reason: str
    first_year_value: Decimal
    priority_score: Decimal | None = Field(description="First-year value x feasibility / 5.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_expected_benefit(obj: Any) -> str:
        return str((obj.details or {}).get("expected_benefit", ""))

    @staticmethod
    def resolve_projects(obj: Any, context: dict[str, Any]) -> list[str]:
        return [p.slug for p in linked_projects_for(context["request"].user, obj)]


class UseCaseDetailOut(UseCaseOut):
    stage_history: list[StageChangeOut]

    @staticmethod
    def resolve_stage_history(obj: Any) -> list[Any]:
        return list(obj.stage_changes.select_related("from_stage", "to_stage", "actor"))


class UseCaseFields(InputSchema):
    problem_statement: str | None = None
    business_unit: str | None = Field(None, max_length=100)
    business_owner: str | None = Field(None, description="Username of the business owner; empty: none.")
    sponsor: str | None = Field(None, max_length=200)
    expected_value_one_off: Decimal | None = None
    expected_value_recurring: Decimal | None = Field(None, description="Per year.")
    currency: str | None = None
    value_formula: str | None = None
    value_assumptions: str | None = None
    cost_people_days: Decimal | None = None
    cost_compute: Decimal | None = None
    feasibility_score: int | None = Field(None, ge=1, le=5)
    data_readiness_score: int | None = Field(None, ge=1, le=5)
    risk_level: RiskLevel | None = None
    projects: list[str] | None = Field(None, description="Slugs of projects to link (you must be a member).")


class UseCaseIn(UseCaseFields):
    title: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(None, description="Address name; generated from the title when omitted.")
    stage: str | None = Field(None, description="Stage key; default qualified.")


class UseCasePatch(UseCaseFields):
    title: str | None = Field(None, min_length=1, max_length=200)


class MoveIn(InputSchema):
    stage: str = Field(description="Key of the stage to move to.")
    comment: str = ""


class IdeaIn(InputSchema):
    title: str = Field(max_length=200)
    problem_statement: str
    business_unit: str = Field("", max_length=100)
    expected_benefit: str = ""
    value_estimate: Decimal | None = Field(None, description="Optional yearly value estimate.")
    currency: str = "EUR"


class QualifyIn(InputSchema):
    business_owner: str | None = Field(None, description="Username of the business owner to name.")
    comment: str = ""


class RejectIn(InputSchema):
    reason: str = Field(description="Why the idea is turned down; the submitter sees it.")


# --------------------------------------------------------------------------------------------- helpers


def linked_projects_for(user: Any, use_case: UseCase) -> list[Project]:
    """The linked projects ``user`` may know of: all for portfolio viewers, else those they are in."""
    projects = use_case.projects.order_by("name")
    if not is_portfolio_viewer(user):
        projects = projects.filter(id__in=Project.objects.visible_to(user).values("id"))
    return list(projects)


def _user(username: str | None, field: str) -> User | None:
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError(
            {field: f"No active user '{username}'; give the username of someone who can sign in."}
        )
    return user


def _projects(slugs: list[str]) -> list[Project]:
    found = {p.slug: p for p in Project.objects.filter(slug__in=slugs)}
    missing = [s for s in slugs if s not in found]
    if missing:
        names = ", ".join(f"'{s}'" for s in missing)
        raise ValidationError(
            {
                "projects": f"You can only link projects you are a member of; you are not a member of {names}. "
                "Ask a member of that project to link it, or a project admin to add you."
            }
        )
    return [found[s] for s in slugs]


def _values(payload: dict[str, Any]) -> tuple[dict[str, Any], list[Project] | None]:
    values = {k: v for k, v in payload.items() if k not in ("projects",)}
    if "business_owner" in values:
        values["business_owner"] = _user(values["business_owner"], "business_owner")
    for text in ("problem_statement", "business_unit", "sponsor", "value_formula", "value_assumptions"):
        if text in values and values[text] is None:
            values[text] = ""
    for amount in ("expected_value_one_off", "expected_value_recurring", "cost_people_days", "cost_compute"):
        if amount in values and values[amount] is None:
            values[amount] = Decimal("0")
    if values.get("currency") is not None:
        values["currency"] = values["currency"].upper()
    elif "currency" in values:
        del values["currency"]
    if values.get("risk_level") is not None:
        values["risk_level"] = RiskLevel(values["risk_level"]).value
    elif "risk_level" in values:
        values["risk_level"] = RiskLevel.UNASSESSED.value
    projects = payload.get("projects")
    return values, (_projects(projects) if projects is not None else None)


def _detail(user: Any, slug: str) -> UseCase:
    return services.get_use_case(user, slug)


# --------------------------------------------------------------------------------------------- use cases


@router.get(
    _USE_CASES,
    response=responses({200: list[UseCaseOut]}, 422),
    operation_id="governance_use_cases_list",
    summary="List the use cases you can see",
)
@paginate
def governance_use_cases_list(
    request: HttpRequest,
    unit: str = "",
    stage: str = "",
    owner: str = "",
    risk: str = "",
    q: str = "",
    sort: str = "title",
) -> QuerySet:
    """Portfolio viewers and leads see every use case; others the ones they own, submitted or whose
    projects they are in. Filters: business ``unit``, ``stage`` key, ``owner`` username, ``risk``,
    ``q`` (text in title, problem, sponsor); ``sort``: title, -priority, -value, stage, -updated, unit."""
    return services.filter_use_cases(
        request.user, unit=unit, stage=stage, owner=owner or None, risk=risk, q=q, sort=sort
    ).prefetch_related("projects")


@router.post(
    _USE_CASES,
    response=responses({201: UseCaseDetailOut}, 403, 422),
    operation_id="governance_use_cases_create",
    summary="Create a use case",
)
def governance_use_cases_create(request: HttpRequest, payload: UseCaseIn) -> Status:
    """Add a use case to the portfolio (governance leads; anyone may submit an idea instead)."""
    data = payload.dict(exclude_unset=True)
    title, slug, stage = data.pop("title"), data.pop("slug", None), data.pop("stage", None)
    values, projects = _values(data)
    use_case = services.create_use_case(
        actor=request.user,
        title=title,
        slug=slug,
        stage=stage,
        projects=projects or [],
        request=request,
        **values,
    )
    return Status(201, _detail(request.user, use_case.slug))


@router.get(
    _ONE,
    response=responses({200: UseCaseDetailOut}, 404),
    operation_id="governance_use_cases_get",
    summary="Get a use case with its stage history",
)
def governance_use_cases_get(request: HttpRequest, slug: str) -> UseCase:
    return _detail(request.user, slug)


@router.patch(
    _ONE,
    response=responses({200: UseCaseDetailOut}, 403, 404, 422),
    operation_id="governance_use_cases_update",
    summary="Change a use case",
)
def governance_use_cases_update(request: HttpRequest, slug: str, payload: UseCasePatch) -> UseCase:
    """Change the given fields (governance leads and the business owner; only leads change the owner).
    ``projects`` replaces the linked projects; newly linked ones must be projects you are a member of."""
    use_case = services.get_use_case(request.user, slug, edit=True)
    values, projects = _values(payload.dict(exclude_unset=True))
    services.update_use_case(use_case, actor=request.user, projects=projects, request=request, **values)
    return _detail(request.user, slug)


@router.delete(
    _ONE,
    response=responses({204: None}, 403, 404),
    operation_id="governance_use_cases_delete",
    summary="Delete a use case",
)
def governance_use_cases_delete(request: HttpRequest, slug: str) -> Status:
    """Delete a use case with its history and value records (governance leads)."""
    use_case = services.get_use_case(request.user, slug, lead=True)
    services.delete_use_case(use_case, actor=request.user, request=request)
    return Status(204, None)


@router.post(
    _ONE + "/stage",
    response=responses({200: UseCaseDetailOut}, 403, 404, 422),
    operation_id="governance_use_cases_move",
    summary="Move a use case to another pipeline stage",
)
def governance_use_cases_move(request: HttpRequest, slug: str, payload: MoveIn) -> UseCase:
    """Leads move to any stage; the business owner between active stages (e.g. proof of concept → pilot)."""
    use_case = services.get_use_case(request.user, slug, edit=True)
    services.move_use_case(
        use_case, payload.stage, actor=request.user, comment=payload.comment, request=request
    )
    return _detail(request.user, slug)


# --------------------------------------------------------------------------------------------- intake


@router.post(
    _IDEAS,
    response=responses({201: UseCaseOut}, 422),
    operation_id="governance_ideas_submit",
    summary="Submit an idea",
)
def governance_ideas_submit(request: HttpRequest, payload: IdeaIn) -> Status:
    """Anyone signed in: the idea waits in stage ``idea`` until a governance lead qualifies or rejects it."""
    use_case = intake.submit_idea(actor=request.user, request=request, **payload.dict())
    return Status(201, _detail(request.user, use_case.slug))


@router.get(
    _IDEAS,
    response=responses({200: list[UseCaseOut]}),
    operation_id="governance_ideas_mine",
    summary="List the ideas you submitted",
)
@paginate
def governance_ideas_mine(request: HttpRequest) -> QuerySet:
    """Your ideas, newest first, with their stage and (when rejected) the reason."""
    return intake.ideas_of(request.user).prefetch_related("projects")


@router.get(
    _IDEAS + "/queue",
    response=responses({200: list[UseCaseOut]}, 403),
    operation_id="governance_ideas_queue",
    summary="List the ideas waiting for a decision",
)
@paginate
def governance_ideas_queue(request: HttpRequest) -> QuerySet:
    """Ideas in intake, oldest first (governance leads)."""
    if not is_lead(request.user):
        raise PermissionDenied("Only governance leads see the intake queue.")
    return intake.intake_queue().prefetch_related("projects")


@router.post(
    _IDEAS + "/{slug}/qualify",
    response=responses({200: UseCaseDetailOut}, 403, 404, 422),
    operation_id="governance_ideas_qualify",
    summary="Qualify an idea into the pipeline",
)
def governance_ideas_qualify(request: HttpRequest, slug: str, payload: QualifyIn) -> UseCase:
    """Move an idea to stage ``qualified``, optionally naming its business owner (governance leads)."""
    use_case = services.get_use_case(request.user, slug, lead=True)
    owner = _user(payload.business_owner, "business_owner")
    intake.qualify_idea(
        use_case, actor=request.user, business_owner=owner, comment=payload.comment, request=request
    )
    return _detail(request.user, slug)


@router.post(
    _IDEAS + "/{slug}/reject",
    response=responses({200: UseCaseDetailOut}, 403, 404, 422),
    operation_id="governance_ideas_reject",
    summary="Reject an idea with a reason",
)
def governance_ideas_reject(request: HttpRequest, slug: str, payload: RejectIn) -> UseCase:
    """Move an idea to stage ``rejected``; the reason is stored and shown to its submitter (governance leads)."""
    use_case = services.get_use_case(request.user, slug, lead=True)
    intake.reject_idea(use_case, actor=request.user, reason=payload.reason, request=request)
    return _detail(request.user, slug)
