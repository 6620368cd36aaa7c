"""The control tower on a small seeded portfolio: counts and value by stage and unit, time from idea
to production, production health from monitoring, overdue reviews, the CSV export (content and
spreadsheet-injection safety) and who may see it.

The portfolio (EUR; "days" = from creation to the first move into production):

=========  ===========  ==========  =======  ==========  ========  =====================
use case   unit         stage       one-off  recurring   realised  days to production
=========  ===========  ==========  =======  ==========  ========  =====================
delays     Operations   production  10,000   120,000     1,500     60
fuel       Operations   production  0        60,000      250       30
churn      Marketing    pilot       5,000    0           0         -
pricing    Marketing    retired     0        0           0         90 (then retired)
chatbot    (none)       idea        0        0           0         -
=========  ===========  ==========  =======  ==========  ========  =====================
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from modelworks.core import services as core
from modelworks.core.models import Project, User
from modelworks.core.testing.client import expect, expect_error
from modelworks.core.testing.fixtures import make_user
from modelworks.deployments.models import Deployment
from modelworks.governance.models import (
    PortfolioMember,
    SignoffRequest,
    Stage,
    StageChange,
    UseCase,
    ValueDefinition,
    ValueMeasurement,
)
from modelworks.governance.services.tower import CSV_COLUMNS, portfolio_csv, safe_cell, tower_figures
from modelworks.governance.testing_value import make_use_case
from modelworks.monitoring.models import Alert, Monitor, MonitorPoint
from modelworks.registry.models import ModelVersion, PromotionRequest, RegisteredModel

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures"]


def _start() -> datetime:
    return datetime(2026, 1, 1, 9, tzinfo=timezone.get_fixed_timezone(0))


def moved(use_case: UseCase, path: list[tuple[str, int]]) -> None:
    """Replace the stage history: created at START, then each (stage, day) move."""
    start = _start()
    UseCase.objects.filter(pk=use_case.pk).update(created_at=start)
    StageChange.objects.filter(use_case=use_case).update(created_at=start)
    previous = StageChange.objects.get(use_case=use_case).to_stage
    for key, day in path:
        stage = Stage.objects.get(key=key)
        StageChange.objects.create(
            use_case=use_case, from_stage=previous, to_stage=stage, created_at=start + timedelta(days=day)
        )
        previous = stage
    UseCase.objects.filter(pk=use_case.pk).update(stage=previous)


def measure(use_case: UseCase, unit: str, *amounts: str) -> None:
    definition = ValueDefinition.objects.create(
        use_case=use_case, name=f"{unit} measure", kind="pushed", unit=unit
    )
    for month, amount in enumerate(amounts, start=1):
        day = datetime(2026, month, 1).date()
        ValueMeasurement.objects.create(
            definition=definition, period_start=day, period_end=day, value=Decimal(amount), source="pushed"
        )


@pytest.fixture
def portfolio(project: Project, alice: User, bob: User) -> dict[str, Any]:
    fuel_project = core.create_project(actor=alice, slug="fuel", name="Fuel")
    churn_project = core.create_project(actor=alice, slug="churn", name="Churn")
    delays = make_use_case(
        "delays",
        owner=alice,
        projects=(project,),
        business_unit="Operations",
        expected_value_one_off=Decimal("10000"),
        expected_value_recurring=Decimal("120000"),
    )
    fuel = make_use_case(
        "fuel",
        owner=alice,
        projects=(fuel_project,),
        business_unit="Operations",
        expected_value_recurring=Decimal("60000"),
    )
    churn = make_use_case(
        "churn",
        owner=alice,
        projects=(churn_project,),
        business_unit="Marketing",
        expected_value_one_off=Decimal("5000"),
    )
    pricing = make_use_case("pricing", owner=alice, business_unit="Marketing")
    chatbot = make_use_case("chatbot", title='=HYPERLINK("http://evil.example","click")', business_unit="")
    moved(delays, [("qualified", 10), ("pilot", 40), ("production", 60)])
    moved(fuel, [("production", 30)])
    moved(churn, [("pilot", 20)])
    moved(pricing, [("production", 90), ("retired", 200)])
    moved(chatbot, [])
    measure(delays, "EUR", "1000", "500")
    measure(delays, "minutes", "999")  # not in the use case's currency: not summed
    measure(fuel, "EUR", "250")

    # delays: an active deployment with an open alert, a paused one (left out); fuel: healthy after
    # an older breach; churn: deployed but not monitored.
    live = Deployment.objects.create(project=project, name="delays-api", created_by=bob)
    Deployment.objects.create(project=project, name="delays-old", status="paused", created_by=bob)
    watch = Monitor.objects.create(project=project, name="delays watch", deployment=live)
    Alert.objects.create(
        project=project,
        monitor=watch,
        metric="drift_share",
        window_start=_start(),
        last_window_end=_start() + timedelta(days=1),
        message="Half the features drifted",
    )
    fuel_api = Deployment.objects.create(project=fuel_project, name="fuel-api", created_by=alice)
    fuel_watch = Monitor.objects.create(project=fuel_project, name="fuel watch", deployment=fuel_api)
    for day, breached in ((1, True), (2, False)):
        MonitorPoint.objects.create(
            monitor=fuel_watch,
            window_start=_start() + timedelta(days=day),
            window_end=_start() + timedelta(days=day + 1),
            metric="drift_share",
            value=0.6 if breached else 0.1,
            threshold=0.5,
            breached=breached,
        )
    Deployment.objects.create(project=churn_project, name="churn-api", created_by=alice)

    # Reviews: one sign-off past due, one not yet due; a promotion waiting 5 days, one 1 day.
    model = RegisteredModel.objects.create(project=project, name="Delays")
    version = ModelVersion.objects.create(
        registered_model=model, version=1, source="runs:/x/model", storage_location="mlflow-artifacts:/x"
    )
    now = timezone.now()
    SignoffRequest.objects.create(
        project=project, model_version=version, alias="champion", due_at=now - timedelta(days=2)
    )
    SignoffRequest.objects.create(
        project=project, model_version=version, alias="production", due_at=now + timedelta(days=2)
    )
    SignoffRequest.objects.create(
        project=project,
        model_version=version,
        alias="champion",
        status="approved",
        due_at=now - timedelta(days=9),
    )
    old = PromotionRequest.objects.create(
        project=project,
        registered_model=model,
        number=1,
        candidate=version,
        candidate_version=1,
        alias="champion",
        approver=alice,
    )
    PromotionRequest.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=5))
    PromotionRequest.objects.create(
        project=project,
        registered_model=model,
        number=2,
        candidate=version,
        candidate_version=1,
        alias="champion",
        approver=alice,
    )
    return {"delays": delays, "fuel": fuel, "churn": churn, "pricing": pricing, "chatbot": chatbot}


def test_figures_by_stage_and_unit(portfolio: dict[str, Any]) -> None:
    f = tower_figures()
    stages = {g.key: (g.count, g.expected_one_off, g.expected_recurring, g.realised) for g in f["by_stage"]}
    assert stages["production"] == (2, Decimal("10000"), Decimal("180000"), Decimal("1750"))
    assert stages["pilot"] == (1, Decimal("5000"), Decimal("0"), Decimal("0"))
    assert stages["retired"][0] == stages["idea"][0] == 1 and stages["qualified"][0] == 0
    units = [(g.label, g.count, g.expected_first_year, g.realised) for g in f["by_unit"]]
    assert units == [
        ("Operations", 2, Decimal("190000"), Decimal("1750")),
        ("Marketing", 2, Decimal("5000"), Decimal("0")),
        ("(no unit)", 1, Decimal("0"), Decimal("0")),
    ]
    assert (f["total"].count, f["total"].realised, f["in_production"]) == (5, Decimal("1750"), 2)


def test_time_from_idea_to_production(portfolio: dict[str, Any]) -> None:
    f = tower_figures()
    assert [(r["use_case"].slug, r["days"]) for r in f["time_to_production"]] == [
        ("fuel", 30.0),
        ("delays", 60.0),
        ("pricing", 90.0),
    ]
    assert f["median_days_to_production"] == 60.0


def test_production_health_from_monitoring(portfolio: dict[str, Any]) -> None:
    health = [
        (h.use_case.slug, h.deployment.name, h.health, h.open_alerts) for h in tower_figures()["health"]
    ]
    assert health == [
        ("delays", "delays-api", "alert", 1),
        ("churn", "churn-api", "unmonitored", 0),
        ("fuel", "fuel-api", "ok", 0),  # the newest drift point is within the threshold
    ]


def test_overdue_reviews(portfolio: dict[str, Any]) -> None:
    overdue = tower_figures()["overdue"]
    assert [(r.alias, r.days_overdue) for r in overdue["signoffs"]] == [("champion", 2)]
    assert [(r.number, r.days_waiting) for r in overdue["promotions"]] == [(1, 5)]


def test_csv_export_is_complete_and_spreadsheet_safe(portfolio: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(portfolio_csv(list(UseCase.objects.order_by("slug"))))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    by_slug = {r["slug"]: r for r in rows}
    delays = by_slug["delays"]
    assert (delays["stage"], delays["expected_value_one_off"], delays["realised_value_to_date"]) == (
        "Production",
        "10000.00",
        "1500.00",
    )
    assert (delays["days_idea_to_production"], delays["active_deployments"], delays["open_alerts"]) == (
        "60.0",
        "1",
        "1",
    )
    assert delays["projects"] == "flight-delays" and delays["business_owner"] == "alice"
    assert by_slug["chatbot"]["title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert by_slug["chatbot"]["days_idea_to_production"] == ""


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 12", "'+33 6 12"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tindent", "'\tindent"),
        ("Operations", "Operations"),
        ("a=b", "a=b"),
        (Decimal("-12.50"), Decimal("-12.50")),  # numbers we write are left as they are
        (3, 3),
    ],
)
def test_safe_cell(cell: Any, safe: Any) -> None:
    assert safe_cell(cell) == safe


def test_who_sees_the_tower(portfolio: dict[str, Any], alice: User, carol: User, api_client: Any) -> None:
    viewer = make_user("vera")
    PortfolioMember.objects.create(user=viewer, role="viewer")
    client = Client()
    client.force_login(viewer)
    page = client.get(reverse("governance:tower"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "delays-api" in text and "Alert" in text and "60 days" in text
    assert 'Promotion #1 of <span class="strong">Delays</span>' in text
    export = client.get(reverse("governance:tower_csv"))
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="portfolio-' in export["Content-Disposition"]
    assert export.content.decode().splitlines()[0].startswith("slug,title,business_unit,stage")

    # The business owner of use cases and project members who are not portfolio viewers: refused.
    for user in (alice, carol):
        other = Client()
        other.force_login(user)
        assert other.get(reverse("governance:tower")).status_code == 403
        assert other.get(reverse("governance:tower_csv")).status_code == 403
        expect_error(api_client(user).get("/governance/tower"), 403, "permission_denied")
    body = expect(api_client(viewer).get("/governance/tower"), 200)
    assert body["median_days_to_production"] == 60.0 and body["total"]["realised"] == "1750.00"
    assert [o["kind"] for o in body["overdue"]] == ["signoff", "promotion"]
