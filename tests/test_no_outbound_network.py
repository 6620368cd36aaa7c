"""No outbound network: a real instance serves every page without reaching outside this machine.

``modelworks serve`` and ``modelworks worker`` run with the network guard
(``tests/browser/network_guard/sitecustomize.py``): any name lookup or connection to an address
outside the loopback network is refused and recorded. Chromium, signed in as an instance
administrator, then opens every page it can reach by following links (and the fragments HTMX asks
for), with every request outside 127.0.0.1 refused and recorded. Finally no HTML, CSS, JS or SVG that
the instance served may name an external http(s) address, except the documented exemptions below.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from django.urls import Resolver404, resolve
from playwright.sync_api import Error as PlaywrightError

from browser.live_instance import GUARD_DIR, LiveInstance, RequestGuard, sign_in
from modelworks.core.testing.page_routes import PAGE_ROUTES

pytest_plugins = ["browser.live_instance"]
pytestmark = pytest.mark.browser

MAX_PAGES = 400

# Addresses that are identifiers, never fetched: XML namespaces of inline SVG and of the DOM.
# SVG namespaces, and the instance's own scoring service on this machine (the deployment page shows
# how to call it; the address is the instance's own host on MODELWORKS_SERVING_PORT, never outside).
NOT_FETCHED = re.compile(r"^https?://(www\.w3\.org/|127\.0\.0\.1:8100/score/)")

# Served files whose text may contain external addresses, with the reason. The browser check and the
# socket guard above prove that none of these addresses is requested.
EXEMPT_FILES = {
    "/static/ninja/swagger-ui-bundle.js": (
        "Swagger UI (the API docs page, vendored by django-ninja) embeds specification links (RFCs, "
        "JSON-schema dialect identifiers) in its strings; it is configured with validatorUrl=None so it "
        "sends nothing to swagger.io"
    ),
}

# Pages reached through HTMX rather than links: each is exercised below by the action that asks for it.
REACHED_BY_HTMX = {
    "core:job_live",
    "lab:columns",
    "lab:session_live",
    "core:member_search",
    "datasets:import_items",
    "flows:check",
    "flows:score_model_choices",
    "scenarios:cron_preview",
    "scenarios:run_live",
}

URL_IN_TEXT = re.compile(rb"""https?://[^\s"'<>()\\`]+""")

