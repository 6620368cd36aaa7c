"""The Annex IV technical documentation built from a real model version: a real scikit-learn model
registered with the training dataset version that a real Flow recipe built, quality rules run on it,
metrics and a promotion. The lineage, the quality results and the metrics must appear in the HTML and
in the PDF; missing facts are named; a generated document never changes afterwards."""

from __future__ import annotations

import hashlib
import re
import zlib
from pathlib import Path
from typing import Any

import pytest

from modelworks.core.models import AuditEvent, Project, User
from modelworks.datasets import services as dataset_services
from modelworks.datasets.testing import make_dataset, run_queued_jobs
from modelworks.flows import services as flows
from modelworks.governance.models import Stage, TechnicalDocument, UseCase
from modelworks.governance.services.aiact_classification import assess
from modelworks.governance.services.aiact_documentation import (
    DocumentConflict,
    build_content,
    default_version,
    generate_document,
)
from modelworks.governance.services.aiact_render import (
    NO_FONT_NOTE,
    find_unicode_font,
    render_html,
    render_pdf,
    to_latin1,
)
from modelworks.governance.testing_aiact import HIGH_RISK_ANSWERS, answers
from modelworks.registry import services as registry
from modelworks.registry.tests.fixtures import make_run

pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

PREPARE_SPEC: dict[str, Any] = {
    "steps": [
        {"processor": "filter_formula", "params": {"formula": "distance > 500", "action": "keep"}},
        {"processor": "formula", "params": {"output": "late", "formula": "dep_delay > 10"}},
    ]
}


