"""An attacker's sweep of the web surfaces, kept as regression tests.

* Stored XSS: names, descriptions, CSV column names, MLflow names/params/tags, use case titles, alert
  messages and job log lines holding script/markup payloads are rendered by every page (and HTMX
  fragment) that shows them; the raw payload never reaches the HTML.
* CSV injection: the exports a spreadsheet opens neutralise formula cells (headers included).
* Open redirects: ``next`` on sign-in and on the flow forms stays on this site.
* Download names: hostile dataset names give a clean ``Content-Disposition``.
* Bundles: alias bombs, hostile zips and hostile YAML tags uploaded through the API are refused.
* SSRF: webhook addresses that try to slip past the allow-list are refused.
* Mass assignment / IDOR: fields that are not settable, and ids of another project's objects, are
  refused with 4xx and change nothing.
* Hostile JSON bodies: deep nesting, oversize, invalid UTF-8, duplicated keys answer 4xx, never 500.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from modelworks.catalog.models import LineageDataset, LineageJob
from modelworks.catalog.tests.data import run_event
from modelworks.core import services as core_services
from modelworks.core.models import ApiToken, Job, JobLogLine, JobState, Project, User
from modelworks.core.testing.client import ApiClient, expect
from modelworks.datasets.testing import make_dataset, run_queued_jobs

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

ApiFor = Callable[[User | None], ApiClient]

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
BREAKOUT = "</script><script>alert(2)</script>"
#: One label carrying the three payloads (each page must escape all of them).
HOSTILE = f"X{SCRIPT}{IMG}{BREAKOUT}"
#: What must never appear in an HTML response: the payloads' active parts, unescaped.
RAW_MARKERS = ("<script>alert(", "<img src=x onerror", "</script><script>")
#: The same, escaped: a page that shows a hostile label holds one of these.
ESCAPED_MARKERS = ("&lt;script&gt;alert(", "&lt;img src=x onerror", "&lt;/script&gt;&lt;script&gt;")


@pytest.fixture(autouse=True)
def fresh_home(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    settings.MODELWORKS_ARTIFACTS_DIR = home / "artifacts"
    settings.MODELWORKS_PREDICTIONS_DIR = home / "predictions"
    return home


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _assert_escaped(response: Any, where: str, *, shown: bool = False) -> None:
    assert response.status_code == 200, f"{where}: {response.status_code} {response.content[:300]!r}"
    body = response.content.decode("utf-8", "replace")
    for marker in RAW_MARKERS:
        assert marker not in body, f"{where}: unescaped {marker!r} in the page"
    if shown:
        assert any(m in body for m in ESCAPED_MARKERS), f"{where}: the hostile label is not shown at all"


# ------------------------------------------------------------------------------------ 1. stored XSS

HOSTILE_CSV = (
    f'id,"{SCRIPT}","{IMG.replace(chr(34), chr(34) * 2)}",city\n'
    f'1,2,3,"{IMG.replace(chr(34), chr(34) * 2)}"\n'
    f"2,4,6,{SCRIPT}\n"
    "3,5,7,Lyon\n"
).encode()


@pytest.fixture
def hostile(
    project: Project, alice: User, bob: User, instance_admin: User, api_client: ApiFor
) -> dict[str, Any]:
    """A project whose every user-given label is hostile, with the objects the pages show."""
    from modelworks.datasets import services as dataset_services
    from modelworks.flows import services as flow_services
    from modelworks.monitoring.models import Alert, Monitor
    from modelworks.registry.models import ModelVersion, RegisteredModel
    from modelworks.scenarios import services as scenario_services

    core_services.update_project(project, actor=alice, name=f"Flights {HOSTILE}", description=HOSTILE)
    dataset = make_dataset(project, bob, name=f"Data {HOSTILE}"[:200], content=HOSTILE_CSV, file_name="x.csv")
    dataset_services.update_dataset(
        dataset, actor=bob, description=HOSTILE, tags=[SCRIPT[:50]], column_descriptions={SCRIPT: IMG}
    )
    recipe = flow_services.create_recipe(
        project,
        actor=bob,
        name=f"Recipe {SCRIPT}",
        kind="prepare",
        inputs=[dataset],
        outputs=[f"Out {IMG}"],
        spec={"steps": [{"processor": "formula", "params": {"output": "twice", "formula": "id * 2"}}]},
        description=HOSTILE,
    )
    scenario = scenario_services.create_scenario(
        project, actor=bob, name=f"Scenario {SCRIPT}", description=HOSTILE
    )
    # Experiments, runs, params, tags and a registered model through the MLflow REST API.
    token = ApiToken.issue(bob, "mlflow")[1]
    mlflow = Client(headers={"Authorization": f"Bearer {token}"})
    base = f"/mlflow/{project.slug}/api/2.0/mlflow/"

    def call(endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        response = mlflow.post(base + endpoint, json.dumps(body), content_type="application/json")
        assert response.status_code == 200, (endpoint, response.content[:300])
        return json.loads(response.content)

    experiment_id = call("experiments/create", {"name": f"Exp {HOSTILE}"})["experiment_id"]
    run_id = call(
        "runs/create", {"experiment_id": experiment_id, "run_name": f"Run {SCRIPT}", "start_time": 1}
    )["run"]["info"]["run_id"]
    call(
        "runs/log-batch",
        {
            "run_id": run_id,
            # Keys are limited to MLflow's characters (checked there); values are free text.
            "params": [{"key": "hostile_param", "value": HOSTILE}],
            "tags": [
                {"key": "hostile_tag", "value": HOSTILE},
                {"key": "mlflow.note.content", "value": HOSTILE},
            ],
            "metrics": [{"key": "loss", "value": v, "timestamp": 1000 + v, "step": v} for v in range(3)],
        },
    )
    # Model names may not hold '/' (MLflow's rule): the img payload still fits.
    call("registered-models/create", {"name": f"model {IMG}", "description": HOSTILE})
    model = RegisteredModel.objects.get(project=project)
    # A version, a deployment, a monitor and an alert (rows as the services leave them).
    from modelworks.deployments.models import Deployment, DeploymentTarget

    version = ModelVersion.objects.create(
        registered_model=model,
        version=1,
        source="mlflow-artifacts:/1/none/artifacts/model",
        storage_location="mlflow-artifacts:/1/none/artifacts/model",
        training_dataset_version=dataset.versions.get(number=1),
        description=HOSTILE,
        metrics={f"acc{SCRIPT}": 0.9},
    )
    deployment = Deployment.objects.create(
        project=project, name="hostile-api", title=HOSTILE, description=HOSTILE, created_by=bob
    )
    DeploymentTarget.objects.create(
        deployment=deployment, registered_model=model, model_version=version, role="primary"
    )
    monitor = Monitor.objects.create(
        project=project, name=f"Monitor {SCRIPT}", description=HOSTILE, deployment=deployment, created_by=bob
    )
    now = timezone.now()
    Alert.objects.create(
        project=project,
        monitor=monitor,
        metric="drift",
        feature=SCRIPT,
        window_start=now,
        last_window_end=now,
        message=HOSTILE,
    )
    job = Job.objects.create(
        project=project,
        kind="core.self_check",
        title=f"Job {SCRIPT}",
        state=JobState.FAILED,
        error=HOSTILE,
        created_by=bob,
        attempt=1,
        max_attempts=1,
    )
    JobLogLine.objects.create(job=job, seq=1, time=now, level="INFO", message=HOSTILE)
    use_case = expect(
        api_client(instance_admin).post(
            "/governance/use-cases",
            {"title": f"Use case {SCRIPT}", "problem_statement": HOSTILE, "projects": [project.slug]},
        ),
        201,
    )
    # Lineage reported from outside (OpenLineage): job, dataset and column names are free text.
    event = run_event(job=f"etl{SCRIPT}")
    event["inputs"][0]["name"] = f"public.raw{IMG}"
    event["inputs"][0]["facets"]["schema"]["fields"][0]["name"] = SCRIPT
    event["job"]["facets"]["documentation"]["description"] = HOSTILE
    expect(api_client(bob).post("/lineage", event), 201)
    return {
        "dataset": dataset,
        "recipe": recipe,
        "scenario": scenario,
        "experiment_id": experiment_id,
        "run_id": run_id,
        "model": model,
        "deployment": deployment,
        "monitor": monitor,
        "job": job,
        "use_case": use_case["slug"],
    }


def _pages(project: Project, h: dict[str, Any]) -> list[str]:
    p = f"/projects/{project.slug}"
    d, r = h["dataset"].pk, h["recipe"].pk
    return [
        "/",
        f"{p}/",
        f"{p}/settings/",
        f"{p}/datasets/",
        f"{p}/datasets/{d}/",
        f"{p}/datasets/{d}/explore/",
        f"{p}/datasets/{d}/profile/",
        f"{p}/datasets/{d}/quality/",
        f"{p}/datasets/{d}/versions/",
        f"{p}/datasets/{d}/settings/",
        f"/catalog/?q={SCRIPT}",
        "/catalog/?q=Data",
        f"{p}/catalog/datasets/{d}/",
        f"{p}/lineage/",
        f"{p}/lineage/?view=columns",
        *(
            f"{p}/lineage/jobs/{pk}/"
            for pk in LineageJob.objects.filter(project=project).values_list("pk", flat=True)
        ),
        *(
            f"{p}/lineage/datasets/{pk}/"
            for pk in LineageDataset.objects.filter(project=project).values_list("pk", flat=True)
        ),
        f"{p}/flow/",
        f"{p}/flow/recipes/{r}/",
        f"{p}/flow/recipes/{r}/edit/",
        f"{p}/flow/recipes/{r}/history/",
        f"{p}/scenarios/",
        f"{p}/scenarios/{h['scenario'].pk}/",
        f"{p}/experiments/",
        f"{p}/experiments/{h['experiment_id']}/",
        f"{p}/experiments/{h['experiment_id']}/runs/{h['run_id']}/",
        f"{p}/experiments/{h['experiment_id']}/compare/?runs={h['run_id']}",
        f"{p}/models/",
        f"{p}/models/{h['model'].pk}/",
        f"{p}/models/{h['model'].pk}/versions/1/",
        f"{p}/deployments/",
        f"{p}/deployments/{h['deployment'].name}/",
        f"{p}/monitoring/",
        f"{p}/monitoring/monitors/{h['monitor'].pk}/",
        f"{p}/monitoring/alerts/",
        f"{p}/jobs/",
        "/jobs/",
        f"/jobs/{h['job'].pk}/",
        "/audit/",
        f"{p}/audit/",
        "/governance/portfolio/",
        f"/governance/use-cases/{h['use_case']}/",
        "/governance/tower/",
    ]


def test_hostile_labels_are_escaped_on_every_page_and_fragment(
    project: Project, instance_admin: User, hostile: dict[str, Any]
) -> None:
    client = _signed_in(instance_admin)
    # The profile job draws the column charts (column names as labels).
    client.post(f"/projects/{project.slug}/datasets/{hostile['dataset'].pk}/profile/run/")
    run_queued_jobs()
    for url in _pages(project, hostile):
        _assert_escaped(client.get(url), url, shown=True)
        _assert_escaped(client.get(url, headers={"HX-Request": "true"}), f"{url} (HTMX)")


def _svg_is_inert(svg: str, where: str) -> None:
    """The SVG parses as XML and holds no element or attribute able to run script."""
    from xml.etree import ElementTree

    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output, parsed to inspect it
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        assert tag not in ("script", "foreignobject", "img", "iframe"), f"{where}: <{tag}> in the chart"
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), f"{where}: event attribute {name}"
            assert not value.strip().lower().startswith("javascript:"), f"{where}: {name}={value!r}"
    for marker in RAW_MARKERS:
        assert marker not in svg, f"{where}: unescaped {marker!r}"


def test_svg_charts_escape_every_label() -> None:
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from modelworks.engine.automl import charts
    from modelworks.governance.services.portfolio_matrix import MatrixPoint, prioritisation_matrix
    from modelworks.governance.services.value_charts import cumulative_chart, value_chart
    from modelworks.monitoring.charts import histogram_pair, time_series

    day = datetime(2026, 1, 5, tzinfo=UTC)
    drawn = {
        "time_series": time_series(
            [(day, 0.2, 0.1, True), (day, 0.05, 0.1, False)], title=HOSTILE, y_label=IMG
        ),
        "histogram_pair": histogram_pair(
            {"categories": [HOSTILE, SCRIPT], "reference": [3, 4], "current": [5, 1]}, title=HOSTILE
        ),
        "bar_chart": charts.bar_chart([(HOSTILE, 0.3, 0.1), (IMG, -0.1, None)], HOSTILE, x_label=SCRIPT),
        "line_chart": charts.line_chart([(HOSTILE, [(0, 0.1), (1, 0.4)])], IMG, SCRIPT, HOSTILE),
        "heatmap": charts.heatmap([HOSTILE, IMG], [HOSTILE, IMG], [[1, 2], [3, 4]], HOSTILE),
        "scatter": charts.scatter([(1, 2), (2, 3)], HOSTILE, IMG, SCRIPT),
        "matrix": prioritisation_matrix(
            [
                MatrixPoint(
                    title=HOSTILE,
                    url="/governance/use-cases/x/",
                    feasibility=3,
                    value=Decimal("1000"),
                    effort_days=Decimal("5"),
                    risk="high",
                    stage=IMG,
                )
            ],
            currency=SCRIPT,
        )[0],
        "value_chart": value_chart(
            [date(2026, 1, 1)], [Decimal(5)], [Decimal(4)], period="month", unit=HOSTILE, title=HOSTILE
        ),
        "cumulative_chart": cumulative_chart(
            [date(2026, 1, 1)], [Decimal(5)], [Decimal(4)], period="month", unit=HOSTILE, title=HOSTILE
        ),
    }
    for where, svg in drawn.items():
        _svg_is_inert(svg, where)
        assert "&lt;script&gt;" in svg or "&lt;img" in svg, f"{where}: the hostile label is not drawn"


# ------------------------------------------------------------------------------- 2. CSV injection

FORMULAS = ['=HYPERLINK("http://evil.test","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def _csv_quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def test_dataset_csv_export_neutralises_formulas_in_cells_and_headers(
    project: Project, bob: User, carol: User
) -> None:
    header = ",".join(_csv_quote(f) for f in FORMULAS[:4]) + ",amount"
    rows = "\n".join(",".join(_csv_quote(f) for f in FORMULAS[i : i + 4]) + f",{-i}" for i in range(2))
    dataset = make_dataset(project, bob, name="Formulas", content=f"{header}\n{rows}\n".encode())
    response = _signed_in(carol).get(f"/projects/{project.slug}/datasets/{dataset.pk}/versions/1/export.csv")
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0] == [f"'{f}" for f in FORMULAS[:4]] + ["amount"]
    for line in table[1:]:
        for cell in line[:4]:
            assert cell.startswith("'"), f"formula cell {cell!r} exported as is"
        assert not line[4].startswith("'"), "a number column keeps its negative numbers"


def test_control_tower_csv_neutralises_use_case_texts(
    instance_admin: User, api_client: ApiFor, project: Project
) -> None:
    client = api_client(instance_admin)
    for index, formula in enumerate(FORMULAS[:4]):
        expect(
            client.post(
                "/governance/use-cases",
                {
                    "title": f"{formula}",
                    "slug": f"formula-{index}",
                    "business_unit": formula,
                    "sponsor": formula,
                },
            ),
            201,
        )
    response = _signed_in(instance_admin).get("/governance/tower/portfolio.csv")
    assert response.status_code == 200
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(table) == 4
    for row in table:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), f"formula cell {value!r}"


# ------------------------------------------------------------------------------- 3. open redirects

OFFSITE = [
    "//evil.test",
    "https://evil.test/",
    "http://evil.test",
    "/\\evil.test",
    "\\\\evil.test",
    "javascript:alert(1)",
    "///evil.test",
    "https:evil.test",
    " //evil.test",
    "\t//evil.test",
    "/%09/evil.test",
    "https://testserver@evil.test/",
]


def _stays_on_site(location: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(location.strip())
    return (
        not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//")
    )


@pytest.mark.parametrize("target", OFFSITE)
def test_sign_in_never_redirects_off_site(alice: User, target: str) -> None:
    from modelworks.core.testing.fixtures import PASSWORD

    client = Client()
    response = client.post("/login/?next=" + target, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and _stays_on_site(response["Location"]), response["Location"]
    response = client.post("/login/", {"username": "alice", "password": PASSWORD, "next": target})
    assert response.status_code == 302 and _stays_on_site(response["Location"]), response["Location"]
    # Already signed in: the sign-in page sends the browser on at once.
    response = client.get("/login/", {"next": target})
    assert response.status_code == 302 and _stays_on_site(response["Location"]), response["Location"]


def test_sign_in_keeps_an_on_site_next(alice: User) -> None:
    from modelworks.core.testing.fixtures import PASSWORD

    response = Client().post("/login/", {"username": "alice", "password": PASSWORD, "next": "/jobs/"})
    assert response["Location"] == "/jobs/"


@pytest.mark.parametrize("target", OFFSITE)
def test_flow_forms_never_redirect_off_site(project: Project, bob: User, target: str) -> None:
    client = _signed_in(bob)
    response = client.post(f"/projects/{project.slug}/flow/build/", {"node": "recipe:999999", "next": target})
    assert response.status_code in (302, 303), response.status_code
    assert _stays_on_site(response["Location"]), response["Location"]
    response = client.post(
        f"/projects/{project.slug}/flow/build/",
        {"node": "recipe:999999", "next": target},
        headers={"HX-Request": "true"},
    )
    assert _stays_on_site(response["HX-Redirect"]), response["HX-Redirect"]


def test_logout_is_post_only_and_goes_to_the_sign_in_page(alice: User) -> None:
    client = _signed_in(alice)
    assert client.get("/logout/?next=//evil.test").status_code == 405
    response = client.post("/logout/?next=//evil.test", {"next": "https://evil.test/"})
    assert response.status_code == 302 and response["Location"] == "/login/"


# ---------------------------------------------------------------------- 4. download header injection

HOSTILE_NAMES = ['a"; filename="evil.exe', "Départs été ✈", 'back\\slash"quote', "semi;colon = x"]


def _assert_clean_disposition(response: Any, extension: str) -> None:
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert "X-Injected" not in response.headers
    assert disposition.startswith("attachment; filename")
    assert disposition.count("filename=") <= 1 and ".exe" not in disposition and "/" not in disposition
    assert disposition.rstrip('"').endswith(extension)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_dataset_downloads_give_a_clean_file_name(project: Project, bob: User, name: str) -> None:
    dataset = make_dataset(project, bob, name=name)
    client = _signed_in(bob)
    for suffix, extension in (("export.csv", ".csv"), ("download.parquet", ".parquet")):
        response = client.get(f"/projects/{project.slug}/datasets/{dataset.pk}/versions/1/{suffix}")
        assert response.status_code == 200
        _assert_clean_disposition(response, extension)


@pytest.mark.parametrize(
    ("name", "match"),
    [("line\r\nX-Injected: yes", "control characters"), ("../../etc/passwd", "looks like a file path")],
)
def test_dataset_names_that_could_inject_headers_or_paths_are_refused(
    project: Project, bob: User, api_client: ApiFor, name: str, match: str
) -> None:
    dataset = make_dataset(project, bob, name="Plain")
    response = api_client(bob).patch(f"/projects/{project.slug}/datasets/{dataset.pk}", {"name": name})
    assert response.status_code == 422 and match in response.content.decode()
    dataset.refresh_from_db()
    assert dataset.name == "Plain"


@pytest.mark.parametrize("name", ['card"; x=".md', "Modèle été", "x\\y"])
def test_model_card_download_gives_a_clean_file_name(
    project: Project, bob: User, name: str, artifacts_dir: Path, sklearn_model_folder: Path
) -> None:
    from modelworks.registry import services as registry_services

    version = registry_services.register_version(
        project, actor=bob, model_name=name, source_dir_or_logged_model=sklearn_model_folder
    )
    response = _signed_in(bob).get(
        f"/projects/{project.slug}/models/{version.registered_model.pk}/versions/1/card.md"
    )
    assert response.status_code == 200
    _assert_clean_disposition(response, ".md")


# ------------------------------------------------------------------------------ 5. bundle imports


def _exported(project: Project, alice: User, api_client: ApiFor) -> dict[str, bytes]:
    response = api_client(alice).get(f"/projects/{project.slug}/export", with_data="true")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zipped(members: dict[str, bytes], extra: list[tuple[zipfile.ZipInfo | str, bytes]] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        for info, content in extra:
            archive.writestr(info, content)
    return out.getvalue()


def _with_dataset_yaml(members: dict[str, bytes], text: str) -> bytes:
    name = next(n for n in members if n.startswith("datasets/"))
    return _zipped({**members, name: text.encode()})


LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(9)
)


def _link(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16
    return info, target.encode()


BAD_BUNDLES: list[tuple[str, Callable[[dict[str, bytes]], bytes], str]] = [
    ("billion laughs", lambda m: _with_dataset_yaml(m, LAUGHS), r"uses a YAML alias"),
    (
        "python object tag",
        lambda m: _with_dataset_yaml(
            m, "name: x\nrun: !!python/object/apply:os.system ['touch /tmp/mw-pwned']\n"
        ),
        r"uses a YAML tag that is not allowed",
    ),
    (
        "python name tag",
        lambda m: _with_dataset_yaml(m, "name: !!python/name:os.system\n"),
        r"tag that is not allowed",
    ),
    (
        "deep nesting",
        lambda m: _with_dataset_yaml(m, "a: " + "[" * 5000 + "]" * 5000),
        r"more than 50 levels deep",
    ),
    ("zip slip", lambda m: _zipped(m, [("datasets/../../../mw-slip.yaml", b"x: 1")]), r"unsafe member name"),
    ("absolute", lambda m: _zipped(m, [("/tmp/mw-slip.yaml", b"x: 1")]), r"unsafe member name"),
    ("backslash", lambda m: _zipped(m, [("datasets\\..\\..\\mw-slip.yaml", b"x: 1")]), r"unsafe member name"),
    ("drive", lambda m: _zipped(m, [("C:/mw-slip.yaml", b"x: 1")]), r"unsafe member name"),
    ("symlink", lambda m: _zipped(m, [_link("data/link.parquet", "/etc/passwd")]), r"is a symbolic link"),
    ("zip bomb", lambda m: _zipped(m, [("data/zeros.parquet", b"\0" * 12_000_000)]), r"\(a zip bomb\?\)"),
    ("not a zip", lambda m: b"PK\x03\x04 this is no archive", r"is not a readable \.zip archive"),
]


@pytest.mark.parametrize(("spoil", "match"), [b[1:] for b in BAD_BUNDLES], ids=[b[0] for b in BAD_BUNDLES])
def test_hostile_bundles_are_refused_through_the_api_and_nothing_is_created(
    project: Project,
    alice: User,
    bob: User,
    api_client: ApiFor,
    settings: Any,
    tmp_path: Path,
    spoil: Callable[[dict[str, bytes]], bytes],
    match: str,
) -> None:
    import re

    from django.core.files.uploadedfile import SimpleUploadedFile

    from modelworks.datasets.models import Dataset

    make_dataset(project, bob)
    members = _exported(project, alice, api_client)
    settings.MODELWORKS_MAX_UPLOAD_BYTES = 3_000_000
    before = (Project.objects.count(), Dataset.objects.count())
    upload = SimpleUploadedFile("bundle.zip", spoil(members), content_type="application/zip")
    response = api_client(alice).client.post("/api/v1/projects/copy/import", {"file": upload})
    assert response.status_code == 422, response.content[:300]
    assert re.search(match, response.json()["message"] + json.dumps(response.json()["details"])), (
        response.json()
    )
    assert (Project.objects.count(), Dataset.objects.count()) == before
    assert not Project.objects.filter(slug="copy").exists()
    assert not list(tmp_path.parent.rglob("mw-slip*")) and not Path("/tmp/mw-slip.yaml").exists()
    assert not Path("/tmp/mw-pwned").exists()


# ------------------------------------------------------------------------------------------ 6. SSRF

SSRF_URLS = [
    (["allowed.test"], "https://127.0.0.1@allowed.test/hook", "Put no user name or password"),
    (["allowed.test"], "https://allowed.test@127.0.0.1/hook", "Put no user name or password"),
    (["allowed.test"], "https://allowed.test\\@127.0.0.1/hook", "Put no user name or password"),
    (["allowed.test"], "https://allowed.test.evil.test/hook", "'allowed.test.evil.test' is not on the"),
    (["*.allowed.test"], "https://evilallowed.test/hook", "is not on the webhook allow-list"),
    (["allowed.test"], "https://[::1]/hook", "The address ::1 is not on the webhook allow-list"),
    (["allowed.test"], "https://[::ffff:127.0.0.1]/hook", "The address ::ffff:127.0.0.1 is not on the"),
    (["allowed.test"], "https://2130706433/hook", "'2130706433' is not on the webhook allow-list"),
    (["allowed.test"], "https://0x7f000001/hook", "is not on the webhook allow-list"),
    (["allowed.test"], "https://127.1/hook", "is not on the webhook allow-list"),
    (["allowed.test"], "https://0.0.0.0/hook", "The address 0.0.0.0 is not on the webhook allow-list"),
    (["allowed.test"], "https://169.254.169.254/latest/meta-data", "169.254.169.254 is not on the"),
    (["allowed.test"], "https://localhost/hook", "'localhost' is not on the webhook allow-list"),
    (["localhost"], "https://localhost/hook", "resolves to (127\\.0\\.0\\.1|::1), a loopback"),
    (["10.0.0.0/8"], "https://[::ffff:10.0.0.1]/hook", "is not on the webhook allow-list"),
    (["allowed.test"], "http://allowed.test/hook", "uses plain http"),
    (["allowed.test"], "gopher://allowed.test/hook", "is not a web address"),
]


@pytest.mark.parametrize(("allowlist", "url", "match"), SSRF_URLS)
def test_webhook_addresses_cannot_slip_past_the_allow_list(
    settings: Any, allowlist: list[str], url: str, match: str
) -> None:
    from modelworks.scenarios.services.notify import NotificationError, check_webhook_url

    settings.MODELWORKS_WEBHOOK_ALLOWLIST = allowlist
    settings.MODELWORKS_WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(NotificationError, match=match):
        check_webhook_url(url)


def test_a_webhook_redirect_to_a_forbidden_host_is_not_followed(settings: Any) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from modelworks.scenarios.services.notify import NotificationError, send_webhook

    reached: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            reached.append(self.path)
            if self.path.startswith("/to/"):
                self.send_response(307)
                self.send_header("Location", self.path[len("/to/") :])
            else:
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Handler) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    allowed, forbidden = (s.server_address[1] for s in servers)
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = ["127.0.0.1"]
    settings.MODELWORKS_WEBHOOK_ALLOW_HTTP = True
    try:
        for location in (
            f"http://127.0.0.1:{forbidden}/hook",  # another port on the allowed address
            f"http://localhost:{allowed}/hook",  # the same server under a name
            "http://169.254.169.254/latest/meta-data",
        ):
            with pytest.raises(NotificationError, match=r"redirect \(307\) to another host"):
                send_webhook(f"http://127.0.0.1:{allowed}/to/{location}", {"text": "x"})
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    assert all(path.startswith("/to/") for path in reached) and len(reached) == 3


# ---------------------------------------------------------------------- 7. mass assignment and IDOR


@pytest.fixture
def other(dave: User, artifacts_dir: Path, sklearn_model_folder: Path) -> dict[str, Any]:
    """Dave's own project, with a dataset and a registered model, none of which bob may touch."""
    from modelworks.registry import services as registry_services

    project = core_services.create_project(actor=dave, slug="secret-project", name="Secret")
    dataset = make_dataset(project, dave, name="Salaries")
    version = registry_services.register_version(
        project, actor=dave, model_name="secret-model", source_dir_or_logged_model=sklearn_model_folder
    )
    return {"project": project, "dataset": dataset, "model": version.registered_model}


