"""The web UI in a real Chromium against a real ``modelworks serve`` and worker.

Each test acts as a person would: through the login page, the forms and the buttons. Screenshots of
the main pages are saved in /tmp/mw-shots (``MODELWORKS_SHOTS``) for people to judge the design.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from browser.live_instance import LiveInstance, htmx_settled, shot, sign_in

pytest_plugins = ["browser.live_instance"]
pytestmark = pytest.mark.browser

NEW_PASSWORD = "Copper-Lantern-Meadow-42"


def create_project(page: Any, name: str, description: str = "") -> str:
    """Create a project from the home page; returns the suggested short name."""
    page.goto("/")
    page.get_by_label("Name", exact=True).fill(name)
    slug = page.get_by_label("Short name").input_value()
    if description:
        page.get_by_label("Description").fill(description)
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(f"**/projects/{slug}/")
    return slug


def create_user(page: Any, username: str) -> str:
    """Create an account from the Users page; returns its one-time password."""
    page.goto("/admin/users/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("E-mail address").fill(f"{username}@example.test")
    page.get_by_role("button", name="Create user").click()
    return page.locator("#one-time-password").input_value()


def mark_page(page: Any) -> None:
    """Set a flag on the current document; it survives HTMX swaps but not a page load."""
    page.evaluate("window.__mwSamePage = true")


def still_same_page(page: Any) -> bool:
    return bool(page.evaluate("window.__mwSamePage === true"))


def test_sign_in_and_create_a_project(page: Any) -> None:
    page.goto("/")
    assert page.url.endswith("/login/?next=/")
    shot(page, "login")
    sign_in(page, "admin")
    assert page.get_by_role("heading", name="Projects", exact=True).is_visible()

    slug = create_project(page, "Flight delays", "Predict which departures leave more than 15 minutes late.")
    assert slug == "flight-delays"  # suggested from the name as it was typed
    assert page.get_by_text("Project “Flight delays” created.").is_visible()
    assert page.locator("#members").get_by_text("(you)").is_visible()
    shot(page, "project")

    page.goto("/")
    card = page.locator(".project-card", has_text="Flight delays")
    assert card.get_by_text("Admin").is_visible() and card.get_by_text("1 member").is_visible()
    shot(page, "home")


def test_a_new_user_gets_a_one_time_password_and_chooses_their_own(open_page: Any) -> None:
    admin = open_page()
    sign_in(admin, "admin")
    one_time = create_user(admin, "maria")
    assert admin.get_by_text("it will not be shown again").is_visible()

    maria = open_page()
    sign_in(maria, "maria", one_time)
    assert maria.get_by_role("heading", name="Choose your password").is_visible()
    maria.get_by_label("Old password").fill(one_time)
    maria.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    maria.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    maria.get_by_role("button", name="Change password").click()
    maria.wait_for_url("**/")
    assert maria.get_by_text("You are not in any project yet", exact=True).is_visible()
    shot(maria, "home-empty")


def test_members_are_added_changed_and_removed_in_place(page: Any) -> None:
    sign_in(page, "admin")
    create_user(page, "kenji")
    slug = create_project(page, "Customer churn")
    mark_page(page)
    members = page.locator("#members")

    page.get_by_label("Add a user or group").fill("kenji")
    members.get_by_label("Role", exact=True).select_option("contributor")
    members.get_by_role("button", name="Add").click()
    row = members.locator("tr", has_text="kenji")
    row.wait_for()
    htmx_settled(page)
    assert row.get_by_label("Role of kenji").input_value() == "contributor"
    assert page.get_by_text("kenji added as contributor.").is_visible()

    row.get_by_label("Role of kenji").select_option("reader")
    page.get_by_text("kenji is now reader.").wait_for()
    htmx_settled(page)

    # The service refuses to leave the project without an admin; the reason shows next to the row.
    members.locator("tr", has_text="(you)").get_by_label("Role of admin").select_option("reader")
    alert = members.get_by_role("alert")
    alert.wait_for()
    assert "last admin; make someone else admin first" in alert.inner_text()
    htmx_settled(page)

    members.get_by_role("button", name="Remove kenji").click()  # the confirmation is accepted
    page.get_by_text("kenji removed from the project.").wait_for()
    assert members.locator("tr", has_text="kenji").count() == 0
    assert still_same_page(page), "the members panel must update in place, without a page load"
    shot(page, f"project-{slug}-members")


def test_a_token_is_shown_once_and_works_until_revoked(page: Any, instance: LiveInstance) -> None:
    sign_in(page, "admin")
    page.goto("/settings/")
    page.get_by_label("Name").last.fill("nightly training")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token-value").input_value()
    assert token.startswith("mwt_")
    assert page.get_by_text("It will not be shown again.").is_visible()
    page.get_by_role("button", name="Copy", exact=True).click()
    page.get_by_role("button", name="Copied").wait_for()
    shot(page, "settings-token")

    assert api_status(instance, token) == 200
    page.reload()
    assert token not in page.content()
    assert page.get_by_text(token[:12] + "…").is_visible()

    page.get_by_role("button", name="Revoke nightly training").click()
    page.get_by_text("Token “nightly training” revoked").wait_for()
    assert api_status(instance, token) == 401


def api_status(instance: LiveInstance, token: str) -> int:
    request = urllib.request.Request(  # noqa: S310 (the local test instance)
        f"{instance.base_url}/api/v1/projects", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            json.load(response)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_job_runs_with_live_progress_to_100_percent(page: Any) -> None:
    sign_in(page, "admin")
    create_project(page, "Demand forecast")
    page.get_by_role("link", name="Jobs", exact=True).first.click()
    page.get_by_label("Job", exact=True).select_option("core.self_check")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]{36}/$"))
    mark_page(page)

    bar = page.locator("#job-live [role=progressbar]")
    seen: list[int] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        seen.append(int(bar.get_attribute("aria-valuenow")))
        if page.locator("#job-live .badge-succeeded").count():
            break
        time.sleep(0.25)
    assert page.locator("#job-live .badge-succeeded").is_visible(), f"progress seen: {seen}"
    assert bar.get_attribute("aria-valuenow") == "100"
    assert min(seen) < 100, "the page must have shown the job before it finished"
    log = page.locator("#job-log-lines")
    assert log.get_by_text("Checking the database").first.is_visible()
    assert log.get_by_text(re.compile(r"^Succeeded in")).is_visible()
    seqs = [int(n) for n in log.locator("[data-seq]").evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert seqs == sorted(set(seqs)), f"each log line once, in order: {seqs}"
    assert still_same_page(page), "progress and logs must arrive without reloading the page"
    assert page.locator("#job-live").get_attribute("hx-trigger") is None  # polling stopped
    shot(page, "job")


def test_the_audit_log_shows_what_happened(page: Any) -> None:
    sign_in(page, "admin")
    create_project(page, "Audit trail")
    page.goto("/audit/")
    page.get_by_label("Action").fill("project.created")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**action=project.created**")
    rows = page.locator("#audit-table tbody tr")
    assert rows.filter(has_text="Audit trail").count() == 1
    assert rows.filter(has_text="membership").count() == 0
    shot(page, "audit")


def test_a_narrow_window_keeps_everything_reachable(open_page: Any) -> None:
    page = open_page(width=420, height=860)
    sign_in(page, "admin")
    slug = create_project(page, "Narrow window check")
    for url in ("/", f"/projects/{slug}/", f"/projects/{slug}/jobs/", "/audit/", "/settings/"):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 420, f"{url} is {width}px wide in a 420px window"
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").is_visible()
    page.goto(f"/projects/{slug}/")
    shot(page, "project-narrow")


def test_keyboard_users_get_a_skip_link_and_visible_focus(page: Any) -> None:
    sign_in(page, "admin")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()
    page.goto("/settings/")
    field = page.get_by_label("First name")
    field.focus()
    shadow = field.evaluate("el => getComputedStyle(el).boxShadow")
    assert shadow and shadow != "none", "a focused field must show a focus ring"
