"""EU AI Act classification: every prohibited practice, every Annex III area, the Article 6(3)
exemption and its limits, transparency duties and minimal risk; bad answers; the stored, versioned and
audited assessment."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from modelworks.core.models import AuditEvent
from modelworks.governance.models import AIActAssessment, Stage, UseCase
from modelworks.governance.services.aiact_classification import assess, classify, validate_answers
from modelworks.governance.services.aiact_questionnaire import (
    ANNEX_III_KEYS,
    PROHIBITED_KEYS,
    QUESTIONS,
    QUESTIONS_BY_KEY,
    TRANSPARENCY_KEYS,
)
from modelworks.governance.testing_aiact import answers

pytest_plugins = ["modelworks.core.testing.fixtures"]

PROHIBITED_CASES = [
    ("subliminal_manipulation", "Article 5(1)(a)"),
    ("exploits_vulnerabilities", "Article 5(1)(b)"),
    ("social_scoring", "Article 5(1)(c)"),
    ("predictive_policing", "Article 5(1)(d)"),
    ("face_scraping", "Article 5(1)(e)"),
    ("emotion_recognition_work_school", "Article 5(1)(f)"),
    ("biometric_categorisation_sensitive", "Article 5(1)(g)"),
    ("realtime_remote_biometric_identification", "Article 5(1)(h)"),
]

ANNEX_III_CASES = [
    ("annex_iii_biometrics", "Annex III point 1"),
    ("annex_iii_critical_infrastructure", "Annex III point 2"),
    ("annex_iii_education", "Annex III point 3"),
    ("annex_iii_employment", "Annex III point 4"),
    ("annex_iii_public_benefits", "Annex III point 5(a)"),
    ("annex_iii_credit_scoring", "Annex III point 5(b)"),
    ("annex_iii_insurance_pricing", "Annex III point 5(c)"),
    ("annex_iii_emergency_services", "Annex III point 5(d)"),
    ("annex_iii_law_enforcement", "Annex III point 6"),
    ("annex_iii_migration", "Annex III point 7"),
    ("annex_iii_justice", "Annex III point 8(a)"),
    ("annex_iii_elections", "Annex III point 8(b)"),
]

TRANSPARENCY_CASES = [
    ("interacts_with_people", "Article 50(1)"),
    ("generates_synthetic_content", "Article 50(2)"),
    ("emotion_or_biometric_categorisation", "Article 50(3)"),
    ("deep_fakes", "Article 50(4)"),
    ("public_interest_text", "Article 50(4), second subparagraph"),
]


def _bases(reasons: list[dict[str, str]]) -> list[str]:
    return [r["basis"] for r in reasons]


def test_the_tables_cover_every_question_of_their_group() -> None:
    assert {k for k, _ in PROHIBITED_CASES} == set(PROHIBITED_KEYS)
    assert {k for k, _ in ANNEX_III_CASES} == set(ANNEX_III_KEYS)
    assert {k for k, _ in TRANSPARENCY_CASES} == set(TRANSPARENCY_KEYS)
    assert all(q.basis and q.help and q.finding for q in QUESTIONS)


@pytest.mark.parametrize(("key", "basis"), PROHIBITED_CASES)
def test_each_prohibited_practice_is_prohibited(key: str, basis: str) -> None:
    # Even with a high-risk area and a transparency duty, a prohibited practice settles it.
    risk, reasons = classify(answers(**{key: True}, annex_iii_employment=True, interacts_with_people=True))
    assert risk == "prohibited"
    assert reasons[0] == {"basis": basis, "text": QUESTIONS_BY_KEY[key].finding, "question": key}
    assert (
        reasons[-1]["basis"] == "Article 5(1)" and "must not be placed on the market" in reasons[-1]["text"]
    )
    assert len(reasons) == 2


@pytest.mark.parametrize(
    ("key", "exception", "basis"),
    [
        ("emotion_recognition_work_school", "emotion_recognition_medical_safety", "Annex III point 1(c)"),
        (
            "realtime_remote_biometric_identification",
            "biometric_identification_authorised_exception",
            "Annex III point 1(a)",
        ),
    ],
)
def test_an_allowed_exception_turns_a_ban_into_high_risk(key: str, exception: str, basis: str) -> None:
    risk, reasons = classify(answers(**{key: True, exception: True}))
    assert risk == "high"
    assert basis in reasons[0]["basis"] and reasons[0]["question"] == exception


@pytest.mark.parametrize(("key", "basis"), ANNEX_III_CASES)
def test_each_annex_iii_area_is_high_risk(key: str, basis: str) -> None:
    risk, reasons = classify(answers(**{key: True}))
    assert risk == "high"
    assert _bases(reasons) == [basis, "Article 6 and Chapter III"]
    assert "Article 9" in reasons[-1]["text"] and "Annex IV" in reasons[-1]["text"]


def test_an_annex_i_safety_component_is_high_risk_whatever_the_exemptions() -> None:
    risk, reasons = classify(answers(annex_i_safety_component=True, exemption_narrow_procedural_task=True))
    assert risk == "high"
    assert _bases(reasons)[0] == "Article 6(1) and Annex I"


@pytest.mark.parametrize(
    ("exemption", "basis"),
    [
        ("exemption_narrow_procedural_task", "Article 6(3)(a)"),
        ("exemption_improves_human_work", "Article 6(3)(b)"),
        ("exemption_detects_patterns", "Article 6(3)(c)"),
        ("exemption_preparatory_task", "Article 6(3)(d)"),
    ],
)
def test_an_article_6_3_exemption_lifts_the_annex_iii_area(exemption: str, basis: str) -> None:
    risk, reasons = classify(answers(annex_iii_employment=True, **{exemption: True}))
    assert risk == "minimal"
    assert _bases(reasons) == ["Annex III point 4", basis, "Article 6(4) and Article 49(2)", "Article 95"]
    assert "exemption of Article 6(3) is claimed" in reasons[0]["text"]


def test_profiling_rules_out_the_exemption() -> None:
    risk, reasons = classify(
        answers(annex_iii_credit_scoring=True, profiling=True, exemption_preparatory_task=True)
    )
    assert risk == "high"
    assert _bases(reasons) == [
        "Annex III point 5(b)",
        "Article 6(3), last subparagraph",
        "Article 6 and Chapter III",
    ]


def test_an_exempted_system_with_a_transparency_duty_is_limited() -> None:
    risk, reasons = classify(
        answers(
            annex_iii_education=True, exemption_improves_human_work=True, generates_synthetic_content=True
        )
    )
    assert risk == "limited"
    assert _bases(reasons)[-1] == "Article 50(2)"


@pytest.mark.parametrize(("key", "basis"), TRANSPARENCY_CASES)
def test_each_transparency_duty_is_limited_risk(key: str, basis: str) -> None:
    assert classify(answers(**{key: True})) == (
        "limited",
        [{"basis": basis, "text": QUESTIONS_BY_KEY[key].finding, "question": key}],
    )


def test_a_high_risk_system_keeps_its_transparency_duties() -> None:
    risk, reasons = classify(answers(annex_iii_employment=True, interacts_with_people=True))
    assert risk == "high" and _bases(reasons)[-1] == "Article 50(1)"


def test_nothing_applies_minimal_risk() -> None:
    risk, reasons = classify(answers())
    assert risk == "minimal"
    assert _bases(reasons) == ["Article 95"]


def test_classification_is_deterministic_and_ignores_non_true_values() -> None:
    given = answers(annex_iii_migration=True, deep_fakes=True)
    assert classify(given) == classify(dict(reversed(list(given.items()))))
    assert classify({"social_scoring": "yes", "annex_iii_migration": 1})[0] == "minimal"


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ("yes", "answers", "Send the answers as an object"),
        ({**answers(), "no_such_question": True}, "no_such_question", "Unknown question 'no_such_question'"),
        ({**answers(), "social_scoring": "yes"}, "social_scoring", "with true \\(yes\\) or false \\(no\\)"),
        (
            {k: v for k, v in answers().items() if k != "face_scraping"},
            "face_scraping",
            "Answer this question",
        ),
        (
            answers(annex_iii_employment=True, exemption_preparatory_task=True),
            "exemption_justification",
            "explain why the system poses no significant risk",
        ),
        ({**answers(), "exemption_justification": 12}, "exemption_justification", "must be text"),
        ({**answers(), "exemption_justification": "x" * 4001}, "exemption_justification", "at most 4000"),
    ],
)
def test_bad_answers_are_refused_with_the_question_named(given: Any, field: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        validate_answers(given)
    assert field in caught.value.message_dict


def test_validation_drops_follow_ups_of_questions_answered_no() -> None:
    clean = validate_answers({**answers(), "emotion_recognition_medical_safety": True})
    assert "emotion_recognition_medical_safety" not in clean
    kept = validate_answers(
        answers(emotion_recognition_work_school=True, emotion_recognition_medical_safety=True)
    )
    assert kept["emotion_recognition_medical_safety"] is True


@pytest.fixture
def use_case(alice: Any) -> UseCase:
    return UseCase.objects.create(
        slug="cv-screening", title="CV screening", stage=Stage.objects.get(key="idea")
    )


def test_assess_stores_versions_sets_the_risk_level_and_audits(
    use_case: UseCase, alice: Any, bob: Any
) -> None:
    first = assess(use_case, answers(annex_iii_employment=True), actor=alice)
    assert (first.version, first.risk_class, first.assessed_by) == (1, "high", alice)
    assert UseCase.objects.get(pk=use_case.pk).risk_level == "high"

    second = assess(use_case, answers(interacts_with_people=True), actor=bob)
    assert second.pk == first.pk and second.version == 2 and second.risk_class == "limited"
    assert AIActAssessment.objects.filter(use_case=use_case).count() == 1
    assert UseCase.objects.get(pk=use_case.pk).risk_level == "limited"

    events = list(AuditEvent.objects.filter(action="governance.aiact_assessed").order_by("id"))
    assert [e.details["version"] for e in events] == [1, 2]
    assert events[0].details["previous"] is None
    previous = events[1].details["previous"]
    assert previous["version"] == 1 and previous["risk_class"] == "high"
    assert previous["answers"]["annex_iii_employment"] is True and previous["assessed_by"] == "alice"
    assert events[1].details["previous_risk_level"] == "high"


def test_a_refused_assessment_changes_nothing(use_case: UseCase, alice: Any) -> None:
    with pytest.raises(ValidationError):
        assess(use_case, {"social_scoring": True}, actor=alice)
    assert not AIActAssessment.objects.exists()
    assert UseCase.objects.get(pk=use_case.pk).risk_level == "unassessed"
    assert not AuditEvent.objects.filter(action="governance.aiact_assessed").exists()
