"""``/projects/{slug}/members``: grant, change and revoke roles, audited; the last admin stays."""

from __future__ import annotations

from modelworks.core.models import AuditEvent, Project, ProjectMembership, Role, User
from modelworks.core.testing.client import expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures"]


def test_readers_see_the_members(api_client, project: Project, carol: User) -> None:
    page = expect(api_client(carol).get("/projects/flight-delays/members"), 200)
    assert page["count"] == 3
    assert {(m["user"]["username"], m["role"]) for m in page["items"]} == {
        ("alice", "admin"),
        ("bob", "contributor"),
        ("carol", "reader"),
    }
    assert set(page["items"][0]["user"]) == {"id", "username", "display_name"}


def test_grant_change_revoke_are_audited(api_client, project: Project, alice: User, dave: User) -> None:
    client = api_client(alice)

    granted = expect(client.post("/projects/flight-delays/members", {"user": "dave", "role": "reader"}), 201)
    assert granted["kind"] == "user" and granted["user"]["username"] == "dave" and granted["role"] == "reader"
    event = AuditEvent.objects.get(action="membership.granted", details__principal="dave")
    assert (event.actor, event.project, event.details["role"]) == (alice, project, "reader")

    changed = expect(
        client.patch(f"/projects/flight-delays/members/{granted['id']}", {"role": "contributor"}), 200
    )
    assert changed["role"] == "contributor"
    event = AuditEvent.objects.get(action="membership.changed")
    assert event.details == {"before": "reader", "after": "contributor", "principal": "dave"}

    response = client.delete(f"/projects/flight-delays/members/{granted['id']}")
    assert response.status_code == 204
    assert not ProjectMembership.objects.filter(user=dave).exists()
    event = AuditEvent.objects.get(action="membership.revoked")
    assert event.details == {"principal": "dave", "role": "contributor"}
    expect_error(api_client(dave).get("/projects/flight-delays"), 404, "not_found")


def test_granting_an_existing_member_changes_the_role(api_client, project: Project, alice: User) -> None:
    body = expect(
        api_client(alice).post("/projects/flight-delays/members", {"user": "carol", "role": "admin"}), 200
    )
    assert body["role"] == "admin"
    assert ProjectMembership.objects.filter(project=project, user__username="carol").count() == 1


def test_grant_to_a_group_by_name(api_client, project: Project, alice: User, group) -> None:
    body = expect(
        api_client(alice).post("/projects/flight-delays/members", {"group": "analysts", "role": "reader"}),
        201,
    )
    assert (
        body["kind"] == "group"
        and body["group"] == {"id": group.pk, "name": "analysts"}
        and body["user"] is None
    )


def test_grant_needs_exactly_one_principal(api_client, project: Project, alice: User, group) -> None:
    client = api_client(alice)
    expect_error(client.post("/projects/flight-delays/members", {"role": "reader"}), 422, "validation_error")
    body = expect_error(
        client.post(
            "/projects/flight-delays/members", {"user": "dave", "group": "analysts", "role": "reader"}
        ),
        422,
        "validation_error",
    )
    assert "exactly one" in body["message"]


def test_grant_to_unknown_user_names_the_user(api_client, project: Project, alice: User) -> None:
    body = expect_error(
        api_client(alice).post("/projects/flight-delays/members", {"user": "zed", "role": "reader"}),
        422,
        "validation_error",
    )
    assert "zed" in body["details"]["user"][0]
    assert project.memberships.count() == 3


def test_unknown_role_is_refused(api_client, project: Project, alice: User) -> None:
    body = expect_error(
        api_client(alice).post("/projects/flight-delays/members", {"user": "dave", "role": "owner"}),
        422,
        "validation_error",
    )
    assert "role" in body["details"]


def test_last_admin_cannot_be_demoted_or_removed(api_client, project: Project, alice: User) -> None:
    client = api_client(alice)
    mine = ProjectMembership.objects.get(project=project, user=alice)
    body = expect_error(
        client.patch(f"/projects/flight-delays/members/{mine.pk}", {"role": "reader"}), 409, "conflict"
    )
    assert "last admin" in body["message"] and "role" in body["details"]
    body = expect_error(client.delete(f"/projects/flight-delays/members/{mine.pk}"), 409, "conflict")
    assert "last admin" in body["message"]
    mine.refresh_from_db()
    assert mine.role == Role.ADMIN
    assert not AuditEvent.objects.filter(action__in=["membership.changed", "membership.revoked"]).exists()


def test_an_admin_can_step_down_once_another_admin_exists(api_client, project: Project, alice: User) -> None:
    client = api_client(alice)
    expect(client.post("/projects/flight-delays/members", {"user": "bob", "role": "admin"}), 200)
    mine = ProjectMembership.objects.get(project=project, user=alice)
    expect(client.patch(f"/projects/flight-delays/members/{mine.pk}", {"role": "reader"}), 200)
    assert expect(client.get("/projects/flight-delays"), 200)["role"] == "reader"
    expect_error(client.patch("/projects/flight-delays", {"name": "X"}), 403, "permission_denied")


def test_membership_of_another_project_is_not_found(
    api_client, project: Project, alice: User, dave: User
) -> None:
    from modelworks.core import services

    other = services.create_project(actor=dave, slug="other", name="Other")
    theirs = ProjectMembership.objects.get(project=other)
    expect_error(
        api_client(alice).patch(f"/projects/flight-delays/members/{theirs.pk}", {"role": "reader"}),
        404,
        "not_found",
    )
    expect_error(api_client(alice).delete(f"/projects/flight-delays/members/{theirs.pk}"), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.role == Role.ADMIN
