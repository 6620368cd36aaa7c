"""``/governance/members`` and ``/governance/stages``: portfolio administration through the API.

* ``/governance/members``: who holds a portfolio role (viewer or lead); grant, change and revoke
  roles of users (``/users/{username}``) and groups (``/groups/{name}``). Instance administrators
  only, as on the *Portfolio members* page. The last governance lead can be neither demoted nor
  revoked (409 ``conflict``).
* ``/governance/stages``: the pipeline in order (anyone signed in); governance leads add a stage,
  change one (name, kind, description: kind ``production`` is what counts as in production) and
  delete an unused one (409 ``conflict`` naming how many use cases are in it);
  ``/governance/stage-order`` puts the whole pipeline in a new order, all or nothing.

Every write goes through the services the pages use (``services.portfolio_members`` and
``services.portfolio_pipeline``): same rules, same messages, same audit actions.
"""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from datetime import datetime
from typing import Any, Literal

from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import ErrorCode, error_body, responses
from modelworks.core.models import User
from modelworks.core.permissions import require_instance_admin
from modelworks.core.schemas import InputSchema, UserRef
from modelworks.governance.api.portfolio import StageOut
from modelworks.governance.models import PortfolioMember, Stage
from modelworks.governance.services import portfolio_members as members
from modelworks.governance.services import portfolio_pipeline as pipeline

__all__ = ["router"]

router = Router(tags=["governance: portfolio administration"])

_MEMBERS = "/governance/members"
_STAGES = "/governance/stages"

RoleName = Literal["viewer", "lead"]
StageKindName = Literal["intake", "active", "production", "closed"]


# --------------------------------------------------------------------------------------------- schemas


class MemberOut(Schema):
    id: int
    kind: Literal["user", "group"]
    user: UserRef | None = Field(description="The user holding the role; null for a group.")
    group: str | None = Field(description="Name of the group holding the role; null for a user.")
    role: RoleName
    created_at: datetime

    @staticmethod
    def resolve_kind(obj: Any) -> str:
        return obj.principal_kind

    @staticmethod
    def resolve_group(obj: Any) -> str | None:
        return obj.group.name if obj.group_id else None


class MemberIn(InputSchema):
    role: RoleName = Field(
        description="viewer: sees the whole portfolio and the control tower; lead: also edits any use "
        "case, qualifies ideas, moves stages and configures the pipeline.",
        examples=["lead"],
    )


class StageAdminOut(StageOut):
    use_cases: int = Field(description="How many use cases are in this stage now.")
    history_moves: int = Field(description="How many recorded stage moves name this stage.")
    protected: bool = Field(description="Demand intake needs this stage: it can be renamed, not deleted.")

    @staticmethod
    def resolve_use_cases(obj: Any) -> int:
        return pipeline.stage_usage(obj)[0]

    @staticmethod
    def resolve_history_moves(obj: Any) -> int:
        return pipeline.stage_usage(obj)[1]

    @staticmethod
    def resolve_protected(obj: Any) -> bool:
        return obj.key in pipeline.PROTECTED_STAGES


class StageIn(InputSchema):
    key: str = Field(
        description="The stage's identifier in addresses and the API (cannot change later): 1 to 40 "
        "lower-case letters, digits and hyphens.",
        examples=["user-testing"],
    )
    label: str = Field(description="The name people see.", examples=["User testing"])
    kind: StageKindName = Field(
        "active",
        description="intake (ideas waiting), active (being worked on), production (counts as in "
        "production in the control tower) or closed (retired or rejected).",
        examples=["active"],
    )
    description: str = Field("", examples=["A pilot group of gate agents uses the alerts for a month."])


class StagePatch(InputSchema):
    label: str | None = Field(None, description="New name.", examples=["Field test"])
    kind: StageKindName | None = Field(
        None, description="intake, active, production or closed.", examples=["production"]
    )
    description: str | None = Field(None, examples=["Live with real users, monitored."])


class StageOrderIn(InputSchema):
    stages: list[str] = Field(
        description="Every stage key exactly once, in the new order.",
        examples=[["idea", "qualified", "poc", "pilot", "production", "retired", "rejected"]],
    )


# --------------------------------------------------------------------------------------------- members


def _user_member(username: str) -> PortfolioMember:
    member = PortfolioMember.objects.select_related("user").filter(user__username=username).first()
    if member is None:
        raise Http404(f"'{username}' has no portfolio role (GET {_MEMBERS} lists who has one).")
    return member


def _group_member(name: str) -> PortfolioMember:
    member = PortfolioMember.objects.select_related("group").filter(group__name=name).first()
    if member is None:
        raise Http404(f"Group '{name}' has no portfolio role (GET {_MEMBERS} lists who has one).")
    return member


def _granted(
    request: HttpRequest, role: str, *, user: User | None = None, group: Group | None = None
) -> Status:
    existed = PortfolioMember.objects.filter(user=user, group=group).exists()
    member = members.grant_portfolio_role(
        actor=request.user, role=role, user=user, group=group, request=request
    )
    return Status(200 if existed else 201, member)


@router.get(
    _MEMBERS,
    response=responses({200: list[MemberOut]}, 403),
    operation_id="governance_members_list",
    summary="List who holds a portfolio role",
)
@paginate
def governance_members_list(request: HttpRequest) -> QuerySet:
    """Users and groups with the viewer or lead role, leads first (instance administrators, who are
    always leads themselves and do not appear here)."""
    require_instance_admin(request.user)
    return PortfolioMember.objects.select_related("user", "group").order_by(
        "role", "user__username", "group__name", "id"
    )