SEED = textwrap.dedent(
    """
    from django.contrib.auth.models import Group
    from modelworks.core import services
    from modelworks.core.jobs import enqueue
    from modelworks.core.models import ApiToken, Role, User

    admin = User.objects.get(username="admin")
    maria = services.create_user(actor=admin, username="maria", email="maria@example.test",
                                 password="Copper-Lantern-Meadow-42")
    project = services.create_project(actor=admin, slug="flight-delays", name="Flight delays",
                                      description="Predict late departures.")
    services.grant_membership(project, actor=admin, user=maria, role=Role.CONTRIBUTOR)
    group = services.create_group(actor=admin, name="analysts")
    services.add_group_member(group, maria, actor=admin)
    services.grant_membership(project, actor=admin, group=group, role=Role.READER)
    services.issue_token(actor=admin, user=admin, name="laptop")
    enqueue("core.self_check", project=project, created_by=admin, params={"pause_seconds": 0.0})
    enqueue("core.diagnostic", project=project, created_by=admin, params={"seconds": 0.2, "fail": True})
    enqueue("core.self_check", created_by=admin, params={"pause_seconds": 0.0})
    # Lineage (a job reading one table and writing another) and a documented dataset for the catalog.
    from modelworks.catalog.lineage import DatasetRef, record_run
    from modelworks.datasets.models import Dataset
    record_run(project, "nightly_load", inputs=[DatasetRef("postgres://warehouse:5432", "public.raw_flights")],
               outputs=[DatasetRef("postgres://warehouse:5432", "public.clean_flights")])
    Dataset.objects.create(project=project, name="airports", description="Reference list of airports.",
                           tags=["reference"], owner=admin)
    # A dataset imported by the worker from an upload, a project connection (at a closed loopback
    # port) and a shared S3 one. Pages only show them; nothing here asks them for data.
    from modelworks.connections import services as connections
    from modelworks.datasets import services as datasets
    from modelworks.datasets.storage import new_upload_path
    upload_id, upload_file = new_upload_path()
    upload_file.write_bytes(b"flight,carrier,dep_delay\\nAF1,AF,5\\nLH7,LH,45\\nBA3,BA,\\n")
    datasets.submit_upload_import(actor=admin, project=project, upload_id=upload_id, file_name="flights.csv",
                                  name="flights")
    connections.create_connection(actor=admin, project=project, name="Warehouse", kind="postgresql",
                                  config={"host": "127.0.0.1", "port": 1, "database": "sales", "user": "reader"},
                                  secrets={"password": "Warehouse-Secret-1"})
    connections.create_connection(actor=admin, project=None, name="Lake", kind="s3",
                                  config={"bucket": "raw", "region": "eu-west-1"},
                                  shared_with=[project])
    # A flow (a recipe built once, with its history) and a scenario with a run, for their pages.
    from modelworks.datasets.testing import make_dataset
    from modelworks.flows import services as flows
    from modelworks.scenarios import services as scenarios
    from modelworks.scenarios.models import RunTrigger
    departures = make_dataset(project, admin, name="departures")
    flows.create_recipe(project, actor=admin, name="Late departures", kind="prepare", inputs=[departures],
                        outputs=["late_departures"],
                        spec={"steps": [{"processor": "filter_formula", "params": {"formula": "dep_delay > 10"}}]})
    flows.submit_build(project, actor=admin)
    nightly = scenarios.create_scenario(project, actor=admin, name="Nightly", enabled=False,
                                        triggers=[{"kind": "cron", "cron": "0 2 * * *"}],
                                        steps=[{"kind": "build", "name": "Build all", "params": {"datasets": []}}])
    scenarios.start_run(nightly, trigger_kind=RunTrigger.MANUAL, triggered_by=admin)
    # The Lab: an analysis of a small house-prices table, trained by the worker in a few seconds (its
    # model is registered by the test once trained), which also fills an experiment with runs.
    from modelworks.lab import services as lab
    from modelworks.lab.testing import HOUSES_CSV
    houses = make_dataset(project, admin, name="houses", content=HOUSES_CSV, file_name="houses.csv")
    analysis = lab.create_analysis(project, actor=admin, name="House prices", dataset=houses, target="price")
    lab.update_design(analysis, actor=admin, time_budget_s=5, max_trials=4)
    lab.start_training(analysis, actor=admin)
    # Still running while the pages are visited, so the job page polls its live fragment.
    enqueue("core.diagnostic", title="Long diagnostic", project=project, created_by=admin,
            params={"seconds": 900, "steps": 900})
    """
)


def test_the_network_guard_refuses_and_records_outside_addresses(tmp_path: Path) -> None:
    """The guard is not vacuous: outside addresses are refused and recorded, loopback is allowed."""
    log = tmp_path / "guard.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": str(GUARD_DIR),
        "MODELWORKS_NETWORK_GUARD": "1",
        "MODELWORKS_NETWORK_GUARD_LOG": str(log),
    }
    code = textwrap.dedent(
        """
        import socket
        outcomes = []
        for attempt in (lambda: socket.socket().connect(("192.0.2.1", 80)),
                        lambda: socket.getaddrinfo("example.com", 443),
                        lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("198.51.100.7", 53))):
            try:
                attempt()
                outcomes.append("allowed")
            except OSError as exc:
                outcomes.append("refused" if "network guard" in str(exc) else f"other: {exc}")
        server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
        socket.create_connection(server.getsockname(), timeout=1).close()
        socket.getaddrinfo("localhost", 80)
        print(",".join(outcomes))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "refused,refused,refused", done.stdout + done.stderr
    recorded = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["event"] for r in recorded] == ["socket.connect", "socket.getaddrinfo", "socket.sendto"]


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Any:
    live = LiveInstance(tmp_path_factory.mktemp("no-network")).start()
    try:
        live.shell(SEED)
        yield live
    finally:
        live.stop()


def _same_origin_links(page: Any, base: str) -> list[str]:
    # An SVG link's href is an SVGAnimatedString, not a string: resolve its value against the page.
    hrefs = page.eval_on_selector_all(
        "a[href]",
        "els => els.map(e => typeof e.href === 'string' ? e.href : new URL(e.href.baseVal, document.baseURI).href)",
    )
    links = []
    for href in hrefs:
        url, _ = urldefrag(href)
        if url.startswith(base) and not urlsplit(url).path.startswith(("/static/", "/logout/")):
            links.append(url)
    return links


def _url_name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


class Recorder:
    """What the browser fetched from the instance, and what went wrong on the pages."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.answered: set[str] = set()  # every URL the instance answered
        self.text_urls: set[str] = set()  # those answered with HTML, CSS, JS or SVG
        self.problems: list[str] = []
        self.guard = RequestGuard()

    def attach(self, context: Any) -> Any:
        context.route("**/*", self.guard)
        page = context.new_page()
        page.on("response", self.on_response)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self.on_console)
        return page

    def on_response(self, response: Any) -> None:
        url = urldefrag(response.url)[0]
        self.answered.add(url)
        kind = response.headers.get("content-type", "")
        if url.startswith(self.base) and any(t in kind for t in ("html", "css", "javascript", "svg")):
            self.text_urls.add(url)

    def on_console(self, message: Any) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.problems.append(f"console: {message.text}")


