"""The Lab's pages as people see them: design with reasons and blocking checks, the results of a real
training (leaderboard, charts, explanations), the what-if form and registration, per role."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from modelworks.core.models import Project, User
from modelworks.lab import services
from modelworks.lab.models import TrainingSession
from modelworks.lab.tests.helpers import breast_cancer_csv, dataset_from, quick_design, train_now
from modelworks.lab.tests.test_design import SINGLE_CLASS

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_create_from_the_list_page_then_design(project: Project, bob: User, carol: User) -> None:
    dataset = dataset_from(project, bob, breast_cancer_csv(60), "cancer")
    page = _client(bob).get(reverse("lab:list", args=[project.slug]))
    assert page.status_code == 200 and b"New analysis" in page.content and b"diagnosis" in page.content
    response = _client(bob).post(
        reverse("lab:list", args=[project.slug]),
        {"name": "Diagnosis", "dataset": dataset.pk, "target": "diagnosis"},
    )
    assert response.status_code == 303
    design = _client(carol).get(response["Location"])
    text = design.content.decode()
    assert design.status_code == 200
    assert "the target: what the model predicts" in text and "Data checks" in text
    assert 'name="kind_0"' in text and "<fieldset disabled" in text  # readers see it, cannot change it
    assert "New analysis" not in _client(carol).get(reverse("lab:list", args=[project.slug])).content.decode()
    bad = _client(bob).post(
        reverse("lab:list", args=[project.slug]),
        {"name": "Diagnosis", "dataset": dataset.pk, "target": "diagnosis"},
    )
    assert bad.status_code == 422 and "already has an analysis called" in bad.content.decode()


def test_blocked_design_says_why_and_refuses_to_train(project: Project, bob: User) -> None:
    dataset = dataset_from(project, bob, SINGLE_CLASS, "constant")
    analysis = services.create_analysis(
        project, actor=bob, name="Always yes", dataset=dataset, target="outcome", task="binary"
    )
    page = _client(bob).get(reverse("lab:design", args=[project.slug, analysis.pk])).content.decode()
    assert "Blocks training" in page and 'disabled aria-describedby="train-blocked"' in page
    refused = _client(bob).post(reverse("lab:train", args=[project.slug, analysis.pk]))
    assert (
        refused.status_code == 422 and "Training is blocked until this is fixed" in refused.content.decode()
    )
    assert not TrainingSession.objects.exists()
    bad = _client(bob).post(
        reverse("lab:design", args=[project.slug, analysis.pk]),
        {"name": "Always yes", "algorithms": ["linear"], "time_budget_s": "0"},
    )
    assert bad.status_code == 422 and "Time budget s: The time budget must be between" in bad.content.decode()


def test_results_whatif_and_register_pages(project: Project, bob: User, carol: User) -> None:
    dataset = dataset_from(project, bob, breast_cancer_csv(160), "cancer")
    analysis = services.create_analysis(
        project, actor=bob, name="Diagnosis", dataset=dataset, target="diagnosis"
    )
    quick_design(analysis, bob, max_trials=3)
    session = train_now(analysis, bob)
    assert session.has_model, session.error
    url = reverse("lab:session", args=[project.slug, analysis.pk, session.number])
    page = _client(carol).get(url).content.decode()
    for expected in (
        "Leaderboard",
        "ROC curve",
        "Confusion matrix",
        "What the model relies on",
        "What if",
        "<svg",
        "Best",
    ):
        assert expected in page, expected
    assert "Register model" not in page  # readers do not register
    live = _client(carol).get(
        reverse("lab:session_live", args=[project.slug, analysis.pk, session.number]),
        headers={"HX-Request": "true"},
    )
    assert 'id="session-live"' in live.content.decode() and live["HX-Refresh"] == "true"  # ended: reload

    values = {k: v for k, v in session.example_rows[0].items() if v is not None}
    whatif = reverse("lab:whatif", args=[project.slug, analysis.pk, session.number])
    answer = _client(carol).get(whatif + "?" + urlencode(values), headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "Prediction:" in answer.content.decode()
    wrong = _client(carol).get(
        whatif + "?" + urlencode({**values, "mean_radius": "huge"}), headers={"HX-Request": "true"}
    )
    assert wrong.status_code == 422 and "mean_radius" in wrong.content.decode()

    register = reverse("lab:register", args=[project.slug, analysis.pk, session.number])
    assert _client(carol).post(register, {"name": "diagnosis"}).status_code == 403
    done = _client(bob).post(register, {"name": "diagnosis", "alias": "champion"})
    assert done.status_code == 303
    assert "registered as <strong>diagnosis</strong> version 1" in _client(bob).get(url).content.decode()
    refused = _client(bob).post(register, {"name": "bad name/", "alias": ""})
    assert refused.status_code == 422