def _snapshot() -> tuple[int, ...]:
    from modelworks.datasets.models import Dataset
    from modelworks.deployments.models import Deployment
    from modelworks.flows.models import Recipe
    from modelworks.lab.models import Analysis
    from modelworks.monitoring.models import Monitor
    from modelworks.scenarios.models import Scenario

    return tuple(
        m.objects.count() for m in (Dataset, Recipe, Scenario, Deployment, Monitor, Analysis, Project)
    )


def _refused(response: Any, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (404, 422)), response.content[:400]
    body = response.json()
    assert body.get("code") and body.get("message"), body
    return body


def test_writes_cannot_reach_another_projects_objects(
    project: Project,
    bob: User,
    api_client: ApiFor,
    other: dict[str, Any],
    sklearn_model_folder: Path,
) -> None:
    from modelworks.registry import services as registry_services

    mine = make_dataset(project, bob, name="Flights")
    registry_services.register_version(
        project, actor=bob, model_name="late-departures", source_dir_or_logged_model=sklearn_model_folder
    )
    theirs, secret = other["dataset"].pk, other["project"].slug
    client = api_client(bob)
    p = f"/projects/{project.slug}"
    before = _snapshot()
    formula = {"steps": [{"processor": "formula", "params": {"output": "y", "formula": "1"}}]}
    no_dataset = f"No dataset {theirs} in"
    attempts = [
        (
            "POST",
            f"{p}/recipes",
            {"name": "r", "kind": "prepare", "inputs": [theirs], "outputs": ["o"], "spec": formula},
            no_dataset,
        ),
        (
            "POST",
            f"{p}/recipes",
            {"name": "r", "kind": "prepare", "inputs": [mine.pk], "outputs": [theirs], "spec": formula},
            no_dataset,
        ),
        (
            "POST",
            f"{p}/scenarios",
            {"name": "s", "triggers": [{"kind": "dataset_changed", "dataset": theirs}]},
            no_dataset,
        ),
        (
            "POST",
            f"{p}/scenarios",
            {"name": "s", "steps": [{"kind": "build", "params": {"datasets": [theirs]}}]},
            no_dataset,
        ),
        (
            "POST",
            f"{p}/scenarios",
            {"name": "s", "steps": [{"kind": "quality", "params": {"datasets": [theirs]}}]},
            no_dataset,
        ),
        (
            "POST",
            f"{p}/deployments",
            {"name": "stolen-model", "targets": [{"model": "secret-model", "version": 1}]},
            "has no registered model 'secret-model'",
        ),
        ("POST", f"{p}/monitors", {"name": "m", "reference_dataset": theirs}, no_dataset),
        ("POST", f"{p}/lab/analyses", {"name": "a", "dataset": theirs, "target": "dep_delay"}, no_dataset),
        # The other project's objects under this project's address, and the other project itself.
        ("PATCH", f"{p}/datasets/{theirs}", {"description": "mine now"}, no_dataset),
        ("DELETE", f"{p}/datasets/{theirs}", None, "permission_denied"),
        (
            "PATCH",
            f"/projects/{secret}/datasets/{theirs}",
            {"description": "mine now"},
            "No project 'secret-project'",
        ),
        (
            "POST",
            f"/projects/{secret}/recipes",
            {"name": "r", "kind": "prepare", "inputs": [theirs], "outputs": ["o"], "spec": formula},
            "No project 'secret-project'",
        ),
    ]
    for method, path, body, expected in attempts:
        refusal = json.dumps(_refused(client.request(method, path, body), 403, 404, 422))
        assert expected in refusal, (method, path, refusal)
    assert _snapshot() == before
    other["dataset"].refresh_from_db()
    assert other["dataset"].description == "" and other["dataset"].project_id == other["project"].pk