@router.put(
    _MEMBERS + "/users/{username}",
    response=responses({200: MemberOut, 201: MemberOut}, 403, 404, 409, 422),
    operation_id="governance_members_user_set",
    summary="Grant or change a user's portfolio role",
)
def governance_members_user_set(request: HttpRequest, username: str, payload: MemberIn) -> Status:
    """Give the user the role: 201 when they had none, 200 when it was changed (or already so).
    Demoting the last governance lead is refused with 409."""
    require_instance_admin(request.user)
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise Http404(f"No active user '{username}'. Check the username (GET /api/v1/users?search=…).")
    return _granted(request, payload.role, user=user)


@router.delete(
    _MEMBERS + "/users/{username}",
    response=responses({204: None}, 403, 404, 409),
    operation_id="governance_members_user_revoke",
    summary="Revoke a user's portfolio role",
)
def governance_members_user_revoke(request: HttpRequest, username: str) -> Status:
    """The user keeps whatever their projects, business ownership or groups give them. Revoking the
    last governance lead is refused with 409."""
    require_instance_admin(request.user)
    members.revoke_portfolio_role(_user_member(username), actor=request.user, request=request)
    return Status(204, None)


@router.put(
    _MEMBERS + "/groups/{name}",
    response=responses({200: MemberOut, 201: MemberOut}, 403, 404, 409, 422),
    operation_id="governance_members_group_set",
    summary="Grant or change a group's portfolio role",
)
def governance_members_group_set(request: HttpRequest, name: str, payload: MemberIn) -> Status:
    """Every member of the group gets the role (the strongest of a user's roles wins)."""
    require_instance_admin(request.user)
    group = Group.objects.filter(name=name).first()
    if group is None:
        raise Http404(f"No group '{name}'. Check its name (GET /api/v1/groups).")
    return _granted(request, payload.role, group=group)


@router.delete(
    _MEMBERS + "/groups/{name}",
    response=responses({204: None}, 403, 404, 409),
    operation_id="governance_members_group_revoke",
    summary="Revoke a group's portfolio role",
)
def governance_members_group_revoke(request: HttpRequest, name: str) -> Status:
    require_instance_admin(request.user)
    members.revoke_portfolio_role(_group_member(name), actor=request.user, request=request)
    return Status(204, None)


# --------------------------------------------------------------------------------------------- stages


def _stage(key: str) -> Stage:
    stage = Stage.objects.filter(key=key).first()
    if stage is None:
        keys = ", ".join(Stage.objects.order_by("order", "id").values_list("key", flat=True))
        raise Http404(f"No pipeline stage '{key}'; the stages are: {keys}.")
    return stage


@router.get(
    _STAGES,
    response=responses({200: list[StageOut]}),
    operation_id="governance_stages_list",
    summary="List the pipeline stages in order",
)
@paginate
def governance_stages_list(request: HttpRequest) -> QuerySet[Stage]:
    """Anyone signed in: the stages use cases move through, first to last."""
    return Stage.objects.order_by("order", "id")


@router.post(
    _STAGES,
    response=responses({201: StageAdminOut}, 403, 422),
    operation_id="governance_stages_create",
    summary="Add a stage at the end of the pipeline",
)
def governance_stages_create(request: HttpRequest, payload: StageIn) -> Status:
    """Governance leads. Put it in place afterwards with ``PUT /governance/stage-order``."""
    stage = pipeline.create_stage(actor=request.user, request=request, **payload.dict())
    return Status(201, stage)


@router.patch(
    _STAGES + "/{key}",
    response=responses({200: StageAdminOut}, 403, 404, 422),
    operation_id="governance_stages_update",
    summary="Rename a stage or change its kind or description",
)
def governance_stages_update(request: HttpRequest, key: str, payload: StagePatch) -> Stage:
    """Governance leads; only the fields sent change (null: unchanged), the key stays. The stages
    demand intake needs (idea, qualified, rejected) keep their kind."""
    pipeline.require_lead(request.user)
    stage = _stage(key)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return pipeline.update_stage(
        stage,
        actor=request.user,
        label=changes.get("label", stage.label),
        kind=changes.get("kind", stage.kind),
        description=changes.get("description", stage.description),
        request=request,
    )


@router.delete(
    _STAGES + "/{key}",
    response=responses({204: None}, 403, 404, 409),
    operation_id="governance_stages_delete",
    summary="Delete an unused stage",
)
def governance_stages_delete(request: HttpRequest, key: str) -> Status:
    """Governance leads. Refused with 409 while use cases are in the stage (``details.use_cases``
    says how many: move them first), when the stage history names it, or when demand intake needs it."""
    pipeline.require_lead(request.user)
    try:
        pipeline.delete_stage(_stage(key), actor=request.user, request=request)
    except pipeline.StageInUseError as exc:
        details = {"stage": key, "use_cases": exc.use_cases, "history_moves": exc.history}
        return Status(409, error_body(ErrorCode.CONFLICT, " ".join(exc.messages), details))
    return Status(204, None)


@router.put(
    "/governance/stage-order",
    response=responses({200: list[StageAdminOut]}, 403, 422),
    operation_id="governance_stages_reorder",
    summary="Put the pipeline in a new order",
)
def governance_stages_reorder(request: HttpRequest, payload: StageOrderIn) -> list[Stage]:
    """Governance leads: list every stage key exactly once; unknown, repeated or missing keys refuse
    the whole request (422) and nothing moves."""
    return pipeline.set_stage_order(payload.stages, actor=request.user, request=request)
