"""Deploy and monitor in a real Chromium against a real instance (issue 6): deploy a registered model's
@champion from the Deployments page, create an endpoint token (its secret shown once) and read how to
call the endpoint; read a monitor's charts, per-window drift and alerts, and acknowledge an alert; ask
for a promotion and approve it from "Approvals waiting for me". Screenshots go to /tmp/mw-shots.

The registered model and the monitored traffic are made once per module inside the instance
(``LiveInstance.shell``): the traffic is a real prediction log written by ``PredictionLogWriter``
(``monitoring.tests.helpers``) with true outcomes as ``Feedback``, and the monitor is computed by the
monitoring services, as the worker would; everything a person does afterwards goes through the pages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from browser.live_instance import ADMIN_PASSWORD, LiveInstance, htmx_settled, shot, sign_in

pytest_plugins = ["browser.live_instance"]
pytestmark = pytest.mark.browser

PROJECT = "airport-ops"
MODEL = "late-departures"

#: In the project carl and ava are contributors; ``late-departures`` has two real scikit-learn
#: versions with @champion on version 1; the monitoring world (``lateness`` deployed as
#: ``lateness-api``, two days of logged predictions, the second drifted and mostly wrong) is computed.
SETUP = """
import json, tempfile
from datetime import UTC, datetime
from pathlib import Path
from modelworks.core import services as core
from modelworks.core.models import Role, User
from modelworks.deployments.models import Feedback
from modelworks.monitoring import services as monitoring
from modelworks.monitoring.tests.helpers import DAY1, DAY2, make_world, write_day
from modelworks.registry import services as registry
from modelworks.registry.tests.fixtures import write_sklearn_model

admin = User.objects.get(username="admin")
project = core.create_project(actor=admin, slug="@PROJECT@", name="Airport operations")
for name in ("carl", "ava"):
    user = User.objects.create_user(username=name, email=name + "@example.test", password="@PASSWORD@")
    core.grant_membership(project, actor=admin, user=user, role=Role.CONTRIBUTOR)

folder = write_sklearn_model(Path(tempfile.mkdtemp()) / "model")
first = registry.register_version(project, actor=admin, model_name="@MODEL@", source_dir_or_logged_model=folder)
registry.register_version(project, actor=admin, model_name="@MODEL@", source_dir_or_logged_model=folder)
registry.set_alias(first, "champion", actor=admin)

world = make_world(project, admin)
write_day(world, DAY1, shift=0.0, cities=["Lyon", "Paris", "Nantes"], seed=1)
ids = write_day(world, DAY2, shift=25.0, cities=["Lyon", "Marseille"], seed=2)
Feedback.objects.bulk_create([Feedback(deployment=world.deployment, row_id=i, label="no") for i in ids])
monitor = monitoring.create_monitor(project, actor=admin, name="Lateness", deployment=world.deployment,
                                    labels_source="feedback", performance_metric="accuracy")
result = monitoring.compute_monitor(monitor, now=datetime(2024, 3, 5, 18, 0, tzinfo=UTC))
print(json.dumps({"model": first.registered_model_id, "monitor": monitor.pk, "alerts": len(result.alerts)}))
"""


@pytest.fixture(scope="module")
def world(instance: LiveInstance) -> dict[str, Any]:
    code = SETUP.replace("@PASSWORD@", ADMIN_PASSWORD).replace("@PROJECT@", PROJECT).replace("@MODEL@", MODEL)
    made = dict(json.loads(instance.shell(code).strip().splitlines()[-1]))
    assert made["alerts"] >= 2, made  # the drifted day crossed several limits
    return made


def person(open_page: Callable[..., Any], username: str) -> Any:
    """A browser of its own for ``username``, signed in."""
    page = open_page()
    sign_in(page, username)
    return page


def flash(page: Any, text: str) -> None:
    """Wait for the success message the page shows after a form post."""
    page.locator("#messages .alert", has_text=text).wait_for()


def drift_row(panel: Any, feature: str) -> Any:
    """The row of ``feature`` in the window's per-feature drift table."""
    return panel.locator("tbody tr").filter(has=panel.page.get_by_role("rowheader", name=feature, exact=True))


