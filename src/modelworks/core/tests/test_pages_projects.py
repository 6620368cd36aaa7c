"""Home, new project, project overview and project settings pages."""

from __future__ import annotations

import pytest
from django.test import Client

from modelworks.core.models import AuditEvent, Project, User

pytest_plugins = ["modelworks.core.testing.fixtures"]


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_home_lists_my_projects_with_my_role_and_the_member_count(project: Project, bob: User) -> None:
    html = as_user(bob).get("/").content.decode()
    assert "Flight delays" in html and "/projects/flight-delays/" in html
    assert "Predict late departures." in html
    assert 'badge-role-contributor">Contributor<' in html
    assert "3 members" in html


def test_home_of_a_new_user_says_what_to_do_next(dave: User) -> None:
    html = as_user(dave).get("/").content.decode()
    assert "You are not in any project yet" in html
    assert "ask a project admin to add you" in html
    assert 'name="slug"' in html  # the "New project" form is right there


def test_home_never_shows_other_peoples_projects(project: Project, dave: User) -> None:
    assert "Flight delays" not in as_user(dave).get("/").content.decode()


def test_creating_a_project_makes_me_its_admin(dave: User) -> None:
    client = as_user(dave)
    response = client.post("/", {"name": "Churn", "slug": "churn", "description": "Who leaves?"})
    assert response.status_code == 303 and response["Location"] == "/projects/churn/"
    project = Project.objects.get(slug="churn")
    assert project.role_of(dave) == "admin"
    assert AuditEvent.objects.filter(action="project.created", project=project, actor=dave).exists()
    page = client.get("/projects/churn/").content.decode()
    assert "Project “Churn” created." in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "X", "slug": "Not A Slug"}, "Use 1 to 64 lower-case letters"),
        ({"name": "X", "slug": "flight-delays"}, "already exists"),
        ({"name": "", "slug": "ok"}, "This field is required."),
    ],
    ids=["bad-slug", "taken-slug", "no-name"],
)
def test_bad_new_project_input_is_explained_and_changes_nothing(
    project: Project, dave: User, data: dict, message: str
) -> None:
    before = Project.objects.count()
    response = as_user(dave).post("/", data)
    html = response.content.decode()
    assert response.status_code == 422
    assert message in html
    assert 'aria-invalid="true"' in html
    assert Project.objects.count() == before


def test_project_page_shows_overview_and_members(project: Project, carol: User) -> None:
    html = as_user(carol).get("/projects/flight-delays/").content.decode()
    assert "<h1>Flight delays</h1>" in html
    assert "Members and roles" in html
    for name in ("Alice Admin", "Bob Contributor", "Carol Reader"):
        assert name in html
    # A reader sees roles, not the controls to change them.
    assert "member_add" not in html and "/members/add/" not in html
    assert "Remove" not in html
    assert "/projects/flight-delays/settings/" not in html


def test_project_pages_are_404_for_non_members(project: Project, dave: User) -> None:
    client = as_user(dave)
    for url in (
        "/projects/flight-delays/",
        "/projects/flight-delays/jobs/",
        "/projects/flight-delays/settings/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "We could not find that page" in response.content.decode()


def test_settings_are_for_admins_with_a_plain_403(project: Project, bob: User) -> None:
    response = as_user(bob).get("/projects/flight-delays/settings/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "You do not have permission" in html
    assert "You are contributor of project &#x27;flight-delays&#x27;; this needs the admin role." in html


def test_admin_renames_the_project(project: Project, alice: User) -> None:
    client = as_user(alice)
    response = client.post(
        "/projects/flight-delays/settings/", {"name": "Flight delays 2024", "description": ""}
    )
    assert response.status_code == 303
    project.refresh_from_db()
    assert project.name == "Flight delays 2024"
    assert AuditEvent.objects.filter(action="project.updated", project=project).exists()
    response = client.post("/projects/flight-delays/settings/", {"name": "", "description": ""})
    assert response.status_code == 422 and "This field is required." in response.content.decode()


def test_deleting_needs_the_short_name_typed(project: Project, alice: User) -> None:
    client = as_user(alice)
    response = client.post("/projects/flight-delays/delete/", {"confirm": "flight"})
    assert response.status_code == 422
    assert "Type “flight-delays” exactly" in response.content.decode()
    assert Project.objects.filter(slug="flight-delays").exists()

    response = client.post("/projects/flight-delays/delete/", {"confirm": "flight-delays"})
    assert response.status_code == 303 and response["Location"] == "/"
    assert not Project.objects.filter(slug="flight-delays").exists()
    assert AuditEvent.objects.filter(action="project.deleted", details__slug="flight-delays").exists()


def test_reader_cannot_delete(project: Project, carol: User) -> None:
    assert (
        as_user(carol).post("/projects/flight-delays/delete/", {"confirm": "flight-delays"}).status_code
        == 403
    )
    assert Project.objects.filter(slug="flight-delays").exists()
