"""The portfolio REST API on the real database: use-case CRUD, filters, stage moves, demand intake,
errors with their stable codes and messages."""

from __future__ import annotations

from typing import Any

import pytest

from modelworks.core import services as core_services
from modelworks.core.models import AuditEvent
from modelworks.core.testing.client import expect, expect_error
from modelworks.core.testing.fixtures import make_user
from modelworks.governance.models import PortfolioMember, PortfolioRole, UseCase

pytest_plugins = ["modelworks.core.testing.fixtures"]
pytestmark = pytest.mark.django_db

UC = "/governance/use-cases"


@pytest.fixture
def lead(alice: Any) -> Any:
    PortfolioMember.objects.create(user=alice, role=PortfolioRole.LEAD)
    return alice


def _create(client: Any, **body: Any) -> dict[str, Any]:
    return expect(client.post(UC, {"title": "Late departure alerts", **body}), 201)


def test_crud_round_trip(api_client: Any, lead: Any, bob: Any, project: Any) -> None:
    client = api_client(lead)
    body = _create(
        client,
        business_owner="bob",
        expected_value_recurring=120000,
        value_formula="1,000 delays x EUR 120",
        feasibility_score=4,
        risk_level="limited",
        projects=["flight-delays"],
        currency="eur",
    )
    assert body["slug"] == "late-departure-alerts"
    assert body["business_owner"]["username"] == "bob"
    assert body["stage"]["key"] == "qualified"
    assert body["projects"] == ["flight-delays"]
    assert body["currency"] == "EUR"
    assert body["priority_score"] == "96000.00"
    assert [c["to_stage"] for c in body["stage_history"]] == ["qualified"]
    changed = expect(client.patch(f"{UC}/late-departure-alerts", {"sponsor": "COO", "projects": []}), 200)
    assert (changed["sponsor"], changed["projects"]) == ("COO", [])
    moved = expect(client.post(f"{UC}/late-departure-alerts/stage", {"stage": "poc", "comment": "go"}), 200)
    assert [c["to_stage"] for c in moved["stage_history"]] == ["qualified", "poc"]
    expect(client.delete(f"{UC}/late-departure-alerts"), 204)
    assert not UseCase.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="governance.use_case_").count() == 4


def test_list_filters_and_sorts(api_client: Any, lead: Any) -> None:
    client = api_client(lead)
    _create(
        client,
        title="Alpha",
        business_unit="Ops",
        feasibility_score=2,
        expected_value_one_off=10,
        value_formula="f",
    )
    _create(
        client,
        title="Beta",
        business_unit="Finance",
        feasibility_score=5,
        expected_value_one_off=9,
        value_formula="f",
    )
    titles = lambda r: [i["title"] for i in expect(r, 200)["items"]]  # noqa: E731
    assert titles(client.get(UC)) == ["Alpha", "Beta"]
    assert titles(client.get(UC, sort="-priority")) == ["Beta", "Alpha"]
    assert titles(client.get(UC, unit="Finance")) == ["Beta"]
    assert titles(client.get(UC, q="alp")) == ["Alpha"]
    expect_error(client.get(UC, sort="nonsense"), 422, "validation_error")