@pytest.mark.parametrize(
    "change",
    [
        {"project": 999},
        {"project_id": 999},
        {"created_by": 1},
        {"id": 424242},
        {"owner": "dave"},  # not a member of the project
        {"name": "ok", "created_at": "2000-01-01T00:00:00Z"},
    ],
    ids=lambda c: ",".join(c),
)
def test_fields_that_are_not_settable_are_refused(
    project: Project, bob: User, dave: User, api_client: ApiFor, change: dict[str, Any]
) -> None:
    dataset = make_dataset(project, bob, name="Flights")
    before = {k: getattr(dataset, k) for k in ("name", "project_id", "created_by_id", "owner_id", "pk")}
    _refused(api_client(bob).patch(f"/projects/{project.slug}/datasets/{dataset.pk}", change), 422)
    dataset.refresh_from_db()
    assert {k: getattr(dataset, k) for k in before} == before


def test_a_contributor_cannot_make_a_scenario_run_as_an_admin(
    project: Project, alice: User, bob: User, api_client: ApiFor
) -> None:
    from modelworks.scenarios.models import Scenario

    body = _refused(
        api_client(bob).post(f"/projects/{project.slug}/scenarios", {"name": "s", "run_as": "alice"}),
        403,
        422,
    )
    assert "run_as" in json.dumps(body)
    assert not Scenario.objects.exists()


