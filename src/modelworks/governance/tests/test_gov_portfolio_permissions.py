"""Who may use each portfolio route, for the portfolio's own actors (the generated suite in
``tests/test_route_permissions.py`` covers the six project-role actors through
``governance.testing_portfolio``). Here: anonymous, a signed-in non-member, a portfolio viewer, a
governance lead, the business owner and the submitter (both without any portfolio or project role).

The world: ``uc`` (qualified; business owner bob, submitted by sam) and ``idea`` (in intake,
submitted by sam). A use case someone may not see is always 404, never 403.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from modelworks.core.models import ApiToken
from modelworks.core.testing.client import ApiClient
from modelworks.core.testing.fixtures import make_user
from modelworks.governance.models import PortfolioMember, PortfolioRole
from modelworks.governance.services import portfolio_intake as intake

pytest_plugins = ["modelworks.core.testing.fixtures"]
pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "nonmember", "viewer", "lead", "owner", "submitter")


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    users = {
        "nonmember": make_user("nina"),
        "viewer": make_user("vic"),
        "lead": make_user("gwen"),
        "owner": make_user("bob"),
        "submitter": make_user("sam"),
    }
    PortfolioMember.objects.create(user=users["viewer"], role=PortfolioRole.VIEWER)
    PortfolioMember.objects.create(user=users["lead"], role=PortfolioRole.LEAD)
    uc = intake.submit_idea(actor=users["submitter"], title="Use case", problem_statement="A problem")
    intake.qualify_idea(uc, actor=users["lead"], business_owner=users["owner"])
    intake.submit_idea(actor=users["submitter"], title="Idea", problem_statement="Another problem")
    return users


# (method, path, body, {actor: status}); actors left out get ``default``.
def _row(method: str, path: str, body: Any, default: int, **statuses: int) -> tuple[Any, ...]:
    expected = {actor: statuses.get(actor, default) for actor in ACTORS}
    expected["anonymous"] = statuses.get("anonymous", 401)
    return (method, path, body, expected)


API = [
    _row("GET", "/governance/use-cases", None, 200),
    _row("POST", "/governance/use-cases", {"title": "New one"}, 403, lead=201),
    _row("GET", "/governance/use-cases/use-case", None, 200, nonmember=404),
    _row(
        "PATCH", "/governance/use-cases/use-case", {"sponsor": "COO"}, 403, nonmember=404, lead=200, owner=200
    ),
    _row(
        "POST",
        "/governance/use-cases/use-case/stage",
        {"stage": "poc"},
        403,
        nonmember=404,
        lead=200,
        owner=200,
    ),
    _row("DELETE", "/governance/use-cases/use-case", None, 403, nonmember=404, lead=204),
    _row("GET", "/governance/stages", None, 200),
    _row("POST", "/governance/ideas", {"title": "Mine", "problem_statement": "p"}, 201),
    _row("GET", "/governance/ideas", None, 200),
    _row("GET", "/governance/ideas/queue", None, 403, lead=200),
    _row("POST", "/governance/ideas/idea/qualify", {}, 403, nonmember=404, owner=404, lead=200),
    _row("POST", "/governance/ideas/idea/reject", {"reason": "No"}, 403, nonmember=404, owner=404, lead=200),
]

PAGES = [
    _row("GET", "/governance/portfolio/", None, 200, anonymous=302),
    _row("GET", "/governance/use-cases/new/", None, 403, anonymous=302, lead=200),
    _row("GET", "/governance/use-cases/use-case/", None, 200, anonymous=302, nonmember=404),
    _row(
        "GET",
        "/governance/use-cases/use-case/edit/",
        None,
        403,
        anonymous=302,
        nonmember=404,
        lead=200,
        owner=200,
    ),
    _row("GET", "/governance/use-cases/use-case/delete/", None, 403, anonymous=302, nonmember=404, lead=200),
    _row(
        "POST",
        "/governance/use-cases/use-case/stage/",
        {"stage": "poc"},
        403,
        anonymous=302,
        nonmember=404,
        lead=303,
        owner=303,
    ),
    _row("GET", "/governance/ideas/new/", None, 200, anonymous=302),
    _row("GET", "/governance/ideas/mine/", None, 200, anonymous=302),
    _row("GET", "/governance/ideas/queue/", None, 403, anonymous=302, lead=200),
    _row(
        "POST", "/governance/ideas/idea/reject/", {}, 403, anonymous=302, nonmember=404, owner=404, lead=422
    ),
    _row("GET", "/governance/portfolio/pipeline/", None, 403, anonymous=302, lead=200),
    _row("GET", "/governance/portfolio/members/", None, 403, anonymous=302),
]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "path", "body", "expected"), API, ids=[f"{r[0]} {r[1]}" for r in API])
def test_api_permissions(
    world: dict[str, Any], actor: str, method: str, path: str, body: Any, expected: dict[str, int]
) -> None:
    user = world.get(actor)
    token = ApiToken.issue(user, "test")[1] if user else None
    response = ApiClient(token=token).request(method, path, body)
    assert response.status_code == expected[actor], f"{actor} {method} {path}: {response.content[:300]!r}"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "path", "body", "expected"), PAGES, ids=[f"{r[0]} {r[1]}" for r in PAGES])
def test_page_permissions(
    world: dict[str, Any], actor: str, method: str, path: str, body: Any, expected: dict[str, int]
) -> None:
    client = Client()
    if actor in world:
        client.force_login(world[actor])
    response = client.get(path) if method == "GET" else client.post(path, body or {})
    assert response.status_code == expected[actor], f"{actor} {method} {path}"
    if actor == "anonymous":
        assert response["Location"].startswith("/login")  # the login page, with ?next=
