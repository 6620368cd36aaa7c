"""Portfolio services on the real database: access rules, use cases (create, edit, link projects,
delete, stage moves), the configurable pipeline, demand intake and portfolio membership, each write
audited; bad inputs table-driven with the messages users see."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from modelworks.core import services as core_services
from modelworks.core.models import AuditEvent, Role
from modelworks.core.permissions import InstanceAdminRequired
from modelworks.core.testing.fixtures import make_user
from modelworks.governance.models import PortfolioMember, PortfolioRole, Stage, StageChange, UseCase
from modelworks.governance.services import access
from modelworks.governance.services import portfolio as services
from modelworks.governance.services import portfolio_intake as intake
from modelworks.governance.services import portfolio_members as members
from modelworks.governance.services import portfolio_pipeline as pipeline

pytest_plugins = ["modelworks.core.testing.fixtures"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(db: None) -> Any:
    user = make_user("gwen", full_name="Gwen Lead")
    PortfolioMember.objects.create(user=user, role=PortfolioRole.LEAD)
    return user


@pytest.fixture
def viewer(db: None) -> Any:
    user = make_user("vic", full_name="Vic Viewer")
    PortfolioMember.objects.create(user=user, role=PortfolioRole.VIEWER)
    return user


@pytest.fixture
def use_case(lead: Any, bob: Any, project: Any) -> UseCase:
    core_services.grant_membership(project, actor=project.created_by, user=lead, role=Role.READER)
    return services.create_use_case(
        actor=lead,
        title="Late departure alerts",
        business_owner=bob,
        expected_value_one_off=Decimal("20000"),
        expected_value_recurring=Decimal("100000"),
        value_formula="1,000 delays x EUR 100",
        feasibility_score=4,
        projects=[project],
    )


def _actions() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="governance.")
        .order_by("id")
        .values_list("action", flat=True)
    )


# ------------------------------------------------------------------------------------------ access


def test_seeded_pipeline_is_in_order() -> None:
    assert list(Stage.objects.order_by("order").values_list("key", "kind")) == [
        ("idea", "intake"),
        ("qualified", "active"),
        ("poc", "active"),
        ("pilot", "active"),
        ("production", "production"),
        ("retired", "closed"),
        ("rejected", "closed"),
    ]
    assert Stage.objects.get(key="poc").label == "Proof of concept"


def test_roles_come_from_users_groups_and_instance_admin(
    viewer: Any, lead: Any, carol: Any, dave: Any, group: Any, instance_admin: Any
) -> None:
    assert access.portfolio_role(viewer) == PortfolioRole.VIEWER
    assert access.portfolio_role(lead) == PortfolioRole.LEAD
    assert access.portfolio_role(instance_admin) == PortfolioRole.LEAD
    assert access.portfolio_role(dave) is None
    PortfolioMember.objects.create(group=group, role=PortfolioRole.LEAD)  # carol is in the group
    PortfolioMember.objects.create(user=carol, role=PortfolioRole.VIEWER)
    assert access.portfolio_role(carol) == PortfolioRole.LEAD  # the strongest wins
    assert access.is_lead(carol) and not access.is_lead(viewer)
    from django.contrib.auth.models import AnonymousUser

    assert access.portfolio_role(AnonymousUser()) is None
    dave.is_active = False
    assert access.visible_use_cases(dave).count() == 0


def test_who_sees_and_edits_a_use_case(
    use_case: UseCase, lead: Any, viewer: Any, alice: Any, bob: Any, carol: Any, dave: Any
) -> None:
    # alice and carol see it through the linked project; bob is its business owner; dave sees nothing.
    for user in (lead, viewer, alice, bob, carol):
        assert access.can_view_use_case(user, use_case), user
        assert use_case in access.visible_use_cases(user)
    assert not access.can_view_use_case(dave, use_case)
    assert use_case not in access.visible_use_cases(dave)
    assert [u for u in (lead, viewer, alice, bob, carol, dave) if access.can_edit_use_case(u, use_case)] == [
        lead,
        bob,
    ]
    idea = intake.submit_idea(actor=dave, title="Dave's idea", problem_statement="A problem.")
    assert access.can_view_use_case(dave, idea) and not access.can_edit_use_case(dave, idea)
    assert not access.can_view_use_case(carol, idea)
    assert list(UseCase.objects.visible_to(dave)) == [idea]


# ------------------------------------------------------------------------------------------ use cases


def test_create_records_history_and_audit(use_case: UseCase, lead: Any, project: Any) -> None:
    assert use_case.slug == "late-departure-alerts"
    assert use_case.stage.key == "qualified"
    assert list(use_case.projects.all()) == [project]
    assert use_case.first_year_value == Decimal("120000.00")
    assert use_case.priority_score == Decimal("96000.00")  # 120,000 x 4 / 5
    change = StageChange.objects.get(use_case=use_case)
    assert (change.from_stage, change.to_stage.key, change.actor) == (None, "qualified", lead)
    event = AuditEvent.objects.get(action="governance.use_case_created")
    assert event.project is None and event.details["projects"] == ["flight-delays"]
    again = services.create_use_case(actor=lead, title="Late departure alerts")
    assert again.slug == "late-departure-alerts-2"
    assert services.create_use_case(actor=lead, title="New").slug == "new-use-case"
    assert services.create_use_case(actor=lead, title="预测").slug == "use-case"


@pytest.mark.parametrize(
    ("values", "field", "match"),
    [
        ({"title": ""}, "title", "This field cannot be blank"),
        ({"title": "x", "currency": "euro"}, "currency", "three-letter ISO 4217"),
        (
            {"title": "x", "expected_value_one_off": Decimal("-1")},
            "expected_value_one_off",
            "cannot be negative",
        ),
        ({"title": "x", "cost_people_days": Decimal("-3")}, "cost_people_days", "cannot be negative"),
        (
            {"title": "x", "expected_value_recurring": Decimal("5")},
            "value_formula",
            "Write down how the expected",
        ),
        ({"title": "x", "feasibility_score": 6}, "feasibility_score", "less than or equal to 5"),
        ({"title": "x", "data_readiness_score": 0}, "data_readiness_score", "greater than or equal to 1"),
        ({"title": "x", "risk_level": "extreme"}, "risk_level", "not a valid choice"),
        ({"title": "x", "stage": "nowhere"}, "stage", "No pipeline stage 'nowhere'"),
        ({"title": "x", "slug": "Bad Slug"}, "slug", "lower-case letters"),
        ({"title": "x", "slug": "new"}, "slug", "reserved"),
    ],
)
def test_create_refuses_bad_values(lead: Any, values: dict[str, Any], field: str, match: str) -> None:
    with pytest.raises(ValidationError, match=match) as info:
        services.create_use_case(actor=lead, **values)
    assert field in info.value.message_dict
    assert not UseCase.objects.exists()


def test_only_leads_create_and_delete(use_case: UseCase, bob: Any, viewer: Any, lead: Any) -> None:
    for user in (bob, viewer):
        with pytest.raises(PermissionDenied, match="Only governance leads can add"):
            services.create_use_case(actor=user, title="Mine")
        with pytest.raises(PermissionDenied, match="Only governance leads can delete"):
            services.delete_use_case(use_case, actor=user)
    services.delete_use_case(use_case, actor=lead)
    assert not UseCase.objects.exists()
    assert (
        AuditEvent.objects.get(action="governance.use_case_deleted").details["slug"]
        == "late-departure-alerts"
    )


def test_owner_edits_but_cannot_hand_over(use_case: UseCase, bob: Any, carol: Any, lead: Any) -> None:
    services.update_use_case(use_case, actor=bob, sponsor="COO", feasibility_score=5)
    use_case.refresh_from_db()
    assert (use_case.sponsor, use_case.feasibility_score) == ("COO", 5)
    event = AuditEvent.objects.get(action="governance.use_case_updated")
    assert event.details == {"sponsor": ["", "COO"], "feasibility_score": [4, 5]}
    with pytest.raises(PermissionDenied, match="Only governance leads can hand"):
        services.update_use_case(use_case, actor=bob, business_owner=carol)
    with pytest.raises(PermissionDenied, match="business owner of 'Late departure alerts'"):
        services.update_use_case(use_case, actor=carol, sponsor="CFO")
    services.update_use_case(use_case, actor=lead, business_owner=carol)
    assert UseCase.objects.get(pk=use_case.pk).business_owner == carol
    services.update_use_case(use_case, actor=lead, sponsor="COO")  # no change: no audit entry
    assert _actions().count("governance.use_case_updated") == 2


def test_only_own_projects_can_be_linked(
    use_case: UseCase, bob: Any, dave: Any, lead: Any, alice: Any
) -> None:
    other = core_services.create_project(actor=dave, slug="daves-lab", name="Dave's lab")
    with pytest.raises(ValidationError, match="you are not a member of 'daves-lab'"):
        services.update_use_case(use_case, actor=bob, projects=[use_case.projects.get(), other])
    with pytest.raises(ValidationError, match="you are not a member of 'daves-lab'"):
        services.create_use_case(actor=lead, title="Other", projects=[other])
    # A lead who is not in 'flight-delays' keeps it linked while editing other fields.
    outside_lead = make_user("lena")
    PortfolioMember.objects.create(user=outside_lead, role=PortfolioRole.LEAD)
    services.update_use_case(
        use_case, actor=outside_lead, projects=list(use_case.projects.all()), sponsor="CEO"
    )
    assert [p.slug for p in use_case.projects.all()] == ["flight-delays"]
    services.update_use_case(use_case, actor=bob, projects=[])
    assert not use_case.projects.exists()
    assert AuditEvent.objects.filter(action="governance.use_case_updated").order_by("id").last().details[
        "projects"
    ] == [
        ["flight-delays"],
        [],
    ]


def test_stage_moves(use_case: UseCase, bob: Any, lead: Any, carol: Any) -> None:
    change = services.move_use_case(use_case, "poc", actor=bob, comment="Data is there")
    assert (change.from_stage.key, change.to_stage.key, change.actor, change.comment) == (
        "qualified",
        "poc",
        bob,
        "Data is there",
    )
    assert UseCase.objects.get(pk=use_case.pk).stage.key == "poc"
    with pytest.raises(PermissionDenied, match="between active stages only"):
        services.move_use_case(use_case, "production", actor=bob)
    with pytest.raises(PermissionDenied, match="business owner of"):
        services.move_use_case(use_case, "pilot", actor=carol)
    with pytest.raises(ValidationError, match="already in stage 'Proof of concept'"):
        services.move_use_case(use_case, "poc", actor=lead)
    with pytest.raises(ValidationError, match="No pipeline stage 'prod'"):
        services.move_use_case(use_case, "prod", actor=lead)
    services.move_use_case(use_case, "production", actor=lead)
    with pytest.raises(PermissionDenied, match="between active stages only"):
        services.move_use_case(use_case, "pilot", actor=bob)  # out of production: a lead's call
    assert list(use_case.stage_changes.values_list("to_stage__key", flat=True)) == [
        "qualified",
        "poc",
        "production",
    ]
    assert _actions().count("governance.use_case_stage_moved") == 2


def test_filters_and_sorts(use_case: UseCase, lead: Any, carol: Any) -> None:
    small = services.create_use_case(
        actor=lead,
        title="Invoice matching",
        business_unit="Finance",
        feasibility_score=5,
        risk_level="minimal",
    )
    services.update_use_case(use_case, actor=lead, business_unit="Operations", risk_level="high")
    assert list(services.filter_use_cases(lead, sort="-priority")) == [use_case, small]
    assert list(services.filter_use_cases(lead, sort="-value")) == [use_case, small]
    assert list(services.filter_use_cases(lead, unit="Finance")) == [small]
    assert list(services.filter_use_cases(lead, risk="high")) == [use_case]
    assert list(services.filter_use_cases(lead, owner=use_case.business_owner.pk)) == [use_case]
    assert list(services.filter_use_cases(lead, owner="bob")) == [use_case]
    assert list(services.filter_use_cases(lead, q="INVOICE")) == [small]
    assert list(services.filter_use_cases(lead, stage="poc")) == []
    assert list(services.filter_use_cases(carol)) == [use_case]  # carol sees it through the project only
    first = services.filter_use_cases(lead, sort="-priority").first()
    assert first.priority == Decimal("96000")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"sort": "cost"}, "Cannot sort by 'cost'"), ({"risk": "huge"}, "'huge' is not a risk level")],
)
def test_filters_refuse_unknown_values(lead: Any, kwargs: dict[str, str], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        services.filter_use_cases(lead, **kwargs)


# ------------------------------------------------------------------------------------------ pipeline


def test_pipeline_add_rename_reorder_delete(lead: Any, use_case: UseCase) -> None:
    stage = pipeline.create_stage(actor=lead, key="user-testing", label="User testing", kind="active")
    assert stage.order == 80
    pipeline.update_stage(stage, actor=lead, label="Field testing", kind="active", description="With crews")
    assert Stage.objects.get(key="user-testing").label == "Field testing"
    pipeline.reorder_stage(stage, actor=lead, direction="up")
    order = list(Stage.objects.order_by("order").values_list("key", flat=True))
    assert order[-2:] == ["user-testing", "rejected"]
    pipeline.reorder_stage(Stage.objects.get(key="idea"), actor=lead, direction="up")  # already first
    assert list(Stage.objects.order_by("order").values_list("key", flat=True)) == order
    pipeline.delete_stage(stage, actor=lead)
    assert not Stage.objects.filter(key="user-testing").exists()
    assert _actions()[-4:] == [
        "governance.stage_created",
        "governance.stage_updated",
        "governance.stage_reordered",
        "governance.stage_deleted",
    ]


@pytest.mark.parametrize(
    ("key", "label", "kind", "field", "match"),
    [
        ("Bad Key", "Review", "active", "key", "lower-case letters"),
        ("pilot", "Another pilot", "active", "key", "already exists"),
        ("review", "  ", "active", "label", "Give the stage a name"),
        ("review", "Review", "waiting", "kind", "'waiting' is not a kind of stage"),
    ],
)
def test_pipeline_refuses_bad_stages(
    lead: Any, key: str, label: str, kind: str, field: str, match: str
) -> None:
    with pytest.raises(ValidationError, match=match) as info:
        pipeline.create_stage(actor=lead, key=key, label=label, kind=kind)
    assert field in info.value.message_dict


def test_stage_in_use_cannot_be_deleted(lead: Any, use_case: UseCase, bob: Any) -> None:
    with pytest.raises(ValidationError, match="used by demand intake"):
        pipeline.delete_stage(Stage.objects.get(key="idea"), actor=lead)
    services.move_use_case(use_case, "poc", actor=lead)
    with pytest.raises(ValidationError, match=r"1 use case is in it\. Move them to another stage first"):
        pipeline.delete_stage(Stage.objects.get(key="poc"), actor=lead)
    services.move_use_case(use_case, "pilot", actor=lead)
    with pytest.raises(ValidationError, match=r"appears in the stage history of use cases \(2 moves\)"):
        pipeline.delete_stage(Stage.objects.get(key="poc"), actor=lead)
    with pytest.raises(ValidationError, match="Demand intake relies on stage 'rejected'"):
        pipeline.update_stage(Stage.objects.get(key="rejected"), actor=lead, label="No", kind="active")
    with pytest.raises(PermissionDenied, match="Only governance leads can configure"):
        pipeline.create_stage(actor=bob, key="x", label="X")
    assert Stage.objects.filter(key__in=["idea", "poc", "qualified"]).count() == 3


# ------------------------------------------------------------------------------------------ intake


def test_intake_submit_qualify_reject(dave: Any, lead: Any, bob: Any) -> None:
    idea = intake.submit_idea(
        actor=dave,
        title="Baggage delays",
        problem_statement="Bags miss connections.",
        business_unit="Ground",
        expected_benefit="Fewer lost bags",
        value_estimate=Decimal("50000"),
    )
    assert (idea.stage.key, idea.submitted_by, idea.expected_value_recurring) == (
        "idea",
        dave,
        Decimal("50000"),
    )
    assert idea.details == {"expected_benefit": "Fewer lost bags"}
    assert list(intake.intake_queue()) == [idea]
    intake.qualify_idea(idea, actor=lead, business_owner=bob, comment="Good one")
    assert (idea.stage.key, idea.business_owner) == ("qualified", bob)
    assert not intake.intake_queue().exists()
    with pytest.raises(ValidationError, match="not waiting in intake"):
        intake.reject_idea(idea, actor=lead, reason="Too late")
    second = intake.submit_idea(actor=dave, title="Coffee forecast", problem_statement="Queues at the bar.")
    intake.reject_idea(second, actor=lead, reason="  Out of scope for AI  ")
    assert (second.stage.key, second.rejection_reason) == ("rejected", "Out of scope for AI")
    assert list(intake.ideas_of(dave)) == [second, idea]
    assert _actions() == [
        "governance.idea_submitted",
        "governance.idea_qualified",
        "governance.idea_submitted",
        "governance.idea_rejected",
    ]
    assert list(second.stage_changes.values_list("to_stage__key", "comment")) == [
        ("idea", "Submitted"),
        ("rejected", "Out of scope for AI"),
    ]


@pytest.mark.parametrize(
    ("values", "field", "match"),
    [
        ({"title": "", "problem_statement": "p"}, "title", "Give the idea a short title"),
        ({"title": "x" * 201, "problem_statement": "p"}, "title", "under 200 characters"),
        ({"title": "Idea", "problem_statement": " "}, "problem_statement", "Describe the business problem"),
        (
            {"title": "Idea", "problem_statement": "p", "value_estimate": Decimal("-1")},
            "value_estimate",
            "negative",
        ),
        ({"title": "Idea", "problem_statement": "p", "currency": "E"}, "currency", "three-letter"),
    ],
)
def test_intake_refuses_bad_ideas(dave: Any, values: dict[str, Any], field: str, match: str) -> None:
    with pytest.raises(ValidationError, match=match) as info:
        intake.submit_idea(actor=dave, **values)
    assert field in info.value.message_dict
    assert not UseCase.objects.exists()


def test_only_leads_decide_and_reasons_are_required(dave: Any, bob: Any, lead: Any) -> None:
    idea = intake.submit_idea(actor=dave, title="Idea", problem_statement="Problem")
    with pytest.raises(PermissionDenied, match="Only governance leads can qualify"):
        intake.qualify_idea(idea, actor=bob)
    with pytest.raises(PermissionDenied, match="Only governance leads can reject"):
        intake.reject_idea(idea, actor=dave, reason="No")
    with pytest.raises(ValidationError, match="Say why the idea is rejected"):
        intake.reject_idea(idea, actor=lead, reason="   ")
    assert UseCase.objects.get(pk=idea.pk).stage.key == "idea"


# ------------------------------------------------------------------------------------------ members


def test_members_grant_change_revoke(instance_admin: Any, dave: Any, group: Any, lead: Any) -> None:
    member = members.grant_portfolio_role(actor=instance_admin, role="viewer", user=dave)
    assert access.portfolio_role(dave) == PortfolioRole.VIEWER
    members.grant_portfolio_role(actor=instance_admin, role="lead", user=dave)
    assert access.is_lead(dave)
    members.grant_portfolio_role(actor=instance_admin, role="lead", user=dave)  # unchanged: no entry
    members.grant_portfolio_role(actor=instance_admin, role="viewer", group=group)
    members.revoke_portfolio_role(PortfolioMember.objects.get(pk=member.pk), actor=instance_admin)
    assert access.portfolio_role(dave) is None
    assert _actions() == [
        "governance.member_granted",
        "governance.member_changed",
        "governance.member_granted",
        "governance.member_revoked",
    ]
    with pytest.raises(InstanceAdminRequired):
        members.grant_portfolio_role(actor=lead, role="lead", user=dave)
    with pytest.raises(ValidationError, match="'owner' is not a portfolio role"):
        members.grant_portfolio_role(actor=instance_admin, role="owner", user=dave)
    with pytest.raises(ValidationError, match="either a user or a group"):
        members.grant_portfolio_role(actor=instance_admin, role="viewer", user=dave, group=group)