def test_use_cases_cannot_link_a_project_the_caller_does_not_belong_to(
    project: Project, alice: User, dave: User, instance_admin: User, api_client: ApiFor
) -> None:
    from modelworks.governance.models import UseCase

    secret = core_services.create_project(actor=dave, slug="secret-project", name="Secret")
    # Alice leads governance (portfolio role) but is no member of dave's project.
    from modelworks.governance.services.portfolio_members import grant_portfolio_role

    grant_portfolio_role(actor=instance_admin, role="lead", user=alice)
    _refused(
        api_client(alice).post("/governance/use-cases", {"title": "Mine", "projects": [secret.slug]}),
        403,
        404,
        422,
    )
    assert not UseCase.objects.filter(title="Mine").exists()


# ---------------------------------------------------------------------------- 8. hostile JSON bodies

HOSTILE_BODIES = [
    (
        "deep lists",
        '{"description": ' + "[" * 100_000 + "]" * 100_000 + "}",
        400,
        "not valid JSON|too deeply",
    ),
    (
        "deep objects",
        '{"description": ' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}",
        400,
        "too deeply|not valid",
    ),
    ("50 MB", '{"description": "' + "a" * 50_000_000 + '"}', 413, "larger than the 10,485,760 bytes"),
    (
        "invalid UTF-8",
        b'{"description": "\xff\xfe"}',
        400,
        "not UTF-8 text \\(invalid byte at position 17\\)",
    ),
    (
        "duplicated key",
        '{"description": "one", "description": "two"}',
        400,
        "gives the key 'description' twice",
    ),
    ("NaN", '{"description": NaN}', 400, "holds NaN, which is not a JSON value"),
    ("truncated", '{"description": ', 400, "not valid JSON \\(Expecting value at line 1, column 17\\)"),
    ("not an object", "[1, 2]", 422, "Input should be a valid dictionary"),
]


