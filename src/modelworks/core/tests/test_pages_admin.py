"""Instance administration pages: users (one-time password, deactivate) and groups."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from modelworks.core.models import AuditEvent, User

pytest_plugins = ["modelworks.core.testing.fixtures"]


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", ["/admin/users/", "/admin/groups/"])
def test_only_instance_admins(url: str, alice: User, instance_admin: User) -> None:
    response = as_user(alice).get(url)
    assert response.status_code == 403
    assert "Only instance administrators can do this." in response.content.decode()
    assert as_user(instance_admin).get(url).status_code == 200


def test_users_list_and_search(alice: User, bob: User, instance_admin: User) -> None:
    client = as_user(instance_admin)
    html = client.get("/admin/users/").content.decode()
    assert "Alice Admin" in html and "Bob Contributor" in html and "Instance admin" in html
    fragment = client.get("/admin/users/", {"q": "contrib"}, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="user-table"')
    assert "Bob Contributor" in fragment and "Alice Admin" not in fragment


def test_a_new_user_gets_a_one_time_password_shown_once(instance_admin: User) -> None:
    client = as_user(instance_admin)
    response = client.post("/admin/users/new/", {"username": "erin", "email": "erin@example.test"})
    html = response.content.decode()
    assert response.status_code == 200
    password = html.split('id="one-time-password" class="mono" type="text" readonly value="')[1].split('"')[0]
    assert len(password) >= 20 and "it will not be shown again" in html
    erin = User.objects.get(username="erin")
    assert erin.must_change_password and erin.check_password(password) and not erin.is_superuser
    assert AuditEvent.objects.filter(action="user.created", actor=instance_admin, target_repr="erin").exists()
    assert password not in client.get("/admin/users/").content.decode()

    # The new user signs in with it and must choose their own password first.
    newcomer = Client()
    newcomer.post("/login/", {"username": "erin", "password": password})
    assert newcomer.get("/")["Location"] == "/settings/password/"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "alice"}, "already exists"),
        ({"username": ""}, "This field is required."),
        ({"username": "x y"}, "Enter a valid username"),
    ],
    ids=["taken", "empty", "invalid"],
)
def test_bad_new_users_are_refused(alice: User, instance_admin: User, data: dict, message: str) -> None:
    before = User.objects.count()
    response = as_user(instance_admin).post("/admin/users/new/", data)
    assert response.status_code == 422 and message in response.content.decode()
    assert User.objects.count() == before


def test_deactivate_and_reactivate(bob: User, instance_admin: User) -> None:
    client = as_user(instance_admin)
    bob_client = as_user(bob)
    response = client.post(f"/admin/users/{bob.pk}/active/", {"active": "0"})
    assert response.status_code == 303
    bob.refresh_from_db()
    assert not bob.is_active
    assert bob_client.get("/").status_code == 302  # signed out at once
    assert AuditEvent.objects.filter(
        action="user.updated", target_repr="bob", details__is_active=False
    ).exists()
    client.post(f"/admin/users/{bob.pk}/active/", {"active": "1"})
    bob.refresh_from_db()
    assert bob.is_active


def test_an_admin_cannot_deactivate_themself(instance_admin: User) -> None:
    client = as_user(instance_admin)
    client.post(f"/admin/users/{instance_admin.pk}/active/", {"active": "0"})
    instance_admin.refresh_from_db()
    assert instance_admin.is_active
    assert "You cannot deactivate your own account" in client.get("/admin/users/").content.decode()


def test_groups_create_and_members(carol: User, dave: User, instance_admin: User) -> None:
    client = as_user(instance_admin)
    response = client.post("/admin/groups/", {"name": "finance"})
    group = Group.objects.get(name="finance")
    assert response.status_code == 303 and response["Location"] == f"/admin/groups/{group.pk}/"
    assert "Nobody in this group yet" in client.get(response["Location"]).content.decode()

    assert client.post(f"/admin/groups/{group.pk}/", {"username": "dave"}).status_code == 303
    assert list(group.user_set.all()) == [dave]
    again = client.post(f"/admin/groups/{group.pk}/", {"username": "dave"})
    assert again.status_code == 422 and "dave is already in this group." in again.content.decode()
    unknown = client.post(f"/admin/groups/{group.pk}/", {"username": "zed"})
    assert unknown.status_code == 422 and "No user named “zed”" in unknown.content.decode()

    assert client.post(f"/admin/groups/{group.pk}/members/{dave.pk}/remove/").status_code == 303
    assert not group.user_set.exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"group.created", "group.member_added", "group.member_removed"} <= actions

    duplicate = client.post("/admin/groups/", {"name": "Finance"})
    assert duplicate.status_code == 422 and "already exists" in duplicate.content.decode()
