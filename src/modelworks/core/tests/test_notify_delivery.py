"""E-mails to the people a request waits on leave in a ``core.send_email`` background job, never in the
request's thread: queued once the decision commits (nothing when it rolls back), sent through a real
SMTP server on 127.0.0.1, retried while the relay fails temporarily, then audited as failed; a
refused recipient fails at once; who opted out meanwhile is skipped when the job runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from modelworks.core import people_notify
from modelworks.core.jobs import InvalidJobParamsError, enqueue
from modelworks.core.models import AuditEvent, Job, JobState, User
from modelworks.core.notify import NOTIFY_JOB_KIND, promotions
from modelworks.core.notify.testing import closed_port, refusing_smtp_server, run_notification_jobs
from modelworks.registry import services
from modelworks.registry.services import promotion
from modelworks.scenarios.tests.servers import smtp_server

pytest_plugins = [
    "modelworks.core.testing.fixtures",
    "modelworks.registry.tests.fixtures",
    "modelworks.core.tests.jobs_fixtures",
]

Capture = Callable[..., Any]
APPROVAL = "[Modelworks] Approval needed: promote 'churn' v2 to @champion (request #1)"


@pytest.fixture(autouse=True)
def email_on(settings: Any) -> None:
    settings.MODELWORKS_EMAIL_ENABLED = True
    settings.MODELWORKS_PUBLIC_URL = "https://ai.example.test"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def versions(project: Any, bob: User, trained_run: Any) -> list[Any]:
    """'churn' with two versions; @champion on v1."""
    model = services.create_registered_model(project, actor=bob, name="churn")
    source = f"runs:/{trained_run.run_uuid}/model"
    made = [services.create_model_version(model, actor=bob, source=source) for _ in range(2)]
    services.set_alias(made[0], "champion", actor=bob)
    return made


def smtp_at(settings: Any, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 3


def audited(action: str) -> list[tuple[str, str]]:
    return [
        (e.details["event"], e.details["recipient"])
        for e in AuditEvent.objects.filter(action=action).order_by("id")
    ]


def notify_jobs() -> list[Job]:
    return list(Job.objects.filter(kind=NOTIFY_JOB_KIND).order_by("created_at"))


def test_old_imports_still_work() -> None:
    assert people_notify.promotion_requested is promotions.promotion_requested
    assert set(people_notify.__all__) >= {
        "promotion_decided",
        "promotion_requested",
        "promotions_superseded",
        "signoff_decided",
        "signoff_reviews_waiting",
    }


@pytest.mark.django_db
def test_the_request_thread_only_queues_a_job_which_sends_after_commit(
    django_capture_on_commit_callbacks: Capture, versions: list[Any], alice: User, bob: User
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = promotion.request_promotion(versions[1], approver=alice, actor=bob, note="Fresher.")
        assert notify_jobs() == []  # nothing is queued before the commit
    [job] = notify_jobs()
    assert (job.state, job.project, job.params["message"], job.params["recipient"]) == (
        JobState.QUEUED,
        None,
        "promotion.requested",
        alice.pk,
    )
    assert job.title == "E-mail alice: promotion.requested"
    assert mail.outbox == []  # the request's thread sent nothing

    [done] = run_notification_jobs()
    assert done.state == JobState.SUCCEEDED
    assert done.result == {
        "message": "promotion.requested",
        "recipient": "alice",
        "event": "promotion.requested",
        "outcome": "sent",
    }
    assert [(m.to, m.subject) for m in mail.outbox] == [(["alice@example.test"], APPROVAL)]
    assert "Reason:\n  Fresher.\n" in mail.outbox[0].body
    sent = AuditEvent.objects.get(action="notification.sent")
    assert (sent.details, sent.target_id, sent.project_slug, sent.actor_name) == (
        {"event": "promotion.requested", "recipient": "alice"},
        str(request.pk),
        "flight-delays",
        "system",
    )


@pytest.mark.django_db
def test_a_rolled_back_decision_queues_and_sends_nothing(
    django_capture_on_commit_callbacks: Capture, versions: list[Any], alice: User, bob: User
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError, match="fails after"), transaction.atomic():
            promotion.request_promotion(versions[1], approver=alice, actor=bob)
            raise RuntimeError("the caller's transaction fails after the request")
    assert callbacks == [] and notify_jobs() == []
    assert run_notification_jobs() == [] and mail.outbox == []
    assert not AuditEvent.objects.filter(action__startswith="notification.").exists()


@pytest.mark.django_db
def test_with_email_off_nothing_is_queued(
    settings: Any, django_capture_on_commit_callbacks: Capture, versions: list[Any], alice: User, bob: User
) -> None:
    settings.MODELWORKS_EMAIL_ENABLED = False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        promotion.request_promotion(versions[1], approver=alice, actor=bob)
    assert callbacks == [] and notify_jobs() == []


@pytest.mark.django_db
def test_a_failing_relay_is_retried_then_audited_as_failed_once(
    settings: Any, django_capture_on_commit_callbacks: Capture, versions: list[Any], alice: User, bob: User
) -> None:
    smtp_at(settings, closed_port())
    with django_capture_on_commit_callbacks(execute=True):
        request = promotion.request_promotion(versions[1], approver=alice, actor=bob)
    [job] = run_notification_jobs()
    assert job.state == JobState.QUEUED and job.run_after is not None  # waiting for its retry
    assert job.error.startswith("The e-mail could not be sent through 127.0.0.1: ")
    assert job.error.endswith("(attempt 1 of 4)")
    assert run_notification_jobs() == []  # not due yet: a worker would wait a minute
    assert audited("notification.failed") == []  # not a failure yet

    [job] = run_notification_jobs(ignore_delay=True)
    assert (job.state, job.attempt) == (JobState.FAILED, 4)
    assert job.error.startswith("The e-mail could not be sent through 127.0.0.1: ")
    [failed] = AuditEvent.objects.filter(action="notification.failed")
    assert (failed.outcome, failed.target_id, failed.details["attempts"]) == ("failure", str(request.pk), 4)
    assert (failed.details["event"], failed.details["recipient"]) == ("promotion.requested", "alice")
    assert audited("notification.sent") == []
    request.refresh_from_db()
    assert request.status == "pending"  # the request itself is untouched


@pytest.mark.django_db
def test_a_retry_succeeds_once_the_relay_is_back(
    settings: Any, django_capture_on_commit_callbacks: Capture, versions: list[Any], alice: User, bob: User
) -> None:
    smtp_at(settings, closed_port())
    with django_capture_on_commit_callbacks(execute=True):
        promotion.request_promotion(versions[1], approver=alice, actor=bob)
    [job] = run_notification_jobs()
    assert job.state == JobState.QUEUED
    with smtp_server() as server:
        settings.EMAIL_PORT = server.port
        [job] = run_notification_jobs(ignore_delay=True)
    assert (job.state, job.attempt) == (JobState.SUCCEEDED, 2)
    assert [m["to"] for m in server.messages] == [["<alice@example.test>"]]
    assert audited("notification.sent") == [("promotion.requested", "alice")]
    assert audited("notification.failed") == []


@pytest.mark.django_db
def test_a_refused_recipient_fails_at_once_without_retries(
    settings: Any, django_capture_on_commit_callbacks: Capture, versions: list[Any], alice: User, bob: User
) -> None:
    with refusing_smtp_server("550 5.1.1 <alice@example.test>: no such mailbox") as port:
        smtp_at(settings, port)
        with django_capture_on_commit_callbacks(execute=True):
            promotion.request_promotion(versions[1], approver=alice, actor=bob)
        [job] = run_notification_jobs()
    assert (job.state, job.attempt) == (JobState.FAILED, 1)
    assert "no such mailbox" in job.error
    [failed] = AuditEvent.objects.filter(action="notification.failed")
    assert failed.details["attempts"] == 1 and "no such mailbox" in failed.details["error"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"notify_by_email": False}, "turned off in their settings"),
        ({"email": " "}, "no e-mail address"),
        ({"is_active": False}, "deactivated"),
    ],
)
def test_who_opted_out_before_the_job_ran_is_skipped(
    django_capture_on_commit_callbacks: Capture,
    versions: list[Any],
    alice: User,
    bob: User,
    change: dict[str, Any],
    reason: str,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = promotion.request_promotion(versions[1], approver=alice, actor=bob)
    User.objects.filter(pk=alice.pk).update(**change)  # after queueing, before sending
    [job] = run_notification_jobs()
    assert job.state == JobState.SUCCEEDED and job.result["outcome"] == "skipped"
    assert mail.outbox == []
    [skipped] = AuditEvent.objects.filter(action="notification.skipped")
    assert skipped.details == {"event": "promotion.requested", "recipient": "alice", "reason": reason}
    assert skipped.target_id == str(request.pk)


@pytest.mark.django_db
def test_a_request_no_longer_waiting_is_not_mailed(
    django_capture_on_commit_callbacks: Capture, versions: list[Any], alice: User, bob: User
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = promotion.request_promotion(versions[1], approver=alice, actor=bob)
    promotion.approve(request, actor=alice, comment="Quick.")  # before the worker got to the e-mail
    done = run_notification_jobs()
    assert [j.result["outcome"] for j in done] == ["not needed"]
    assert mail.outbox == [] and audited("notification.sent") == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"message": "promotion.lunch", "recipient": 1, "target": "registry.promotionrequest"},
            r"'message' must be one of .*promotion\.requested.*, got 'promotion\.lunch'",
        ),
        (
            {"message": "promotion.requested", "recipient": "alice", "target": "registry.promotionrequest"},
            r"'recipient' must be a user id, got 'alice'",
        ),
        (
            {"message": "promotion.requested", "recipient": 1, "target": "registry.nothing"},
            r"'target' must name a model as 'app_label.model', got 'registry.nothing'",
        ),
        (
            {"message": "promotion.requested", "recipient": 1, "target": "core.user", "context": [1]},
            r"'context' must be an object",
        ),
    ],
)
def test_bad_job_parameters_are_refused_with_a_plain_message(params: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidJobParamsError, match=message):
        enqueue(NOTIFY_JOB_KIND, params=params)


def test_a_real_worker_process_sends_the_queued_email(
    settings: Any,
    worker_env: dict[str, str],
    start_worker: Callable[..., Any],
    versions: list[Any],
    alice: User,
    bob: User,
) -> None:
    """End to end: the decision commits in this process; a ``modelworks worker`` subprocess, set up
    with the instance's SMTP settings, sends the e-mail to a real SMTP server of this process."""
    with smtp_server() as server:
        worker_env.update(
            MODELWORKS_SMTP_HOST="127.0.0.1",
            MODELWORKS_SMTP_PORT=str(server.port),
            MODELWORKS_SMTP_SECURITY="none",
            MODELWORKS_SMTP_FROM="modelworks@example.test",
            MODELWORKS_PUBLIC_URL="https://ai.example.test",
        )
        request = promotion.request_promotion(versions[1], approver=alice, actor=bob)  # commits
        assert server.messages == [] and len(notify_jobs()) == 1
        worker = start_worker("--burst", "--concurrency", "1")
        assert worker.wait(timeout=60) == 0, worker.output()
        deadline = time.monotonic() + 5
        while not server.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    [message] = server.messages
    assert (message["from"], message["to"]) == ("<modelworks@example.test>", ["<alice@example.test>"])
    assert "(request #1)" in " ".join(message["data"].split())
    assert (
        f"https://ai.example.test/projects/flight-delays/models/{request.registered_model_id}/"
        in (message["data"])
    )
    [job] = notify_jobs()
    assert job.state == JobState.SUCCEEDED
    assert audited("notification.sent") == [("promotion.requested", "alice")]
