"""The user's settings: profile and API tokens (shown once, revocable)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from modelworks.core.models import ApiToken, AuditEvent, User

pytest_plugins = ["modelworks.core.testing.fixtures"]

HX = {"HX-Request": "true"}


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_settings_page(alice: User) -> None:
    html = as_user(alice).get("/settings/").content.decode()
    assert 'value="alice@example.test"' in html
    assert "No API tokens yet" in html
    assert 'href="/settings/password/"' in html


def test_profile_change_is_saved_and_audited(alice: User) -> None:
    client = as_user(alice)
    response = client.post(
        "/settings/profile/",
        {"first_name": "Alicia", "last_name": "Admin", "email": "a@x.test", "notify_by_email": "on"},
    )
    assert response.status_code == 303
    alice.refresh_from_db()
    assert (alice.first_name, alice.email) == ("Alicia", "a@x.test")
    event = AuditEvent.objects.get(action="user.updated", actor=alice)
    assert event.details["after"] == {"first_name": "Alicia", "email": "a@x.test"}
    response = client.post(
        "/settings/profile/", {"first_name": "Alicia", "last_name": "Admin", "email": "nope"}
    )
    assert response.status_code == 422 and "Enter a valid email address." in response.content.decode()


def test_a_new_token_is_shown_once(alice: User) -> None:
    client = as_user(alice)
    response = client.post("/settings/tokens/", {"name": "nightly training"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="tokens"')
    raw = html.split('id="new-token-value" class="mono" type="text" readonly value="')[1].split('"')[0]
    assert raw.startswith("mwt_")
    assert "It will not be shown again." in html and 'data-copy-target="new-token-value"' in html
    token = ApiToken.objects.get(user=alice)
    assert ApiToken.authenticate(raw) == token and raw not in token.key_hash
    assert AuditEvent.objects.filter(action="token.created", actor=alice).exists()
    # Never again: not on the page, not after a reload.
    assert raw not in client.get("/settings/").content.decode()
    assert f"{token.key_prefix}…" in client.get("/settings/").content.decode()


def test_a_token_with_an_expiry(alice: User) -> None:
    day = timezone.localdate() + dt.timedelta(days=30)
    as_user(alice).post("/settings/tokens/", {"name": "short-lived", "expires_on": day.isoformat()})
    token = ApiToken.objects.get(user=alice)
    assert token.expires_at is not None and token.expires_at.date() == day


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "x", "expires_on": "2001-01-01"}, "Choose a date after today"),
        ({"name": "x", "expires_on": "someday"}, "Enter a valid date."),
    ],
    ids=["no-name", "past", "not-a-date"],
)
def test_bad_token_requests_create_nothing(alice: User, data: dict, message: str) -> None:
    response = as_user(alice).post("/settings/tokens/", data, headers=HX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke(alice: User) -> None:
    token, raw = ApiToken.issue(alice, "old script")
    response = as_user(alice).post(f"/settings/tokens/{token.pk}/revoke/", headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "badge-token-revoked" in html and "Token “old script” revoked" in html
    assert ApiToken.authenticate(raw) is None
    assert AuditEvent.objects.filter(action="token.revoked", actor=alice).exists()


def test_someone_elses_token_is_not_found(alice: User, bob: User) -> None:
    token, raw = ApiToken.issue(bob, "bob's")
    assert as_user(alice).post(f"/settings/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.authenticate(raw) is not None
