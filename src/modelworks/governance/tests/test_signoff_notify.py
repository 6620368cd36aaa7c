"""E-mail around sign-off requests: the reviewers of the step whose turn has come (a named user, or
each active member of a group, never the requester) are told, the next step's once it becomes
current, and the requester hears the outcome with the comment. Sending waits for the commit; a
failing SMTP server is recorded and the decision stands.

Messages go to Django's locmem outbox, except for a real local SMTP server (the scenarios' test
server on 127.0.0.1) and a closed port nothing listens on."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core import mail

from modelworks.core import services as core
from modelworks.core.models import AuditEvent, Project, Role, User
from modelworks.core.notify.testing import run_notification_jobs
from modelworks.core.testing.fixtures import make_user
from modelworks.governance.models import SignoffStatus
from modelworks.governance.services import signoff as signoffs
from modelworks.governance.services.signoff import StepSpec
from modelworks.governance.testing_signoff import register_versions
from modelworks.scenarios.tests.servers import smtp_server

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

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
def cast(project: Project, alice: User, bob: User, instance_admin: User) -> dict[str, Any]:
    """erin (contributor) asks; alice is the data owner; the 'risk officers' group (frank, bob) is the
    second step."""
    erin = make_user("erin", full_name="Erin Requester")
    core.grant_membership(project, actor=alice, user=erin, role=Role.CONTRIBUTOR)
    frank = make_user("frank", full_name="Frank Risk")
    risk = core.create_group(actor=instance_admin, name="risk officers")
    for member in (frank, bob):
        core.add_group_member(risk, member, actor=instance_admin)
    core.grant_membership(project, actor=alice, group=risk, role=Role.CONTRIBUTOR)
    return {"alice": alice, "bob": bob, "erin": erin, "frank": frank, "risk": risk}


@pytest.fixture
def version(project: Project, bob: User, trained_run: Any) -> Any:
    return register_versions(project, bob, trained_run, count=1)[0]


def policy(project: Project, cast: dict[str, Any], *steps: StepSpec) -> None:
    signoffs.save_policy(
        project,
        actor=cast["alice"],
        aliases=["champion"],
        mode="block",
        due_days=5,
        enabled=True,
        steps=list(steps)
        or [
            StepSpec(title="Data owner", order=1, reviewer=cast["alice"]),
            StepSpec(title="Risk officer", order=2, reviewer_group=cast["risk"]),
        ],
    )


def inbox() -> list[tuple[str, str]]:
    """(recipient, subject) of each message sent so far, sorted; the outbox is emptied."""
    found = sorted((m.to[0], m.subject) for m in mail.outbox)
    mail.outbox.clear()
    return found


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


REVIEW = "[Modelworks] Review needed: sign-off of 'Delays' v1 as @champion (request #{pk})"


def test_each_step_reviewers_are_emailed_when_their_turn_comes(
    project: Project, cast: dict[str, Any], version: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    policy(project, cast)
    with django_capture_on_commit_callbacks(execute=True):
        signoff = signoffs.request_signoff(
            version, "champion", actor=cast["erin"], note="Q3 retrain, fairer."
        )
        assert mail.outbox == []
    subject = REVIEW.format(pk=signoff.pk)
    assert [(m.to, m.subject) for m in mail.outbox] == [(["alice@example.test"], subject)]
    body = mail.outbox[0].body
    assert (
        "erin asks for the sign-off of version 1 of 'Delays' as @champion in project 'Flight delays'" in body
    )
    assert "Step waiting for you: 'Data owner'\nAsked by: erin\nReason:\n  Q3 retrain, fairer.\n" in body
    assert (
        f"Decide here: https://ai.example.test/projects/flight-delays/signoff/requests/{signoff.pk}/\n"
        in body
    )
    assert "https://ai.example.test/governance/signoff/reviews/ (Reviews waiting for me)" in body
    mail.outbox.clear()

    first, second = signoff.reviews.order_by("order")
    with django_capture_on_commit_callbacks(execute=True):
        signoffs.decide(first, actor=cast["alice"], approve=True, comment="Data checked.")
    assert inbox() == [("bob@example.test", subject), ("frank@example.test", subject)]

    with django_capture_on_commit_callbacks(execute=True):
        signoffs.decide(second, actor=cast["frank"], approve=True)
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["erin@example.test"], f"[Modelworks] Sign-off request #{signoff.pk} approved")
    ]
    body = mail.outbox[0].body
    assert "was approved at every step; the version may now take @champion." in body
    assert "Comment:\n  Data owner (alice): Data checked.\n" in body
    sent = AuditEvent.objects.filter(action="notification.sent").order_by("id")
    assert [(e.details["event"], e.details["recipient"]) for e in sent] == [
        ("signoff.review_waiting", "alice"),
        ("signoff.review_waiting", "bob"),
        ("signoff.review_waiting", "frank"),
        ("signoff.approved", "erin"),
    ]


def test_a_rejection_tells_the_requester_the_step_and_comment_only(
    project: Project, cast: dict[str, Any], version: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    policy(project, cast)
    signoff = signoffs.request_signoff(version, "champion", actor=cast["erin"])  # not committed: no mail
    first = signoff.reviews.order_by("order").first()
    with django_capture_on_commit_callbacks(execute=True):
        signoffs.decide(first, actor=cast["alice"], approve=False, comment="Labels from 2019 are wrong.")
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["erin@example.test"], f"[Modelworks] Sign-off request #{signoff.pk} rejected")
    ]
    body = mail.outbox[0].body
    assert f"Your sign-off request #{signoff.pk} was rejected by alice at step 'Data owner'." in body
    assert "Comment:\n  Labels from 2019 are wrong.\n" in body


def test_the_requester_is_never_emailed_as_reviewer_and_parallel_steps_make_one_email(
    project: Project, cast: dict[str, Any], version: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    policy(
        project,
        cast,
        StepSpec(title="Model risk", order=1, reviewer_group=cast["risk"]),
        StepSpec(title="Fairness", order=1, reviewer=cast["frank"]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        signoff = signoffs.request_signoff(version, "champion", actor=cast["bob"])  # bob is in the group
    assert [m.to for m in mail.outbox] == [["frank@example.test"]]
    assert (
        "Steps waiting for you: 'Model risk' (any member of group 'risk officers' may decide it), 'Fairness'\n"
        in mail.outbox[0].body
    )
    assert signoff.status == SignoffStatus.PENDING


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"notify_by_email": False}, "turned off in their settings"), ({"email": ""}, "no e-mail address")],
)
def test_group_members_who_opted_out_or_have_no_address_are_skipped(
    project: Project,
    cast: dict[str, Any],
    version: Any,
    django_capture_on_commit_callbacks: Capture,
    change: dict[str, Any],
    reason: str,
) -> None:
    policy(project, cast, StepSpec(title="Model risk", order=1, reviewer_group=cast["risk"]))
    User.objects.filter(pk=cast["frank"].pk).update(**change)
    with django_capture_on_commit_callbacks(execute=True):
        signoff = signoffs.request_signoff(version, "champion", actor=cast["erin"])
    assert [m.to for m in mail.outbox] == [["bob@example.test"]]
    skipped = AuditEvent.objects.get(action="notification.skipped")
    assert skipped.details == {"event": "signoff.review_waiting", "recipient": "frank", "reason": reason}
    assert skipped.target_id == str(signoff.pk)


def test_withdrawals_tell_the_requester_unless_they_withdrew_it(
    project: Project, cast: dict[str, Any], version: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    policy(project, cast, StepSpec(title="Data owner", order=1, reviewer=cast["alice"]))
    own = signoffs.request_signoff(version, "champion", actor=cast["erin"])
    with django_capture_on_commit_callbacks(execute=True):
        signoffs.cancel(own, actor=cast["erin"], comment="Wrong version.")
    # erin is not told what she did herself; alice, whose review it waited on, is told it no longer does
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["alice@example.test"], f"[Modelworks] No review needed: sign-off request #{own.pk} withdrawn")
    ]
    mail.outbox.clear()

    signoff = signoffs.request_signoff(version, "champion", actor=cast["erin"])
    with django_capture_on_commit_callbacks(execute=True):
        signoffs.cancel(signoff, actor=cast["alice"], comment="Use the October data.")
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["erin@example.test"], f"[Modelworks] Sign-off request #{signoff.pk} withdrawn")
    ]
    assert f"Your sign-off request #{signoff.pk} was withdrawn by alice." in mail.outbox[0].body
    assert "Comment:\n  Use the October data.\n" in mail.outbox[0].body
    mail.outbox.clear()

    approved = signoffs.request_signoff(version, "champion", actor=cast["erin"])
    signoffs.decide(approved.reviews.get(), actor=cast["alice"], approve=True)
    with django_capture_on_commit_callbacks(execute=True):
        signoffs.cancel(approved, actor=cast["alice"], comment="Data leak found.")
    assert [m.subject for m in mail.outbox] == [
        f"[Modelworks] Sign-off request #{approved.pk} approval withdrawn"
    ]
    assert "the version needs a new sign-off before it can take the alias again" in mail.outbox[0].body


def test_reviewers_get_mail_through_a_real_smtp_server(
    settings: Any,
    project: Project,
    cast: dict[str, Any],
    version: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    policy(project, cast, StepSpec(title="Model risk", order=1, reviewer_group=cast["risk"]))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "modelworks@example.test"
    with smtp_server() as server:
        settings.EMAIL_PORT = server.port
        with django_capture_on_commit_callbacks(execute=True):
            signoff = signoffs.request_signoff(version, "champion", actor=cast["erin"], note="Ready.")
    assert sorted(tuple(m["to"]) for m in server.messages) == [
        ("<bob@example.test>",),
        ("<frank@example.test>",),
    ]
    assert all(m["from"] == "<modelworks@example.test>" for m in server.messages)
    # A long subject is folded over lines on the wire (RFC 5322): compare with the folding undone.
    assert all(f"(request #{signoff.pk})" in " ".join(m["data"].split()) for m in server.messages)


def test_a_failing_smtp_server_is_recorded_and_the_decision_stands(
    settings: Any,
    project: Project,
    cast: dict[str, Any],
    version: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    policy(project, cast)
    signoff = signoffs.request_signoff(version, "champion", actor=cast["erin"])
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 3
    first = signoff.reviews.order_by("order").first()
    with django_capture_on_commit_callbacks(execute=True):
        signoffs.decide(first, actor=cast["alice"], approve=True, comment="Fine.")
    first.refresh_from_db()
    signoff.refresh_from_db()
    assert (first.decision, signoff.status) == ("approved", SignoffStatus.PENDING)
    failed = AuditEvent.objects.filter(action="notification.failed").order_by("id")
    assert [(e.outcome, e.details["event"], e.details["recipient"]) for e in failed] == [
        ("failure", "signoff.review_waiting", "bob"),
        ("failure", "signoff.review_waiting", "frank"),
    ]
    assert all("could not be sent through 127.0.0.1" in e.details["error"] for e in failed)
    assert [r.title for r in signoffs.reviews_waiting_for(cast["frank"])] == ["Risk officer"]