@pytest.mark.parametrize(
    ("body", "status", "match"), [b[1:] for b in HOSTILE_BODIES], ids=[b[0] for b in HOSTILE_BODIES]
)
def test_hostile_json_bodies_get_a_clear_4xx(
    project: Project, alice: User, api_client: ApiFor, body: str | bytes, status: int, match: str
) -> None:
    import re

    client = api_client(alice).client
    response = client.patch(f"/api/v1/projects/{project.slug}", body, content_type="application/json")
    assert response.status_code == status, response.content[:300]
    error = response.json()
    assert re.search(match, error["message"]), error
    project.refresh_from_db()
    assert project.description == "Predict late departures."


def test_deep_json_inside_a_free_form_field_is_refused_not_a_crash(
    project: Project, bob: User, api_client: ApiFor
) -> None:
    from modelworks.flows.models import Recipe

    mine = make_dataset(project, bob, name="Flights")
    deep: Any = "x"
    for _ in range(900):  # parses (under Python's recursion limit) but nothing needs it
        deep = {"a": deep}
    body = {"name": "r", "kind": "prepare", "inputs": [mine.pk], "outputs": ["o"], "spec": {"steps": [deep]}}
    response = api_client(bob).post(f"/projects/{project.slug}/recipes", body)
    assert 400 <= response.status_code < 500, response.content[:300]
    assert not Recipe.objects.exists()


