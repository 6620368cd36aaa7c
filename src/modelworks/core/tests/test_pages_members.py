"""The members panel: add, change role, remove, with HTMX fragments and the services' refusals."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from modelworks.core.models import AuditEvent, Project, ProjectMembership, User

pytest_plugins = ["modelworks.core.testing.fixtures"]

HX = {"HX-Request": "true"}
BASE = "/projects/flight-delays"


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def membership(project: Project, user: User) -> ProjectMembership:
    return ProjectMembership.objects.get(project=project, user=user)


def test_admin_sees_the_controls(project: Project, alice: User) -> None:
    html = as_user(alice).get(f"{BASE}/").content.decode()
    assert f'hx-post="{BASE}/members/add/"' in html
    assert 'list="principal-suggestions"' in html
    assert 'hx-confirm="Remove carol from Flight delays?' in html
    assert '<label class="visually-hidden" for="role-' in html


def test_adding_a_user_answers_with_the_panel_fragment(project: Project, alice: User, dave: User) -> None:
    response = as_user(alice).post(
        f"{BASE}/members/add/", {"principal": "dave", "role": "contributor"}, headers=HX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="members"')
    assert "<html" not in html  # a fragment, not a page
    assert "Dave Outsider" in html
    assert 'hx-swap-oob="true"' in html and "dave added as contributor." in html
    assert membership(project, dave).role == "contributor"
    assert AuditEvent.objects.filter(action="membership.granted", details__principal="dave").exists()
    assert response["Vary"].count("HX-Request") == 1


def test_adding_without_javascript_redirects_back(project: Project, alice: User, dave: User) -> None:
    response = as_user(alice).post(f"{BASE}/members/add/", {"principal": "dave", "role": "reader"})
    assert response.status_code == 303 and response["Location"] == f"{BASE}/"


def test_adding_a_group(project: Project, alice: User, group: Group) -> None:
    response = as_user(alice).post(
        f"{BASE}/members/add/", {"principal": "group:analysts", "role": "reader"}, headers=HX
    )
    assert response.status_code == 200
    assert ProjectMembership.objects.get(project=project, group=group).role == "reader"
    assert "analysts" in response.content.decode()


@pytest.mark.parametrize(
    ("principal", "message"),
    [
        ("nobody", "No active user or group named “nobody”"),
        ("group:nope", "No group named “nope”"),
        ("carol", "carol is already reader here; change the role in the list instead."),
        ("", "This field is required."),
    ],
    ids=["unknown-user", "unknown-group", "already-member", "empty"],
)
def test_bad_additions_are_explained_inline(
    project: Project, alice: User, principal: str, message: str
) -> None:
    before = ProjectMembership.objects.count()
    response = as_user(alice).post(
        f"{BASE}/members/add/", {"principal": principal, "role": "reader"}, headers=HX
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert html.lstrip().startswith('<section id="members"')
    assert message in html
    assert 'aria-invalid="true"' in html
    assert ProjectMembership.objects.count() == before


def test_changing_a_role(project: Project, alice: User, carol: User) -> None:
    m = membership(project, carol)
    response = as_user(alice).post(f"{BASE}/members/{m.pk}/role/", {"role": "contributor"}, headers=HX)
    assert response.status_code == 200
    assert membership(project, carol).role == "contributor"
    assert "carol is now contributor." in response.content.decode()
    assert AuditEvent.objects.filter(action="membership.changed", details__after="contributor").exists()


def test_the_last_admin_cannot_step_down_and_is_told_why(project: Project, alice: User) -> None:
    m = membership(project, alice)
    client = as_user(alice)
    for url, data in (
        (f"{BASE}/members/{m.pk}/role/", {"role": "reader"}),
        (f"{BASE}/members/{m.pk}/remove/", {}),
    ):
        response = client.post(url, data, headers=HX)
        html = response.content.decode()
        assert response.status_code == 422
        assert "This is the project&#x27;s last admin; make someone else admin first." in html
        assert 'class="row-error"' in html and 'role="alert"' in html
    assert membership(project, alice).role == "admin"


def test_the_refusal_also_shows_without_javascript(project: Project, alice: User) -> None:
    m = membership(project, alice)
    response = as_user(alice).post(f"{BASE}/members/{m.pk}/remove/")
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html and "last admin" in html


def test_removing_a_member(project: Project, alice: User, carol: User) -> None:
    m = membership(project, carol)
    response = as_user(alice).post(f"{BASE}/members/{m.pk}/remove/", headers=HX)
    assert response.status_code == 200
    assert not ProjectMembership.objects.filter(pk=m.pk).exists()
    assert "Carol Reader" not in response.content.decode().split("</table>")[0]
    assert as_user(carol).get(f"{BASE}/").status_code == 404


def test_an_admin_who_removes_themself_is_sent_home(project: Project, alice: User, bob: User) -> None:
    as_user(alice).post(f"{BASE}/members/{membership(project, bob).pk}/role/", {"role": "admin"})
    response = as_user(bob).post(f"{BASE}/members/{membership(project, bob).pk}/remove/", headers=HX)
    assert response.status_code == 204 and response["HX-Redirect"] == "/"


def test_memberships_of_another_project_are_not_found(project: Project, alice: User, dave: User) -> None:
    from modelworks.core import services

    other = services.create_project(actor=dave, slug="other", name="Other")
    response = as_user(alice).post(f"{BASE}/members/{membership(other, dave).pk}/remove/", headers=HX)
    assert response.status_code == 404
    assert membership(other, dave)


@pytest.mark.parametrize("who", ["carol", "bob"])
def test_readers_and_contributors_cannot_change_members(project: Project, dave: User, who: str) -> None:
    user = User.objects.get(username=who)
    client = as_user(user)
    target = membership(project, user)
    assert client.post(f"{BASE}/members/add/", {"principal": "dave", "role": "admin"}).status_code == 403
    assert client.post(f"{BASE}/members/{target.pk}/role/", {"role": "admin"}).status_code == 403
    assert client.post(f"{BASE}/members/{target.pk}/remove/").status_code == 403
    assert client.get(f"{BASE}/members/search/?principal=d").status_code == 403
    assert membership(project, user).role == target.role


def test_search_suggests_users_and_groups_not_yet_members(
    project: Project, alice: User, dave: User, group: Group
) -> None:
    html = as_user(alice).get(f"{BASE}/members/search/", {"principal": "a"}, headers=HX).content.decode()
    assert '<option value="dave">' in html
    assert '<option value="group:analysts">' in html
    assert 'value="carol"' not in html  # already a member
    html = (
        as_user(alice).get(f"{BASE}/members/search/", {"principal": "group:ana"}, headers=HX).content.decode()
    )
    assert '<option value="group:analysts">' in html and 'value="dave"' not in html
