"""Sign-off API: ``/projects/{slug}/signoff/policy`` (read; project admins and governance leads
write), ``/projects/{slug}/signoff/requests`` (ask, list, read, decide a review, cancel) and
``/governance/signoff/reviews/waiting`` (the caller's reviews to decide).

Person checks (four-eyes, the step's reviewer, its turn) come from ``services.signoff``: 403 with the
reason; a request already decided, or a step whose turn has not come, answers 409.
"""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from datetime import datetime
from typing import Any, Literal

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import ErrorCode, error_body, responses
from modelworks.core.models import Project, Role, User
from modelworks.core.permissions import get_project
from modelworks.core.schemas import InputSchema
from modelworks.governance.models import SignoffPolicy, SignoffRequest, SignoffReview
from modelworks.governance.services import signoff as signoffs
from modelworks.governance.services.access import is_lead
from modelworks.registry.errors import RegistryError
from modelworks.registry.models import RegisteredModel
from modelworks.registry.services import get_model_version

router = Router(tags=["governance: sign-off"])

_P = "/projects/{slug}/signoff"
_R = _P + "/requests/{request_id}"


# -- schemas --------------------------------------------------------------------------------------
class StepIn(InputSchema):
    title: str = Field(max_length=200, description="What the step checks, e.g. 'Data owner'.")
    order: int | None = Field(
        None,
        ge=0,
        le=99,
        description="Lower first; equal orders are reviewed in parallel (default: position).",
    )
    reviewer: str | None = Field(None, description="Username of the reviewer (or give reviewer_group).")
    reviewer_group: str | None = Field(None, description="Name of a group: any member may decide.")


class PolicyIn(InputSchema):
    aliases: list[str] = Field(description="Protected aliases, e.g. ['champion', 'production'].")
    mode: Literal["block", "warn"] = "block"
    due_days: int = Field(5, description="Days reviewers have before a request is overdue (1-365).")
    enabled: bool = True
    steps: list[StepIn] = Field(default_factory=list, description="The review steps, in order.")


class StepOut(Schema):
    order: int
    title: str
    reviewer: str | None
    reviewer_group: str | None

    @staticmethod
    def resolve_reviewer(obj: Any) -> str | None:
        return obj.reviewer.get_username() if obj.reviewer_id else None

    @staticmethod
    def resolve_reviewer_group(obj: Any) -> str | None:
        return obj.reviewer_group.name if obj.reviewer_group_id else None


class PolicyOut(Schema):
    project: str
    exists: bool = Field(description="False: the project has no policy (the values shown are the defaults).")
    aliases: list[str]
    mode: str
    due_days: int
    enabled: bool
    steps: list[StepOut]
    updated_at: datetime | None


class ReviewOut(StepOut):
    id: int
    decision: str
    decided_by: str | None
    comment: str
    decided_at: datetime | None
    turn: bool = Field(description="True when this step may be decided now (earlier steps approved).")

    @staticmethod
    def resolve_decided_by(obj: Any) -> str | None:
        return obj.decided_by.get_username() if obj.decided_by_id else None

    @staticmethod
    def resolve_turn(obj: Any, context: Any = None) -> bool:
        return bool(getattr(obj, "turn", False))


class RequestOut(Schema):
    id: int
    project: str
    model: str
    version: int
    alias: str
    status: str
    requested_by: str | None
    created_at: datetime
    due_at: datetime
    decided_at: datetime | None
    overdue: bool
    note: str
    reviews: list[ReviewOut]

    @staticmethod
    def resolve_project(obj: Any) -> str:
        return obj.project.slug

    @staticmethod
    def resolve_model(obj: Any) -> str:
        return obj.model_version.registered_model.name

    @staticmethod
    def resolve_version(obj: Any) -> int:
        return int(obj.model_version.version)

    @staticmethod
    def resolve_requested_by(obj: Any) -> str | None:
        return obj.requested_by.get_username() if obj.requested_by_id else None

    @staticmethod
    def resolve_overdue(obj: Any) -> bool:
        return signoffs.is_overdue(obj)

    @staticmethod
    def resolve_note(obj: Any) -> str:
        return str((obj.details or {}).get("note", ""))

    @staticmethod
    def resolve_reviews(obj: Any) -> list[Any]:
        reviews = list(
            obj.reviews.select_related("reviewer", "reviewer_group", "decided_by").order_by("order", "id")
        )
        waiting = {r.pk for r in signoffs.waiting_reviews(obj, reviews)}
        for review in reviews:
            review.turn = review.pk in waiting
        return reviews


