"""``/tokens``: the raw token is shown once, never listed; revoking works at once."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from modelworks.core.models import ApiToken, AuditEvent, User
from modelworks.core.models.tokens import hash_token
from modelworks.core.testing.client import ApiClient, expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures"]


def test_token_is_shown_once_and_never_listed(api_client, bob: User) -> None:
    client = api_client(bob)
    created = expect(client.post("/tokens", {"name": "nightly training"}), 201)
    raw = created["token"]
    assert raw.startswith("mwt_") and raw.startswith(created["prefix"])
    assert created["status"] == "active" and created["user"] == "bob"
    stored = ApiToken.objects.get(pk=created["id"])
    assert stored.key_hash == hash_token(raw) and raw not in stored.key_hash

    listing = client.get("/tokens")
    text = listing.content.decode()
    assert raw not in text and stored.key_hash not in text
    items = expect(listing, 200)["items"]
    assert "token" not in items[0] and "key_hash" not in items[0]
    assert {"id", "name", "prefix", "status", "created_at", "expires_at", "last_used_at"} <= set(items[0])

    assert expect(ApiClient(raw).get("/me"), 200)["username"] == "bob"
    assert AuditEvent.objects.filter(action="token.created", actor=bob).exists()


def test_token_with_expiry(api_client, bob: User) -> None:
    expires = (timezone.now() + timedelta(days=7)).isoformat()
    created = expect(api_client(bob).post("/tokens", {"name": "week", "expires_at": expires}), 201)
    assert created["expires_at"] is not None


def test_expiry_in_the_past_is_refused(api_client, bob: User) -> None:
    past = (timezone.now() - timedelta(days=1)).isoformat()
    body = expect_error(
        api_client(bob).post("/tokens", {"name": "old", "expires_at": past}), 422, "validation_error"
    )
    assert "expires_at" in body["details"]
    assert not bob.api_tokens.filter(name="old").exists()


def test_blank_name_is_refused(api_client, bob: User) -> None:
    body = expect_error(api_client(bob).post("/tokens", {"name": "   "}), 422, "validation_error")
    assert "name" in body["details"]


def test_list_shows_only_my_tokens(api_client, bob: User, carol: User) -> None:
    ApiToken.issue(carol, "carol's")
    names = {t["name"] for t in expect(api_client(bob).get("/tokens"), 200)["items"]}
    assert "carol's" not in names


def test_revoke_own_token_stops_it_at_once(api_client, bob: User) -> None:
    token, raw = ApiToken.issue(bob, "laptop")
    response = api_client(bob).delete(f"/tokens/{token.pk}")
    assert response.status_code == 204
    expect_error(ApiClient(raw).get("/me"), 401, "not_authenticated")
    token.refresh_from_db()
    assert token.status == "revoked"
    listed = {t["id"]: t["status"] for t in expect(api_client(bob).get("/tokens"), 200)["items"]}
    assert listed[token.pk] == "revoked"
    assert AuditEvent.objects.filter(action="token.revoked", target_id=str(token.pk)).exists()


def test_someone_elses_token_is_not_found(api_client, bob: User, carol: User) -> None:
    token, raw = ApiToken.issue(carol, "carol's")
    expect_error(api_client(bob).delete(f"/tokens/{token.pk}"), 404, "not_found")
    expect(ApiClient(raw).get("/me"), 200)


def test_instance_admin_lists_and_revokes_anyones_token(api_client, bob: User, instance_admin: User) -> None:
    token, raw = ApiToken.issue(bob, "leaked")
    admin = api_client(instance_admin)
    listed = expect(admin.get("/tokens", user="bob"), 200)["items"]
    assert [t["name"] for t in listed] == ["leaked"]
    assert admin.delete(f"/tokens/{token.pk}").status_code == 204
    expect_error(ApiClient(raw).get("/me"), 401, "not_authenticated")


def test_only_instance_admins_list_other_users_tokens(api_client, bob: User) -> None:
    expect_error(api_client(bob).get("/tokens", user="carol"), 403, "permission_denied")
