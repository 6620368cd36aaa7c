"""The Lab in a real Chromium against a real server and worker: upload a CSV, create an analysis,
see the proposed design with its reasons, train with a tiny budget, follow the progress to the
leaderboard and see a chart; then ask "what if". Screenshots go to /tmp/mw-shots.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from browser.live_instance import LiveInstance, htmx_settled, shot, sign_in

pytest_plugins = ["browser.live_instance"]
pytestmark = pytest.mark.browser


def _cancer_csv() -> bytes:
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:160, [0, 1, 2, 3, 20, 21, 22]].copy()
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame["diagnosis"] = np.where(data.frame["target"].iloc[:160] == 1, "benign", "malignant")
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveInstance]:
    live = LiveInstance(tmp_path_factory.mktemp("lab-instance"))
    live.start()
    try:
        yield live
    finally:
        live.stop()
    assert not live.guard_violations(), live.guard_violations()


def test_design_train_and_read_the_results(page: Any) -> None:
    sign_in(page, "admin")
    page.goto("/")
    page.get_by_label("Name", exact=True).fill("Lab demo")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url("**/projects/lab-demo/")
    page.goto("/projects/lab-demo/datasets/upload/")
    page.get_by_label("File").set_input_files(
        {"name": "cancer.csv", "mimeType": "text/csv", "buffer": _cancer_csv()}
    )
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url("**/datasets/imports/**")
    page.wait_for_url("**/projects/lab-demo/datasets/*/", timeout=60_000)  # when the import is done

    page.goto("/projects/lab-demo/lab/")
    page.get_by_label("Name", exact=True).fill("Diagnosis")
    page.get_by_label("Column to predict (target)").select_option("diagnosis")
    page.get_by_role("button", name="Create and design").click()
    page.wait_for_url("**/projects/lab-demo/lab/*/")
    assert page.get_by_text("the target: what the model predicts").is_visible()
    shot(page, "lab-design")

    for name in ("Random forest", "XGBoost"):
        page.get_by_label(name, exact=False).uncheck()
    page.get_by_label("Time budget (seconds)").fill("6")
    page.get_by_label("Maximum number of trials").fill("3")
    page.get_by_label("Folds").fill("3")
    page.get_by_role("button", name="Save design").click()
    page.get_by_text("Design saved.").wait_for()
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_url("**/trainings/1/")
    page.get_by_role("heading", name="How good is the best model?").wait_for(timeout=120_000)
    htmx_settled(page)
    assert page.locator(".lab-leaderboard tbody tr").count() >= 1
    assert page.locator("svg[aria-label*='ROC']").count() >= 1 or page.locator("figure svg").count() >= 3
    shot(page, "lab-results")

    page.get_by_role("button", name="Predict").click()
    page.locator("#whatif-result").get_by_text("Prediction:").wait_for()
    shot(page, "lab-whatif")
