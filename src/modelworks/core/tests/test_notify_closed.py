"""The people a request waited on hear when it no longer does: the approver of a promotion request
withdrawn or superseded, and the reviewers of the sign-off steps that were waiting when the request
was withdrawn. Nobody is told what they did themselves, and an approver asked to decide the request
that replaces theirs gets one e-mail saying so, not two."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail

from modelworks.core import services as core
from modelworks.core.models import AuditEvent, Project, Role, User
from modelworks.core.notify.testing import run_notification_jobs
from modelworks.core.testing.fixtures import make_user
from modelworks.governance.services import signoff as signoffs
from modelworks.governance.services.signoff import StepSpec
from modelworks.governance.testing_signoff import register_versions
from modelworks.registry import services
from modelworks.registry.services import promotion

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

Capture = Callable[..., Any]


@pytest.fixture(autouse=True)
def email_on(settings: Any) -> None:
    settings.MODELWORKS_EMAIL_ENABLED = True
    settings.MODELWORKS_PUBLIC_URL = "https://ai.example.test"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def cast(project: Project, alice: User, bob: User, instance_admin: User) -> dict[str, Any]:
    """erin (contributor) asks; alice (admin) and bob (contributor) approve; the 'risk officers'
    group (frank, bob) reviews."""
    erin = make_user("erin", full_name="Erin Requester")
    core.grant_membership(project, actor=alice, user=erin, role=Role.CONTRIBUTOR)
    frank = make_user("frank", full_name="Frank Risk")
    risk = core.create_group(actor=instance_admin, name="risk officers")
    for member in (frank, bob):
        core.add_group_member(risk, member, actor=instance_admin)
    core.grant_membership(project, actor=alice, group=risk, role=Role.CONTRIBUTOR)
    return {"alice": alice, "bob": bob, "erin": erin, "frank": frank, "risk": risk}


@pytest.fixture
def versions(project: Project, bob: User, trained_run: Any) -> list[Any]:
    """'churn' with three versions; @champion on v1."""
    model = services.create_registered_model(project, actor=bob, name="churn")
    source = f"runs:/{trained_run.run_uuid}/model"
    made = [services.create_model_version(model, actor=bob, source=source) for _ in range(3)]
    services.set_alias(made[0], "champion", actor=bob)
    return made


def sent(capture: Capture, step: Callable[[], Any]) -> list[tuple[str, str]]:
    """Run ``step`` in its own committed transaction, then the e-mail jobs it queued; return the
    (recipient, subject) of each e-mail sent, sorted; the outbox is emptied."""
    with capture(execute=True):
        step()
    run_notification_jobs()
    found = sorted((m.to[0], m.subject) for m in mail.outbox)
    mail.outbox.clear()
    return found


def body_to(address: str, capture: Capture, step: Callable[[], Any]) -> str:
    with capture(execute=True):
        step()
    run_notification_jobs()
    [message] = [m for m in mail.outbox if m.to == [address]]
    mail.outbox.clear()
    return str(message.body)


NO_APPROVAL = "[Modelworks] No approval needed: promotion request #{n} of 'churn' {how}"


def test_a_request_withdrawn_by_its_requester_tells_the_approver(
    django_capture_on_commit_callbacks: Capture, versions: list[Any], cast: dict[str, Any]
) -> None:
    alice, erin = cast["alice"], cast["erin"]
    sent(
        django_capture_on_commit_callbacks,
        lambda: promotion.request_promotion(versions[1], approver=alice, actor=erin),
    )
    request = promotion.pending_for(alice).get()
    body = body_to(
        "alice@example.test",
        django_capture_on_commit_callbacks,
        lambda: promotion.cancel(request, actor=erin, comment="Wrong version, sorry."),
    )
    assert body.startswith(
        "Hello Alice Admin,\n\nPromotion request #1 of model 'churn' (move @champion from version 1 to "
        "version 2) in project 'Flight delays', which waited for your approval, was withdrawn by erin.\n"
    )
    assert "Nothing is needed from you any more" in body and "Comment:\n  Wrong version, sorry.\n" in body
    assert (
        AuditEvent.objects.filter(
            action="notification.sent", details__event="promotion.withdrawn_for_approver"
        ).count()
        == 1
    )


def test_a_request_withdrawn_by_an_admin_tells_requester_and_approver_but_not_the_admin(
    django_capture_on_commit_callbacks: Capture, versions: list[Any], cast: dict[str, Any]
) -> None:
    bob, erin, alice = cast["bob"], cast["erin"], cast["alice"]
    sent(
        django_capture_on_commit_callbacks,
        lambda: promotion.request_promotion(versions[1], approver=bob, actor=erin),
    )
    request = promotion.pending_for(bob).get()
    assert sent(django_capture_on_commit_callbacks, lambda: promotion.cancel(request, actor=alice)) == [
        ("bob@example.test", NO_APPROVAL.format(n=1, how="withdrawn")),
        ("erin@example.test", "[Modelworks] Promotion request #1 of 'churn' withdrawn"),
    ]
    # the approver withdrawing it (alice is an admin) is not told about it
    sent(
        django_capture_on_commit_callbacks,
        lambda: promotion.request_promotion(versions[1], approver=alice, actor=erin),
    )
    again = promotion.pending_for(alice).get()
    assert sent(django_capture_on_commit_callbacks, lambda: promotion.cancel(again, actor=alice)) == [
        ("erin@example.test", "[Modelworks] Promotion request #2 of 'churn' withdrawn"),
    ]


def test_a_superseded_request_tells_its_approver_unless_they_decide_the_new_one(
    django_capture_on_commit_callbacks: Capture, versions: list[Any], cast: dict[str, Any]
) -> None:
    alice, bob, erin = cast["alice"], cast["bob"], cast["erin"]
    sent(
        django_capture_on_commit_callbacks,
        lambda: promotion.request_promotion(versions[1], approver=alice, actor=erin),
    )
    # a newer request with another approver: alice need not decide #1 any more (erin replaced her
    # own request herself, so she is not told)
    assert sent(
        django_capture_on_commit_callbacks,
        lambda: promotion.request_promotion(versions[2], approver=bob, actor=erin),
    ) == [
        ("alice@example.test", NO_APPROVAL.format(n=1, how="superseded")),
        ("bob@example.test", "[Modelworks] Approval needed: promote 'churn' v3 to @champion (request #2)"),
    ]
    # the same approver for the newer request: one e-mail, which says what it replaces
    body = body_to(
        "bob@example.test",
        django_capture_on_commit_callbacks,
        lambda: promotion.request_promotion(versions[1], approver=bob, actor=erin),
    )
    assert "It replaces request #2, which no longer needs your decision.\n" in body
    assert sorted(
        e.details["recipient"]
        for e in AuditEvent.objects.filter(
            action="notification.sent", details__event="promotion.superseded_for_approver"
        )
    ) == ["alice"]


def test_an_automatic_promotion_tells_the_approver_of_the_request_it_replaced(
    django_capture_on_commit_callbacks: Capture, versions: list[Any], cast: dict[str, Any]
) -> None:
    alice, erin = cast["alice"], cast["erin"]
    sent(
        django_capture_on_commit_callbacks,
        lambda: promotion.request_promotion(versions[1], approver=alice, actor=erin),
    )
    body = body_to(
        "alice@example.test",
        django_capture_on_commit_callbacks,
        lambda: promotion.promote_automatically(
            versions[2], alias="champion", actor=erin, reason="automatic promotion"
        ),
    )
    assert ", which waited for your approval, was superseded.\n" in body
    assert "Comment:\n  Superseded: version 3 was promoted automatically.\n" in body


def policy(project: Project, cast: dict[str, Any]) -> None:
    signoffs.save_policy(
        project,
        actor=cast["alice"],
        aliases=["champion"],
        mode="block",
        due_days=5,
        enabled=True,
        steps=[
            StepSpec(title="Model risk", order=1, reviewer_group=cast["risk"]),
            StepSpec(title="Data owner", order=2, reviewer=cast["alice"]),
        ],
    )


def test_a_withdrawn_signoff_tells_the_reviewers_of_the_waiting_step_only(
    django_capture_on_commit_callbacks: Capture, project: Project, cast: dict[str, Any], trained_run: Any
) -> None:
    policy(project, cast)
    version = register_versions(project, cast["bob"], trained_run, count=1)[0]
    holder: dict[str, Any] = {}

    def ask() -> None:
        holder["signoff"] = signoffs.request_signoff(version, "champion", actor=cast["erin"])

    assert [to for to, _ in sent(django_capture_on_commit_callbacks, ask)] == [
        "bob@example.test",
        "frank@example.test",
    ]
    pk = holder["signoff"].pk
    withdrawn = sent(
        django_capture_on_commit_callbacks,
        lambda: signoffs.cancel(holder["signoff"], actor=cast["erin"], comment="Wrong alias."),
    )
    # the group's members were waiting; alice (step 2) was not yet asked; erin did it herself
    assert withdrawn == [
        ("bob@example.test", f"[Modelworks] No review needed: sign-off request #{pk} withdrawn"),
        ("frank@example.test", f"[Modelworks] No review needed: sign-off request #{pk} withdrawn"),
    ]

    sent(django_capture_on_commit_callbacks, ask)
    body = body_to(
        "bob@example.test",
        django_capture_on_commit_callbacks,
        lambda: signoffs.cancel(holder["signoff"], actor=cast["alice"], comment="Use October."),
    )
    assert f"Sign-off request #{holder['signoff'].pk} (sign-off of version 1 of 'Delays' as @champion" in body
    assert "which waited for your review, was withdrawn by alice.\n" in body
    assert (
        "Step that waited for you: 'Model risk' (any member of group 'risk officers' may decide it)\n" in body
    )
    assert "Comment:\n  Use October.\n" in body


def test_withdrawing_an_approval_tells_only_the_requester(
    django_capture_on_commit_callbacks: Capture, project: Project, cast: dict[str, Any], trained_run: Any
) -> None:
    policy(project, cast)
    version = register_versions(project, cast["bob"], trained_run, count=1)[0]
    signoff = signoffs.request_signoff(version, "champion", actor=cast["erin"])
    first, second = signoff.reviews.order_by("order")
    signoffs.decide(first, actor=cast["frank"], approve=True)
    signoffs.decide(second, actor=cast["alice"], approve=True)
    assert sent(
        django_capture_on_commit_callbacks,
        lambda: signoffs.cancel(signoff, actor=cast["alice"], comment="Leak found."),
    ) == [("erin@example.test", f"[Modelworks] Sign-off request #{signoff.pk} approval withdrawn")]
