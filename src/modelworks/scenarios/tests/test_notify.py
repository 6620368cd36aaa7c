"""Notifications: webhooks only to allow-listed hosts (every resolved address checked, no redirect to
another host) and e-mail only through the configured SMTP server. Real local servers, no mocks."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from modelworks.core.models import Project, User
from modelworks.scenarios import services
from modelworks.scenarios.services.notify import (
    NotificationError,
    check_webhook_url,
    send_email,
    send_webhook,
)
from modelworks.scenarios.tests.helpers import diagnostic_step, make_scenario, run_now
from modelworks.scenarios.tests.servers import hook_server, smtp_server

pytest_plugins = ["modelworks.core.testing.fixtures"]


@pytest.mark.parametrize(
    ("allowlist", "url", "error"),
    [
        (
            [],
            "https://hooks.internal.example/x",
            "Webhooks are turned off on this instance: MODELWORKS_WEBHOOK_ALLOWLIST is empty",
        ),
        (["hooks.internal.example"], "https://hooks.internal.example/x", None),
        (["hooks.internal.example"], "https://HOOKS.internal.example./x", None),
        (
            ["hooks.internal.example"],
            "https://evil.example/x",
            "The host 'evil.example' is not on the webhook allow-list",
        ),
        (
            ["hooks.internal.example"],
            "https://hooks.internal.example.evil.example/x",
            "is not on the webhook allow-list",
        ),
        (["*.corp.example"], "https://a.b.corp.example/x", None),
        (
            ["*.corp.example"],
            "https://corp.example/x",
            "The host 'corp.example' is not on the webhook allow-list",
        ),
        (["*.corp.example"], "https://evilcorp.example/x", "is not on the webhook allow-list"),
        (["10.0.0.0/8"], "https://10.1.2.3:8443/x", None),
        (["10.0.0.0/8"], "https://192.168.1.1/x", "The address 192.168.1.1 is not on the webhook allow-list"),
        (
            ["hooks.internal.example"],
            "http://hooks.internal.example/x",
            "uses plain http; only https webhooks are allowed",
        ),
        (["hooks.internal.example"], "ftp://hooks.internal.example/x", "is not a web address"),
        (["hooks.internal.example"], "file:///etc/passwd", "is not a web address"),
        (
            ["hooks.internal.example"],
            "https://user:pw@hooks.internal.example/x",
            "Put no user name or password",
        ),
    ],
)
def test_the_allow_list(settings: Any, allowlist: list[str], url: str, error: str | None) -> None:
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = allowlist
    if error is None:
        host, _, _ = check_webhook_url(url, resolve=False)
        assert host == url.split("//")[1].split("/")[0].split(":")[0].lower().rstrip(".")
    else:
        with pytest.raises(NotificationError, match=error):
            check_webhook_url(url, resolve=False)


def test_a_webhook_reaches_an_allowed_host_with_a_json_body(settings: Any) -> None:
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = ["127.0.0.1"]
    settings.MODELWORKS_WEBHOOK_ALLOW_HTTP = True
    with hook_server() as server:
        assert send_webhook(server.url(), {"text": "hello", "n": 1}) == "POST to 127.0.0.1 answered HTTP 204."
        # The same server under a host name: the name is allowed but resolves to loopback.
        settings.MODELWORKS_WEBHOOK_ALLOWLIST = ["localhost"]
        with pytest.raises(
            NotificationError, match=r"'localhost' resolves to (127\.0\.0\.1|::1), a loopback"
        ):
            send_webhook(server.url(host="localhost"), {"text": "not sent"})
        settings.MODELWORKS_WEBHOOK_ALLOWLIST = ["localhost", "127.0.0.0/8", "::1"]
        assert (
            send_webhook(server.url(host="localhost"), {"text": "by name"})
            == "POST to localhost answered HTTP 204."
        )
    assert server.received == [{"text": "hello", "n": 1}, {"text": "by name"}]
    assert server.headers[0]["Content-Type"] == "application/json"
    assert server.headers[1]["Host"] == f"localhost:{server.port}"


def test_webhook_redirects_and_errors(settings: Any) -> None:
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = ["127.0.0.1"]
    settings.MODELWORKS_WEBHOOK_ALLOW_HTTP = True
    with hook_server() as server:
        with pytest.raises(
            NotificationError, match=r"redirect \(302\) to another host, elsewhere.example.test"
        ):
            send_webhook(server.url("/away"), {"text": "x"})
        assert send_webhook(server.url("/moved"), {"text": "moved"}).endswith("HTTP 204.")
        with pytest.raises(NotificationError, match=r"The webhook at 127\.0\.0\.1 answered HTTP 500"):
            send_webhook(server.url("/fail"), {"text": "x"})
    assert server.received == [{"text": "moved"}]


def test_a_webhook_that_does_not_answer_times_out(settings: Any) -> None:
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = ["127.0.0.1"]
    settings.MODELWORKS_WEBHOOK_ALLOW_HTTP = True
    settings.MODELWORKS_WEBHOOK_TIMEOUT_SECONDS = 0.5
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(
            NotificationError, match=r"The webhook at 127\.0\.0\.1 could not be reached: timed out"
        ):
            send_webhook(f"http://127.0.0.1:{port}/hook", {"text": "x"})


def test_a_notify_step_posts_the_run_and_its_steps(project: Project, bob: User, settings: Any) -> None:
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = ["127.0.0.0/8"]
    settings.MODELWORKS_WEBHOOK_ALLOW_HTTP = True
    with hook_server() as server:
        scenario = make_scenario(
            project,
            bob,
            name="Nightly",
            steps=[
                diagnostic_step(fail=True, name="Train"),
                {
                    "kind": "notify",
                    "name": "Tell the team",
                    "run_condition": "on_failure",
                    "params": {
                        "channel": "webhook",
                        "url": server.url(),
                        "message": "{scenario} run {run} {outcome} ({failed_steps}) {url} %s %(x)s <b>",
                    },
                },
            ],
        )
        run = run_now(scenario, bob)
    assert [s["status"] for s in run.step_results] == ["failed", "succeeded"]
    assert run.step_results[1]["message"] == "POST to 127.0.0.1 answered HTTP 204."
    (body,) = server.received
    url = f"https://ai.example.test/projects/flight-delays/scenarios/{scenario.pk}/runs/1/"
    assert body["text"] == f"Nightly run 1 failed (Train) {url} %s %(x)s <b>"
    assert body["url"] == url and body["outcome"] == "failed" and body["project"] == "flight-delays"
    assert body["steps"] == [
        {
            "name": "Train",
            "kind": "job",
            "status": "failed",
            "message": "The job failed: The diagnostic job failed on purpose (fail=true).",
        }
    ]


def test_a_refused_webhook_fails_its_step_with_the_setting_named(
    project: Project, bob: User, settings: Any
) -> None:
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = ["hooks.internal.example"]
    scenario = make_scenario(
        project,
        bob,
        steps=[
            {"kind": "notify", "params": {"channel": "webhook", "url": "https://hooks.internal.example/n"}}
        ],
    )
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = []  # the administrator emptied the list since
    run = run_now(scenario, bob)
    assert run.status == "failed"
    assert run.step_results[0]["message"].startswith(
        "Webhooks are turned off on this instance: MODELWORKS_WEBHOOK_ALLOWLIST is empty."
    )


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"channel": "webhook", "url": "https://x.example/"},
            "url",
            "Webhooks are turned off on this instance",
        ),
        (
            {"channel": "webhook", "url": "https://ok.example/", "message": "{scenario} {secret}"},
            "message",
            r"'\{secret\}' is not a placeholder; use \{scenario\}",
        ),
        (
            {"channel": "webhook", "url": "https://ok.example/", "message": "{0.__class__}"},
            "message",
            r"'\{0.__class__\}' is not a placeholder",
        ),
        (
            {"channel": "email", "recipients": "ops@example.test, not-an-address"},
            "recipients",
            "'not-an-address' is not an e-mail address",
        ),
        ({"channel": "email", "recipients": ""}, "recipients", "Give at least one e-mail address"),
        ({"channel": "sms"}, "channel", "Choose how to notify: 'webhook' or 'email'"),
        (
            {"channel": "email", "recipients": ["a@example.test"], "cc": "b@example.test"},
            "cc",
            "A notify step has no parameter 'cc'",
        ),
    ],
)
def test_bad_notify_steps_are_refused(
    project: Project, bob: User, settings: Any, params: dict[str, Any], field: str, message: str
) -> None:
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = [] if field == "url" else ["ok.example"]
    scenario = make_scenario(project, bob)
    with pytest.raises(ValidationError, match=message) as caught:
        services.add_step(scenario, actor=bob, kind="notify", params=params)
    assert list(caught.value.message_dict) == [field]


def test_email_is_refused_until_smtp_is_configured(project: Project, bob: User) -> None:
    with pytest.raises(
        NotificationError,
        match="E-mail is not configured on this instance; an administrator sets MODELWORKS_SMTP_HOST",
    ):
        send_email(["ops@example.test"], "Subject", "Text")
    assert mail.outbox == []


def test_an_email_step_sends_the_rendered_message(project: Project, bob: User, settings: Any) -> None:
    settings.MODELWORKS_EMAIL_ENABLED = True
    settings.DEFAULT_FROM_EMAIL = "modelworks@example.test"
    scenario = make_scenario(
        project,
        bob,
        name="Weekly",
        steps=[
            diagnostic_step(name="Score"),
            {
                "kind": "notify",
                "params": {
                    "channel": "email",
                    "recipients": "ops@example.test\nlead@example.test",
                    "subject": "{scenario}: {outcome}",
                    "message": "Run {run} of {scenario} in {project} {outcome}. Failed: {failed_steps}. {url}",
                },
            },
        ],
    )
    run = run_now(scenario, bob)
    assert run.step_results[1]["message"] == "E-mail sent to 2 recipients."
    (message,) = mail.outbox
    assert message.subject == "Weekly: succeeded"
    assert message.to == ["ops@example.test", "lead@example.test"]
    assert message.from_email == "modelworks@example.test"
    assert message.body == (
        f"Run 1 of Weekly in Flight delays succeeded. Failed: none. "
        f"https://ai.example.test/projects/flight-delays/scenarios/{scenario.pk}/runs/1/"
    )


def test_email_through_a_real_smtp_server(settings: Any) -> None:
    settings.MODELWORKS_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "modelworks@example.test"
    with smtp_server() as server:
        settings.EMAIL_PORT = server.port
        assert send_email(["ops@example.test"], "Scenario done", "All good.") == "E-mail sent to 1 recipient."
    (received,) = server.messages
    assert received["from"] == "<modelworks@example.test>" and received["to"] == ["<ops@example.test>"]
    assert "Subject: Scenario done" in received["data"] and "All good." in received["data"]
    # A server that is not there: a plain message naming the host.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = probe.getsockname()[1]  # bound, not listening: connection refused
        with pytest.raises(
            NotificationError, match=r"The e-mail could not be sent through 127\.0\.0\.1: .*refused"
        ):
            send_email(["ops@example.test"], "Scenario done", "All good.")
