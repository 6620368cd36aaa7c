"""Governance in a real Chromium against a real instance (issue 7): the use-case portfolio (a lead adds
a use case, finds it in the list and on the prioritisation matrix, filters by business unit, moves its
stage; ideas are submitted, qualified or declined with a reason the submitter reads), the control
tower and its CSV export; the sign-off of a model version before it may take @champion; the EU AI Act
questionnaire and the generated technical documentation. Screenshots go to /tmp/mw-shots.

The people and the registered model are made once per module inside the instance
(``LiveInstance.shell``); everything a person does afterwards goes through the pages.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from browser.live_instance import ADMIN_PASSWORD, LiveInstance, htmx_settled, shot, sign_in

pytest_plugins = ["browser.live_instance"]
pytestmark = pytest.mark.browser

PROJECT = "flight-delays"
MODEL = "late-departures"

#: gina leads the portfolio; nora is anyone; omar owns the AI Act use case; in the project paula is
#: an admin, carl and rhea contributors (rhea reviews), omar and gina readers. ``late-departures``
#: has two real scikit-learn versions, @champion on version 1 (set before any sign-off policy).
SETUP = """
import json, tempfile
from pathlib import Path
from modelworks.core import services as core
from modelworks.core.models import Role, User
from modelworks.governance.services.portfolio import create_use_case
from modelworks.governance.services.portfolio_members import grant_portfolio_role
from modelworks.registry import services as registry
from modelworks.registry.tests.fixtures import write_sklearn_model

admin = User.objects.get(username="admin")
people = {name: User.objects.create_user(username=name, email=name + "@example.test", password="@PASSWORD@")
          for name in ("gina", "nora", "omar", "paula", "carl", "rhea")}
grant_portfolio_role(actor=admin, role="lead", user=people["gina"])
project = core.create_project(actor=admin, slug="@PROJECT@", name="Flight delays")
for name, role in (("paula", Role.ADMIN), ("carl", Role.CONTRIBUTOR), ("rhea", Role.CONTRIBUTOR),
                   ("omar", Role.READER), ("gina", Role.READER)):
    core.grant_membership(project, actor=admin, user=people[name], role=role)

folder = write_sklearn_model(Path(tempfile.mkdtemp()) / "model")
first = registry.register_version(project, actor=people["carl"], model_name="@MODEL@",
                                  source_dir_or_logged_model=folder)
registry.register_version(project, actor=people["carl"], model_name="@MODEL@",
                          source_dir_or_logged_model=folder)
registry.set_alias(first, "champion", actor=people["carl"])

create_use_case(actor=admin, title="Invoice fraud triage", business_unit="Finance", feasibility_score=3,
                expected_value_recurring=90000, cost_people_days=30,
                value_formula="300 frauds a year x EUR 300")
crew = create_use_case(actor=admin, title="Crew scheduling assistant", business_unit="Crew management",
                       business_owner=people["omar"], projects=[project], feasibility_score=4,
                       expected_value_one_off=20000, cost_people_days=15,
                       value_formula="400 planner hours x EUR 50")
