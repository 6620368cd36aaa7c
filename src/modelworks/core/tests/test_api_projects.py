"""``/projects``: only the caller's projects are listed; create, change and delete are audited."""

from __future__ import annotations

from modelworks.core import services
from modelworks.core.models import AuditEvent, Project, ProjectMembership, Role, User
from modelworks.core.testing.client import expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures"]


def test_list_shows_only_the_callers_projects_with_their_role(
    api_client, project: Project, dave: User
) -> None:
    services.create_project(actor=dave, slug="daves-own", name="Dave's own")

    carol_page = expect(api_client(project.memberships.get(role="reader").user).get("/projects"), 200)
    assert [(p["slug"], p["role"]) for p in carol_page["items"]] == [("flight-delays", "reader")]
    dave_page = expect(api_client(dave).get("/projects"), 200)
    assert [(p["slug"], p["role"]) for p in dave_page["items"]] == [("daves-own", "admin")]
    assert dave_page["count"] == 1


def test_group_membership_shows_the_project_with_the_strongest_role(
    api_client, project: Project, alice: User, dave: User, group
) -> None:
    services.add_group_member(group, dave, actor=alice)
    services.grant_membership(project, actor=alice, group=group, role=Role.CONTRIBUTOR)
    page = expect(api_client(dave).get("/projects"), 200)
    assert [(p["slug"], p["role"]) for p in page["items"]] == [("flight-delays", "contributor")]
    # carol is reader directly and contributor through the group: the stronger role wins
    carol = User.objects.get(username="carol")
    page = expect(api_client(carol).get("/projects"), 200)
    assert page["items"][0]["role"] == "contributor"


def test_instance_admin_lists_every_project(
    api_client, project: Project, dave: User, instance_admin: User
) -> None:
    services.create_project(actor=dave, slug="daves-own", name="Dave's own")
    page = expect(api_client(instance_admin).get("/projects"), 200)
    assert {p["slug"] for p in page["items"]} == {"flight-delays", "daves-own"}
    assert {p["role"] for p in page["items"]} == {"admin"}


def test_create_makes_the_caller_admin_and_is_audited(api_client, dave: User) -> None:
    body = expect(
        api_client(dave).post("/projects", {"slug": "churn", "name": "Churn", "description": "d"}), 201
    )
    assert body["slug"] == "churn" and body["role"] == "admin" and body["description"] == "d"
    membership = ProjectMembership.objects.get(project__slug="churn")
    assert (membership.user, membership.role) == (dave, Role.ADMIN)
    assert AuditEvent.objects.filter(action="project.created", project_slug="churn", actor=dave).exists()


def test_get_one_project(api_client, project: Project, bob: User) -> None:
    body = expect(api_client(bob).get("/projects/flight-delays"), 200)
    assert body["name"] == "Flight delays" and body["role"] == "contributor"


def test_update_changes_only_the_fields_sent(api_client, project: Project, alice: User) -> None:
    body = expect(api_client(alice).patch("/projects/flight-delays", {"name": "Delays"}), 200)
    assert body["name"] == "Delays" and body["description"] == "Predict late departures."
    event = AuditEvent.objects.get(action="project.updated")
    assert event.details == {"before": {"name": "Flight delays"}, "after": {"name": "Delays"}}


def test_slug_cannot_be_changed(api_client, project: Project, alice: User) -> None:
    body = expect_error(
        api_client(alice).patch("/projects/flight-delays", {"slug": "x"}), 422, "validation_error"
    )
    assert "slug" in body["details"]
    assert Project.objects.filter(slug="flight-delays").exists()


def test_delete_removes_the_project_and_is_audited(api_client, project: Project, alice: User) -> None:
    response = api_client(alice).delete("/projects/flight-delays")
    assert response.status_code == 204 and response.content == b""
    assert not Project.objects.exists()
    assert AuditEvent.objects.filter(action="project.deleted", details__slug="flight-delays").exists()


def test_contributor_cannot_delete(api_client, project: Project, bob: User) -> None:
    expect_error(api_client(bob).delete("/projects/flight-delays"), 403, "permission_denied")
    assert Project.objects.exists()