class RequestIn(InputSchema):
    model: str = Field(description="Name of the registered model.")
    version: int = Field(ge=1)
    alias: str = Field(description="A protected alias of the policy, e.g. champion.")
    note: str = Field("", max_length=4000, description="What the reviewers should know.")


class DecisionIn(InputSchema):
    decision: Literal["approve", "reject"]
    comment: str = Field("", max_length=4000, description="Required to reject.")


class CancelIn(InputSchema):
    comment: str = Field("", max_length=4000, description="Required to withdraw an approval.")


class WaitingReviewOut(Schema):
    review_id: int
    step: str
    request: RequestOut


# -- helpers --------------------------------------------------------------------------------------
def _project(user: Any, slug: str, needed: Role, *, lead: bool) -> Project:
    """Project ``slug`` if the caller holds ``needed`` there, or (``lead``) is a governance lead."""
    try:
        return get_project(user, slug, needed)[0]
    except (Http404, PermissionDenied):
        found = Project.objects.filter(slug=slug).first() if lead and is_lead(user) else None
        if found is None:
            raise
        return found


def _request(project: Project, request_id: int) -> SignoffRequest:
    found = (
        SignoffRequest.objects.filter(project=project, pk=request_id)
        .select_related("project", "model_version__registered_model", "requested_by")
        .first()
    )
    if found is None:
        raise Http404(f"No sign-off request {request_id} in project '{project.slug}'.")
    return found


def _conflict(exc: signoffs.SignoffConflict) -> Status:
    return Status(409, error_body(ErrorCode.CONFLICT, exc.message))


def _policy_out(project: Project, policy: SignoffPolicy | None) -> dict[str, Any]:
    if policy is None:
        default = SignoffPolicy(project=project)
        return {
            "project": project.slug,
            "exists": False,
            "aliases": list(default.aliases),
            "mode": default.mode,
            "due_days": default.due_days,
            "enabled": False,
            "steps": [],
            "updated_at": None,
        }
    return {
        "project": project.slug,
        "exists": True,
        "aliases": list(policy.aliases or []),
        "mode": policy.mode,
        "due_days": policy.due_days,
        "enabled": policy.enabled,
        "steps": list(policy.steps.all()),
        "updated_at": policy.updated_at,
    }


def _step(number: int, step: StepIn) -> signoffs.StepSpec:
    reviewer = group = None
    if step.reviewer:
        reviewer = User.objects.filter(username=step.reviewer).first()
        if reviewer is None:
            raise ValidationError(
                {"steps": f"Step {number} ('{step.title}'): no user '{step.reviewer[:150]}'."}
            )
    if step.reviewer_group:
        group = Group.objects.filter(name=step.reviewer_group).first()
        if group is None:
            raise ValidationError(
                {"steps": f"Step {number} ('{step.title}'): no group '{step.reviewer_group[:150]}'."}
            )
    return signoffs.StepSpec(
        title=step.title,
        order=step.order if step.order is not None else number,
        reviewer=reviewer,
        reviewer_group=group,
    )


