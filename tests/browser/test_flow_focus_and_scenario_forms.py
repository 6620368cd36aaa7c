"""In a real Chromium against a real instance: a dataset's "Show in the Flow" opens the flow with that
dataset selected and centred at 100 % (``?focus=dataset:<id>``), even when it lies far from the
middle of a wide flow; and the scenario forms show only the fields of the chosen step or trigger kind
(and notification channel), as the choice changes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from browser.live_instance import LiveInstance, shot, sign_in

pytest_plugins = ["browser.live_instance"]
pytestmark = pytest.mark.browser

#: A chain of six recipes (wide flow): Flights → Step 1 out → … → Step 6 out, and a scenario.
SETUP = """
import json
from modelworks.core import services as core
from modelworks.core.models import User
from modelworks.datasets.testing import make_dataset
from modelworks.flows import services
from modelworks.scenarios import services as scenarios

admin = User.objects.get(username="admin")
project = core.create_project(actor=admin, slug="wide-flow", name="Wide flow")
current = make_dataset(project, admin)
first = current
for n in range(1, 7):
    recipe = services.create_recipe(project, actor=admin, name=f"Step {n}", kind="sort", inputs=[current],
        outputs=[f"Step {n} out"], spec={"columns": [{"column": "dep_delay", "direction": "desc"}]})
    current = recipe.output_datasets[0]
scenario = scenarios.create_scenario(project, actor=admin, name="Nightly")
print(json.dumps({"first": first.pk, "last": current.pk, "scenario": scenario.pk}))
"""


@pytest.fixture(scope="module")
def world(instance: LiveInstance) -> dict[str, Any]:
    out = instance.shell(SETUP).strip().splitlines()[-1]
    return dict(json.loads(out))


def _centre_offset(page: Any, node_id: str) -> tuple[float, float]:
    """How far the node's box centre is from the canvas centre, in screen pixels."""
    canvas = page.locator("[data-flow-canvas] svg").first.bounding_box()
    box = page.locator(f"[data-node='{node_id}'] .flow-box").bounding_box()
    return (
        abs(box["x"] + box["width"] / 2 - (canvas["x"] + canvas["width"] / 2)),
        abs(box["y"] + box["height"] / 2 - (canvas["y"] + canvas["height"] / 2)),
    )


def _scale(page: Any) -> float:
    transform = str(page.locator("[data-flow-viewport]").get_attribute("transform"))
    found = re.search(r"scale\(([\d.]+)", transform)
    return float(found.group(1)) if found else 1.0


@pytest.mark.parametrize("end", ["first", "last"])
def test_show_in_the_flow_selects_and_centres_the_dataset(page: Any, world: dict[str, Any], end: str) -> None:
    sign_in(page, "admin")
    page.goto(f"/projects/wide-flow/datasets/{world[end]}/")
    page.get_by_role("link", name="Show in the Flow").click()
    page.wait_for_url(f"**/projects/wide-flow/flow/?focus=dataset:{world[end]}")
    node_id = f"dataset:{world[end]}"
    node = page.locator(f"[data-node='{node_id}']")
    node.wait_for()
    assert "is-selected" in (node.get_attribute("class") or "")
    assert _scale(page) == pytest.approx(1.0)
    dx, dy = _centre_offset(page, node_id)
    assert dx < 3 and dy < 3, (dx, dy)
    name = "Flights" if end == "first" else "Step 6 out"
    assert page.locator("#flow-selection").get_by_text(name, exact=True).is_visible()
    # Without ?focus= the whole flow is fitted instead: the far end is no longer in the middle.
    page.goto("/projects/wide-flow/flow/")
    page.locator(f"[data-node='{node_id}']").wait_for()
    assert _centre_offset(page, node_id)[0] > 50
    assert "is-selected" not in (page.locator(f"[data-node='{node_id}']").get_attribute("class") or "")
    if end == "last":
        shot(page, "flow-fitted")


def _visible(page: Any, form: Any, *names: str) -> dict[str, bool]:
    return {name: form.locator(f"[name='{name}']").first.is_visible() for name in names}


STEP_FIELDS = (
    "datasets",
    "force",
    "job_type",
    "job_params",
    "channel",
    "url",
    "recipients",
    "subject",
    "message",
)


@pytest.mark.parametrize(
    ("kind", "channel", "shown"),
    [
        ("build", None, {"datasets", "force"}),
        ("quality", None, {"datasets"}),
        ("job", None, {"job_type", "job_params"}),
        ("notify", "webhook", {"channel", "url", "message"}),
        ("notify", "email", {"channel", "recipients", "subject", "message"}),
    ],
)
def test_the_step_form_shows_only_the_fields_of_the_chosen_kind(
    page: Any, world: dict[str, Any], kind: str, channel: str | None, shown: set[str]
) -> None:
    sign_in(page, "admin")
    page.goto(f"/projects/wide-flow/scenarios/{world['scenario']}/")
    form = page.locator("form", has=page.get_by_role("button", name="Add step"))
    form.locator("select[name='kind']").select_option(kind)
    if channel:
        form.locator("select[name='channel']").select_option(channel)
    visible = _visible(page, form, *STEP_FIELDS)
    assert {name for name, seen in visible.items() if seen} == shown, visible
    assert form.locator("[name='name']").is_visible() and form.locator("[name='run_condition']").is_visible()
    if kind == "notify" and channel == "email":
        shot(page, "scenario-step-email")


def test_the_trigger_form_follows_its_kind(page: Any, world: dict[str, Any]) -> None:
    sign_in(page, "admin")
    page.goto(f"/projects/wide-flow/scenarios/{world['scenario']}/")
    form = page.locator("form", has=page.get_by_role("button", name="Add trigger"))
    fields = ("cron", "dataset", "upstream", "outcome")
    expected = {
        "cron": {"cron"},
        "dataset_changed": {"dataset"},
        "scenario_finished": {"upstream", "outcome"},
    }
    for kind, shown in expected.items():
        form.locator("select[name='kind']").select_option(kind)
        visible = _visible(page, form, *fields)
        assert {name for name, seen in visible.items() if seen} == shown, (kind, visible)
