"""The value pages: defining a measure through the form (bad formulas shown on their field with
their position), computing from the page, the estimated-vs-realised charts and the formula in words."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from modelworks.core.models import Project, User
from modelworks.deployments.models import Deployment
from modelworks.deployments.services.feedback import record_feedback
from modelworks.governance.models import ValueDefinition, ValueMeasurement
from modelworks.governance.testing_value import log_predictions, make_use_case

pytestmark = pytest.mark.django_db
pytest_plugins = ["modelworks.core.testing.fixtures"]


@pytest.fixture
def setup(project: Project, alice: User, bob: User, settings: Any, tmp_path: Path) -> dict[str, Any]:
    settings.MODELWORKS_PREDICTIONS_DIR = tmp_path
    use_case = make_use_case(
        "late-departures",
        stage="production",
        owner=alice,
        projects=(project,),
        expected_value_recurring=Decimal("1200"),
    )
    deployment = Deployment.objects.create(project=project, name="late-flights", created_by=bob)
    log_predictions(
        tmp_path,
        deployment.prediction_source,
        [
            (
                datetime(2026, 1, 10),
                [
                    {"row_id": "a", "prediction": "late", "delay": 30},
                    {"row_id": "b", "prediction": "late", "delay": 10},
                ],
            ),
            (datetime(2026, 2, 10), [{"row_id": "c", "prediction": "late", "delay": 20}]),
        ],
    )
    record_feedback(deployment, [{"row_id": r, "label": "late"} for r in "abc"], actor=bob)
    client = Client()
    client.force_login(alice)
    return {"use_case": use_case, "deployment": deployment, "client": client}


def form(deployment: Deployment, **changes: str) -> dict[str, str]:
    data = {
        "name": "Avoided delay costs",
        "kind": "prediction_log",
        "source": f"deployment:{deployment.pk}",
        "row_filter": "prediction = 'late' and label = 'late'",
        "value_per_row": "delay * 0.8",
        "unit": "EUR",
        "period": "month",
        "description": "",
    }
    data.update(changes)
    return data


def test_define_compute_and_see_estimated_vs_realised(setup: dict[str, Any]) -> None:
    client, use_case, deployment = setup["client"], setup["use_case"], setup["deployment"]
    page = client.get(reverse("governance:value_create", args=[use_case.slug]))
    assert page.status_code == 200 and "Deployment late-flights" in page.content.decode()

    bad = client.post(
        reverse("governance:value_create", args=[use_case.slug]),
        form(deployment, value_per_row="delay * 0,8"),
    )
    assert bad.status_code == 422
    assert (
        "Value per row: unexpected &#x27;,&#x27; at position 10; is an operator or a comma missing?"
        in bad.content.decode()
    )
    assert not ValueDefinition.objects.exists()

    created = client.post(reverse("governance:value_create", args=[use_case.slug]), form(deployment))
    assert created.status_code == 303
    definition = ValueDefinition.objects.get()
    computed = client.post(reverse("governance:value_compute", args=[use_case.slug, definition.pk]))
    assert computed.status_code == 303
    text = client.get(computed["Location"]).content.decode()
    # January: (30 + 10) x 0.8 = 32; February: 20 x 0.8 = 16.
    assert "2 month(s) computed from 3 logged rows (3 matched): 48.00 EUR in total." in text
    assert list(ValueMeasurement.objects.order_by("period_start").values_list("value", flat=True)) == [
        Decimal("32.00"),
        Decimal("16.00"),
    ]
    # The formula in words, and the charts with the estimate (1,200 a year → 100 a month).
    assert (
        "reads the prediction log of deployment &#x27;late-flights&#x27; and takes the rows where prediction = &#x27;late&#x27; and label = &#x27;late&#x27;"
        in text
    )
    assert "each of them is worth delay * 0.8 EUR" in text
    assert (
        'aria-label="Realised vs estimated value per month: 2 month(s), realised 48.00 EUR in total against an estimate of 200.00 EUR"'
        in text
    )
    assert (
        "Realised vs estimated value, cumulative: after 2 month(s), 48.00 EUR realised against 200.00 EUR estimated"
        in text
    )
    assert '<td class="num">32.00</td><td class="num">100.00</td>' in text


def test_compute_errors_are_shown_on_the_page(setup: dict[str, Any]) -> None:
    client, use_case, deployment = setup["client"], setup["use_case"], setup["deployment"]
    client.post(reverse("governance:value_create", args=[use_case.slug]), form(deployment))
    definition = ValueDefinition.objects.get()
    deployment.delete()
    answer = client.post(reverse("governance:value_compute", args=[use_case.slug, definition.pk]))
    text = client.get(answer["Location"]).content.decode()
    assert "could not be computed: the deployment &#x27;late-flights&#x27; whose prediction log" in text
    assert "The last computation failed" in text


def test_edit_and_delete(setup: dict[str, Any]) -> None:
    client, use_case, deployment = setup["client"], setup["use_case"], setup["deployment"]
    client.post(reverse("governance:value_create", args=[use_case.slug]), form(deployment))
    definition = ValueDefinition.objects.get()
    page = client.get(reverse("governance:value_edit", args=[use_case.slug, definition.pk]))
    assert 'value="delay * 0.8"' in page.content.decode()
    bad = client.post(
        reverse("governance:value_edit", args=[use_case.slug, definition.pk]),
        form(deployment, row_filter="delai > 5"),
    )
    assert bad.status_code == 422 and "did you mean &#x27;delay&#x27;?" in bad.content.decode()
    saved = client.post(
        reverse("governance:value_edit", args=[use_case.slug, definition.pk]),
        form(deployment, row_filter="delay > 5", period="week"),
    )
    assert saved.status_code == 303
    definition.refresh_from_db()
    assert (definition.row_filter, definition.period) == ("delay > 5", "week")
    gone = client.post(reverse("governance:value_delete", args=[use_case.slug, definition.pk]))
    assert gone.status_code == 303 and not ValueDefinition.objects.exists()


def test_readers_see_the_value_without_edit_buttons(setup: dict[str, Any], carol: User) -> None:
    client = Client()
    client.force_login(carol)
    page = client.get(reverse("governance:value_page", args=[setup["use_case"].slug]))
    assert page.status_code == 200
    assert "No realised value yet" in page.content.decode()
    assert reverse("governance:value_create", args=[setup["use_case"].slug]) not in page.content.decode()
