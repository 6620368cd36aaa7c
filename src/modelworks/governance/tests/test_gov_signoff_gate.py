"""The sign-off gate on every path that moves an alias: the registry service and its alias page,
promotion-request approval (issue 6), automatic promotion and rollback; block and warn modes; what
needs no sign-off; and what an approval is worth after the promotion."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from modelworks.core import services as core
from modelworks.core.models import AuditEvent, Project, Role, User
from modelworks.core.testing.fixtures import make_user
from modelworks.governance.models import SignoffRequest
from modelworks.governance.services import signoff as signoffs
from modelworks.governance.services.signoff import StepSpec
from modelworks.governance.services.signoff_gate import check_alias_move
from modelworks.governance.testing_signoff import GATE, approve_all, register_versions
from modelworks.registry import services as registry
from modelworks.registry.errors import PromotionBlockedError
from modelworks.registry.models import AliasEvent, PromotionStatus
from modelworks.registry.services import promotion

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]


@pytest.fixture(autouse=True)
def gated(settings: Any) -> None:
    settings.MODELWORKS_ALIAS_GATES = [GATE]


@pytest.fixture
def erin(project: Project, alice: User) -> User:
    user = make_user("erin")
    core.grant_membership(project, actor=alice, user=user, role=Role.CONTRIBUTOR)
    return user


@pytest.fixture
def versions(project: Project, bob: User, trained_run: Any) -> list[Any]:
    """v1 @champion (set before any policy), v2 and v3 candidates."""
    made = register_versions(project, bob, trained_run, count=3)
    registry.set_alias(made[0], "champion", actor=bob)
    return made


def protect(project: Project, alice: User, bob: User, *, mode: str = "block", enabled: bool = True) -> Any:
    return signoffs.save_policy(
        project,
        actor=alice,
        aliases=["champion", "production"],
        mode=mode,
        due_days=5,
        enabled=enabled,
        steps=[
            StepSpec(title="Data owner", order=1, reviewer=alice),
            StepSpec(title="Risk officer", order=2, reviewer=bob),
        ],
    )


def champion(versions: list[Any]) -> int:
    return versions[0].registered_model.aliases.get(alias="champion").model_version.version


def signed_off(version: Any, erin: User, alice: User, bob: User) -> SignoffRequest:
    return approve_all(signoffs.request_signoff(version, "champion", actor=erin), alice, bob)


# -- block ----------------------------------------------------------------------------------------
def test_the_service_refuses_and_names_the_missing_reviews(
    project: Project, alice: User, bob: User, versions: list[Any]
) -> None:
    protect(project, alice, bob)
    events = AliasEvent.objects.count()
    with pytest.raises(PromotionBlockedError) as exc:
        registry.set_alias(versions[1], "champion", actor=bob)
    message = exc.value.message
    assert message.startswith(
        "Version 2 of 'Delays' cannot become @champion yet: project 'flight-delays' requires a sign-off"
    )
    assert "Reviews needed: Data owner (alice); Risk officer (bob)." in message
    new_url = reverse("governance:signoff_new", args=[project.slug])
    assert f"{new_url}?model={versions[1].registered_model_id}&version=2&alias=champion" in message
    assert exc.value.mlflow_code == "PERMISSION_DENIED"
    assert champion(versions) == 1 and AliasEvent.objects.count() == events


def test_the_message_follows_the_request(
    project: Project, alice: User, bob: User, erin: User, versions: list[Any]
) -> None:
    protect(project, alice, bob)
    signoff = signoffs.request_signoff(versions[1], "champion", actor=erin)
    signoffs.decide(signoff.reviews.get(order=1), actor=alice, approve=True)
    with pytest.raises(
        PromotionBlockedError,
        match=rf"Sign-off request #{signoff.pk} is waiting for: Risk officer \(bob\) \(now: Risk officer\)",
    ):
        registry.set_alias(versions[1], "champion", actor=bob)
    signoffs.decide(signoff.reviews.get(order=2), actor=bob, approve=False, comment="Fails on night flights.")
    with pytest.raises(
        PromotionBlockedError,
        match=rf"request #{signoff.pk} was rejected by bob at step 'Risk officer': “Fails on night flights.”",
    ):
        registry.set_alias(versions[1], "champion", actor=bob)
    # Another version's sign-off does not count, nor does one for another alias.
    signed_off(versions[2], erin, alice, bob)
    with pytest.raises(PromotionBlockedError):
        registry.set_alias(versions[1], "champion", actor=bob)
    with pytest.raises(PromotionBlockedError):
        registry.set_alias(versions[2], "production", actor=bob)
    assert champion(versions) == 1


def test_an_approved_version_moves_and_stays_approved(
    project: Project, alice: User, bob: User, erin: User, versions: list[Any]
) -> None:
    protect(project, alice, bob)
    signoff = signed_off(versions[1], erin, alice, bob)
    registry.set_alias(versions[1], "champion", actor=erin)
    assert champion(versions) == 2
    # v1 was champion before the policy and was never signed off: going back needs a sign-off...
    with pytest.raises(PromotionBlockedError, match="Version 1 of 'Delays' cannot become @champion"):
        promotion.rollback_alias(versions[0].registered_model, "champion", actor=bob, reason="latency")
    signed_off(versions[0], erin, alice, bob)
    promotion.rollback_alias(versions[0].registered_model, "champion", actor=bob, reason="latency")
    assert champion(versions) == 1
    # ...but an approval stays valid after the promotion: moving back to v2 needs no new review.
    registry.set_alias(versions[1], "champion", actor=bob)
    assert champion(versions) == 2
    signoff.refresh_from_db()
    assert (
        signoff.status == "approved" and SignoffRequest.objects.filter(model_version=versions[1]).count() == 1
    )
    # Withdrawing the approval ends it.
    registry.set_alias(versions[0], "champion", actor=bob)
    signoffs.cancel(signoff, actor=alice, comment="Data contract of the source changed.")
    with pytest.raises(PromotionBlockedError, match="Reviews needed: Data owner"):
        registry.set_alias(versions[1], "champion", actor=bob)


def test_the_alias_page_shows_the_refusal(
    project: Project, alice: User, bob: User, versions: list[Any]
) -> None:
    protect(project, alice, bob)
    client = Client()
    client.force_login(bob)
    url = reverse("registry:alias", args=[project.slug, versions[0].registered_model_id])
    response = client.post(url, {"alias": "champion", "version": "2"})
    assert response.status_code == 422
    text = response.content.decode()
    assert (
        "cannot become @champion yet" in text
        and "Reviews needed: Data owner (alice); Risk officer (bob)" in text
    )
    assert champion(versions) == 1
    # An unprotected alias moves from the same page.
    response = client.post(url, {"alias": "challenger", "version": "2"})
    assert response.status_code == 303
    assert versions[0].registered_model.aliases.get(alias="challenger").model_version.version == 2


def test_approving_a_promotion_request_is_blocked_until_signed_off(
    project: Project, alice: User, bob: User, erin: User, versions: list[Any]
) -> None:
    protect(project, alice, bob)
    asked = promotion.request_promotion(versions[1], alias="champion", approver=alice, actor=bob)
    with pytest.raises(PromotionBlockedError, match="cannot become @champion yet"):
        promotion.approve(asked, actor=alice, comment="Looks good.")
    asked.refresh_from_db()
    assert asked.status == PromotionStatus.PENDING and champion(versions) == 1
    assert not AuditEvent.objects.filter(action="model.promotion_approved").exists()
    # Through the page, the approver sees why.
    client = Client()
    client.force_login(alice)
    url = reverse(
        "registry:promotion_approve", args=[project.slug, versions[1].registered_model_id, asked.number]
    )
    response = client.post(url, {"comment": "Looks good."})
    assert response.status_code == 422 and "Reviews needed: Data owner" in response.content.decode()
    signed_off(versions[1], erin, alice, bob)
    promotion.approve(asked, actor=alice, comment="Signed off.")
    assert champion(versions) == 2


def test_automatic_promotion_is_blocked(
    project: Project, alice: User, bob: User, versions: list[Any]
) -> None:
    protect(project, alice, bob)
    with pytest.raises(PromotionBlockedError, match="cannot become @champion yet"):
        promotion.promote_automatically(
            versions[1], alias="champion", actor=bob, reason="automatic promotion: +0.1"
        )
    assert champion(versions) == 1


# -- warn, and what needs no sign-off ------------------------------------------------------------
def test_warn_mode_moves_with_the_warning_in_the_history_and_the_audit(
    project: Project, alice: User, bob: User, versions: list[Any]
) -> None:
    protect(project, alice, bob, mode="warn")
    promotion.promote_automatically(
        versions[1], alias="champion", actor=bob, reason="automatic promotion: +0.1"
    )
    assert champion(versions) == 2
    event = AliasEvent.objects.filter(alias="champion").order_by("-id").first()
    warning = "without sign-off (warn mode; missing: Data owner, Risk officer)"
    assert event.reason == f"automatic promotion: +0.1; {warning}"
    moved = AuditEvent.objects.filter(action="model.alias_set").order_by("-id").first()
    assert moved.details["reason"] == event.reason
    bypass = AuditEvent.objects.get(action="governance.signoff_bypassed")
    assert bypass.actor == bob and bypass.project == project
    assert bypass.details == {
        "model": "Delays",
        "version": 2,
        "alias": "champion",
        "mode": "warn",
        "missing": ["Data owner (alice)", "Risk officer (bob)"],
        "request": None,
    }
    registry.set_alias(versions[2], "champion", actor=bob)
    assert AliasEvent.objects.filter(alias="champion").order_by("-id").first().reason == warning


@pytest.mark.parametrize("case", ["no policy", "disabled", "unprotected alias", "approved", "same version"])
def test_moves_that_need_no_sign_off(
    project: Project, alice: User, bob: User, erin: User, versions: list[Any], case: str
) -> None:
    alias = "challenger" if case == "unprotected alias" else "champion"
    target = versions[0] if case == "same version" else versions[1]
    if case != "no policy":
        protect(project, alice, bob, enabled=case != "disabled")
    if case == "approved":
        signed_off(versions[1], erin, alice, bob)
    if case != "same version":
        assert check_alias_move(target, alias, actor=bob) is None
    registry.set_alias(target, alias, actor=bob)
    assert versions[0].registered_model.aliases.get(alias=alias).model_version == target
    assert not AuditEvent.objects.filter(action="governance.signoff_bypassed").exists()


def test_other_projects_are_not_affected(
    project: Project, alice: User, bob: User, versions: list[Any]
) -> None:
    protect(project, alice, bob)
    other = core.create_project(actor=alice, slug="churn", name="Churn")
    # The gate reads the project from the version's model: the same version seen in another project.
    version = versions[1]
    version.registered_model.project = other
    assert check_alias_move(version, "champion", actor=alice) is None
