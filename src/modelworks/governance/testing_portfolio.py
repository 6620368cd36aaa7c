"""Test helpers of the portfolio part, and its rows of the generated permission suite.

The generic suite's actors are project roles; the portfolio sits above projects, so the world is
arranged so that each portfolio rule maps onto one of the suite's ``Access`` scopes:

* ``world_portfolio(w)`` makes **alice** (the project admin) a governance lead. Lead-only pages
  without an object (create, intake queue, pipeline) then behave as ``any_project(ADMIN)``: alice and
  instance admins succeed, every other signed-in user gets 403 (there is nothing whose existence
  could leak).
* ``world_use_case(w)``: a qualified use case linked to the world's project, without business owner:
  project members see it (reader rows), only the lead changes it (admin rows: bob and carol 403),
  dave, who sees nothing, gets 404.
* ``world_idea(w)``: an idea submitted by carol, linked to the project the same way (qualify /
  reject: alice only; carol and bob see it, 403; dave 404).
* ``world_spare_stage(w)``: an unused stage, for the edit and delete rows (API and pages).
* Portfolio membership is for instance administrators (``instance_admin``), on the page and in
  the API (``/governance/members``): every other signed-in user gets 403. The API rows change the
  role of dave (a viewer) and of the world's group, never the last lead.

Viewers, business owners and submitters without a project role are covered by
``governance/tests/test_gov_portfolio_permissions.py``.
"""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, ApiRouteCase, PageRouteCase, PermissionWorld
from modelworks.governance.models import PortfolioMember, PortfolioRole, Stage, UseCase
from modelworks.governance.services import portfolio as services
from modelworks.governance.services import portfolio_intake as intake

__all__ = [
    "API_ROUTES",
    "PAGE_ROUTES",
    "world_idea",
    "world_portfolio",
    "world_spare_stage",
    "world_use_case",
]

SIGNED_IN = Access.signed_in()
LEAD = Access.any_project(Role.ADMIN)  # alice is the lead of the world (see the module docstring)
SEES = Access.project(Role.READER)
CHANGES = Access.project(Role.ADMIN)
INSTANCE_ADMIN = Access.instance_admin()
REDIRECTED = (303,)


def world_portfolio(w: PermissionWorld) -> None:
    """Make alice a governance lead (once)."""
    if "portfolio.lead" not in w.extra:
        w.extra["portfolio.lead"] = PortfolioMember.objects.create(
            user=w.users["admin"], role=PortfolioRole.LEAD
        )


def world_use_case(w: PermissionWorld) -> UseCase:
    """A qualified use case linked to the world's project (created by alice, the lead)."""
    if "portfolio.use_case" not in w.extra:
        world_portfolio(w)
        w.extra["portfolio.use_case"] = services.create_use_case(
            actor=w.users["admin"],
            title="Late departure alerts",
            problem_statement="Gate staff learn of delays too late.",
            business_unit="Operations",
            expected_value_recurring=120000,
            value_formula="1,000 delays x 120 EUR",
            feasibility_score=4,
            projects=[w.project],
        )
    return w.extra["portfolio.use_case"]


def world_idea(w: PermissionWorld) -> UseCase:
    """An idea submitted by carol, linked to the world's project."""
    if "portfolio.idea" not in w.extra:
        world_portfolio(w)
        idea = intake.submit_idea(
            actor=w.users["reader"], title="Crew roster forecast", problem_statement="Rosters change daily."
        )
        idea.projects.add(w.project)
        w.extra["portfolio.idea"] = idea
    return w.extra["portfolio.idea"]


def world_spare_stage(w: PermissionWorld) -> Stage:
    if "portfolio.stage" not in w.extra:
        w.extra["portfolio.stage"] = Stage.objects.create(key="user-testing", label="User testing", order=45)
    return w.extra["portfolio.stage"]


def _lead(w: PermissionWorld) -> dict[str, Any]:
    world_portfolio(w)
    return {}


