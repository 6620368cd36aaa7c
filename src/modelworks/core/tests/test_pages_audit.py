"""Audit log pages: who sees what, filters, pagination; read-only."""

from __future__ import annotations

from django.test import Client

from modelworks.core import audit, services
from modelworks.core.models import AuditEvent, Project, User

pytest_plugins = ["modelworks.core.testing.fixtures"]

HX = {"HX-Request": "true"}


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_instance_admins_see_everything(project: Project, dave: User, instance_admin: User) -> None:
    services.create_project(actor=dave, slug="dave-only", name="Dave only")
    html = as_user(instance_admin).get("/audit/").content.decode()
    assert "Every recorded action on this instance." in html
    assert "flight-delays" in html and "dave-only" in html


def test_project_admins_see_only_their_projects(project: Project, alice: User, dave: User) -> None:
    services.create_project(actor=dave, slug="dave-only", name="Dave only")
    html = as_user(alice).get("/audit/").content.decode()
    assert "membership.granted" in html and "flight-delays" in html
    assert "dave-only" not in html


def test_others_get_a_403_that_explains_who_may_look(project: Project, carol: User, dave: User) -> None:
    for user in (carol, dave):
        response = as_user(user).get("/audit/")
        assert response.status_code == 403
        assert "The audit log is shown to project admins" in response.content.decode()


def test_the_audit_link_is_shown_only_to_those_who_may_follow_it(
    project: Project, alice: User, carol: User
) -> None:
    assert 'href="/audit/"' in as_user(alice).get("/").content.decode()
    assert 'href="/audit/"' not in as_user(carol).get("/").content.decode()


def test_filters_by_action_user_and_project(project: Project, alice: User, instance_admin: User) -> None:
    services.create_project(actor=instance_admin, slug="other", name="Other")
    client = as_user(instance_admin)
    html = client.get(
        "/audit/", {"action": "membership", "project": "flight-delays"}, headers=HX
    ).content.decode()
    assert html.lstrip().startswith('<div id="audit-results">')
    assert "<html" not in html
    assert '<th scope="col">Project</th>' in html  # the fragment keeps the columns of the page
    table = html.split('id="audit-table"')[1]  # the filter's suggestions name every action
    assert "membership.granted" in table and "project.created" not in table
    html = client.get("/audit/", {"user": "root"}).content.decode()
    assert "other" in html and "flight-delays</a>" not in html


def test_filters_by_date_and_explains_a_reversed_range(project: Project, instance_admin: User) -> None:
    client = as_user(instance_admin)
    assert "Nothing" not in client.get("/audit/", {"date_from": "2000-01-01"}).content.decode()
    html = client.get("/audit/", {"date_to": "2000-01-01"}).content.decode()
    assert "No entry matches these filters" in html
    response = client.get("/audit/", {"date_from": "2030-02-01", "date_to": "2030-01-01"}, headers=HX)
    html = response.content.decode()
    assert "The end date is before the start date" in html
    assert "membership.granted" not in html.split('id="audit-table"')[1]


def test_pagination(project: Project, instance_admin: User) -> None:
    for i in range(60):
        audit.record("test.event", actor=instance_admin, target_repr=f"thing {i}")
    client = as_user(instance_admin)
    first = client.get("/audit/", {"action": "test.event"}).content.decode()
    assert "1\N{EN DASH}50 of 60" in first and "thing 59" in first and "thing 0<" not in first
    assert 'href="?action=test.event&amp;page=2"' in first
    second = client.get("/audit/", {"action": "test.event", "page": 2}).content.decode()
    assert "51\N{EN DASH}60 of 60" in second and "thing 0<" in second


def test_project_audit_is_for_the_projects_admins(
    project: Project, alice: User, bob: User, dave: User
) -> None:
    html = as_user(alice).get("/projects/flight-delays/audit/").content.decode()
    assert "Who did what in Flight delays" in html and "membership.granted" in html
    assert 'name="project"' not in html  # the project is given
    assert as_user(bob).get("/projects/flight-delays/audit/").status_code == 403
    assert as_user(dave).get("/projects/flight-delays/audit/").status_code == 404


def test_the_pages_are_read_only(project: Project, instance_admin: User) -> None:
    client = as_user(instance_admin)
    before = AuditEvent.objects.count()
    assert client.post("/audit/").status_code == 405
    assert client.post("/projects/flight-delays/audit/").status_code == 405
    assert AuditEvent.objects.count() == before
