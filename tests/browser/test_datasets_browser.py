"""Datasets in a real Chromium against a real server and worker: upload a CSV (with its progress
bar), land on the dataset page, explore it, see the profile charts, and add a blocking rule that
fails. Screenshots go to /tmp/mw-shots (``MODELWORKS_SHOTS``)."""

from __future__ import annotations

from typing import Any

import pytest

from browser.live_instance import htmx_settled, shot, sign_in

pytest_plugins = ["browser.live_instance"]
pytestmark = pytest.mark.browser


def _flights_csv(rows: int = 60_000) -> bytes:
    carriers = ("AF", "LH", "BA", "KL")
    lines = ["flight,carrier,dep_delay,distance,day"]
    for i in range(rows):
        delay = "" if i % 997 == 5 else str((i * 37) % 180 - 20)
        lines.append(
            f"F{i:06d},{carriers[i % 4]},{delay},{300 + (i * 13) % 2500},2024-{1 + i % 12:02d}-{1 + i % 28:02d}"
        )
    return ("\n".join(lines) + "\n").encode()


def test_upload_explore_profile_and_a_failing_blocking_rule(page: Any) -> None:
    sign_in(page, "admin")
    page.goto("/")
    page.get_by_label("Name", exact=True).fill("Airline ops")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url("**/projects/airline-ops/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets").click()
    page.get_by_role("link", name="Upload a file").first.click()
    page.wait_for_url("**/datasets/upload/")
    shot(page, "dataset-upload")

    # Remember what the progress bar showed: the page is left as soon as the upload is done.
    page.evaluate(
        """document.addEventListener('htmx:xhr:progress', function () {
             var bar = document.querySelector('[data-upload-bar]');
             sessionStorage.setItem('mwBarVisible', String(!bar.hidden));
             sessionStorage.setItem('mwBarValue', bar.querySelector('.progress').getAttribute('aria-valuenow'));
           });"""
    )
    page.get_by_label("File").set_input_files(
        {"name": "flights 2024.csv", "mimeType": "text/csv", "buffer": _flights_csv()}
    )
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url("**/datasets/imports/**")
    assert page.evaluate("sessionStorage.getItem('mwBarVisible')") == "true"
    assert page.evaluate("sessionStorage.getItem('mwBarValue')") == "100"
    shot(page, "dataset-import-progress")

    # The import page follows the job and sends the browser to the dataset when it is ready.
    page.wait_for_url("**/projects/airline-ops/datasets/*/", timeout=60_000)
    assert page.get_by_role("heading", name="flights 2024").is_visible()
    assert page.get_by_text("60000 rows").is_visible()
    assert page.locator("th", has_text="dep_delay").first.is_visible()
    shot(page, "dataset-overview")

    page.get_by_role("navigation", name="flights 2024").get_by_role("link", name="Explore").click()
    table = page.locator("#explore table")
    table.wait_for()
    assert table.locator("tbody tr").count() == 50
    page.locator("#explore").get_by_role("link", name="Sort by dep_delay").click()
    htmx_settled(page)
    page.locator("#explore").get_by_role("link", name="Sort by dep_delay").click()  # again: descending
    htmx_settled(page)
    assert page.locator("#explore th[aria-sort='descending']").inner_text().lower().startswith("dep_delay")
    first = table.locator("tbody tr").first.locator("td").nth(2).inner_text()
    assert first == "159"
    page.get_by_label("Filter", exact=True).select_option("carrier")
    page.get_by_label("Condition").select_option("eq")
    page.get_by_label("Value").fill("LH")
    page.get_by_role("button", name="Apply").click()
    htmx_settled(page)
    assert page.get_by_text("of 15000 matching rows").is_visible()
    assert set(table.locator("tbody tr td:nth-child(2)").all_inner_texts()) == {"LH"}
    shot(page, "dataset-explore")

    page.get_by_role("navigation", name="flights 2024").get_by_role("link", name="Profile").click()
    chart = page.locator("svg.chart").first
    chart.wait_for(timeout=60_000)  # the profile job may still be running: the page polls
    assert page.locator("svg[aria-label^='Histogram of dep_delay']").is_visible()
    assert page.locator("svg[aria-label^='Most frequent values of carrier']").is_visible()
    shot(page, "dataset-profile")

    page.get_by_role("navigation", name="flights 2024").get_by_role("link", name="Quality").click()
    form = page.locator("form", has=page.get_by_role("button", name="Add rule"))
    form.get_by_label("Rule").select_option("not_null")
    form.locator("#id_column").select_option("dep_delay")
    form.get_by_label("Blocking").check()
    form.get_by_role("button", name="Add rule").click()
    page.get_by_text("Rule added.").wait_for()
    page.get_by_role("button", name="Run the checks on v1").click()
    page.wait_for_url("**/jobs/**")
    page.locator(".badge", has_text="Succeeded").wait_for(timeout=60_000)
    page.go_back()
    page.reload()
    assert page.locator(".page-meta .badge-failed", has_text="Blocked").is_visible()
    results = page.locator("details.result").first
    assert results.get_by_text("Failed", exact=True).is_visible()
    results.get_by_text("Sample of failing rows").click()
    sample = results.locator("table.sample")
    assert sample.locator("tbody tr").count() >= 1 and "empty" in sample.inner_text()
    shot(page, "dataset-quality")
