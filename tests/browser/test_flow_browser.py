"""The flow in a real Chromium against a real server and worker: upload a CSV, open the flow, create a
Prepare recipe from the dataset's node, add two steps while the live preview follows, save, build,
follow the build to "Succeeded" and see the output's node turn "up to date"; zoom and pan the graph.
Screenshots go to /tmp/mw-shots (``MODELWORKS_SHOTS``)."""

from __future__ import annotations

from typing import Any

import pytest

from browser.live_instance import htmx_settled, shot, sign_in

pytest_plugins = ["browser.live_instance"]
pytestmark = pytest.mark.browser

CSV = (
    b"flight,carrier,dep_delay,distance\n"
    b"AF1,AF,5,900\nAF2,AF,-3,1200\nLH7,LH,45,700\nLH8,LH,,650\nBA3,BA,12,400\nBA4,BA,30,300\n"
)


def _transform(page: Any) -> str:
    return str(page.locator("[data-flow-viewport]").get_attribute("transform"))


def test_create_preview_save_build_and_watch_the_flow(page: Any) -> None:
    sign_in(page, "admin")
    page.goto("/")
    page.get_by_label("Name", exact=True).fill("Flow demo")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url("**/projects/flow-demo/")

    # An empty flow says what to do first.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Flow").click()
    page.wait_for_url("**/projects/flow-demo/flow/")
    assert page.get_by_text("The flow is empty").is_visible()
    page.get_by_role("link", name="Upload a file").click()
    page.get_by_label("File").set_input_files({"name": "flights.csv", "mimeType": "text/csv", "buffer": CSV})
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url("**/datasets/imports/**")
    page.wait_for_url("**/projects/flow-demo/datasets/*/", timeout=60_000)  # when the import is done

    # The dataset is a node of the flow; selecting it offers a new recipe from it.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Flow").click()
    page.wait_for_url("**/projects/flow-demo/flow/")
    node = page.locator("[data-node^='dataset:']")
    assert node.count() == 1 and "state-built" in (node.get_attribute("class") or "")
    node.click()
    selection = page.locator("#flow-selection")
    assert selection.get_by_text("flights", exact=True).is_visible()
    selection.get_by_role("link", name="New recipe from it").click()
    page.wait_for_url("**/flow/recipes/new/prepare/?input=*")
    assert page.get_by_label("Name", exact=True).input_value() == "prepare_flights"
    preview = page.locator("#recipe-preview")
    preview.locator("table").wait_for()
    assert preview.locator("tbody tr").count() == 6  # no step yet: the input as it is

    # Step 1: rename a column; the preview follows once the field is left.
    page.get_by_label("Find a processor").fill("rename")
    page.get_by_role("button", name="Rename columns").click()
    htmx_settled(page)
    page.locator("textarea[name='step.0.p.renames']").fill("carrier = airline")
    page.get_by_label("Name", exact=True).click()  # leaving the field fires "change"
    page.locator("#recipe-preview .preview-col", has_text="airline").wait_for()
    htmx_settled(page)

    # Step 2: keep long flights; the preview now has fewer rows.
    page.locator(".processor-picker > summary").click()
    page.get_by_label("Find a processor").fill("formula filter")
    page.get_by_role("button", name="Filter rows with a formula").click()
    htmx_settled(page)
    page.locator("input[name='step.1.p.formula']").fill("distance > 500")
    page.locator("input[name='step.1.p.formula']").press("Tab")
    page.locator("#recipe-preview [data-preview-rows='4']").wait_for()
    htmx_settled(page)
    assert page.locator("#step-1 .step-title").inner_text() == "Filter rows with a formula"
    shot(page, "flow-prepare-editor")

    # A mistake is shown in place of the table, naming the column; fixing it brings the table back.
    page.locator("input[name='step.1.p.formula']").fill("distanse > 500")
    page.locator("input[name='step.1.p.formula']").press("Tab")
    error = page.locator("#recipe-preview [data-preview-error]")
    error.wait_for()
    assert "distanse" in error.inner_text()
    page.locator("input[name='step.1.p.formula']").fill("distance > 500")
    page.locator("input[name='step.1.p.formula']").press("Tab")
    page.locator("#recipe-preview [data-preview-rows='4']").wait_for()
    htmx_settled(page)

    page.get_by_role("button", name="Save recipe").click()
    page.wait_for_url("**/flow/recipes/*/")
    assert page.get_by_text("Never built").first.is_visible()
    page.get_by_role("button", name="Build", exact=True).click()
    page.wait_for_url("**/flow/builds/*/")
    page.locator("[data-build-status='succeeded']").wait_for(timeout=60_000)
    assert "flights_prepared: 4 rows" in page.locator(".build-step-facts").first.inner_text()
    shot(page, "flow-build")

    # Back on the flow, the output is up to date; zoom and pan move the drawing.
    page.get_by_role("link", name="Open the flow").click()
    page.wait_for_url("**/projects/flow-demo/flow/")
    output = page.locator("[data-node^='dataset:']", has_text="flights_prepared")
    assert "state-built" in (output.get_attribute("class") or "")
    assert page.locator("[data-node^='recipe:']").count() == 1
    before = _transform(page)
    page.get_by_role("button", name="Zoom in").click()
    zoomed = _transform(page)
    assert zoomed != before and "scale(" in zoomed
    page.get_by_role("button", name="Zoom out").click()
    page.get_by_role("button", name="Zoom out").click()
    assert _transform(page) not in (before, zoomed)
    box = page.locator("[data-flow-canvas]").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + box["height"] - 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + box["height"] - 90, steps=5)
    page.mouse.up()
    panned = _transform(page)
    page.get_by_role("button", name="Fit").click()
    assert _transform(page) == before and panned != before
    page.locator("[data-flow-canvas]").focus()
    page.keyboard.press("+")
    assert _transform(page) != before
    shot(page, "flow-graph")