@pytest.fixture(autouse=True)
def fresh_home(settings: Any, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    settings.MODELWORKS_HOME = home
    settings.MODELWORKS_DATA_DIR = home / "data"
    settings.MODELWORKS_ALIAS_GATES = []
    return home


@pytest.fixture
def trained(
    project: Project, bob: User, alice: User, experiment: Any, artifacts_dir: Path, sklearn_model_folder: Path
) -> Any:
    """Flights → recipe 'Prepare training' → 'Flights training' (quality-checked) → late-departures v1 @champion."""
    flights = make_dataset(project, bob)
    recipe = flows.create_recipe(
        project,
        actor=bob,
        name="Prepare training",
        kind="prepare",
        inputs=[flights],
        outputs=["Flights training"],
        spec=PREPARE_SPEC,
    )
    flows.submit_build(project, actor=bob)
    run_queued_jobs()
    training = recipe.output_datasets[0]
    training.refresh_from_db()
    data = training.latest_version
    assert data is not None, "the build made no version of the training data"
    dataset_services.add_rule(training, actor=bob, kind="not_null", params={"column": "carrier"})
    dataset_services.run_quality(data, trigger="on_demand", actor=bob)
    run = make_run(experiment, metrics={"log_loss": 0.31}, params={"C": "0.5", "solver": "lbfgs"})
    version = registry.register_version(
        project,
        actor=bob,
        model_name="late-departures",
        source_dir_or_logged_model=sklearn_model_folder,
        run=run,
        training_dataset_version=data,
        recipe=recipe,
        metrics={"roc_auc": 0.8123, "accuracy": 0.9042},
        description="Flags departures likely to leave more than 10 minutes late.",
    )
    registry.set_alias(version, "champion", actor=alice)
    return version


@pytest.fixture
def use_case(project: Project, alice: User) -> UseCase:
    case = UseCase.objects.create(
        slug="late-departures",
        title="Late departures",
        problem_statement="Warn dispatchers of departures likely to leave late.",
        business_unit="Operations",
        business_owner=alice,
        stage=Stage.objects.get(key="pilot"),
    )
    case.projects.set([project])
    assess(case, dict(HIGH_RISK_ANSWERS), actor=alice)
    return UseCase.objects.get(pk=case.pk)


def _pdf_text(pdf: bytes) -> str:
    """The text drawn by a PDF written with a core font (its content streams, inflated)."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            chunks.append(stream.decode("latin-1"))
    drawn = re.findall(r"\((.*?)(?<!\\)\)\s*Tj", "\n".join(chunks), re.S)
    return " ".join(d.replace("\\(", "(").replace("\\)", ")").replace("\\\\", "\\") for d in drawn)


def test_the_documentation_holds_the_lineage_quality_and_metrics_of_the_real_version(
    trained: Any, use_case: UseCase, alice: User
) -> None:
    assert default_version(use_case) == trained
    document = generate_document(use_case, actor=alice)
    assert document.model_version == trained
    content = document.content
    assert content["model"]["name"] == "late-departures" and content["model"]["version"] == 1
    assert content["model"]["aliases"] == ["champion"]
    sections = {s["key"]: s for s in content["sections"]}
    assert list(sections) == [
        "general",
        "data",
        "quality",
        "training",
        "metrics",
        "monitoring",
        "oversight",
        "versions",
        "risk",
    ]

    html = render_html(content)
    assert document.sha256 == hashlib.sha256(html.encode()).hexdigest()
    # Lineage: the training dataset version, the recipe upstream from the catalog graph and its source.
    assert "Flights training version 1" in html
    assert re.search(
        r"<td>Prepare training</td>\s*<td>Recipe</td>\s*<td>Flights</td>\s*<td>Flights training</td>", html
    )
    assert "Original sources upstream of Flights training: Flights." in html
    # Data quality: the rule's result on the training data, and the gap on the raw data.
    assert "Flights training v1: Passed (1 passed, 0 failed" in html
    assert "No quality rules on Flights: add some on the dataset&#x27;s Quality page." in html
    # Training procedure and metrics of the version.
    assert "<td>solver</td>\n" in html or "<td>solver</td>" in html
    assert "<td>roc_auc</td><td>0.8123</td>" in html and "<td>accuracy</td><td>0.9042</td>" in html
    # Versions and approvals: the alias history.
    assert "@champion" in html and "alice" in html
    # What Modelworks does not know is said plainly.
    assert any(
        "No monitor watches a deployment or batch scoring of late-departures" in g for g in content["gaps"]
    )
    assert any("No sign-off policy is enabled on project Flight delays" in g for g in content["gaps"])
    assert "Annex III point 5(b)" in html and "High risk" in html
    assert "not legal advice" in html
    # Self-contained: no script, no external asset.
    assert "<script" not in html and "src=" not in html and "http" not in html.replace("http-equiv", "")

    text = _pdf_text(render_pdf(content, font="core"))
    for expected in (
        "late-departures version 1",
        "Flights training version 1",
        "Prepare training",
        "No quality rules on Flights: add some",
        "roc_auc",
        "0.8123",
        "0.9042",
        "Annex III point 5(b)",
    ):
        assert expected in text, f"{expected!r} missing from the PDF text"
    assert NO_FONT_NOTE[:40] in text

    unicode_pdf = render_pdf(content)
    assert unicode_pdf.startswith(b"%PDF-") and unicode_pdf.rstrip().endswith(b"%%EOF")
    if find_unicode_font() is not None:
        assert b"DejaVu" in unicode_pdf
    event = AuditEvent.objects.get(action="governance.aiact_document_generated")
    assert event.details["document"] == document.pk and event.details["sha256"] == document.sha256
    assert event.project_id == trained.registered_model.project_id


def test_a_generated_document_never_changes(trained: Any, use_case: UseCase, alice: User, bob: User) -> None:
    document = generate_document(use_case, actor=alice)
    stored = TechnicalDocument.objects.get(pk=document.pk)
    before_html = render_html(stored.content)

    # Everything it was built from changes afterwards…
    type(trained).objects.filter(pk=trained.pk).update(metrics={"roc_auc": 0.5})
    trained.registered_model.versions.model.objects.filter(pk=trained.pk).update(description="changed")
    assess(use_case, answers(annex_iii_employment=True), actor=bob)

    # …the stored document and its rendering stay exactly as generated.
    again = TechnicalDocument.objects.get(pk=document.pk)
    assert again.content == stored.content
    assert render_html(again.content) == before_html
    assert hashlib.sha256(before_html.encode()).hexdigest() == again.sha256
    assert "0.8123" in before_html and "0.5" not in re.findall(
        r"<td>roc_auc</td><td>([^<]*)</td>", before_html
    )

    # A new generation reflects the new facts, as a new document.
    newer = generate_document(use_case, actor=alice)
    assert newer.pk != document.pk and newer.sha256 != document.sha256
    assert "<td>roc_auc</td><td>0.5</td>" in render_html(newer.content)
    assert TechnicalDocument.objects.filter(use_case=use_case).count() == 2


def test_without_a_model_every_section_says_what_is_missing(project: Project, alice: User) -> None:
    case = UseCase.objects.create(slug="triage", title="Triage", stage=Stage.objects.get(key="idea"))
    case.projects.set([project])
    content = build_content(case, None, actor=alice)
    missing = [b for s in content["sections"] for b in s["blocks"] if b["type"] == "missing"]
    assert len({s["key"] for s in content["sections"]}) == 9
    assert any("intended purpose is not written down" in b["text"] for b in missing)
    assert sum("No model version is documented" in b["text"] for b in missing) == 8
    assert any("has no AI Act assessment" in g for g in content["gaps"])


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (None, "has no AI Act assessment yet: fill the questionnaire first"),
        (
            answers(interacts_with_people=True),
            "assessed 'Limited risk \\(transparency duties\\)'.*high-risk systems only",
        ),
        (answers(social_scoring=True), "assessed 'Prohibited practice'"),
    ],
)
def test_documents_are_for_high_risk_use_cases_only(
    alice: User, given: dict[str, Any] | None, message: str
) -> None:
    case = UseCase.objects.create(slug="chat", title="Chat", stage=Stage.objects.get(key="idea"))
    if given is not None:
        assess(case, given, actor=alice)
        case = UseCase.objects.get(pk=case.pk)
    with pytest.raises(DocumentConflict, match=message):
        generate_document(case, actor=alice)
    assert not TechnicalDocument.objects.exists()


def test_a_version_of_an_unlinked_project_is_refused(trained: Any, alice: User) -> None:
    case = UseCase.objects.create(slug="other", title="Other", stage=Stage.objects.get(key="idea"))
    assess(case, dict(HIGH_RISK_ANSWERS), actor=alice)
    case = UseCase.objects.get(pk=case.pk)
    with pytest.raises(ValueError, match="is not in a project linked to use case 'Other'"):
        generate_document(case, actor=alice, model_version=trained)
    assert default_version(case) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Délai — “ok” → 5 €", 'Delai - "ok" -> 5 EUR'),
        ("naïve café", "naive cafe"),
        ("日本", "??"),
    ],
)
def test_core_font_text_is_transliterated(text: str, expected: str) -> None:
    assert to_latin1(text) == expected


def test_pdf_and_html_escape_and_survive_hostile_text(alice: User) -> None:
    content = build_content(
        UseCase(slug="x", title="<script>alert(1)</script> 日本 😀", stage=Stage.objects.get(key="idea")),
        None,
        actor=alice,
    )
    html = render_html(content)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert render_pdf(content).startswith(b"%PDF-")
    assert "<script>alert(1)</script> ?? ?" in _pdf_text(render_pdf(content, font="core"))


def test_monitoring_and_oversight_come_from_monitors_alerts_signoffs_and_promotions(
    project: Project, alice: User, bob: User, carol: User
) -> None:
    from datetime import timedelta

    from modelworks.governance.models import SignoffPolicy, SignoffRequest, SignoffReview, SignoffStep
    from modelworks.monitoring.models import Alert, Monitor, MonitorPoint
    from modelworks.monitoring.tests.helpers import DAY1, make_world
    from modelworks.registry.models import PromotionRequest

    world = make_world(project, bob)
    monitor = Monitor.objects.create(
        project=project, name="Lateness watch", deployment=world.deployment, created_by=bob
    )
    end = DAY1 + timedelta(days=1)
    for feature, value, breached in (("x", 0.31, True), ("city", 0.02, False)):
        MonitorPoint.objects.create(
            monitor=monitor,
            window_start=DAY1,
            window_end=end,
            metric="data_drift",
            feature=feature,
            test="psi",
            value=value,
            threshold=0.2,
            breached=breached,
        )
    Alert.objects.create(
        project=project,
        monitor=monitor,
        metric="data_drift",
        feature="x",
        test="psi",
        window_start=DAY1,
        last_window_end=end,
        value=0.31,
        threshold=0.2,
        message="Feature x drifted: PSI 0.31 above 0.2.",
    )
    policy = SignoffPolicy.objects.create(project=project, aliases=["champion"], created_by=alice)
    SignoffStep.objects.create(policy=policy, order=1, title="Model risk", reviewer=carol)
    request = SignoffRequest.objects.create(
        project=project,
        model_version=world.version,
        alias="champion",
        status="approved",
        requested_by=bob,
        due_at=end,
    )
    SignoffReview.objects.create(
        request=request,
        order=1,
        title="Model risk",
        reviewer=carol,
        decision="approved",
        decided_by=carol,
        comment="Holdout AUC checked against the baseline.",
        decided_at=end,
    )
    PromotionRequest.objects.create(
        project=project,
        registered_model=world.version.registered_model,
        number=1,
        candidate=world.version,
        candidate_version=1,
        alias="champion",
        requested_by_name="bob",
        decided_by_name="alice",
        status="approved",
        comment="Better than v0 on March data.",
    )
    case = UseCase.objects.create(slug="lateness", title="Lateness", stage=Stage.objects.get(key="pilot"))
    case.projects.set([project])
    content = build_content(case, world.version, actor=alice)
    html = render_html(content)

    assert "<td>Lateness watch</td><td>Deployment lateness-api</td>" in html.replace("\n", "")
    assert "Lateness watch: window starting 2024-03-04 10:00" in html
    assert "<td>Data drift</td><td>x</td><td>psi</td><td>0.31</td><td>0.2</td><td>yes</td>" in html
    assert "Feature x drifted: PSI 0.31 above 0.2." in html
    assert "needs the approval of every step (block the promotion until approved)" in html
    assert "<td>1</td><td>Model risk</td><td>carol</td>" in html
    assert "Holdout AUC checked against the baseline." in html
    assert "Better than v0 on March data." in html
    assert "<td>roc_auc</td><td>0.97</td>" in html
    sections = {s["key"]: s for s in content["sections"]}
    assert not [b for b in sections["monitoring"]["blocks"] if b["type"] == "missing"]
    assert not [b for b in sections["oversight"]["blocks"] if b["type"] == "missing"]
    assert any(
        "does not name its training" in g or "lineage graph records nothing upstream" in g
        for g in content["gaps"]
    )
