"""``/audit``: read-only, filtered, visible to instance admins (all) and project admins (their projects)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from modelworks.core import services
from modelworks.core.models import AuditEvent, Project, User
from modelworks.core.testing.client import expect, expect_error

pytest_plugins = ["modelworks.core.testing.fixtures"]


def test_project_admin_sees_entries_of_their_projects_only(
    api_client, project: Project, alice: User, dave: User
) -> None:
    services.create_project(actor=dave, slug="daves-own", name="Dave's own")
    page = expect(api_client(alice).get("/audit"), 200)
    assert page["count"] > 0
    assert {e["project"] for e in page["items"]} == {"flight-delays"}
    dave_page = expect(api_client(dave).get("/audit"), 200)
    assert {e["project"] for e in dave_page["items"]} == {"daves-own"}


def test_members_who_are_not_admins_see_nothing(api_client, project: Project, carol: User) -> None:
    assert expect(api_client(carol).get("/audit"), 200) == {"items": [], "count": 0, "limit": 50, "offset": 0}


def test_instance_admin_sees_everything(api_client, project: Project, instance_admin: User) -> None:
    page = expect(api_client(instance_admin).get("/audit", limit=500), 200)
    assert page["count"] == AuditEvent.objects.count()


def test_filters(api_client, project: Project, alice: User, instance_admin: User) -> None:
    client = api_client(instance_admin)
    granted = expect(client.get("/audit", action="membership.granted"), 200)["items"]
    assert granted and {e["action"] for e in granted} == {"membership.granted"}
    by_alice = expect(client.get("/audit", actor="alice"), 200)["items"]
    assert by_alice and {e["actor"] for e in by_alice} == {"alice"}
    by_project = expect(client.get("/audit", project="flight-delays"), 200)["items"]
    assert by_project and {e["project"] for e in by_project} == {"flight-delays"}
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert expect(client.get("/audit", since=future), 200)["count"] == 0
    assert expect(client.get("/audit", until=future), 200)["count"] == AuditEvent.objects.count()
    expect_error(client.get("/audit", since="yesterday"), 422, "validation_error")


def test_entries_newest_first_with_their_facts(api_client, project: Project, alice: User) -> None:
    items = expect(api_client(alice).get("/projects/flight-delays/audit"), 200)["items"]
    assert [e["action"] for e in items] == ["membership.granted", "membership.granted", "project.created"]
    assert items[0]["details"] == {"role": "reader", "principal": "carol"}
    assert items[0]["actor"] == "alice" and items[0]["target_type"] == "core.projectmembership"


def test_project_audit_needs_project_admin(api_client, project: Project, bob: User, dave: User) -> None:
    expect_error(api_client(bob).get("/projects/flight-delays/audit"), 403, "permission_denied")
    expect_error(api_client(dave).get("/projects/flight-delays/audit"), 404, "not_found")


def test_no_method_changes_an_entry(api_client, project: Project, instance_admin: User) -> None:
    client = api_client(instance_admin)
    entry = AuditEvent.objects.first()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.request(method, "/audit", {}).status_code == 405
        assert client.request(method, f"/audit/{entry.pk}", {}).status_code == 404
    assert AuditEvent.objects.filter(pk=entry.pk, action=entry.action).exists()
