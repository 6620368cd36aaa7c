"""``/users`` (directory and account management) and ``/groups``."""

from __future__ import annotations

from modelworks.core.models import AuditEvent, User
from modelworks.core.testing.client import expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures"]


def test_directory_shows_minimal_fields_to_everyone(api_client, dave: User, alice: User) -> None:
    page = expect(api_client(dave).get("/users", search="ali"), 200)
    assert page["items"] == [
        {"id": alice.pk, "username": "alice", "display_name": "Alice Admin", "account": None}
    ]


def test_directory_search_matches_names(api_client, dave: User, carol: User) -> None:
    page = expect(api_client(dave).get("/users", search="Reader"), 200)
    assert [u["username"] for u in page["items"]] == ["carol"]


def test_directory_hides_deactivated_accounts_except_from_admins(
    api_client, dave: User, carol: User, instance_admin: User
) -> None:
    carol.is_active = False
    carol.save(update_fields=["is_active"])
    assert expect(api_client(dave).get("/users", search="carol"), 200)["count"] == 0
    expect_error(api_client(dave).get(f"/users/{carol.pk}"), 404, "not_found")
    admin_view = expect(api_client(instance_admin).get("/users", search="carol"), 200)["items"][0]
    assert admin_view["account"]["is_active"] is False


def test_account_details_for_admins_and_the_owner(
    api_client, dave: User, carol: User, instance_admin: User
) -> None:
    assert expect(api_client(dave).get(f"/users/{carol.pk}"), 200)["account"] is None
    assert (
        expect(api_client(carol).get(f"/users/{carol.pk}"), 200)["account"]["email"] == "carol@example.test"
    )
    assert expect(api_client(instance_admin).get(f"/users/{carol.pk}"), 200)["account"]["email"]


def test_instance_admin_creates_users(api_client, instance_admin: User) -> None:
    body = expect(
        api_client(instance_admin).post(
            "/users", {"username": "erin", "email": "erin@example.test", "password": "Tall-Lantern-5521"}
        ),
        201,
    )
    assert body["username"] == "erin" and body["account"]["is_instance_admin"] is False
    erin = User.objects.get(username="erin")
    assert erin.check_password("Tall-Lantern-5521")
    assert AuditEvent.objects.filter(
        action="user.created", target_id=str(erin.pk), actor=instance_admin
    ).exists()


def test_weak_password_is_refused_with_reasons(api_client, instance_admin: User) -> None:
    body = expect_error(
        api_client(instance_admin).post("/users", {"username": "erin", "password": "123"}),
        422,
        "validation_error",
    )
    assert "password" in body["details"] and len(body["details"]["password"]) >= 2
    assert not User.objects.filter(username="erin").exists()


def test_duplicate_username_is_a_field_error(api_client, instance_admin: User, bob: User) -> None:
    body = expect_error(
        api_client(instance_admin).post("/users", {"username": "bob"}), 422, "validation_error"
    )
    assert "username" in body["details"]


def test_others_cannot_create_users(api_client, alice: User) -> None:
    expect_error(api_client(alice).post("/users", {"username": "erin"}), 403, "permission_denied")
    assert not User.objects.filter(username="erin").exists()


def test_groups_seen_by_members_and_admins(
    api_client, group, carol: User, dave: User, instance_admin: User
) -> None:
    assert [g["name"] for g in expect(api_client(carol).get("/groups"), 200)["items"]] == ["analysts"]
    assert expect(api_client(dave).get("/groups"), 200)["count"] == 0
    detail = expect(api_client(carol).get(f"/groups/{group.pk}"), 200)
    assert detail["member_count"] == 1 and [m["username"] for m in detail["members"]] == ["carol"]
    expect_error(api_client(dave).get(f"/groups/{group.pk}"), 404, "not_found")
    assert expect(api_client(instance_admin).get("/groups"), 200)["count"] == 1


def test_instance_admin_manages_groups(api_client, instance_admin: User, dave: User) -> None:
    admin = api_client(instance_admin)
    created = expect(admin.post("/groups", {"name": "engineers"}), 201)
    after_add = expect(admin.post(f"/groups/{created['id']}/members", {"user": "dave"}), 200)
    assert [m["username"] for m in after_add["members"]] == ["dave"]
    after_remove = expect(admin.delete(f"/groups/{created['id']}/members/{dave.pk}"), 200)
    assert after_remove["members"] == []
    actions = list(AuditEvent.objects.filter(action__startswith="group.").values_list("action", flat=True))
    assert {"group.created", "group.member_added", "group.member_removed"} <= set(actions)


def test_duplicate_group_name_is_refused(api_client, instance_admin: User, group) -> None:
    body = expect_error(
        api_client(instance_admin).post("/groups", {"name": "Analysts"}), 422, "validation_error"
    )
    assert "already exists" in body["details"]["name"][0]


def test_group_members_cannot_manage_their_group(api_client, group, carol: User) -> None:
    expect_error(
        api_client(carol).post(f"/groups/{group.pk}/members", {"user": "dave"}), 403, "permission_denied"
    )
    assert group.user_set.count() == 1