@pytest.mark.parametrize(
    ("body", "field", "match"),
    [
        ({"title": ""}, "title", "at least 1 character"),
        ({"title": "x", "feasibility_score": 9}, "feasibility_score", "less than or equal to 5"),
        ({"title": "x", "business_owner": "nobody"}, "business_owner", "No active user 'nobody'"),
        ({"title": "x", "projects": ["secret"]}, "projects", "you are not a member of 'secret'"),
        ({"title": "x", "stage": "nowhere"}, "stage", "No pipeline stage 'nowhere'"),
        ({"title": "x", "expected_value_one_off": 5}, "value_formula", "Write down how"),
        ({"title": "x", "risk_level": "huge"}, "risk_level", "Input should be"),
        ({"title": "x", "colour": "red"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_create_refuses_bad_bodies(
    api_client: Any, lead: Any, body: dict[str, Any], field: str, match: str
) -> None:
    response = api_client(lead).post(UC, body)
    error = expect_error(response, 422, "validation_error")
    assert field in error["details"], error
    assert match in " ".join(error["details"][field])


def test_hidden_use_cases_are_404_and_owner_limits(api_client: Any, lead: Any, bob: Any, dave: Any) -> None:
    _create(api_client(lead), business_owner="bob")
    outsider = api_client(dave)
    expect_error(outsider.get(f"{UC}/late-departure-alerts"), 404, "not_found")
    expect_error(outsider.patch(f"{UC}/late-departure-alerts", {"sponsor": "x"}), 404, "not_found")
    assert expect(outsider.get(UC), 200)["count"] == 0
    owner = api_client(bob)
    expect(owner.patch(f"{UC}/late-departure-alerts", {"sponsor": "COO"}), 200)
    error = expect_error(
        owner.patch(f"{UC}/late-departure-alerts", {"business_owner": "dave"}), 403, "permission_denied"
    )
    assert "Only governance leads can hand" in error["message"]
    expect_error(
        owner.post(f"{UC}/late-departure-alerts/stage", {"stage": "retired"}), 403, "permission_denied"
    )
    expect_error(owner.delete(f"{UC}/late-departure-alerts"), 403, "permission_denied")
    expect_error(api_client(None).get(UC), 401, "not_authenticated")


def test_intake_flow(api_client: Any, lead: Any, dave: Any, bob: Any) -> None:
    submitter = api_client(dave)
    idea = expect(
        submitter.post(
            "/governance/ideas",
            {
                "title": "Baggage delays",
                "problem_statement": "Bags miss connections.",
                "expected_benefit": "Fewer lost bags",
                "value_estimate": 5000,
            },
        ),
        201,
    )
    assert (idea["stage"]["key"], idea["submitted_by"]["username"], idea["expected_benefit"]) == (
        "idea",
        "dave",
        "Fewer lost bags",
    )
    second = expect(
        submitter.post("/governance/ideas", {"title": "Coffee", "problem_statement": "Queues"}), 201
    )
    expect_error(submitter.get("/governance/ideas/queue"), 403, "permission_denied")
    expect_error(submitter.post(f"/governance/ideas/{idea['slug']}/qualify", {}), 403, "permission_denied")
    lead_client = api_client(lead)
    queue = expect(lead_client.get("/governance/ideas/queue"), 200)
    assert [i["title"] for i in queue["items"]] == ["Baggage delays", "Coffee"]
    qualified = expect(
        lead_client.post(f"/governance/ideas/{idea['slug']}/qualify", {"business_owner": "bob"}), 200
    )
    assert (qualified["stage"]["key"], qualified["business_owner"]["username"]) == ("qualified", "bob")
    error = expect_error(
        lead_client.post(f"/governance/ideas/{second['slug']}/reject", {"reason": " "}),
        422,
        "validation_error",
    )
    assert "Say why the idea is rejected" in error["message"]
    expect(
        lead_client.post(f"/governance/ideas/{second['slug']}/reject", {"reason": "Not an AI problem"}), 200
    )
    mine = expect(submitter.get("/governance/ideas"), 200)["items"]
    assert [(i["title"], i["stage"]["key"], i["rejection_reason"]) for i in mine] == [
        ("Coffee", "rejected", "Not an AI problem"),
        ("Baggage delays", "qualified", ""),
    ]
    again = expect_error(
        lead_client.post(f"/governance/ideas/{idea['slug']}/reject", {"reason": "x"}), 422, "validation_error"
    )
    assert "not waiting in intake" in again["message"]
    other = make_user("zed")
    expect_error(api_client(other).get(f"{UC}/{idea['slug']}"), 404, "not_found")


def test_linked_project_slugs_are_filtered_for_non_viewers(
    api_client: Any, lead: Any, carol: Any, project: Any, dave: Any
) -> None:
    other = core_services.create_project(actor=dave, slug="daves-lab", name="Dave's lab")
    core_services.grant_membership(other, actor=dave, user=lead, role="reader")
    _create(api_client(lead), projects=["flight-delays", "daves-lab"])
    assert expect(api_client(lead).get(f"{UC}/late-departure-alerts"), 200)["projects"] == [
        "daves-lab",
        "flight-delays",
    ]
    assert expect(api_client(carol).get(f"{UC}/late-departure-alerts"), 200)["projects"] == ["flight-delays"]
    assert [s["key"] for s in expect(api_client(carol).get("/governance/stages"), 200)["items"]][:2] == [
        "idea",
        "qualified",
    ]