print(json.dumps({"model": first.registered_model_id, "crew": crew.slug}))
"""


@pytest.fixture(scope="module")
def world(instance: LiveInstance) -> dict[str, Any]:
    code = SETUP.replace("@PASSWORD@", ADMIN_PASSWORD).replace("@PROJECT@", PROJECT).replace("@MODEL@", MODEL)
    return dict(json.loads(instance.shell(code).strip().splitlines()[-1]))


def person(open_page: Callable[..., Any], username: str) -> Any:
    """A browser of its own for ``username``, signed in."""
    page = open_page()
    sign_in(page, username)
    return page


def flash(page: Any, text: str) -> None:
    """Wait for the success message the page shows after a form post."""
    page.locator("#messages .alert", has_text=text).wait_for()


# ----------------------------------------------------------------------------------------- portfolio


def test_a_lead_adds_a_use_case_finds_it_on_the_matrix_filters_and_moves_it(
    open_page: Callable[..., Any], world: dict[str, Any]
) -> None:
    page = person(open_page, "gina")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Portfolio").click()
    page.wait_for_url("**/governance/portfolio/")
    page.get_by_role("link", name="New use case").click()
    page.wait_for_url("**/governance/use-cases/new/")
    page.get_by_label("Title").fill("Late departure alerts")
    page.get_by_label("Problem statement").fill("Gate agents learn about late departures too late.")
    page.get_by_label("Business unit").fill("Operations")
    page.get_by_label("Business owner").select_option(label="omar")
    page.get_by_label("Expected one-off value").fill("10000")
    page.get_by_label("Expected recurring value per year").fill("120000")
    page.get_by_label("Value formula").fill("1,200 delays a year x 100 EUR saved per delay")
    page.get_by_label("Estimated effort (people-days)").fill("40")
    page.get_by_label("Feasibility score").select_option("4")
    page.get_by_label("Risk level").select_option("minimal")
    page.get_by_label("Flight delays").check()
    page.get_by_role("button", name="Add the use case").click()
    page.wait_for_url("**/governance/use-cases/late-departure-alerts/")
    flash(page, "Use case 'Late departure alerts' added to the portfolio.")
    assert page.get_by_role("heading", name="Late departure alerts").is_visible()
    linked = page.locator("section[aria-labelledby='linked']")
    assert linked.get_by_text(MODEL).is_visible() and linked.get_by_text("champion → v1").is_visible()

    # The list and the matrix show it; its bubble leads back to its page.
    page.get_by_role("link", name="Portfolio", exact=True).first.click()
    page.wait_for_url("**/governance/portfolio/")
    table = page.locator("#gov-results table")
    for title in ("Late departure alerts", "Invoice fraud triage", "Crew scheduling assistant"):
        assert table.get_by_role("link", name=title).is_visible()
    matrix = page.locator(".gov-matrix svg[role='img']")
    assert matrix.is_visible()
    bubble = matrix.locator("a.mw-bubble", has_text="Late departure alerts")
    assert bubble.count() == 1 and bubble.is_visible()
    assert "feasibility 4" in (bubble.locator("title").text_content() or "")
    assert matrix.locator("a.mw-bubble").count() == 3  # every use case has a feasibility score
    shot(page, "governance-portfolio")

    # Filter by business unit: only the Operations use case stays, in the list and on the matrix.
    filters = page.get_by_role("search", name="Filter the use cases")
    filters.get_by_label("Business unit").select_option("Operations")
    filters.get_by_role("button", name="Apply").click()
    page.wait_for_url("**unit=Operations**")
    htmx_settled(page)
    table = page.locator("#gov-results table")
    assert table.get_by_role("link", name="Late departure alerts").is_visible()
    assert table.get_by_role("link", name="Invoice fraud triage").count() == 0
    assert page.locator(".gov-matrix a.mw-bubble").count() == 1
    page.locator(".gov-matrix a.mw-bubble").click()
    page.wait_for_url("**/governance/use-cases/late-departure-alerts/")

    # Move it to the proof of concept; the history keeps the move and its comment.
    page.get_by_label("Move to stage").select_option(label="Proof of concept")
    page.get_by_label("Comment").fill("Data access granted by the airport.")
    page.get_by_role("button", name="Move", exact=True).click()
    flash(page, "'Late departure alerts' moved to stage 'Proof of concept'.")
    history = page.locator("section[aria-labelledby='history'] tbody tr")
    history.filter(has_text="Data access granted by the airport.").wait_for()
    last = history.last.inner_text()
    assert "Qualified" in last and "Proof of concept" in last and "gina" in last
    assert "Proof of concept" in page.locator(".page-meta").inner_text()


def test_ideas_are_qualified_or_declined_and_the_submitter_reads_why(
    open_page: Callable[..., Any], world: dict[str, Any]
) -> None:
    nora = person(open_page, "nora")
    for title, problem in (
        ("Baggage delay forecast", "Bags miss their connection and nobody knows in advance."),
        ("Predict the weather", "We would like to know if it rains tomorrow."),
    ):
        nora.get_by_role("navigation", name="Main").get_by_role("link", name="Submit an idea").click()
        nora.wait_for_url("**/governance/ideas/new/")
        nora.get_by_label("Title").fill(title)
        nora.get_by_label("The problem").fill(problem)
        nora.get_by_label("Business unit").fill("Ground handling")
        nora.get_by_label("Value estimate per year").fill("50000")
        nora.get_by_role("button", name="Submit the idea").click()
        nora.wait_for_url("**/governance/ideas/mine/")
    rows = nora.locator("table tbody tr")
    assert rows.count() == 2
    assert all("Waiting for a governance lead" in t for t in rows.all_inner_texts())

    gina = person(open_page, "gina")
    gina.get_by_role("navigation", name="Main").get_by_role("link", name="Intake queue").click()
    gina.wait_for_url("**/governance/ideas/queue/")
    baggage = gina.get_by_role("region", name="Baggage delay forecast")
    assert baggage.get_by_text("Submitted by nora").is_visible()
    baggage.get_by_label("Business owner").select_option(label="nora")
    baggage.get_by_role("button", name="Qualify").click()
    flash(gina, "'Baggage delay forecast' qualified.")
    weather = gina.get_by_role("region", name="Predict the weather")
    weather.get_by_label("Reason").fill("Public weather services already do this; not a use case for us.")
    weather.get_by_role("button", name="Reject").click()
    gina.get_by_text("No idea is waiting").wait_for()
    shot(gina, "governance-intake-queue")

    nora.reload()
    accepted = nora.locator("tbody tr", has_text="Baggage delay forecast")
    declined = nora.locator("tbody tr", has_text="Predict the weather")
    assert "Accepted into the portfolio" in accepted.inner_text()
    assert "Declined: Public weather services already do this" in declined.inner_text()
    declined.get_by_role("link", name="Predict the weather").click()
    nora.get_by_text("Rejected: Public weather services already do this").wait_for()
    shot(nora, "governance-my-ideas")


def test_the_control_tower_shows_the_figures_and_exports_the_portfolio(
    open_page: Callable[..., Any], world: dict[str, Any], tmp_path: Path
) -> None:
    page = person(open_page, "gina")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Control tower").click()
    page.wait_for_url("**/governance/tower/")
    stats = page.locator("dl.stats")
    count = int(stats.locator(".stat", has_text="Use cases").locator("dd").inner_text())
    assert count >= 2
    expected = stats.locator(".stat", has_text="Expected, first year").locator("dd").inner_text()
    assert any(ch.isdigit() for ch in expected) and expected.strip() != "0 EUR"
    by_unit = page.locator("section[aria-labelledby='by-unit'] tbody")
    assert by_unit.get_by_role("rowheader", name="Finance").is_visible()
    shot(page, "governance-tower")

    with page.expect_download() as info:
        page.get_by_role("link", name="Export the portfolio (CSV)").click()
    download = info.value
    assert download.suggested_filename.startswith("portfolio-") and download.suggested_filename.endswith(
        ".csv"
    )
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert len(rows) == count + 1  # the header, then one row per use case
    text = saved.read_text(encoding="utf-8-sig")
    assert "Invoice fraud triage" in text and "Crew scheduling assistant" in text


# ------------------------------------------------------------------------------------------ sign-off


def test_a_version_takes_champion_only_after_its_sign_off(
    open_page: Callable[..., Any], world: dict[str, Any]
) -> None:
    model_url = f"/projects/{PROJECT}/models/{world['model']}/"

    # The project admin sets the policy: one step, reviewed by rhea.
    paula = person(open_page, "paula")
    paula.goto(f"/projects/{PROJECT}/")
    paula.get_by_role("navigation", name="Main").get_by_role("link", name="Sign-off").click()
    paula.wait_for_url(f"**/projects/{PROJECT}/signoff/")
    paula.get_by_text("No sign-off policy").wait_for()
    paula.get_by_role("link", name="Set up a policy").click()
    assert paula.get_by_label("Protected aliases").input_value() == "champion, production"
    paula.get_by_label("Mode", exact=True).select_option("block")
    step = paula.get_by_role("group", name="Step 1")
    step.get_by_label("Title").fill("Risk officer")
    step.get_by_label("Order").fill("1")
    step.get_by_label("Reviewer").select_option(label="rhea")
    paula.get_by_role("button", name="Save the policy").click()
    flash(paula, "Sign-off policy saved.")
    policy = paula.locator("section[aria-labelledby='policy']")
    assert "Enabled" in policy.inner_text() and "Risk officer" in policy.inner_text()
    assert "rhea" in policy.locator("ol").inner_text()

    # A contributor asks for the sign-off of version 2 from its registry page.
    carl = person(open_page, "carl")
    carl.goto(model_url + "versions/2/")
    carl.get_by_role("link", name="Ask for sign-off").click()
    carl.wait_for_url(f"**/projects/{PROJECT}/signoff/new/?*")
    assert carl.get_by_label("Version").input_value() == "2"
    assert carl.get_by_label("Alias").input_value() == "champion"
    carl.get_by_label("Note").fill("Better recall on the last three months.")
    carl.get_by_role("button", name="Send to the reviewers").click()
    carl.wait_for_url(f"**/projects/{PROJECT}/signoff/requests/*/")
    request_url = carl.url
    assert carl.get_by_text("you cannot review it yourself").is_visible()

    # Moving @champion now is refused, with what is missing.
    carl.goto(model_url + "aliases/?version=2&alias=champion")
    carl.get_by_role("button", name="Save").click()
    blocked = carl.get_by_text("cannot become @champion yet")
    blocked.wait_for()
    assert "is waiting for" in blocked.inner_text() and "Risk officer" in blocked.inner_text()
    shot(carl, "governance-signoff-blocked")

    # The reviewer finds it under "Reviews waiting for me" and approves it.
    rhea = person(open_page, "rhea")
    rhea.get_by_role("navigation", name="Main").get_by_role("link", name="Reviews waiting for me").click()
    rhea.wait_for_url("**/governance/signoff/reviews/")
    rhea.get_by_role("link", name=f"{MODEL} v2 → @champion").click()
    rhea.wait_for_url(request_url)
    assert rhea.get_by_text("Better recall on the last three months.").is_visible()
    rhea.get_by_label("Comment").fill("Checked the fairness report.")
    rhea.get_by_role("button", name="Approve").click()
    flash(rhea, "Step 'Risk officer' approved.")
    outcome = rhea.locator("section[aria-labelledby='outcome']")
    assert "Every step approved: version 2 may take @champion" in outcome.inner_text()
    assert "Approved" in rhea.locator(".page-subtitle").inner_text()
    shot(rhea, "governance-signoff-approved")
    rhea.goto("/governance/signoff/reviews/")
    assert rhea.get_by_text("Nothing to review").is_visible()

    # Now the alias moves.
    carl.goto(model_url + "aliases/?version=2&alias=champion")
    carl.get_by_role("button", name="Save").click()
    carl.wait_for_url(f"**{model_url}")
    flash(carl, "“champion” now points at version 2.")
    assert carl.get_by_text("@champion → v2").first.is_visible()


# ------------------------------------------------------------------------------------------- AI Act


def test_the_owner_classifies_the_use_case_and_documents_its_model(
    open_page: Callable[..., Any], world: dict[str, Any], tmp_path: Path
) -> None:
    page = person(open_page, "omar")
    page.goto(f"/governance/use-cases/{world['crew']}/")
    page.get_by_role("link", name="EU AI Act").click()
    page.get_by_text("Not assessed yet.").wait_for()
    page.get_by_role("link", name="Fill the questionnaire").click()
    page.wait_for_url("**/ai-act/questionnaire/")
    # The assistant allocates tasks to workers from their behaviour: Annex III point 4.
    # Every main question answered no, except two (follow-ups stay unanswered).
    no = page.locator(".aiact-question:not(.aiact-follow-up) input[type='radio'][value='no']")
    assert no.count() >= 20
    for index in range(no.count()):
        no.nth(index).check()
    for key in ("annex_iii_employment", "profiling"):
        page.locator(f"input[name='{key}'][value='yes']").check()
    page.get_by_role("button", name="Classify and save").click()
    page.wait_for_url(f"**/governance/use-cases/{world['crew']}/ai-act/")
    flash(page, "Assessed (version 1): high risk.")
    result = page.locator("section[aria-labelledby='result-title']")
    assert result.get_by_text("High risk").is_visible()
    reasons = result.locator(".aiact-reasons li").all_inner_texts()
    assert any("Annex III point 4" in r for r in reasons), reasons
    assert any("You answered yes to" in r for r in reasons)
    shot(page, "governance-aiact-overview")

    # The documentation of the champion of the linked project.
    default = page.get_by_label("Model version")
    assert MODEL in (default.locator("option").first.inner_text())
    page.get_by_role("button", name="Generate the documentation").click()
    page.wait_for_url(f"**/governance/use-cases/{world['crew']}/ai-act/documents/*/")
    flash(page, "Technical documentation generated.")
    assert page.get_by_text(MODEL).first.is_visible()
    shot(page, "governance-aiact-document")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download HTML").click()
    saved = tmp_path / "documentation.html"
    info.value.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and MODEL in html
    assert "Crew scheduling assistant" in html
