"""The portfolio pages: list with filters and the prioritisation matrix (labels escaped), a use
case's page, the forms with their errors, intake, the pipeline's refusal to delete a stage in use."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from modelworks.governance.models import PortfolioMember, PortfolioRole, Stage, UseCase
from modelworks.governance.services import portfolio as services
from modelworks.governance.services import portfolio_intake as intake
from modelworks.governance.services.portfolio_matrix import MatrixPoint, prioritisation_matrix

pytest_plugins = ["modelworks.core.testing.fixtures"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(alice: Any) -> Any:
    PortfolioMember.objects.create(user=alice, role=PortfolioRole.LEAD)
    return alice


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _use_case(lead: Any, title: str, **values: Any) -> UseCase:
    values.setdefault("value_formula", "estimate")
    return services.create_use_case(actor=lead, title=title, **values)


def test_portfolio_page_filters_and_matrix(lead: Any, project: Any) -> None:
    _use_case(
        lead,
        '<script>alert("x")</script> & co',
        business_unit="Ops",
        feasibility_score=5,
        expected_value_recurring=Decimal("90000"),
        cost_people_days=Decimal("40"),
    )
    _use_case(
        lead,
        "Invoice matching",
        business_unit="Finance",
        feasibility_score=2,
        expected_value_one_off=Decimal("1000"),
    )
    _use_case(lead, "Unscored idea", business_unit="Finance")
    page = _client(lead).get("/governance/portfolio/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in text
    for label in ("Quick wins", "Strategic bets", "Fill-ins", "Deprioritise"):
        assert label in text
    assert "Priority = first-year value × feasibility ÷ 5" in text  # noqa: RUF001
    assert "1 use case without a feasibility score is not on the matrix" in text
    filtered = (
        _client(lead).get("/governance/portfolio/", {"unit": "Finance", "sort": "-value"}).content.decode()
    )
    assert "Invoice matching" in filtered and "alert(" not in filtered.split("Use cases <span")[1]
    bad = _client(lead).get("/governance/portfolio/", {"risk": "extreme"})
    assert "Select a valid choice" in bad.content.decode()


def test_matrix_places_use_cases_in_quadrants() -> None:
    def point(title: str, feasibility: int, value: int) -> MatrixPoint:
        return MatrixPoint(title, f"/u/{title}", feasibility, Decimal(value), Decimal(10), "high", "Pilot")

    svg, split = prioritisation_matrix(
        [point("A", 5, 100), point("B", 1, 100), point("C", 5, 1), point("D", 1, 1), point("E", 3, 50)]
    )
    assert split == Decimal("50.00")
    assert "Quick wins: 2; Strategic bets: 1; Fill-ins: 1; Deprioritise: 1" in svg
    assert svg.count('<a class="mw-bubble') == 5
    empty, none = prioritisation_matrix([])
    assert none is None and "No use case has a feasibility score yet" in empty


def test_detail_create_edit_and_move(lead: Any, bob: Any, project: Any) -> None:
    client = _client(lead)
    form = {
        "title": "Fuel burn",
        "business_owner": bob.pk,
        "expected_value_one_off": "0",
        "expected_value_recurring": "1000",
        "currency": "eur",
        "cost_people_days": "5",
        "cost_compute": "0",
        "risk_level": "minimal",
        "projects": [project.pk],
    }
    refused = client.post("/governance/use-cases/new/", form)
    assert refused.status_code == 422
    assert "Write down how the expected value is computed" in refused.content.decode()
    created = client.post("/governance/use-cases/new/", {**form, "value_formula": "10 flights x 100"})
    assert created.status_code == 303 and created["Location"] == "/governance/use-cases/fuel-burn/"
    detail = client.get("/governance/use-cases/fuel-burn/").content.decode()
    for expected in (
        "Fuel burn",
        "10 flights x 100",
        "Flight delays",
        "No registered model yet",
        "Stage history",
    ):
        assert expected in detail
    owner = _client(bob)
    edit = owner.get("/governance/use-cases/fuel-burn/edit/").content.decode()
    assert "Only governance leads can hand the use case to someone else" in edit
    moved = owner.post("/governance/use-cases/fuel-burn/stage/", {"stage": "poc", "comment": "Start"})
    assert moved.status_code == 303
    assert UseCase.objects.get(slug="fuel-burn").stage.key == "poc"
    assert owner.post("/governance/use-cases/fuel-burn/stage/", {"stage": "production"}).status_code == 403
    assert owner.post("/governance/use-cases/fuel-burn/delete/").status_code == 403
    assert client.post("/governance/use-cases/fuel-burn/delete/").status_code == 303
    assert not UseCase.objects.exists()


def test_intake_pages(lead: Any, dave: Any, bob: Any) -> None:
    submitter = _client(dave)
    missing = submitter.post("/governance/ideas/new/", {"title": "Bags"})
    assert missing.status_code == 422 and "This field is required" in missing.content.decode()
    sent = submitter.post("/governance/ideas/new/", {"title": "Bags", "problem_statement": "Lost bags"})
    assert sent.status_code == 303 and sent["Location"] == "/governance/ideas/mine/"
    assert "Waiting for a governance lead" in submitter.get("/governance/ideas/mine/").content.decode()
    assert submitter.get("/governance/ideas/queue/").status_code == 403
    idea = UseCase.objects.get(slug="bags")
    queue = _client(lead)
    assert "Lost bags" in queue.get("/governance/ideas/queue/").content.decode()
    no_reason = queue.post("/governance/ideas/bags/reject/", {f"r{idea.pk}-reason": ""})
    assert no_reason.status_code == 422 and "This field is required" in no_reason.content.decode()
    assert (
        queue.post(
            "/governance/ideas/bags/reject/", {f"r{idea.pk}-reason": "Handled by ground ops"}
        ).status_code
        == 303
    )
    mine = submitter.get("/governance/ideas/mine/").content.decode()
    assert "Declined:" in mine and "Handled by ground ops" in mine
    other = intake.submit_idea(actor=dave, title="Fuel", problem_statement="Burn")
    queue.post("/governance/ideas/fuel/qualify/", {f"q{other.pk}-business_owner": bob.pk})
    other.refresh_from_db()
    assert (other.stage.key, other.business_owner) == ("qualified", bob)


def test_pipeline_page_explains_refusals(lead: Any) -> None:
    client = _client(lead)
    _use_case(lead, "Busy", stage="pilot")
    page = client.post("/governance/portfolio/pipeline/pilot/delete/")
    assert page.status_code == 422
    assert "Stage &#x27;Pilot&#x27; cannot be deleted: 1 use case is in it" in page.content.decode()
    added = client.post(
        "/governance/portfolio/pipeline/", {"new-key": "Bad Key", "new-label": "X", "new-kind": "active"}
    )
    assert added.status_code == 422 and "lower-case letters" in added.content.decode()
    client.post(
        "/governance/portfolio/pipeline/", {"new-key": "review", "new-label": "Review", "new-kind": "active"}
    )
    stage = Stage.objects.get(key="review")
    client.post(
        "/governance/portfolio/pipeline/review/",
        {f"s{stage.pk}-label": "Risk review", f"s{stage.pk}-kind": "active"},
    )
    assert Stage.objects.get(key="review").label == "Risk review"
    assert client.post("/governance/portfolio/pipeline/review/delete/").status_code == 303
    assert not Stage.objects.filter(key="review").exists()