OTHER_JSON_SURFACES = [
    (
        "mlflow deep",
        "mlflow",
        '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}",
        400,
        "too deeply|not valid JSON",
    ),
    (
        "mlflow 50 MB",
        "mlflow",
        '{"name": "' + "a" * 50_000_000 + '"}',
        413,
        "larger than the 10,485,760 bytes",
    ),
    ("mlflow invalid UTF-8", "mlflow", b'{"name": "\xff"}', 400, "not valid JSON"),
    (
        "lineage deep",
        "lineage",
        '{"job": ' + "[" * 100_000 + "]" * 100_000 + "}",
        400,
        "too deeply|not valid JSON",
    ),
    ("lineage 50 MB", "lineage", '{"job": "' + "a" * 50_000_000 + '"}', 413, "larger than"),
    ("lineage invalid UTF-8", "lineage", b'{"job": "\xff"}', 400, "not valid JSON"),
]


@pytest.mark.parametrize(
    ("surface", "body", "status", "match"),
    [b[1:] for b in OTHER_JSON_SURFACES],
    ids=[b[0] for b in OTHER_JSON_SURFACES],
)
def test_hostile_bodies_on_the_mlflow_and_lineage_endpoints_get_a_clear_4xx(
    project: Project, bob: User, surface: str, body: str | bytes, status: int, match: str
) -> None:
    import re

    from modelworks.tracking.models import Experiment

    token = ApiToken.issue(bob, "attack")[1]
    client = Client(headers={"Authorization": f"Bearer {token}"})
    url = (
        f"/mlflow/{project.slug}/api/2.0/mlflow/experiments/create"
        if surface == "mlflow"
        else "/api/v1/lineage"
    )
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == status, response.content[:300]
    error = response.json()
    assert re.search(match, error.get("message", "")), error
    assert not Experiment.objects.exists()