# -- policy ---------------------------------------------------------------------------------------
@router.get(
    _P + "/policy",
    response=responses({200: PolicyOut}, 404),
    operation_id="governance_signoff_policy_get",
    summary="Get a project's sign-off policy",
)
def governance_signoff_policy_get(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The protected aliases, the mode, the days to decide and the review steps (project members and
    governance leads). ``exists`` is false while the project has none."""
    project = _project(request.user, slug, Role.READER, lead=True)
    return _policy_out(project, signoffs.get_policy(project))


@router.put(
    _P + "/policy",
    response=responses({200: PolicyOut}, 403, 404, 422),
    operation_id="governance_signoff_policy_put",
    summary="Set a project's sign-off policy",
)
def governance_signoff_policy_put(request: HttpRequest, slug: str, payload: PolicyIn) -> dict[str, Any]:
    """Create or replace the policy; the steps are replaced as a whole. Each reviewer must be a
    contributor or admin of the project, each group must hold that role (project admins and
    governance leads)."""
    project = _project(request.user, slug, Role.ADMIN, lead=True)
    steps = [_step(n, s) for n, s in enumerate(payload.steps, start=1)]
    policy = signoffs.save_policy(
        project,
        actor=request.user,
        aliases=payload.aliases,
        mode=payload.mode,
        due_days=payload.due_days,
        enabled=payload.enabled,
        steps=steps,
        request=request,
    )
    return _policy_out(project, policy)


# -- requests -------------------------------------------------------------------------------------
@router.get(
    _P + "/requests",
    response=responses({200: list[RequestOut]}, 404, 422),
    operation_id="governance_signoff_requests_list",
    summary="List a project's sign-off requests",
)
@paginate
def governance_signoff_requests_list(
    request: HttpRequest,
    slug: str,
    status: Literal["pending", "approved", "rejected", "cancelled"] | None = Query(
        None, description="Only requests in this status."
    ),
    overdue: bool = Query(False, description="Only pending requests past their due date."),
) -> QuerySet:
    """Newest first; ``status`` filters, ``overdue=true`` keeps pending requests past their due date
    (project members and governance leads)."""
    project = _project(request.user, slug, Role.READER, lead=True)
    if overdue:
        found = signoffs.overdue_requests().filter(project=project)
    else:
        found = SignoffRequest.objects.filter(project=project)
    if status is not None:
        found = found.filter(status=status)
    return found.select_related("project", "model_version__registered_model", "requested_by").order_by(
        "-created_at", "-id"
    )


@router.post(
    _P + "/requests",
    response=responses({201: RequestOut}, 403, 404, 409, 422),
    operation_id="governance_signoff_requests_create",
    summary="Ask for a sign-off",
)
def governance_signoff_requests_create(request: HttpRequest, slug: str, payload: RequestIn) -> Status:
    """Ask the policy's reviewers to sign off a model version for a protected alias (contributors)."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    model = RegisteredModel.objects.filter(project=project, name=payload.model).first()
    if model is None:
        raise ValidationError({"model": f"No registered model '{payload.model[:200]}' in project '{slug}'."})
    try:
        version = get_model_version(model, payload.version)
    except RegistryError as exc:
        raise ValidationError({"version": exc.message}) from None
    try:
        signoff = signoffs.request_signoff(
            version, payload.alias, actor=request.user, note=payload.note, request=request
        )
    except signoffs.SignoffConflict as exc:
        return _conflict(exc)
    return Status(201, _request(project, signoff.pk))


@router.get(
    _R,
    response=responses({200: RequestOut}, 404),
    operation_id="governance_signoff_requests_get",
    summary="Get a sign-off request",
)
def governance_signoff_requests_get(request: HttpRequest, slug: str, request_id: int) -> SignoffRequest:
    """The request with each review step, its decision and whether its turn has come."""
    project = _project(request.user, slug, Role.READER, lead=True)
    return _request(project, request_id)


@router.post(
    _R + "/reviews/{review_id}/decision",
    response=responses({200: RequestOut}, 403, 404, 409, 422),
    operation_id="governance_signoff_reviews_decide",
    summary="Approve or reject a sign-off step",
)
def governance_signoff_reviews_decide(
    request: HttpRequest, slug: str, request_id: int, review_id: int, payload: DecisionIn
) -> Any:
    """The step's named reviewer (or a member of its group) decides; rejecting needs a comment. The
    requester cannot review their own request (contributors; 403 for anyone else)."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    signoff = _request(project, request_id)
    review = SignoffReview.objects.filter(request=signoff, pk=review_id).first()
    if review is None:
        raise Http404(f"Sign-off request #{request_id} has no review {review_id}.")
    try:
        signoffs.decide(
            review,
            actor=request.user,
            approve=payload.decision == "approve",
            comment=payload.comment,
            request=request,
        )
    except signoffs.SignoffConflict as exc:
        return _conflict(exc)
    return _request(project, request_id)


@router.post(
    _R + "/cancel",
    response=responses({200: RequestOut}, 403, 404, 409, 422),
    operation_id="governance_signoff_requests_cancel",
    summary="Cancel a sign-off request or withdraw its approval",
)
def governance_signoff_requests_cancel(
    request: HttpRequest, slug: str, request_id: int, payload: CancelIn
) -> Any:
    """Withdraw a pending request (its requester, a project admin or a governance lead), or an approval
    (a project admin or a governance lead, with a comment): the version then needs a new sign-off."""
    project = _project(request.user, slug, Role.CONTRIBUTOR, lead=True)
    signoff = _request(project, request_id)
    try:
        signoffs.cancel(signoff, actor=request.user, comment=payload.comment, request=request)
    except signoffs.SignoffConflict as exc:
        return _conflict(exc)
    return _request(project, request_id)


@router.get(
    "/governance/signoff/reviews/waiting",
    response=responses({200: list[WaitingReviewOut]}),
    operation_id="governance_signoff_reviews_waiting",
    summary="Sign-off reviews waiting for me",
)
@paginate
def governance_signoff_reviews_waiting(request: HttpRequest) -> list[dict[str, Any]]:
    """Steps naming the caller (or a group of theirs) whose turn has come, across their projects."""
    return [
        {"review_id": r.pk, "step": r.title, "request": r.request}
        for r in signoffs.reviews_waiting_for(request.user)
    ]