def _use_case(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": world_use_case(w).slug}


def _idea(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": world_idea(w).slug}


def _stage(w: PermissionWorld) -> dict[str, Any]:
    world_portfolio(w)
    return {"key": world_spare_stage(w).key}


def _member(w: PermissionWorld) -> dict[str, Any]:
    member = PortfolioMember.objects.create(group=w.group, role=PortfolioRole.VIEWER)
    return {"member_id": member.pk}


def _member_user(w: PermissionWorld) -> dict[str, Any]:
    world_portfolio(w)
    PortfolioMember.objects.create(user=w.users["outsider"], role=PortfolioRole.VIEWER)
    return {"username": w.users["outsider"].username}


def _member_group(w: PermissionWorld) -> dict[str, Any]:
    world_portfolio(w)
    PortfolioMember.objects.create(group=w.group, role=PortfolioRole.VIEWER)
    return {"name": w.group.name}


def _stage_order(w: PermissionWorld) -> dict[str, Any]:
    keys = list(Stage.objects.order_by("order", "id").values_list("key", flat=True))
    return {"stages": keys[::-1]}


def _new_use_case(w: PermissionWorld) -> dict[str, Any]:
    return {"title": "Fuel burn forecast", "business_unit": "Operations"}


def _idea_body(w: PermissionWorld) -> dict[str, Any]:
    return {"title": "Baggage delays", "problem_statement": "Bags miss connections."}


def _use_case_form(w: PermissionWorld) -> dict[str, Any]:
    return {
        "title": "Fuel burn forecast",
        "expected_value_one_off": "0",
        "expected_value_recurring": "0",
        "currency": "EUR",
        "cost_people_days": "0",
        "cost_compute": "0",
        "risk_level": "unassessed",
    }


API_ROUTES: list[ApiRouteCase] = [
    ApiRouteCase("governance_use_cases_list", SIGNED_IN, _lead),
    ApiRouteCase("governance_use_cases_create", LEAD, _lead, body=_new_use_case, ok_status=201),
    ApiRouteCase("governance_use_cases_get", SEES, _use_case),
    ApiRouteCase("governance_use_cases_update", CHANGES, _use_case, body=lambda w: {"sponsor": "COO"}),
    ApiRouteCase("governance_use_cases_delete", CHANGES, _use_case, ok_status=204),
    ApiRouteCase("governance_use_cases_move", CHANGES, _use_case, body=lambda w: {"stage": "poc"}),
    ApiRouteCase("governance_stages_list", SIGNED_IN),
    ApiRouteCase(
        "governance_stages_create",
        LEAD,
        _lead,
        body=lambda w: {"key": "review", "label": "Review", "kind": "active"},
        ok_status=201,
    ),
    ApiRouteCase("governance_stages_update", LEAD, _stage, body=lambda w: {"label": "Field test"}),
    ApiRouteCase("governance_stages_delete", LEAD, _stage, ok_status=204),
    ApiRouteCase("governance_stages_reorder", LEAD, _lead, body=_stage_order),
    ApiRouteCase("governance_members_list", INSTANCE_ADMIN, _lead),
    ApiRouteCase(
        "governance_members_user_set", INSTANCE_ADMIN, _member_user, body=lambda w: {"role": "lead"}
    ),
    ApiRouteCase("governance_members_user_revoke", INSTANCE_ADMIN, _member_user, ok_status=204),
    ApiRouteCase(
        "governance_members_group_set", INSTANCE_ADMIN, _member_group, body=lambda w: {"role": "lead"}
    ),
    ApiRouteCase("governance_members_group_revoke", INSTANCE_ADMIN, _member_group, ok_status=204),
    ApiRouteCase("governance_ideas_submit", SIGNED_IN, body=_idea_body, ok_status=201),
    ApiRouteCase("governance_ideas_mine", SIGNED_IN),
    ApiRouteCase("governance_ideas_queue", LEAD, _lead),
    ApiRouteCase("governance_ideas_qualify", CHANGES, _idea, body=lambda w: {"comment": "Worth a try"}),
    ApiRouteCase(
        "governance_ideas_reject", CHANGES, _idea, body=lambda w: {"reason": "Covered by another tool"}
    ),
]

PAGE_ROUTES: list[PageRouteCase] = [
    PageRouteCase("governance:portfolio", SIGNED_IN, _lead),
    PageRouteCase("governance:usecase_create", LEAD, _lead),
    PageRouteCase("governance:usecase_create", LEAD, _lead, "POST", _use_case_form, REDIRECTED),
    PageRouteCase("governance:usecase_detail", SEES, _use_case),
    PageRouteCase("governance:usecase_edit", CHANGES, _use_case),
    PageRouteCase(
        "governance:usecase_edit",
        CHANGES,
        _use_case,
        "POST",
        lambda w: {**_use_case_form(w), "title": "Late departure alerts"},
        REDIRECTED,
    ),
    PageRouteCase("governance:usecase_delete", CHANGES, _use_case),
    PageRouteCase("governance:usecase_delete", CHANGES, _use_case, "POST", None, REDIRECTED),
    PageRouteCase(
        "governance:usecase_move", CHANGES, _use_case, "POST", lambda w: {"stage": "poc"}, REDIRECTED
    ),
    PageRouteCase("governance:intake_submit", SIGNED_IN),
    PageRouteCase(
        "governance:intake_submit", SIGNED_IN, method="POST", data=_idea_body, ok_statuses=REDIRECTED
    ),
    PageRouteCase("governance:intake_mine", SIGNED_IN),
    PageRouteCase("governance:intake_queue", LEAD, _lead),
    PageRouteCase(
        "governance:intake_qualify",
        CHANGES,
        _idea,
        "POST",
        lambda w: {f"q{world_idea(w).pk}-comment": "ok"},
        REDIRECTED,
    ),
    PageRouteCase(
        "governance:intake_reject",
        CHANGES,
        _idea,
        "POST",
        lambda w: {f"r{world_idea(w).pk}-reason": "Duplicate"},
        REDIRECTED,
    ),
    PageRouteCase("governance:portfolio_pipeline", LEAD, _lead),
    PageRouteCase(
        "governance:portfolio_pipeline",
        LEAD,
        _lead,
        "POST",
        lambda w: {"new-key": "review", "new-label": "Review", "new-kind": "active"},
        REDIRECTED,
    ),
    PageRouteCase(
        "governance:portfolio_stage_edit",
        LEAD,
        _stage,
        "POST",
        lambda w: {
            f"s{world_spare_stage(w).pk}-label": "Field test",
            f"s{world_spare_stage(w).pk}-kind": "active",
        },
        REDIRECTED,
    ),
    PageRouteCase(
        "governance:portfolio_stage_reorder", LEAD, _stage, "POST", lambda w: {"direction": "up"}, REDIRECTED
    ),
    PageRouteCase("governance:portfolio_stage_delete", LEAD, _stage, "POST", None, REDIRECTED),
    PageRouteCase("governance:portfolio_members", INSTANCE_ADMIN),
    PageRouteCase(
        "governance:portfolio_members",
        INSTANCE_ADMIN,
        method="POST",
        data=lambda w: {"user": w.users["outsider"].pk, "role": "viewer"},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("governance:portfolio_member_revoke", INSTANCE_ADMIN, _member, "POST", None, REDIRECTED),
]
