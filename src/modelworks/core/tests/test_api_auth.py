"""Authentication of the API: bearer tokens (valid, revoked, expired, garbage) and sessions with CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.utils import timezone

from modelworks.core import services
from modelworks.core.models import ApiToken, User
from modelworks.core.testing.client import ApiClient, expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures"]


def test_valid_token_authenticates_and_records_use(bob: User) -> None:
    token, raw = ApiToken.issue(bob, "script")
    body = expect(ApiClient(raw).get("/me"), 200)
    assert body["username"] == "bob"
    assert body["auth_method"] == "token"
    assert body["token_prefix"] == token.key_prefix
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_anonymous_gets_401_with_error_body(db: None) -> None:
    response = ApiClient().get("/projects")
    body = expect_error(response, 401, "not_authenticated")
    assert "Authorization: Bearer" in body["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_refused_and_says_so(bob: User) -> None:
    token, raw = ApiToken.issue(bob, "old laptop")
    services.revoke_token(token, actor=bob)
    body = expect_error(ApiClient(raw).get("/me"), 401, "not_authenticated")
    assert "revoked" in body["message"] and "old laptop" in body["message"]


def test_expired_token_is_refused_and_says_so(bob: User) -> None:
    token, raw = ApiToken.issue(bob, "short-lived", expires_at=timezone.now() + timedelta(hours=1))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    body = expect_error(ApiClient(raw).get("/me"), 401, "not_authenticated")
    assert "expired" in body["message"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer mwt_" + "x" * 43,
        "Bearer " + "mwt_" * 80,
        "Bearer ",
        "Basic Ym9iOnNlY3JldA==",
        "Token mwt_abc",
    ],
)
def test_garbage_credentials_are_refused(bob: User, header: str) -> None:
    response = Client().get("/api/v1/me", headers={"Authorization": header})
    expect_error(response, 401, "not_authenticated")


def test_token_of_deactivated_account_is_refused(bob: User) -> None:
    _, raw = ApiToken.issue(bob, "script")
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    body = expect_error(ApiClient(raw).get("/me"), 401, "not_authenticated")
    assert "deactivated" in body["message"]


def test_bad_token_is_not_rescued_by_a_session(bob: User) -> None:
    """A script whose token died must learn it, even when it also carries a session cookie."""
    client = Client()
    client.force_login(bob)
    expect(ApiClient(client=client).get("/me"), 200)
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer mwt_revoked-or-unknown"})
    expect_error(response, 401, "not_authenticated")


def test_session_reads_without_csrf_token(bob: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    body = expect(ApiClient(client=client).get("/me"), 200)
    assert body["auth_method"] == "session"
    assert body["token_prefix"] is None


def test_session_write_needs_the_csrf_token(bob: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    api = ApiClient(client=client)
    body = expect_error(api.post("/projects", {"slug": "p1", "name": "P1"}), 403, "permission_denied")
    assert "CSRF" in body["message"]
    assert body["details"] == {"reason": "csrf"}
    assert not bob.memberships.exists()

    # What a page does for its scripts: the csrftoken cookie holds the secret, the header a masked copy.
    probe = RequestFactory().get("/")
    header = get_token(probe)
    client.cookies["csrftoken"] = probe.META["CSRF_COOKIE"]
    expect(api.post("/projects", {"slug": "p1", "name": "P1"}, **{"X-CSRFToken": header}), 201)


def test_token_writes_need_no_csrf_token(bob: User) -> None:
    _, raw = ApiToken.issue(bob, "script")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})
    expect(ApiClient(client=client).post("/projects", {"slug": "p2", "name": "P2"}), 201)


def test_logged_out_session_is_anonymous(bob: User) -> None:
    client = Client()
    client.force_login(bob)
    client.logout()
    expect_error(ApiClient(client=client).get("/me"), 401, "not_authenticated")


def test_session_on_a_one_time_password_must_change_it_first(bob: User) -> None:
    bob.must_change_password = True
    bob.save(update_fields=["must_change_password"])
    client = Client()
    client.force_login(bob)
    body = expect_error(ApiClient(client=client).get("/projects"), 403, "permission_denied")
    assert "Choose your own password" in body["message"]
