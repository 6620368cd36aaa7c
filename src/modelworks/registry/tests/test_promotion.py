"""Promotion requests and alias rollback: the services (who may decide, superseding, the alias history
and the audit log) and the pages (evidence side by side, buttons only for the approver, the
approvals list, the rollback confirmation)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from modelworks.core.models import AuditEvent, Role
from modelworks.core.services import grant_membership
from modelworks.registry import services
from modelworks.registry.models import AliasEvent, PromotionStatus
from modelworks.registry.services import promotion
from modelworks.registry.services.promotion import PromotionConflict, PromotionError, PromotionNotAllowed
from modelworks.tracking.models import Run

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

pytestmark = pytest.mark.django_db

EVIDENCE = {
    "metric": "roc_auc",
    "margin": 0.01,
    "rule": "Promote when better by more than 0.01 ROC AUC.",
    "window": {"description": "rows of 'flights' v2 from 2024-10-01", "rows": 120},
    "candidate": {"version": 2, "metrics": {"roc_auc": 0.91, "log_loss": 0.30}},
    "champion": {"version": 1, "metrics": {"roc_auc": 0.85, "log_loss": 0.41}},
}


@pytest.fixture
def versions(project: Any, bob: Any, trained_run: Run) -> tuple[Any, Any, Any]:
    """'churn' with three versions; @champion on v1."""
    model = services.create_registered_model(project, actor=bob, name="churn")
    source = f"runs:/{trained_run.run_uuid}/model"
    made = [services.create_model_version(model, actor=bob, source=source) for _ in range(3)]
    services.set_alias(made[0], "champion", actor=bob)
    return made[0], made[1], made[2]


def _champion(model: Any) -> int:
    return model.aliases.get(alias="champion").model_version.version


def test_approve_by_the_named_approver_moves_the_alias(versions: Any, alice: Any, bob: Any) -> None:
    v1, v2, _ = versions
    request = promotion.request_promotion(v2, approver=alice, actor=bob, evidence=EVIDENCE, note="Fresher.")
    assert (request.number, request.status, request.champion_version) == (1, PromotionStatus.PENDING, 1)
    assert promotion.can_decide(request, alice) and not promotion.can_decide(request, bob)
    assert [p.number for p in promotion.pending_for(alice)] == [1] and not promotion.pending_for(bob)

    with pytest.raises(PromotionNotAllowed, match="Only alice can approve promotion request #1"):
        promotion.approve(request, actor=bob)
    assert _champion(v1.registered_model) == 1

    promotion.approve(request, actor=alice, comment="Looks good.")
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.comment) == (
        PromotionStatus.APPROVED,
        alice,
        "Looks good.",
    )
    assert _champion(v1.registered_model) == 2
    event = AliasEvent.objects.filter(alias="champion").order_by("-id").first()
    assert (event.from_version, event.to_version, event.actor_name, event.reason) == (
        1,
        2,
        "alice",
        "approved promotion #1",
    )
    approved = AuditEvent.objects.get(action="model.promotion_approved")
    assert approved.actor == alice and approved.details["to_version"] == 2
    assert AuditEvent.objects.filter(
        action="model.alias_set", details__reason="approved promotion #1"
    ).exists()
    with pytest.raises(PromotionConflict, match="already approved by alice"):
        promotion.approve(request, actor=alice)


def test_reject_needs_a_comment_and_leaves_the_alias(versions: Any, alice: Any, bob: Any) -> None:
    v1, v2, _ = versions
    request = promotion.request_promotion(v2, approver=alice, actor=bob, evidence=EVIDENCE)
    with pytest.raises(PromotionError, match="comment is required"):
        promotion.reject(request, actor=alice, comment="  ")
    with pytest.raises(PromotionNotAllowed, match="Only alice can reject"):
        promotion.reject(request, actor=bob, comment="no")
    promotion.reject(request, actor=alice, comment="Worse on weekends.")
    request.refresh_from_db()
    assert request.status == PromotionStatus.REJECTED and request.comment == "Worse on weekends."
    assert _champion(v1.registered_model) == 1
    assert AuditEvent.objects.filter(action="model.promotion_rejected", actor=alice).exists()


def test_newer_request_supersedes_and_cancel_rules(versions: Any, alice: Any, bob: Any, carol: Any) -> None:
    _, v2, v3 = versions
    first = promotion.request_promotion(v2, approver=alice, actor=bob)
    second = promotion.request_promotion(v3, approver=alice, actor=bob)
    first.refresh_from_db()
    assert first.status == PromotionStatus.CANCELLED and first.superseded_by == second
    assert "Superseded by promotion request #2" in first.comment
    assert [p.number for p in promotion.pending_for(alice)] == [2]

    with pytest.raises(PromotionNotAllowed, match="Only bob or a project admin can cancel"):
        promotion.cancel(second, actor=carol)
    promotion.cancel(second, actor=alice)  # a project admin
    second.refresh_from_db()
    assert second.status == PromotionStatus.CANCELLED and second.decided_by == alice
    assert AuditEvent.objects.filter(action="model.promotion_cancelled").count() == 1


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("carol", "needs the contributor or admin role and they are reader"),
        ("dave", "they are not a member"),
        ("nobody", "Name the approver"),
    ],
)
def test_the_approver_must_be_a_contributor(
    versions: Any, bob: Any, carol: Any, dave: Any, who: str, message: str
) -> None:
    approver = {"carol": carol, "dave": dave, "nobody": None}[who]
    with pytest.raises(PromotionError, match=message):
        promotion.request_promotion(versions[1], approver=approver, actor=bob)


def test_nothing_to_promote_when_the_alias_is_already_there(versions: Any, alice: Any, bob: Any) -> None:
    with pytest.raises(PromotionError, match="already points at version 1"):
        promotion.request_promotion(versions[0], approver=alice, actor=bob)


def test_a_deleted_candidate_cannot_be_approved(versions: Any, alice: Any, bob: Any) -> None:
    request = promotion.request_promotion(versions[1], approver=alice, actor=bob)
    services.delete_model_version(versions[1], actor=alice)
    request.refresh_from_db()
    assert request.candidate is None and request.candidate_version == 2
    with pytest.raises(PromotionConflict, match="Version 2 of 'churn' was deleted"):
        promotion.approve(request, actor=alice)


def test_automatic_promotion_supersedes_pending_requests(versions: Any, alice: Any, bob: Any) -> None:
    v1, v2, v3 = versions
    pending = promotion.request_promotion(v2, approver=alice, actor=bob)
    promotion.promote_automatically(
        v3, alias="champion", actor=bob, reason="automatic promotion: +0.012 ROC AUC", evidence=EVIDENCE
    )
    pending.refresh_from_db()
    assert pending.status == PromotionStatus.CANCELLED and "promoted automatically" in pending.comment
    assert _champion(v1.registered_model) == 3
    assert AliasEvent.objects.filter(to_version=3, reason="automatic promotion: +0.012 ROC AUC").exists()
    assert (
        AuditEvent.objects.get(action="model.promoted_automatically").details["evidence"]["metric"]
        == "roc_auc"
    )


def test_rollback_walks_back_through_the_history(versions: Any, alice: Any, bob: Any) -> None:
    v1, v2, v3 = versions
    model = v1.registered_model
    services.set_alias(v2, "champion", actor=bob)
    services.set_alias(v3, "champion", actor=bob)
    assert promotion.plan_rollback(model, "champion") == promotion.RollbackPlan("champion", 3, 2)

    assert promotion.rollback_alias(model, "champion", actor=alice, reason="errors doubled").version == 2
    event = AliasEvent.objects.order_by("-id").first()
    assert (event.from_version, event.to_version, event.reason) == (3, 2, "rollback: errors doubled")
    audit = AuditEvent.objects.get(action="model.alias_rolled_back")
    assert audit.details == {
        "name": "churn",
        "alias": "champion",
        "from_version": 3,
        "to_version": 2,
        "reason": "errors doubled",
    }
    # A second rollback goes one more move back (it does not toggle back to v3).
    assert promotion.rollback_alias(model, "champion", actor=alice).version == 1
    assert AliasEvent.objects.order_by("-id").first().reason == "rollback"
    with pytest.raises(PromotionError, match="never pointed at another version before v1"):
        promotion.rollback_alias(model, "champion", actor=alice)
    assert _champion(model) == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no_alias", "has no alias @staging"),
        ("first_version", "no earlier version to roll back to"),
        ("deleted", "version 2 was deleted; it cannot be restored"),
    ],
)
def test_rollback_refusals(versions: Any, alice: Any, bob: Any, setup: str, message: str) -> None:
    v1, v2, v3 = versions
    model = v1.registered_model
    alias = "staging" if setup == "no_alias" else "champion"
    if setup == "deleted":
        services.set_alias(v2, "champion", actor=bob)
        services.set_alias(v3, "champion", actor=bob)
        services.delete_model_version(v2, actor=alice)
    with pytest.raises(PromotionError, match=message):
        promotion.rollback_alias(model, alias, actor=alice)
    assert not AuditEvent.objects.filter(action="model.alias_rolled_back").exists()


# -- pages ------------------------------------------------------------------------------------------
def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_request_page_shows_evidence_and_buttons_only_to_the_approver(
    versions: Any, project: Any, alice: Any, bob: Any, carol: Any
) -> None:
    _, v2, _ = versions
    request = promotion.request_promotion(v2, approver=alice, actor=bob, evidence=EVIDENCE, note="Fresher.")
    model = v2.registered_model
    url = reverse("registry:promotion", args=[project.slug, model.pk, request.number])
    page = _client(alice).get(url).content.decode()
    assert "Approve and promote" in page and "Reject" in page
    assert "0.9100" in page and "0.8500" in page and "0.0600" in page and "ROC AUC" in page
    assert "Fresher." in page and "rows of &#x27;flights&#x27; v2 from 2024-10-01" in page
    other = _client(carol).get(url).content.decode()
    assert "Approve and promote" not in other and "Waiting for <strong>alice</strong>" in other

    # The model page lists the request; the approvals page lists it for alice only.
    model_page = _client(carol).get(reverse("registry:model", args=[project.slug, model.pk])).content.decode()
    assert f"/promotions/{request.number}/" in model_page and "Promotion requests" in model_page
    assert "churn" in _client(alice).get(reverse("registry:approvals")).content.decode()
    assert "Nothing to decide" in _client(bob).get(reverse("registry:approvals")).content.decode()

    # bob (a contributor, not the approver) is refused; alice approves through the page.
    approve = reverse("registry:promotion_approve", args=[project.slug, model.pk, request.number])
    assert _client(bob).post(approve).status_code == 403
    response = _client(alice).post(approve, {"comment": "ok"})
    assert response.status_code in (302, 303)
    assert _champion(model) == 2
    # A decided request cannot be decided again: 409 with the reason.
    again = _client(alice).post(approve)
    assert again.status_code == 409 and "already approved" in again.content.decode()


def test_reject_page_requires_a_comment(versions: Any, project: Any, alice: Any, bob: Any) -> None:
    request = promotion.request_promotion(versions[1], approver=alice, actor=bob)
    model = versions[1].registered_model
    reject = reverse("registry:promotion_reject", args=[project.slug, model.pk, request.number])
    response = _client(alice).post(reject, {"comment": ""})
    assert response.status_code == 422 and "comment is required" in response.content.decode()
    assert _client(alice).post(reject, {"comment": "Not now."}).status_code in (302, 303)
    request.refresh_from_db()
    assert request.status == PromotionStatus.REJECTED


def test_ask_for_a_promotion_from_the_page(
    versions: Any, project: Any, alice: Any, bob: Any, carol: Any
) -> None:
    model = versions[0].registered_model
    url = reverse("registry:promotion_new", args=[project.slug, model.pk])
    form = _client(bob).get(url).content.decode()
    assert ">alice</option>" in form and ">bob</option>" in form
    assert ">carol</option>" not in form  # readers cannot approve
    bad = _client(bob).post(url, {"version": "1", "alias": "champion", "approver": str(alice.pk)})
    assert bad.status_code == 422 and "already points at version 1" in bad.content.decode()
    ok = _client(bob).post(url, {"version": "3", "alias": "champion", "approver": str(alice.pk), "note": "n"})
    assert ok.status_code in (302, 303)
    created = model.promotion_requests.get()
    assert (
        created.evidence["source"] == "registered metrics" and created.evidence["candidate"]["version"] == 3
    )


def test_rollback_page_confirms_then_rolls_back(versions: Any, project: Any, bob: Any) -> None:
    v1, v2, _ = versions
    model = v1.registered_model
    url = reverse("registry:rollback", args=[project.slug, model.pk, "champion"])
    refused = _client(bob).get(url).content.decode()
    assert "cannot be rolled back" in refused and "no earlier version" in refused
    assert _client(bob).post(url).status_code == 409
    services.set_alias(v2, "champion", actor=bob)
    assert "Roll back to version 1" in _client(bob).get(url).content.decode()
    assert (
        "Roll back @champion"
        in _client(bob).get(reverse("registry:model", args=[project.slug, model.pk])).content.decode()
    )
    assert _client(bob).post(url, {"reason": "alerts"}).status_code in (302, 303)
    assert _champion(model) == 1


def test_a_group_contributor_can_be_named_approver(
    versions: Any, project: Any, bob: Any, dave: Any, alice: Any
) -> None:
    from django.contrib.auth.models import Group

    group = Group.objects.create(name="risk")
    dave.groups.add(group)
    grant_membership(project, group=group, role=Role.CONTRIBUTOR, actor=alice)
    request = promotion.request_promotion(versions[1], approver=dave, actor=bob)
    assert request.approver_name == "dave"
