"""Issue-4 audit, in a real Chromium against a real server and worker: a business user splits flights
by time with the Split form (only the settings of the chosen way to split show; the preview follows;
the recipe saves and builds into two outputs), takes the first rows with a Sample, and adds a running
sum with a frame in the Window form, each previewed without an error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from browser.live_instance import LiveInstance, htmx_settled, shot, sign_in

pytest_plugins = ["browser.live_instance"]
pytestmark = pytest.mark.browser

SETUP = """
import json
from modelworks.core import services as core
from modelworks.core.models import User
from modelworks.datasets.testing import make_dataset

admin = User.objects.get(username="admin")
project = core.create_project(actor=admin, slug="audit", name="Audit")
flights = make_dataset(project, admin)
print(json.dumps({"flights": flights.pk}))
"""


@pytest.fixture(scope="module")
def world(instance: LiveInstance) -> dict[str, Any]:
    return dict(json.loads(instance.shell(SETUP).strip().splitlines()[-1]))


def _visible_settings(page: Any) -> set[str]:
    names = page.eval_on_selector_all(
        "#recipe-form [name^='spec.']",
        "els => els.filter(e => e.type !== 'hidden' && e.offsetParent !== null).map(e => e.name)",
    )
    return set(names)


def test_split_by_time_shows_its_settings_only_previews_saves_and_builds(
    page: Any, world: dict[str, Any]
) -> None:
    sign_in(page, "admin")
    page.goto(f"/projects/audit/flow/recipes/new/split/?input={world['flights']}")
    htmx_settled(page)
    assert _visible_settings(page) == {"spec.mode"}  # nothing to fill before choosing how to split
    page.get_by_label("Split", exact=True).select_option("random")
    assert _visible_settings(page) == {"spec.mode", "spec.fractions", "spec.seed", "spec.id_column"}
    page.get_by_label("Split", exact=True).select_option("time")
    assert _visible_settings(page) == {"spec.mode", "spec.column", "spec.cutoffs", "spec.percentiles"}
    page.locator("[name='spec.column']").fill("day")
    page.locator("[name='spec.cutoffs']").fill("2024-01-03")
    page.get_by_label("Name", exact=True).click()  # leaving the field fires "change"
    page.locator("#recipe-preview [data-preview-rows='3']").wait_for()  # 2024-01-01, -02, -02
    htmx_settled(page)
    assert not page.locator("#recipe-preview [data-preview-error]").count()
    page.get_by_label("Output shown").select_option("flights_split_2")
    page.locator("#recipe-preview [data-preview-rows='2']").wait_for()
    shot(page, "audit-split-by-time")
    page.get_by_role("button", name="Save recipe").click()
    page.wait_for_url("**/flow/recipes/*/")
    page.get_by_role("button", name="Build", exact=True).click()
    page.wait_for_url("**/flow/builds/*/")
    page.locator("[data-build-status='succeeded']").wait_for(timeout=60_000)
    facts = page.locator(".build-step-facts").first.inner_text()
    assert "flights_split_1: 3 rows" in facts and "flights_split_2: 2 rows" in facts


def test_sample_of_the_first_rows_and_a_window_with_a_frame_preview(page: Any, world: dict[str, Any]) -> None:
    sign_in(page, "admin")
    page.goto(f"/projects/audit/flow/recipes/new/sample/?input={world['flights']}")
    htmx_settled(page)
    assert _visible_settings(page) == {"spec.mode", "spec.n"}  # "first rows": no seed, no fraction
    page.locator("[name='spec.n']").fill("2")
    page.get_by_label("Name", exact=True).click()
    page.locator("#recipe-preview [data-preview-rows='2']").wait_for()
    htmx_settled(page)

    page.goto(f"/projects/audit/flow/recipes/new/window/?input={world['flights']}")
    htmx_settled(page)
    page.locator("button[value='add:spec.order_by']").click()
    htmx_settled(page)
    page.locator("[name='spec.order_by.0.column']").fill("day")
    page.locator("[name='spec.functions.0.function']").select_option("sum")
    page.locator("[name='spec.functions.0.column']").fill("distance")
    page.locator("button[value='add:spec.frame']").click()
    htmx_settled(page)
    assert not page.locator("button[value='add:spec.frame']").count()  # one frame at most
    page.locator("[name='spec.frame.0.start']").fill("1 preceding")
    page.get_by_label("Name", exact=True).click()
    page.locator("#recipe-preview .preview-col", has_text="distance_sum").wait_for()
    htmx_settled(page)
    assert not page.locator("#recipe-preview [data-preview-error]").count()
    # Options read as words.
    options = page.locator("[name='spec.functions.0.function'] option").all_inner_texts()
    assert "row number" in options and "moving avg" in options
    shot(page, "audit-window-frame")
