"""Reminders: a request still waiting after MODELWORKS_NOTIFY_REMINDER_DAYS days e-mails the people
it waits on again, at most once per that many days (recorded as ``notification.reminded``), never
once decided; 0 turns them off; who opted out is skipped. A sign-off step counts from when its turn
came."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from modelworks.core import services as core
from modelworks.core.models import AuditEvent, Job, Project, Role, User
from modelworks.core.notify import NOTIFY_JOB_KIND, reminders
from modelworks.core.notify.testing import run_notification_jobs
from modelworks.core.testing.fixtures import make_user
from modelworks.governance.models import SignoffRequest, SignoffReview
from modelworks.governance.services import signoff as signoffs
from modelworks.governance.services.signoff import StepSpec
from modelworks.governance.testing_signoff import register_versions
from modelworks.registry import services
from modelworks.registry.models import PromotionRequest
from modelworks.registry.services import promotion

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def email_on(settings: Any) -> None:
    settings.MODELWORKS_EMAIL_ENABLED = True
    settings.MODELWORKS_PUBLIC_URL = "https://ai.example.test"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MODELWORKS_NOTIFY_REMINDER_DAYS = 3


@pytest.fixture
def request_(project: Project, alice: User, bob: User, trained_run: Any) -> PromotionRequest:
    """bob asks alice to promote v2 of 'churn'; asked exactly 3 days ago (no e-mail queued)."""
    model = services.create_registered_model(project, actor=bob, name="churn")
    source = f"runs:/{trained_run.run_uuid}/model"
    made = [services.create_model_version(model, actor=bob, source=source) for _ in range(2)]
    services.set_alias(made[0], "champion", actor=bob)
    asked = promotion.request_promotion(made[1], approver=alice, actor=bob)  # not committed: no e-mail
    PromotionRequest.objects.filter(pk=asked.pk).update(created_at=timezone.now() - 3 * DAY)
    asked.refresh_from_db()
    return asked


def reminded() -> list[tuple[str, list[str]]]:
    return [
        (e.target_id, e.details["recipients"])
        for e in AuditEvent.objects.filter(action=reminders.REMINDED).order_by("id")
    ]


def queued() -> int:
    return Job.objects.filter(kind=NOTIFY_JOB_KIND).count()


def test_a_pending_request_is_reminded_once_per_period(request_: PromotionRequest) -> None:
    now = timezone.now()
    assert reminders.tick(now - 2 * timedelta(hours=1)) == []  # 2 days 22 hours: not yet
    assert queued() == 0

    [planned] = reminders.tick(now)
    assert (planned.message, planned.recipient.get_username()) == ("promotion.reminder", "alice")
    assert reminded() == [(str(request_.pk), ["alice"])]
    assert reminders.tick(now) == []  # a second worker ticking at the same moment
    assert reminders.tick(now + 2 * DAY) == []  # the next one is due 3 days after this one
    assert len(reminders.tick(now + 3 * DAY + timedelta(minutes=1))) == 1
    assert [r for _, r in reminded()] == [["alice"], ["alice"]]

    run_notification_jobs()
    subjects = [m.subject for m in mail.outbox]
    assert (
        subjects
        == ["[Modelworks] Reminder: approval still needed to promote 'churn' v2 to @champion (request #1)"]
        * 2
    )
    body = mail.outbox[0].body
    assert body.startswith("Hello Alice Admin,\n\nA reminder: promotion request #1 of model 'churn' (move ")
    assert "has been waiting for your approval since " in body and "(3 days)" in body
    assert (
        f"Decide here: https://ai.example.test/projects/flight-delays/models/{request_.registered_model_id}/promotions/1/"
        in body
    )
    sent = AuditEvent.objects.filter(action="notification.sent")
    assert [e.details["event"] for e in sent] == ["promotion.reminder", "promotion.reminder"]


def test_decided_requests_are_not_reminded_and_a_queued_reminder_is_dropped(
    request_: PromotionRequest, alice: User
) -> None:
    assert len(reminders.tick()) == 1
    promotion.approve(request_, actor=alice)  # before the worker sent the reminder
    [job] = run_notification_jobs()
    assert job.result["outcome"] == "not needed" and mail.outbox == []
    assert reminders.tick(timezone.now() + 10 * DAY) == []


@pytest.mark.parametrize("days", [0, "0"])
def test_zero_days_turns_reminders_off(settings: Any, request_: PromotionRequest, days: Any) -> None:
    settings.MODELWORKS_NOTIFY_REMINDER_DAYS = days
    assert reminders.tick(timezone.now() + 30 * DAY) == [] and queued() == 0


def test_with_email_off_no_reminder_is_recorded(settings: Any, request_: PromotionRequest) -> None:
    settings.MODELWORKS_EMAIL_ENABLED = False
    assert reminders.tick() == [] and reminded() == []


@pytest.mark.parametrize("value", ["three", -1, "2.5", 400])
def test_a_malformed_setting_is_refused_with_a_plain_message(settings: Any, value: Any) -> None:
    settings.MODELWORKS_NOTIFY_REMINDER_DAYS = value
    with pytest.raises(
        ImproperlyConfigured,
        match=rf"MODELWORKS_NOTIFY_REMINDER_DAYS must be a whole number of days from 0 to 365 \(0 turns "
        rf"reminders off\), got {value!r}",
    ):
        reminders.tick()


def test_an_approver_who_opted_out_is_skipped_but_recorded(request_: PromotionRequest, alice: User) -> None:
    User.objects.filter(pk=alice.pk).update(notify_by_email=False)
    assert len(reminders.tick()) == 1
    run_notification_jobs()
    assert mail.outbox == []
    skipped = AuditEvent.objects.get(action="notification.skipped")
    assert skipped.details == {
        "event": "promotion.reminder",
        "recipient": "alice",
        "reason": "turned off in their settings",
    }


def test_a_signoff_step_is_reminded_counting_from_when_its_turn_came(
    project: Project, alice: User, bob: User, instance_admin: User, trained_run: Any
) -> None:
    erin = make_user("erin", full_name="Erin Requester")
    core.grant_membership(project, actor=alice, user=erin, role=Role.CONTRIBUTOR)
    frank = make_user("frank", full_name="Frank Risk")
    risk = core.create_group(actor=instance_admin, name="risk officers")
    for member in (frank, bob):
        core.add_group_member(risk, member, actor=instance_admin)
    core.grant_membership(project, actor=alice, group=risk, role=Role.CONTRIBUTOR)
    signoffs.save_policy(
        project,
        actor=alice,
        aliases=["champion"],
        mode="block",
        due_days=5,
        enabled=True,
        steps=[
            StepSpec(title="Data owner", order=1, reviewer=alice),
            StepSpec(title="Risk officer", order=2, reviewer_group=risk),
        ],
    )
    version = register_versions(project, bob, trained_run, count=1)[0]
    signoff = signoffs.request_signoff(version, "champion", actor=erin)
    now = timezone.now()
    SignoffRequest.objects.filter(pk=signoff.pk).update(created_at=now - 5 * DAY)
    assert [p.recipient.get_username() for p in reminders.tick(now)] == ["alice"]  # step 1 waits 5 days

    first = signoff.reviews.get(order=1)
    signoffs.decide(first, actor=alice, approve=True)
    SignoffReview.objects.filter(pk=first.pk).update(decided_at=now - 1 * DAY)  # step 2's turn: a day ago
    assert reminders.tick(now + 1 * DAY) == []  # step 2 has waited 2 days
    planned = reminders.tick(
        now + 3 * DAY + timedelta(minutes=1)
    )  # 4 days since step 2's turn, 3 since the last reminder
    assert sorted(p.recipient.get_username() for p in planned) == ["bob", "frank"]
    run_notification_jobs()
    to_frank = [m for m in mail.outbox if m.to == ["frank@example.test"]]
    assert [m.subject for m in to_frank] == [
        f"[Modelworks] Reminder: review still needed: sign-off of 'Delays' v1 as @champion (request #{signoff.pk})"
    ]
    body = to_frank[0].body
    assert "has been waiting for your review since " in body
    assert (
        "Step waiting for you: 'Risk officer' (any member of group 'risk officers' may decide it)\n" in body
    )
    assert reminded()[-1] == (str(signoff.pk), ["bob", "frank"])
