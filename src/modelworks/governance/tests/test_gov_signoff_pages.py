"""Sign-off through the API and the pages: setting the policy (refusing reviewers who are no
contributors), asking, deciding (four-eyes, turn, comment to reject), overdue flags, the reviews
waiting for me, and governance leads who are no project members."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from modelworks.core import services as core
from modelworks.core.models import Project, Role, User
from modelworks.core.testing.client import expect, expect_error
from modelworks.core.testing.fixtures import make_user
from modelworks.governance.models import PortfolioMember, PortfolioRole, SignoffRequest
from modelworks.governance.services import signoff as signoffs
from modelworks.governance.testing_signoff import register_versions

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

POLICY = {
    "aliases": ["champion"],
    "mode": "block",
    "due_days": 2,
    "steps": [{"title": "Data owner", "reviewer": "alice"}, {"title": "Risk officer", "reviewer": "bob"}],
}


@pytest.fixture
def erin(project: Project, alice: User) -> User:
    user = make_user("erin")
    core.grant_membership(project, actor=alice, user=user, role=Role.CONTRIBUTOR)
    return user


@pytest.fixture
def versions(project: Project, bob: User, trained_run: Any) -> list[Any]:
    return register_versions(project, bob, trained_run, count=2)


def page(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- API ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            {"title": "Audit", "reviewer": "dave"},
            "'dave' is not a contributor or admin of project 'flight-delays'",
        ),
        ({"title": "Audit", "reviewer": "carol"}, "'carol' is not a contributor or admin"),
        ({"title": "Audit", "reviewer": "nobody"}, r"Step 1 \('Audit'\): no user 'nobody'"),
        ({"title": "Audit", "reviewer_group": "analysts"}, "group 'analysts' does not hold the contributor"),
        ({"title": "Audit", "reviewer_group": "ghosts"}, "no group 'ghosts'"),
        ({"title": "Audit"}, "needs exactly one reviewer"),
    ],
)
def test_api_refuses_reviewers_who_cannot_review(
    api_client: Any,
    project: Project,
    alice: User,
    dave: User,
    group: Any,
    step: dict[str, Any],
    message: str,
) -> None:
    body = expect_error(
        api_client(alice).request(
            "PUT", f"/projects/{project.slug}/signoff/policy", {**POLICY, "steps": [step]}
        ),
        422,
        "validation_error",
    )
    assert any(re.search(message, m) for m in body["details"]["steps"]), body


def test_api_flow(
    api_client: Any, project: Project, alice: User, bob: User, erin: User, versions: list[Any]
) -> None:
    base = f"/projects/{project.slug}/signoff"
    assert expect(api_client(bob).get(base + "/policy"), 200)["exists"] is False
    expect_error(api_client(bob).request("PUT", base + "/policy", POLICY), 403, "permission_denied")
    saved = expect(api_client(alice).request("PUT", base + "/policy", POLICY), 200)
    assert saved["exists"] and [(s["order"], s["reviewer"]) for s in saved["steps"]] == [
        (1, "alice"),
        (2, "bob"),
    ]

    ask = {"model": "Delays", "version": 2, "alias": "champion", "note": "Better on Q3."}
    expect_error(
        api_client(erin).post(base + "/requests", {**ask, "alias": "staging"}), 422, "validation_error"
    )
    expect_error(api_client(erin).post(base + "/requests", {**ask, "version": 9}), 422, "validation_error")
    created = expect(api_client(erin).post(base + "/requests", ask), 201)
    assert created["status"] == "pending" and created["note"] == "Better on Q3." and not created["overdue"]
    assert [(r["title"], r["reviewer"], r["turn"]) for r in created["reviews"]] == [
        ("Data owner", "alice", True),
        ("Risk officer", "bob", False),
    ]
    expect_error(api_client(erin).post(base + "/requests", ask), 409, "conflict")
    one = f"{base}/requests/{created['id']}"
    first, second = (r["id"] for r in created["reviews"])

    body = expect_error(
        api_client(erin).post(f"{one}/reviews/{first}/decision", {"decision": "approve"}),
        403,
        "permission_denied",
    )
    assert "four-eyes" in body["message"]
    body = expect_error(
        api_client(bob).post(f"{one}/reviews/{second}/decision", {"decision": "approve"}), 409, "conflict"
    )
    assert "comes after 'Data owner'" in body["message"]
    waiting = expect(api_client(alice).get("/governance/signoff/reviews/waiting"), 200)
    assert [(w["step"], w["request"]["id"]) for w in waiting["items"]] == [("Data owner", created["id"])]
    expect(
        api_client(alice).post(f"{one}/reviews/{first}/decision", {"decision": "approve", "comment": "ok"}),
        200,
    )
    body = expect_error(
        api_client(bob).post(f"{one}/reviews/{second}/decision", {"decision": "reject"}),
        422,
        "validation_error",
    )
    assert body["details"]["comment"] == [
        "Say why you reject it: the comment is required and is shown to the requester."
    ]
    done = expect(
        api_client(bob).post(
            f"{one}/reviews/{second}/decision", {"decision": "reject", "comment": "Leaky feature."}
        ),
        200,
    )
    assert done["status"] == "rejected" and done["reviews"][1]["comment"] == "Leaky feature."
    expect_error(api_client(erin).post(f"{one}/cancel", {}), 409, "conflict")

    SignoffRequest.objects.filter(pk=created["id"]).update(
        status="pending", due_at=timezone.now() - timedelta(days=1)
    )
    listed = expect(api_client(bob).get(base + "/requests", overdue="true"), 200)
    assert [r["id"] for r in listed["items"]] == [created["id"]] and listed["items"][0]["overdue"]
    assert expect(api_client(bob).get(base + "/requests", status="approved"), 200)["items"] == []
    pending = expect(api_client(bob).get(base + "/requests", status="pending"), 200)["items"]
    assert [r["id"] for r in pending] == [created["id"]]
    SignoffRequest.objects.filter(pk=created["id"]).update(due_at=timezone.now() + timedelta(days=1))
    assert expect(api_client(bob).get(base + "/requests", overdue="true"), 200)["items"] == []


# -- pages ----------------------------------------------------------------------------------------
def test_policy_page(project: Project, alice: User, bob: User) -> None:
    url = reverse("governance:signoff_policy", args=[project.slug])
    form = page(alice).get(url)
    assert form.status_code == 200 and b"Review steps" in form.content
    data = {
        "enabled": "on",
        "aliases": "champion, production",
        "mode": "warn",
        "due_days": "3",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-0-title": "",
        "steps-1-title": "",
    }
    refused = page(alice).post(url, data)
    assert refused.status_code == 422
    assert "An enabled policy needs at least one review step" in refused.content.decode()
    saved = page(alice).post(url, {**data, "steps-1-title": "Risk officer", "steps-1-reviewer": str(bob.pk)})
    assert saved.status_code == 303
    policy = signoffs.get_policy(project)
    assert policy.mode == "warn" and [(s.order, s.title, s.reviewer) for s in policy.steps.all()] == [
        (2, "Risk officer", bob)
    ]
    shown = page(bob).get(reverse("governance:signoff_project", args=[project.slug])).content.decode()
    assert "Risk officer" in shown and "@production" in shown and "Edit the policy" not in shown


def test_request_pages(project: Project, alice: User, bob: User, erin: User, versions: list[Any]) -> None:
    signoffs.save_policy(
        project,
        actor=alice,
        aliases=["champion"],
        mode="block",
        due_days=2,
        enabled=True,
        steps=[signoffs.StepSpec(title="Data owner", order=1, reviewer=alice)],
    )
    new = reverse("governance:signoff_new", args=[project.slug])
    model_pk = versions[0].registered_model_id
    form = page(erin).get(new, {"model": model_pk, "version": 2, "alias": "champion"})
    assert form.status_code == 200 and 'value="2"' in form.content.decode()
    response = page(erin).post(new, {"model": model_pk, "version": "2", "alias": "champion", "note": "Q3"})
    assert response.status_code == 303
    signoff = SignoffRequest.objects.get()
    url = reverse("governance:signoff_request", args=[project.slug, signoff.pk])
    assert response["Location"] == url
    again = page(erin).post(new, {"model": model_pk, "version": "2", "alias": "champion"})
    assert again.status_code == 422 and "is already waiting for its reviews" in again.content.decode()

    own = page(erin).get(url).content.decode()
    assert "you cannot review it yourself (four-eyes principle)" in own and "Approve</button>" not in own
    assert "Approve</button>" not in page(bob).get(url).content.decode()
    assert "Approve</button>" in page(alice).get(url).content.decode()

    waiting = page(alice).get(reverse("governance:signoff_waiting")).content.decode()
    assert f"#{signoff.pk}: Delays v2 → @champion" in waiting and "Overdue" not in waiting
    SignoffRequest.objects.filter(pk=signoff.pk).update(due_at=timezone.now() - timedelta(hours=2))
    assert "Overdue" in page(alice).get(reverse("governance:signoff_waiting")).content.decode()
    assert (
        "Overdue"
        in page(bob).get(reverse("governance:signoff_project", args=[project.slug])).content.decode()
    )

    review = signoff.reviews.get()
    decide = reverse("governance:signoff_decide", args=[project.slug, signoff.pk, review.pk])
    assert page(bob).post(decide, {"decision": "approve"}).status_code == 403
    refused = page(alice).post(decide, {"decision": "reject", "comment": " "})
    assert refused.status_code == 422 and "Say why you reject it" in refused.content.decode()
    assert page(alice).post(decide, {"decision": "approve"}).status_code == 303
    signoff.refresh_from_db()
    assert signoff.status == "approved"
    assert page(alice).post(decide, {"decision": "approve"}).status_code == 409


def test_a_governance_lead_outside_the_project(
    project: Project, alice: User, bob: User, versions: list[Any]
) -> None:
    lead = make_user("gina")
    PortfolioMember.objects.create(user=lead, role=PortfolioRole.LEAD)
    viewer = make_user("vic")
    PortfolioMember.objects.create(user=viewer, role=PortfolioRole.VIEWER)
    url = reverse("governance:signoff_policy", args=[project.slug])
    data = {
        "enabled": "on",
        "aliases": "champion",
        "mode": "block",
        "due_days": "5",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-0-title": "Data owner",
        "steps-0-reviewer": str(alice.pk),
    }
    assert page(lead).post(url, data).status_code == 303
    assert page(lead).get(reverse("governance:signoff_project", args=[project.slug])).status_code == 200
    assert page(lead).get(reverse("governance:signoff_new", args=[project.slug])).status_code == 404
    assert page(viewer).get(reverse("governance:signoff_project", args=[project.slug])).status_code == 404
    assert page(viewer).post(url, data).status_code == 404