def _wait_for_short_jobs(page: Any) -> None:
    """Let the worker finish the short jobs, so finished, failed and running jobs all show."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page.goto("/projects/flight-delays/jobs/")
        if page.locator("#job-table .badge-queued").count() == 0:
            return
        time.sleep(0.5)


# Once the Lab training is over: register its model twice (two versions to compare), and print the
# addresses only a form leads to (a comparison of ticked rows, the what-if form).
FINISH_LAB = textwrap.dedent(
    """
    import json, time
    from modelworks.core.models import User
    from modelworks.lab import services as lab
    from modelworks.lab.models import TrainingSession
    from modelworks.registry.models import RegisteredModel
    from modelworks.tracking.models import Run
    deadline = time.monotonic() + 120
    session = TrainingSession.objects.get(analysis__name="House prices")
    while session.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(1)
        session.refresh_from_db()
    assert session.status == "succeeded", (session.status, session.error)
    admin = User.objects.get(username="admin")
    lab.register_model(session, actor=admin, name="house-prices", alias="champion")
    lab.register_model(session, actor=admin, name="house-prices", alias="challenger")
    model = RegisteredModel.objects.get(name="house-prices")
    runs = list(Run.objects.filter(experiment=session.experiment).values_list("run_uuid", flat=True)[:2])
    base = "/projects/flight-delays"
    # Deployment, monitoring, promotion and governance objects, for their pages.
    from django.urls import reverse
    from modelworks.core.models import Project, ProjectMembership, Role
    from modelworks.datasets.testing import make_dataset
    from modelworks.deployments.services import TargetSpec, create_deployment
    from modelworks.governance.models import AIActAssessment
    from modelworks.governance.services.aiact_classification import REQUIRED_KEYS, assess
    from modelworks.governance.services.aiact_documentation import generate_document
    from modelworks.governance.services.portfolio import create_use_case
    from modelworks.governance.services.signoff import StepSpec, request_signoff, save_policy
    from modelworks.governance.services.value import create_definition
    from modelworks.monitoring.services.backtests import create_backtest
    from modelworks.monitoring.services.monitors import create_monitor
    from modelworks.registry.services.promotion import request_promotion
    project = Project.objects.get(slug="flight-delays")
    v1, v2 = model.versions.order_by("version")[:2]
    risk = User.objects.create_user("risk", email="risk@example.org", password="Risk-Officer-Pw-1")
    ProjectMembership.objects.create(project=project, user=risk, role=Role.CONTRIBUTOR)
    deployment = create_deployment(project, actor=admin, name="house-prices-api",
                                   targets=[TargetSpec(model="house-prices", alias="champion")])
    monitor = create_monitor(project, actor=admin, name="House prices API", deployment=deployment)
    sales = make_dataset(project, admin, name="house_sales", file_name="house_sales.csv",
                         content=b"size_m2,rooms,city,sold_on,price\\n50,2,Lyon,2024-01-05,200000\\n"
                                 b"80,3,Paris,2024-02-07,390000\\n65,2,Nantes,2024-02-20,240000\\n")
    backtest = create_backtest(project, actor=admin, name="By month", dataset_version=sales.current_version,
                               time_column="sold_on", target_column="price", model_versions=[v1])
    promotion = request_promotion(v2, alias="champion", approver=admin, actor=risk)
    use_case = create_use_case(actor=admin, title="House price estimates", projects=[project],
                               stage="production", business_owner=admin, business_unit="Lending",
                               expected_value_recurring=100000, value_formula="loans priced x 10 EUR")
    definition = create_definition(use_case, actor=admin, source=f"deployment:{deployment.pk}",
                                   name="Priced loans", kind="prediction_log", value_per_row="10")
    answers = {key: False for key in REQUIRED_KEYS}
    answers["annex_iii_credit_scoring"] = True
    assess(use_case, answers, actor=admin)
    document = generate_document(use_case, actor=admin)
    save_policy(project, actor=admin, aliases=["production"], mode="block", due_days=5, enabled=True,
                steps=[StepSpec(title="Risk officer", order=1, reviewer=risk)])
    signoff = request_signoff(v2, "production", actor=admin)
    slug, mv = project.slug, model.pk
    pages = [
        reverse("deployments:detail", args=[slug, deployment.name]),
        reverse("deployments:edit", args=[slug, deployment.name]),
        reverse("deployments:traffic", args=[slug, deployment.name]),
        reverse("monitoring:detail", args=[slug, monitor.pk]),
        reverse("monitoring:edit", args=[slug, monitor.pk]),
        reverse("monitoring:backtest", args=[slug, backtest.pk]),
        reverse("registry:promotion", args=[slug, mv, promotion.number]),
        reverse("registry:card_markdown", args=[slug, mv, 1]),
        reverse("registry:delete_version", args=[slug, mv, 2]),
        reverse("governance:usecase_detail", args=[use_case.slug]),
        reverse("governance:usecase_edit", args=[use_case.slug]),
        reverse("governance:usecase_delete", args=[use_case.slug]),
        reverse("governance:value_page", args=[use_case.slug]),
        reverse("governance:value_create", args=[use_case.slug]),
        reverse("governance:value_edit", args=[use_case.slug, definition.pk]),
        reverse("governance:aiact_overview", args=[use_case.slug]),
        reverse("governance:aiact_questionnaire", args=[use_case.slug]),
        reverse("governance:aiact_document", args=[use_case.slug, document.pk]),
        reverse("governance:aiact_document_html", args=[use_case.slug, document.pk]),
        reverse("governance:aiact_document_pdf", args=[use_case.slug, document.pk]),
        reverse("governance:signoff_new", args=[slug]) + f"?model={mv}&version=2&alias=production",
        reverse("governance:signoff_request", args=[slug, signoff.pk]),
    ]
    print(json.dumps(pages + [
        f"{base}/experiments/{session.experiment_id}/compare/?runs={runs[0]}&runs={runs[1]}",
        f"{base}/models/{model.pk}/compare/?v=1&v=2",
        f"{base}/lab/{session.analysis_id}/trainings/{session.number}/what-if/?" + "&".join(
            f"{k}={v}" for k, v in (session.example_rows or [{}])[0].items() if k != "price"),
    ]))
    """
)


def _crawl(page: Any, base: str) -> dict[str, int]:
    """Open every page reachable by links from the home page (and two extra starts); url → status."""
    visited: dict[str, int] = {}
    queue = deque([f"{base}/", f"{base}/no-such-page/", f"{base}/api/v1/docs"])
    seen = set(queue)
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        if urlsplit(url).path.endswith((".csv", ".parquet")):  # a download, not a page: fetch it
            visited[url] = page.context.request.get(url, max_redirects=0).status
            continue
        if urlsplit(url).path == "/api/v1/docs":
            # Swagger UI fetches the schema after the page has loaded; it is big: wait for it.
            with page.expect_response(lambda r: "/api/v1/openapi.json" in r.url, timeout=20_000):
                response = page.goto(url, wait_until="load")
        else:
            try:
                response = page.goto(url, wait_until="load")
            except PlaywrightError as exc:
                if "Download is starting" not in str(exc):
                    raise
                # A link that answers with a file (e.g. a project export): fetch it instead.
                visited[url] = page.context.request.get(url, max_redirects=0).status
                continue
        page.wait_for_timeout(150)  # let HTMX polls and deferred scripts run
        visited[url] = response.status if response else 0
        for link in _same_origin_links(page, base):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return visited


def _exercise_htmx_fragments(page: Any) -> None:
    """The pages only HTMX asks for: the member search (as one types), a connection's tables (on a
    click) and a running job's live panel."""
    page.goto("/projects/flight-delays/")
    with page.expect_response(lambda r: "/members/search/" in r.url) as searched:
        page.get_by_label("Add a user or group").type("ma")
    assert searched.value.status == 200
    page.goto("/projects/flight-delays/datasets/import/")
    page.get_by_label("Connection").select_option(label="Warehouse (PostgreSQL)")
    with page.expect_response(lambda r: "/datasets/import/items/" in r.url) as items:
        page.get_by_role("button", name="Show tables and files").click()
    assert items.value.status == 200
    page.goto("/projects/flight-delays/jobs/?state=running")
    with page.expect_response(lambda r: "/live/" in r.url, timeout=5000) as live:
        page.get_by_role("link", name="Long diagnostic").click()
    assert live.value.status == 200
    # The flow page loads its check panel; the trigger form previews the schedule as one types.
    with page.expect_response(lambda r: "/flow/check/" in r.url, timeout=10_000) as checked:
        page.goto("/projects/flight-delays/flow/")
    assert checked.value.status == 200
    page.goto("/projects/flight-delays/scenarios/")
    page.get_by_role("link", name="Nightly").first.click()
    with page.expect_response(lambda r: "/cron-preview/" in r.url, timeout=10_000) as previewed:
        page.locator("a[aria-label^='Edit the trigger']").first.click()
    assert previewed.value.status == 200
    # A run's live panel is polled only while the run is active; ask for it as the poll would.
    live_url = page.url.split("/triggers/")[0] + "/runs/1/live/"
    with page.expect_response(lambda r: "/runs/1/live/" in r.url) as run_live:
        page.evaluate("url => fetch(url, {headers: {'HX-Request': 'true'}})", live_url)
    assert run_live.value.status == 200


