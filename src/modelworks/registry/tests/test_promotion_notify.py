"""E-mail around promotion requests: the named approver is told when a request opens, the requester
when it is decided or superseded; sending waits for the commit, skips who cannot or will not get
mail (and says so in the audit log), and a failing SMTP server never undoes the decision.

Messages go to Django's locmem outbox, except where a real SMTP connection is the point: a closed
port on 127.0.0.1 (nothing listens there, the connection is refused)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse

from modelworks.core.models import AuditEvent, User
from modelworks.core.notify.testing import run_notification_jobs
from modelworks.core.testing.fixtures import PASSWORD
from modelworks.registry import services
from modelworks.registry.models import PromotionStatus
from modelworks.registry.services import promotion

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


@pytest.fixture
def django_capture_on_commit_callbacks(django_capture_on_commit_callbacks: Capture) -> Capture:
    """As pytest-django's, and once the callbacks ran, the e-mail jobs they queued run too (here, in
    this process, as a worker would: modelworks.core.notify.testing), retries without waiting."""

    @contextmanager
    def capture(**kwargs: Any) -> Iterator[list[Callable[[], Any]]]:
        with django_capture_on_commit_callbacks(**kwargs) as callbacks:
            yield callbacks
        if kwargs.get("execute"):
            run_notification_jobs(ignore_delay=True)

    return capture


@pytest.fixture(autouse=True)
def email_on(settings: Any) -> None:
    settings.MODELWORKS_EMAIL_ENABLED = True
    settings.MODELWORKS_PUBLIC_URL = "https://ai.example.test"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def versions(project: Any, bob: Any, trained_run: Any) -> list[Any]:
    """'churn' with three versions; @champion on v1."""
    model = services.create_registered_model(project, actor=bob, name="churn")
    source = f"runs:/{trained_run.run_uuid}/model"
    made = [services.create_model_version(model, actor=bob, source=source) for _ in range(3)]
    services.set_alias(made[0], "champion", actor=bob)
    return made


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def notifications(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.mark.parametrize(
    ("public_url", "link"),
    [
        (
            "https://ai.example.test",
            "https://ai.example.test/projects/flight-delays/models/{pk}/promotions/1/",
        ),
        ("", "\nDecide here: /projects/flight-delays/models/{pk}/promotions/1/\n"),
    ],
)
def test_the_approver_is_emailed_after_commit(
    settings: Any,
    django_capture_on_commit_callbacks: Capture,
    versions: list[Any],
    alice: User,
    public_url: str,
    link: str,
) -> None:
    settings.MODELWORKS_PUBLIC_URL = public_url
    with django_capture_on_commit_callbacks(execute=True):
        request = promotion.request_promotion(
            versions[1], approver=alice, actor=versions[1].created_by, note="Fresher data, +0.02 ROC AUC."
        )
        assert mail.outbox == []  # nothing leaves inside the transaction
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.test"]
    assert message.subject == "[Modelworks] Approval needed: promote 'churn' v2 to @champion (request #1)"
    body = message.body
    assert body.startswith(
        "Hello Alice Admin,\n\nbob asks you to approve a model promotion in project 'Flight delays'"
    )
    assert "move @champion from version 1 to version 2" in body
    assert "Asked by: bob\n" in body and "Reason:\n  Fresher data, +0.02 ROC AUC.\n" in body
    assert link.format(pk=request.registered_model_id) in body
    assert f"{public_url}/approvals/ (Approvals waiting for me)" in body
    sent = notifications("notification.sent")
    assert [(e.details, e.target_id, e.project_slug) for e in sent] == [
        ({"event": "promotion.requested", "recipient": "alice"}, str(request.pk), "flight-delays")
    ]


def test_nothing_is_sent_when_the_request_rolls_back_or_email_is_off(
    settings: Any, django_capture_on_commit_callbacks: Capture, versions: list[Any], alice: User, bob: User
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            promotion.request_promotion(versions[1], approver=alice, actor=bob)
            raise RuntimeError("the caller's transaction fails after the request")
    assert callbacks == [] and mail.outbox == []

    settings.MODELWORKS_EMAIL_ENABLED = False  # no SMTP host configured: no outbound call at all
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        promotion.request_promotion(versions[1], approver=alice, actor=bob)
    assert callbacks == [] and mail.outbox == []
    assert not AuditEvent.objects.filter(action__startswith="notification.").exists()


@pytest.mark.parametrize(
    ("decide", "subject", "says"),
    [
        (
            lambda r, u: promotion.approve(r, actor=u["alice"], comment="Looks good."),
            "[Modelworks] Promotion request #1 of 'churn' approved",
            ["was approved by alice.", "@champion now points at version 2.", "Comment:\n  Looks good.\n"],
        ),
        (
            lambda r, u: promotion.reject(r, actor=u["alice"], comment="Worse on weekends.\nRetrain first."),
            "[Modelworks] Promotion request #1 of 'churn' rejected",
            ["was rejected by alice.", "@champion did not move.", "  Worse on weekends.\n  Retrain first.\n"],
        ),
        (
            lambda r, u: promotion.cancel(r, actor=u["alice"], comment="Freeze week."),
            "[Modelworks] Promotion request #1 of 'churn' withdrawn",
            ["was withdrawn by alice.", "Comment:\n  Freeze week.\n"],
        ),
    ],
)
def test_the_requester_is_told_the_outcome_and_comment(
    django_capture_on_commit_callbacks: Capture,
    versions: list[Any],
    alice: User,
    bob: User,
    decide: Any,
    subject: str,
    says: list[str],
) -> None:
    request = promotion.request_promotion(versions[1], approver=alice, actor=bob)  # not committed: no mail
    with django_capture_on_commit_callbacks(execute=True):
        decide(request, {"alice": alice})
    assert [(m.to, m.subject) for m in mail.outbox] == [(["bob@example.test"], subject)]
    for text in says:
        assert text in mail.outbox[0].body
    assert (
        f"https://ai.example.test/projects/flight-delays/models/{request.registered_model_id}/promotions/1/"
        in (mail.outbox[0].body)
    )


def test_nobody_is_told_what_they_did_themselves(
    django_capture_on_commit_callbacks: Capture, versions: list[Any], alice: User, bob: User
) -> None:
    steps = [
        lambda: promotion.request_promotion(versions[1], approver=bob, actor=bob),  # own approver
        lambda: promotion.cancel(promotion.pending_for(bob).get(), actor=bob),  # one's own request
        lambda: promotion.request_promotion(versions[1], approver=alice, actor=bob),
        lambda: promotion.request_promotion(versions[2], approver=alice, actor=bob),  # supersedes #2
    ]
    for step in steps:  # each in its own transaction, as from the pages
        with django_capture_on_commit_callbacks(execute=True):
            step()
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (
            ["alice@example.test"],
            "[Modelworks] Approval needed: promote 'churn' v2 to @champion (request #2)",
        ),
        (
            ["alice@example.test"],
            "[Modelworks] Approval needed: promote 'churn' v3 to @champion (request #3)",
        ),
    ]


def test_a_superseded_request_is_reported_to_its_requester(
    django_capture_on_commit_callbacks: Capture, versions: list[Any], alice: User, bob: User
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        mine = promotion.request_promotion(versions[1], approver=alice, actor=bob)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        promotion.request_promotion(versions[2], approver=bob, actor=alice, note="v3 has the fix.")
    mine.refresh_from_db()
    assert mine.status == PromotionStatus.CANCELLED
    by_subject = {m.subject: m for m in mail.outbox}
    assert set(by_subject) == {
        "[Modelworks] Promotion request #1 of 'churn' superseded",
        "[Modelworks] Approval needed: promote 'churn' v3 to @champion (request #2)",
    }
    told = by_subject["[Modelworks] Promotion request #1 of 'churn' superseded"]
    assert told.to == ["bob@example.test"] and "Superseded by promotion request #2." in told.body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        promotion.promote_automatically(
            versions[1], alias="champion", actor=bob, reason="automatic promotion"
        )
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["alice@example.test"], "[Modelworks] Promotion request #2 of 'churn' superseded")
    ]
    assert "Superseded: version 2 was promoted automatically." in mail.outbox[0].body


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"notify_by_email": False}, "turned off in their settings"),
        ({"email": ""}, "no e-mail address"),
        ({"email": "   "}, "no e-mail address"),
    ],
)
def test_approvers_who_opted_out_or_have_no_address_are_skipped_and_recorded(
    django_capture_on_commit_callbacks: Capture,
    versions: list[Any],
    alice: User,
    bob: User,
    change: dict[str, Any],
    reason: str,
) -> None:
    User.objects.filter(pk=alice.pk).update(**change)
    alice.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        request = promotion.request_promotion(versions[1], approver=alice, actor=bob)
    assert mail.outbox == []
    skipped = notifications("notification.skipped")
    assert [(e.details, e.outcome, e.target_id) for e in skipped] == [
        ({"event": "promotion.requested", "recipient": "alice", "reason": reason}, "success", str(request.pk))
    ]
    assert promotion.pending_for(alice).get() == request  # still waiting in the list


def test_a_deactivated_requester_is_not_emailed(
    django_capture_on_commit_callbacks: Capture, versions: list[Any], alice: User, bob: User
) -> None:
    request = promotion.request_promotion(versions[1], approver=alice, actor=bob)
    User.objects.filter(pk=bob.pk).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        promotion.reject(request, actor=alice, comment="No.")
    assert mail.outbox == []
    assert notifications("notification.skipped")[0].details["reason"] == "deactivated"


def test_a_failing_smtp_server_is_recorded_and_the_decision_stands(
    settings: Any, django_capture_on_commit_callbacks: Capture, versions: list[Any], alice: User, bob: User
) -> None:
    request = promotion.request_promotion(versions[1], approver=alice, actor=bob)
    port = closed_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 3
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        decided = promotion.approve(request, actor=alice, comment="Ship it.")
    assert len(callbacks) >= 1
    decided.refresh_from_db()
    assert decided.status == PromotionStatus.APPROVED
    assert versions[0].registered_model.aliases.get(alias="champion").model_version == versions[1]
    failed = notifications("notification.failed")
    assert [(e.outcome, e.details["event"], e.details["recipient"]) for e in failed] == [
        ("failure", "promotion.approved", "bob")
    ]
    assert failed[0].details["error"].startswith("The e-mail could not be sent through 127.0.0.1:")
    assert not notifications("notification.sent")


def test_the_setting_is_on_the_settings_page_and_saved_audited(bob: User) -> None:
    client = Client()
    client.login(username="bob", password=PASSWORD)
    page = client.get(reverse("core:settings")).content.decode()
    assert "E-mail me when I must approve or review" in page
    assert 'name="notify_by_email"' in page and "checked" in page.split('name="notify_by_email"')[1][:80]

    answer = client.post(
        reverse("core:profile"),
        {"first_name": "Bob", "last_name": "Contributor", "email": "bob@example.test"},
    )  # an unticked box is not sent
    assert answer.status_code in (302, 303)
    bob.refresh_from_db()
    assert bob.notify_by_email is False
    event = AuditEvent.objects.filter(action="user.updated", target_id=str(bob.pk)).latest("id")
    assert event.details == {"before": {"notify_by_email": True}, "after": {"notify_by_email": False}}
