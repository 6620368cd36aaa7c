"""EU AI Act pages and API: who may read and assess (leads and the business owner assess, viewers and
members of a linked project read, anyone else gets 404), the questionnaire page and its errors, the
result with its reasons, and documents generated, listed, shown and downloaded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from modelworks.core.models import Project, User
from modelworks.core.testing.client import ApiClient, expect, expect_error
from modelworks.core.testing.fixtures import make_user
from modelworks.governance.models import AIActAssessment, PortfolioMember, Stage, TechnicalDocument, UseCase
from modelworks.governance.services.aiact_questionnaire import GROUPS, QUESTIONS
from modelworks.governance.testing_aiact import HIGH_RISK_ANSWERS, answers

pytest_plugins = ["modelworks.core.testing.fixtures"]

API = "/governance/use-cases/credit-limits/ai-act"


@pytest.fixture
def people(
    alice: User, bob: User, carol: User, dave: User, instance_admin: User, project: Project
) -> dict[str, User]:
    """lena (lead), vic (viewer), bob (business owner), carol (reader of the linked project), dave."""
    lena, vic = make_user("lena"), make_user("vic")
    PortfolioMember.objects.create(user=lena, role="lead")
    PortfolioMember.objects.create(user=vic, role="viewer")
    return {
        "lead": lena,
        "viewer": vic,
        "owner": bob,
        "member": carol,
        "outsider": dave,
        "admin": instance_admin,
    }


@pytest.fixture
def use_case(people: dict[str, User], project: Project) -> UseCase:
    case = UseCase.objects.create(
        slug="credit-limits",
        title="Credit limits",
        problem_statement="Suggest credit limits.",
        business_owner=people["owner"],
        stage=Stage.objects.get(key="pilot"),
    )
    case.projects.set([project])
    return case


def _browser(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# who → (may read, may assess): readers get 403 on writes, the others 404 on everything.
ACCESS = [
    ("lead", 200, 200),
    ("owner", 200, 200),
    ("admin", 200, 200),
    ("viewer", 200, 403),
    ("member", 200, 403),
    ("outsider", 404, 404),
]


@pytest.mark.parametrize(("who", "read", "write"), ACCESS)
def test_who_may_read_and_assess_through_the_api(
    who: str,
    read: int,
    write: int,
    people: dict[str, User],
    use_case: UseCase,
    api_client: Callable[[User | None], ApiClient],
) -> None:
    client = api_client(people[who])
    response = client.request("PUT", API, {"answers": answers(annex_iii_employment=True)})
    if write == 200:
        body = expect(response, 200)
        assert body["risk_class"] == "high" and body["version"] == 1
        assert body["reasons"][0]["basis"] == "Annex III point 4" and "not legal advice" in body["disclaimer"]
    else:
        expect_error(response, write, "permission_denied" if write == 403 else "not_found")
        assert not AIActAssessment.objects.exists()
        AIActAssessment.objects.create(use_case=use_case, risk_class="minimal", answers={}, reasons=[])
    got = client.get(API)
    if read == 200:
        assert expect(got, 200)["use_case"] == "credit-limits"
    else:
        expect_error(got, 404, "not_found")
    listed = client.get(API + "/documents")
    assert listed.status_code == read


@pytest.mark.parametrize(("who", "read", "write"), ACCESS)
def test_who_may_open_the_pages(
    who: str, read: int, write: int, people: dict[str, User], use_case: UseCase
) -> None:
    browser = _browser(people[who])
    assert browser.get(reverse("governance:aiact_overview", args=["credit-limits"])).status_code == read
    questionnaire = reverse("governance:aiact_questionnaire", args=["credit-limits"])
    assert browser.get(questionnaire).status_code == write
    form = {k: ("yes" if v else "no") for k, v in answers(interacts_with_people=True).items()}
    response = browser.post(questionnaire, form)
    assert response.status_code == (303 if write == 200 else write)
    assert AIActAssessment.objects.filter(use_case=use_case).exists() == (write == 200)


def test_anonymous_callers_are_sent_to_sign_in(use_case: UseCase) -> None:
    response = Client().get(reverse("governance:aiact_overview", args=["credit-limits"]))
    assert response.status_code == 302 and "/login" in response["Location"]
    expect_error(ApiClient().get(API), 401, "not_authenticated")
    expect_error(ApiClient().get("/governance/ai-act/questionnaire"), 401, "not_authenticated")


def test_the_questionnaire_page_groups_the_questions_with_help_and_a_disclaimer(
    people: dict[str, User], use_case: UseCase
) -> None:
    page = _browser(people["owner"]).get(reverse("governance:aiact_questionnaire", args=["credit-limits"]))
    html = page.content.decode()
    for group in GROUPS:
        assert group.title in html
    for question in QUESTIONS:
        assert f'name="{question.key}"' in html
    assert "Article 5(1)(a)" in html and "Not legal advice." in html
    assert "For example CV screening, candidate ranking or productivity scoring of employees." in html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"social_scoring": None}, "Answer yes or no."),
        (
            {"annex_iii_employment": "yes", "exemption_preparatory_task": "yes"},
            "Article 6(4) requires this assessment",
        ),
        ({"social_scoring": "maybe"}, "Select a valid choice"),
    ],
)
def test_the_questionnaire_shows_errors_on_the_question(
    change: dict[str, Any], message: str, people: dict[str, User], use_case: UseCase
) -> None:
    form = {k: ("yes" if v else "no") for k, v in answers().items()}
    for key, value in change.items():
        if value is None:
            form.pop(key)
        else:
            form[key] = value
    response = _browser(people["owner"]).post(
        reverse("governance:aiact_questionnaire", args=["credit-limits"]), form
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not AIActAssessment.objects.exists()


def test_the_result_page_shows_the_class_and_the_reasons(people: dict[str, User], use_case: UseCase) -> None:
    form = {
        k: ("yes" if v else "no")
        for k, v in answers(annex_iii_employment=True, exemption_narrow_procedural_task=True).items()
    }
    form["exemption_justification"] = "It only sorts incoming CVs by language; people read every CV."
    browser = _browser(people["lead"])
    response = browser.post(reverse("governance:aiact_questionnaire", args=["credit-limits"]), form)
    assert response.status_code == 303
    html = browser.get(response["Location"]).content.decode()
    assert "Minimal risk" in html and "Article 6(3)(a)" in html and "Article 6(4) and Article 49(2)" in html
    assert "You answered yes to" in html and "Not legal advice." in html
    assert AIActAssessment.objects.get().answers["exemption_justification"].startswith("It only sorts")
    assert UseCase.objects.get(pk=use_case.pk).risk_level == "minimal"
    # Not high-risk: no generation form, a plain sentence instead.
    assert "Generate the documentation" not in html and "required for high-risk systems" in html


def test_documents_are_generated_shown_and_downloaded_from_the_pages(
    people: dict[str, User], use_case: UseCase
) -> None:
    owner = _browser(people["owner"])
    form = {k: ("yes" if v else "no") for k, v in HIGH_RISK_ANSWERS.items()}
    owner.post(reverse("governance:aiact_questionnaire", args=["credit-limits"]), form)
    overview = owner.get(reverse("governance:aiact_overview", args=["credit-limits"])).content.decode()
    assert "High risk" in overview and "Generate the documentation" in overview
    assert "Default: none (no champion)" in overview

    response = owner.post(reverse("governance:aiact_generate", args=["credit-limits"]), {"model_version": ""})
    assert response.status_code == 303
    document = TechnicalDocument.objects.get()
    assert response["Location"] == reverse("governance:aiact_document", args=["credit-limits", document.pk])

    viewer = _browser(people["viewer"])
    shown = viewer.get(response["Location"]).content.decode()
    assert "Technical documentation: Credit limits" in shown and document.sha256 in shown
    assert "No model version is documented" in shown

    html = viewer.get(reverse("governance:aiact_document_html", args=["credit-limits", document.pk]))
    assert html["Content-Disposition"].startswith('attachment; filename="ai-act-credit-limits-')
    assert html["Content-Type"].startswith("text/html") and html["X-Document-HTML-SHA256"] == document.sha256
    pdf = viewer.get(reverse("governance:aiact_document_pdf", args=["credit-limits", document.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Disposition"].endswith('.pdf"')
    assert viewer.post(reverse("governance:aiact_generate", args=["credit-limits"]), {}).status_code == 403
    missing = reverse("governance:aiact_document", args=["credit-limits", document.pk + 99])
    assert viewer.get(missing).status_code == 404


def test_the_api_lists_the_questionnaire_and_runs_the_document_flow(
    people: dict[str, User], use_case: UseCase, api_client: Callable[[User | None], ApiClient]
) -> None:
    owner = api_client(people["owner"])
    questionnaire = expect(owner.get("/governance/ai-act/questionnaire"), 200)
    assert [q["key"] for q in questionnaire["questions"]] == [q.key for q in QUESTIONS]
    assert {g["key"] for g in questionnaire["groups"]} == {g.key for g in GROUPS}

    conflict = expect_error(owner.post(API + "/documents", {}), 409, "conflict")
    assert "no AI Act assessment yet" in conflict["message"]
    bad = expect_error(
        owner.request("PUT", API, {"answers": {"social_scoring": "yes"}}), 422, "validation_error"
    )
    assert "social_scoring" in bad["details"] and "face_scraping" in bad["details"]

    expect(owner.request("PUT", API, {"answers": HIGH_RISK_ANSWERS}), 200)
    unknown = expect_error(
        owner.post(API + "/documents", {"model_version_id": 12345}), 422, "validation_error"
    )
    assert "No model version 12345 in a project linked" in unknown["message"]
    created = expect(owner.post(API + "/documents", {}), 201)
    assert created["model"] is None and created["content"]["risk_class"] == "high"
    assert any("No model version is documented" in g for g in created["gaps"])

    reader = api_client(people["member"])
    listed = expect(reader.get(API + "/documents"), 200)
    assert [d["id"] for d in listed["items"]] == [created["id"]] and "content" not in listed["items"][0]
    detail = expect(reader.get(f"{API}/documents/{created['id']}"), 200)
    assert detail["content"] == created["content"] and detail["sha256"] == created["sha256"]
    html = reader.get(f"{API}/documents/{created['id']}/html")
    assert html.status_code == 200 and b"Technical documentation: Credit limits" in html.content
    pdf = reader.get(f"{API}/documents/{created['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    expect_error(reader.get(f"{API}/documents/{created['id'] + 1}"), 404, "not_found")
    expect_error(api_client(people["outsider"]).get(f"{API}/documents/{created['id']}/pdf"), 404, "not_found")


def test_generating_for_a_use_case_not_high_risk_says_why(people: dict[str, User], use_case: UseCase) -> None:
    owner = _browser(people["owner"])
    response = owner.post(reverse("governance:aiact_generate", args=["credit-limits"]), {})
    assert response.status_code == 409
    assert "has no AI Act assessment yet: fill the questionnaire first" in response.content.decode()
    bad = owner.post(reverse("governance:aiact_generate", args=["credit-limits"]), {"model_version": "999"})
    assert bad.status_code == 422 and "Select a valid choice" in bad.content.decode()
    assert not TechnicalDocument.objects.exists()