def _external_addresses(served: dict[str, bytes], base: str) -> list[str]:
    found = []
    for url, body in served.items():
        path = urlsplit(url).path
        if path in EXEMPT_FILES:
            continue
        for match in URL_IN_TEXT.findall(body):
            text = match.decode("utf-8", "replace")
            if not text.startswith(base) and not NOT_FETCHED.match(text):
                found.append(f"{path}: {text}")
    return sorted(set(found))


def test_every_page_loads_without_reaching_outside(instance: LiveInstance, chromium: Any) -> None:
    base = instance.base_url
    record = Recorder(base)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=base)
    try:
        page = record.attach(context)
        sign_in(page, "admin")
        _wait_for_short_jobs(page)
        form_pages = json.loads(instance.shell(FINISH_LAB).strip().splitlines()[-1])
        visited = _crawl(page, base)
        for path in form_pages:
            try:
                response = page.goto(path, wait_until="load")
            except PlaywrightError as exc:
                if "Download is starting" not in str(exc):
                    raise
                # A file (a model card, a documentation pack): fetch it instead.
                visited[f"{base}{path}"] = page.context.request.get(path, max_redirects=0).status
                continue
            visited[f"{base}{path}"] = response.status if response else 0
        _exercise_htmx_fragments(page)
        # The text of everything served, fetched again with the browser's session: a body read
        # during the crawl may be gone once the page has navigated on.
        served = {}
        for url in sorted(record.text_urls):
            answer = context.request.get(url, max_redirects=0)
            if answer.ok:
                served[url] = answer.body()
    finally:
        context.close()

    print(f"{len(visited)} pages visited, {len(served)} HTML/CSS/JS/SVG answers checked")
    assert not record.guard.refused, f"pages asked for outside addresses: {record.guard.refused}"
    assert not record.problems, "\n".join(record.problems)
    broken = {url: status for url, status in visited.items() if status >= 400 and "/no-such-page/" not in url}
    assert not broken, f"pages that failed to load: {broken}"

    names = {_url_name(urlsplit(url).path) for url in visited}
    wanted = {case.url_name for case in PAGE_ROUTES if case.method == "GET"} - REACHED_BY_HTMX
    wanted -= {"api:openapi-json"}  # fetched by the docs page: checked just below
    missing = sorted(wanted - names)
    assert not missing, f"pages no link leads to (add a link, or reach them in this test): {missing}"
    assert f"{base}/api/v1/openapi.json" in record.answered, "the API docs page did not load its schema"

    external = _external_addresses(served, base)
    assert not external, "served text names external addresses:\n" + "\n".join(external)
    violations = instance.guard_violations()
    assert not violations, f"the instance tried to reach the network: {violations}"
