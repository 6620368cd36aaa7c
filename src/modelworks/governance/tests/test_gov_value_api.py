"""The realised-value API: pushed values (idempotent per period, periods normalised, bad inputs),
computing through the API, reading estimated vs realised, and who may do what."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modelworks.core.models import AuditEvent, Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error
from modelworks.core.testing.fixtures import make_user
from modelworks.deployments.models import Deployment
from modelworks.deployments.services.feedback import record_feedback
from modelworks.governance.models import PortfolioMember, ValueDefinition, ValueMeasurement
from modelworks.governance.testing_value import log_predictions, make_use_case

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures"]


@pytest.fixture
def use_case(project: Project, alice: User) -> Any:
    return make_use_case(
        "claims-triage",
        stage="pilot",
        owner=alice,
        projects=(project,),
        expected_value_recurring=Decimal("24000"),
    )


@pytest.fixture
def pushed(use_case: Any) -> ValueDefinition:
    return ValueDefinition.objects.create(
        use_case=use_case, name="Handling costs saved", kind="pushed", unit="EUR", period="month"
    )


def url(use_case: Any, definition: ValueDefinition, action: str = "measurements") -> str:
    return f"/governance/use-cases/{use_case.slug}/value/{definition.pk}/{action}"


def test_pushing_a_period_twice_replaces_it(
    api_client: Any, alice: User, use_case: Any, pushed: ValueDefinition
) -> None:
    client = api_client(alice)
    body = expect(
        client.post(url(use_case, pushed), {"period": "2026-03", "value": 1250.5, "note": "from the ERP"}),
        201,
    )
    assert body["created"] is True
    assert (
        body["measurement"]["period_start"] == "2026-03-01"
        and body["measurement"]["period_end"] == "2026-03-31"
    )
    # Any day inside the month names the same period: the value is replaced, not added.
    again = expect(
        client.post(url(use_case, pushed), {"period": "2026-03-17", "value": "1300.25", "rows": 41}), 200
    )
    assert again["created"] is False
    rows = list(
        ValueMeasurement.objects.filter(definition=pushed).values_list(
            "period_start", "value", "rows", "source"
        )
    )
    assert rows == [(datetime(2026, 3, 1).date(), Decimal("1300.25"), 41, "pushed")]
    assert AuditEvent.objects.filter(action="governance.value_pushed").count() == 2

    expect(client.post(url(use_case, pushed), {"period": "2026-04", "value": 1000}), 201)
    read = expect(client.get(f"/governance/use-cases/{use_case.slug}/value"), 200)
    # 24,000 a year → 2,000 a month expected.
    assert [
        (m["period_start"], m["realised"], m["estimated"], m["cumulative_realised"]) for m in read["months"]
    ] == [
        ("2026-03-01", "1300.25", "2000.00", "1300.25"),
        ("2026-04-01", "1000.00", "2000.00", "2300.25"),
    ]
    assert read["realised_total"] == "2300.25"
    assert read["definitions"][0]["in_words"].startswith("Each month, a value in EUR is sent through the API")


def test_weekly_periods_start_on_monday(api_client: Any, alice: User, use_case: Any) -> None:
    weekly = ValueDefinition.objects.create(
        use_case=use_case, name="Weekly", kind="pushed", unit="EUR", period="week"
    )
    body = expect(api_client(alice).post(url(use_case, weekly), {"period": "2026-03-05", "value": 10}), 201)
    assert (body["measurement"]["period_start"], body["measurement"]["period_end"]) == (
        "2026-03-02",
        "2026-03-08",
    )


BAD_PUSHES = [
    (
        {"period": "March", "value": 1},
        "period",
        r"'March' is not a period; write YYYY-MM or a date YYYY-MM-DD inside the month",
    ),
    ({"period": "2026-13", "value": 1}, "period", r"'2026-13' is not a period"),
    ({"period": "2026-03", "value": "1e20"}, "value", r"at most 99,999,999,999,999.99"),
    ({"period": "2026-03", "value": "NaN"}, "value", r"finite number"),
    ({"period": "2026-03"}, "value", r"Field required"),
    ({"period": "2026-03", "value": 1, "rows": -1}, "rows", r"greater than or equal to 0"),
    ({"period": "2026-03", "value": 1, "extra": 1}, "extra", r"Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("payload", "field", "message"), BAD_PUSHES)
def test_bad_pushes_are_refused_with_the_field_and_the_fix(
    api_client: Any,
    alice: User,
    use_case: Any,
    pushed: ValueDefinition,
    payload: dict[str, Any],
    field: str,
    message: str,
) -> None:
    body = expect_error(api_client(alice).post(url(use_case, pushed), payload), 422, "validation_error")
    assert field in body["details"]
    assert any(re.search(message, m) for m in body["details"][field]), body
    assert not ValueMeasurement.objects.exists()


def test_values_of_a_computed_definition_cannot_be_pushed(
    api_client: Any, alice: User, use_case: Any
) -> None:
    computed = ValueDefinition.objects.create(
        use_case=use_case, name="From log", kind="prediction_log", value_per_row="1"
    )
    body = expect_error(
        api_client(alice).post(url(use_case, computed), {"period": "2026-03", "value": 1}),
        422,
        "validation_error",
    )
    assert (
        "is computed from a prediction log; only definitions of kind 'pushed' accept values"
        in body["message"]
    )


def test_compute_through_the_api(
    api_client: Any, alice: User, bob: User, project: Project, use_case: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MODELWORKS_PREDICTIONS_DIR = tmp_path
    deployment = Deployment.objects.create(project=project, name="claims", created_by=bob)
    definition = ValueDefinition.objects.create(
        use_case=use_case,
        name="Fraud stopped",
        kind="prediction_log",
        deployment=deployment,
        row_filter="prediction = 'fraud' and label = 'fraud'",
        value_per_row="amount * 0.5",
        details={"source_name": "claims"},
    )
    client = api_client(alice)
    empty = expect_error(client.post(url(use_case, definition, "compute")), 422, "validation_error")
    assert empty["details"]["reason"] == "empty_log" and "is empty" in empty["message"]

    log_predictions(
        tmp_path,
        deployment.prediction_source,
        [
            (
                datetime(2026, 5, 4),
                [
                    {"row_id": "c1", "prediction": "fraud", "amount": 300.0},
                    {"row_id": "c2", "prediction": "fraud", "amount": 90.0},
                ],
            )
        ],
    )
    record_feedback(
        deployment, [{"row_id": "c1", "label": "fraud"}, {"row_id": "c2", "label": "ok"}], actor=bob
    )
    body = expect(client.post(url(use_case, definition, "compute")), 200)
    assert (body["periods"], body["rows"], body["total"]) == (1, 2, "150.00")

    pushed = ValueDefinition.objects.create(use_case=use_case, name="P", kind="pushed")
    conflict = expect_error(client.post(url(use_case, pushed, "compute")), 409, "conflict")
    assert "nothing to compute" in conflict["message"]


def test_who_may_push(
    api_client: Any, use_case: Any, pushed: ValueDefinition, bob: User, carol: User, dave: User
) -> None:
    payload = {"period": "2026-03", "value": 5}
    # Project members see the use case but neither edit it nor push its values.
    for member in (bob, carol):
        expect_error(api_client(member).post(url(use_case, pushed), payload), 403, "permission_denied")
        expect(api_client(member).get(f"/governance/use-cases/{use_case.slug}/value"), 200)
    expect_error(api_client(dave).post(url(use_case, pushed), payload), 404, "not_found")
    expect_error(ApiClient().post(url(use_case, pushed), payload), 401, "not_authenticated")

    lead, viewer = make_user("gina"), make_user("hal")
    PortfolioMember.objects.create(user=lead, role="lead")
    PortfolioMember.objects.create(user=viewer, role="viewer")
    expect(api_client(lead).post(url(use_case, pushed), payload), 201)
    expect_error(api_client(viewer).post(url(use_case, pushed), payload), 403, "permission_denied")
    expect(api_client(viewer).get(f"/governance/use-cases/{use_case.slug}/value"), 200)
    # A definition of another use case is not found through this one.
    other = make_use_case("other", owner=None)
    foreign = ValueDefinition.objects.create(use_case=other, name="Other", kind="pushed")
    expect_error(api_client(lead).post(url(use_case, foreign), payload), 404, "not_found")