def main_nav(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


# --------------------------------------------------------------------------------------- deployments


def test_deploy_the_champion_create_a_token_and_read_how_to_call_it(
    open_page: Callable[..., Any], world: dict[str, Any]
) -> None:
    page = person(open_page, "admin")
    page.goto(f"/projects/{PROJECT}/")
    main_nav(page, "Deployments")
    page.wait_for_url(f"**/projects/{PROJECT}/deployments/")
    page.get_by_role("link", name="Deploy a model").first.click()
    page.wait_for_url(f"**/projects/{PROJECT}/deployments/new/")
    page.get_by_label("Endpoint name").fill("late-departures-api")
    page.get_by_label("Title").fill("Late departures")
    primary = page.get_by_label("Model that answers")
    primary.select_option(label=f"{MODEL} @champion (now version 1; follows promotions)")
    assert page.get_by_label("One model answers every request.").is_checked()
    page.get_by_role("button", name="Deploy", exact=True).click()
    page.wait_for_url(f"**/projects/{PROJECT}/deployments/late-departures-api/")
    assert page.get_by_role("heading", name="Late departures").is_visible()
    served = page.locator("section[aria-labelledby='targets-title'] tbody tr")
    assert served.count() == 1
    assert "@champion" in served.inner_text() and "v1" in served.inner_text()
    assert "/score/late-departures-api" in page.locator(".endpoint-url").first.inner_text()
    page.get_by_text("No token yet").wait_for()

    # A token: its secret is shown once, in place, then only its first characters.
    tokens = page.locator("#tokens")
    tokens.get_by_label("Token name").fill("billing app")
    tokens.get_by_role("button", name="Create token").click()
    secret_box = page.locator("#new-token-value")
    secret_box.wait_for()
    htmx_settled(page)
    secret = secret_box.input_value()
    assert secret.startswith("mwe_") and len(secret) > 30
    assert page.get_by_text("It will not be shown again.").is_visible()
    row = page.locator("#tokens tbody tr", has_text="billing app")
    assert "Active" in row.inner_text() and secret[:8] in row.inner_text()
    shot(page, "deployment-token")
    page.reload()
    assert page.locator("#new-token-value").count() == 0
    assert secret not in page.content()
    assert page.locator("#tokens tbody tr", has_text="billing app").is_visible()

    # How to call it: curl (open), Python and the MLflow format.
    curl = page.locator("#example-curl")
    assert curl.is_visible()
    example = curl.input_value()
    assert "/score/late-departures-api" in example and "Authorization: Bearer" in example
    assert "MODELWORKS_ENDPOINT_TOKEN" in example
    page.get_by_text("MLflow scoring format (/invocations)").click()
    mlflow = page.locator("#example-mlflow")
    assert mlflow.is_visible()
    assert "/score/late-departures-api/invocations" in mlflow.input_value()
    shot(page, "deployment-detail")

    # The list shows what it serves now.
    main_nav(page, "Deployments")
    listed = page.locator("tbody tr", has_text="late-departures-api")
    assert f"{MODEL}@champion → v1" in " ".join(listed.inner_text().split())


# ---------------------------------------------------------------------------------------- monitoring


def test_a_monitor_shows_its_charts_and_an_alert_is_acknowledged(
    open_page: Callable[..., Any], world: dict[str, Any]
) -> None:
    page = person(open_page, "carl")
    page.goto(f"/projects/{PROJECT}/")
    main_nav(page, "Monitoring")
    page.wait_for_url(f"**/projects/{PROJECT}/monitoring/")
    row = page.locator("tbody tr", has_text="Lateness")
    assert "Deployment lateness-api" in row.inner_text() and "Needs attention" in row.inner_text()
    row.get_by_role("link", name="Lateness").click()
    page.wait_for_url(f"**/monitoring/monitors/{world['monitor']}/")

    # Time series of the computed points, with their limits.
    over_time = page.locator("section[aria-labelledby='over-time']")
    charts = over_time.locator("figure.chart svg[role='img']")
    assert charts.count() >= 2 and charts.first.is_visible()
    per_feature = over_time.locator("details figure.chart svg")
    assert per_feature.count() >= 2 and not per_feature.first.is_visible()
    over_time.get_by_text("Drift and quality of each feature over time").click()
    assert per_feature.first.is_visible()

    # One window at a time: the latest (drifted) one first, then the first day, swapped in place.
    panel = page.locator("#window-panel")
    assert "2024-03-05" in panel.inner_text()
    city, x = (drift_row(panel, feature) for feature in ("city", "x"))
    assert "Chi-squared" in city.inner_text() and city.inner_text().rstrip().endswith("yes")
    assert "Kolmogorov" in x.inner_text() and x.inner_text().rstrip().endswith("yes")
    assert panel.get_by_text("worse than allowed").is_visible()
    page.evaluate("window.__mwSamePage = true")
    page.get_by_label("Window starting").select_option("2024-03-04")
    panel.get_by_text("Window from 2024-03-04").wait_for()
    htmx_settled(page)
    assert page.evaluate("window.__mwSamePage === true")  # swapped in place, not reloaded
    assert "300 rows scored" in panel.inner_text()
    assert drift_row(panel, "x").inner_text().rstrip().endswith("no")
    assert panel.get_by_text("worse than allowed").count() == 0
    shot(page, "monitor-detail")

    recent = page.locator("section[aria-labelledby='recent-alerts'] li")
    assert recent.count() >= 2 and "Open" in recent.first.inner_text()

    # The alerts inbox: acknowledge one.
    page.goto(f"/projects/{PROJECT}/monitoring/")
    page.get_by_role("link", name="Alerts").click()
    page.wait_for_url(f"**/projects/{PROJECT}/monitoring/alerts/")
    rows = page.locator("tbody tr")
    total = rows.count()
    assert total >= 2
    first = rows.filter(has=page.get_by_role("button", name="Acknowledge")).first
    message = first.locator("td").nth(2).inner_text()
    first.get_by_role("button", name="Acknowledge").click()
    flash(page, "Alert acknowledged.")
    done = page.locator("tbody tr", has_text=message.split(" (")[0][:60])
    assert "Acknowledged" in done.inner_text() and "by carl" in done.inner_text()
    assert page.get_by_role("button", name="Acknowledge").count() == total - 1
    shot(page, "monitor-alerts")


# ------------------------------------------------------------------------------------------ promotion


def test_a_promotion_is_asked_for_and_approved_by_the_named_approver(
    open_page: Callable[..., Any], world: dict[str, Any]
) -> None:
    model_url = f"/projects/{PROJECT}/models/{world['model']}/"
    carl = person(open_page, "carl")
    carl.goto(model_url)
    carl.get_by_role("link", name="ask for a promotion").click()
    carl.wait_for_url(f"**{model_url}promotions/new/")
    carl.get_by_label("Version to promote").select_option(label="Version 2")
    assert carl.get_by_label("Alias").input_value() == "champion"
    carl.get_by_label("Approver").select_option(label="ava")
    carl.get_by_label("Note").fill("Version 2 is better on the last month.")
    carl.get_by_role("button", name="Send the request").click()
    flash(carl, "Request #1 sent to ava.")
    carl.goto(model_url + "promotions/1/")
    assert carl.get_by_text("Waiting for ava to approve or reject it").is_visible()
    assert carl.get_by_role("button", name="Approve and promote").count() == 0

    ava = person(open_page, "ava")
    main_nav(ava, "Approvals waiting for me")
    ava.wait_for_url("**/approvals/")
    ava.get_by_role("link", name="#1: v2 → @champion").click()
    ava.wait_for_url(f"**{model_url}promotions/1/")
    assert ava.get_by_text("Version 2 is better on the last month.").is_visible()
    ava.get_by_label("Comment").fill("Checked the back-test.")
    ava.get_by_role("button", name="Approve and promote").click()
    ava.get_by_text("Checked the back-test.").wait_for()
    decision = ava.locator("section[aria-labelledby='decision']")
    assert "Approved by ava" in decision.inner_text()
    shot(ava, "promotion-approved")
    main_nav(ava, "Approvals waiting for me")
    assert ava.get_by_text("Nothing to decide").is_visible()

    carl.goto(model_url)
    assert carl.get_by_text("@champion → v2").is_visible()
