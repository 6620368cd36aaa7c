"""Sign in, sign out, the forced password change, and what anonymous visitors get."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from modelworks.core.models import AuditEvent, User
from modelworks.core.testing.fixtures import PASSWORD, make_user

pytest_plugins = ["modelworks.core.testing.fixtures"]

NEW_PASSWORD = "Copper-Lantern-Meadow-42"


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra: str):
    return client.post("/login/", {"username": username, "password": password, **extra})


def test_login_page_is_a_plain_accessible_form(client: Client, db: None) -> None:
    response = client.get("/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert 'autocomplete="current-password"' in html
    assert "csrfmiddlewaretoken" in html


def test_sign_in_goes_home_and_is_audited(client: Client, alice: User) -> None:
    response = sign_in(client, "alice")
    assert response.status_code == 302 and response["Location"] == "/"
    assert AuditEvent.objects.filter(action="auth.login", actor=alice).exists()
    assert "Your projects" in client.get("/").content.decode()


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong-password"), ("nobody-here", PASSWORD), ("", "")],
    ids=["wrong-password", "unknown-user", "empty"],
)
def test_failed_sign_in_says_one_generic_thing(
    client: Client, alice: User, username: str, password: str
) -> None:
    response = sign_in(client, username, password)
    html = response.content.decode()
    assert response.status_code == 422
    if username:
        # The same words whether or not the account exists: usernames cannot be probed.
        assert "Wrong username or password. Check both and try again." in html
    else:
        assert "This field is required." in html
    assert "_auth_user_id" not in client.session


def test_sign_in_is_throttled_with_a_plain_message(client: Client, alice: User) -> None:
    for _ in range(settings.MODELWORKS_LOGIN_MAX_FAILURES):
        sign_in(client, "alice", "wrong-password")
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_next_is_followed_only_when_it_stays_on_this_site(client: Client, alice: User) -> None:
    assert sign_in(client, "alice", next="/settings/")["Location"] == "/settings/"
    client.logout()
    assert sign_in(client, "alice", next="https://evil.example/steal")["Location"] == "/"


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client, db: None) -> None:
    response = client.get("/settings/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/settings/"
    page = client.get(response["Location"]).content.decode()
    assert 'name="next" value="/settings/"' in page


def test_an_expired_session_in_an_htmx_request_redirects_the_whole_window(client: Client, db: None) -> None:
    response = client.post(
        "/projects/x/members/add/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/projects/x/"},
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/?next=")


def test_logout_is_post_only_and_audited(client: Client, alice: User) -> None:
    client.force_login(alice)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert AuditEvent.objects.filter(action="auth.logout", actor=alice).exists()
    assert client.get("/").status_code == 302
    assert "You are signed out." in client.get("/login/").content.decode()


def test_one_time_password_accounts_must_choose_their_own_first(client: Client, db: None) -> None:
    user = make_user("newbie", must_change_password=True)
    sign_in(client, "newbie")

    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/settings/password/"
    page = client.get("/settings/password/").content.decode()
    assert "Choose your password" in page
    assert 'class="sidebar"' not in page  # nothing else to do until it is done

    response = client.post(
        "/settings/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 303 and response["Location"] == "/"
    user.refresh_from_db()
    assert not user.must_change_password
    assert user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="auth.password_changed", actor=user).exists()
    assert client.get("/").status_code == 200  # still signed in after the change


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            "incorrect",
        ),
        ({"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": "Other-Long-99"}, "didn"),
        ({"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}, "too short"),
    ],
    ids=["wrong-current", "mismatch", "weak"],
)
def test_bad_password_changes_change_nothing(client: Client, alice: User, data: dict, message: str) -> None:
    client.force_login(alice)
    response = client.post("/settings/password/", data)
    assert response.status_code == 422
    assert message in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="auth.password_changed").exists()
