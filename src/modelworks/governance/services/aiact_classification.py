"""Risk classification under the EU AI Act from the questionnaire's answers, and the stored assessment.

``classify(answers)`` is a pure, deterministic function: the same answers always give the same class
and the same reasons, each citing the article or annex it comes from. ``assess(use_case, answers, …)``
validates the answers, classifies them, stores the use case's ``AIActAssessment`` (one per use case;
re-assessing increments its ``version`` and keeps the previous one in the audit log) and sets
``UseCase.risk_level``.

The order of the reasoning follows the Act: a prohibited practice (Article 5) settles it; otherwise a
safety component of an Annex I product (Article 6(1)) or an Annex III area (Article 6(2)) makes the
system high-risk, unless an Article 6(3) exemption applies to the Annex III area (never when the system
profiles people); transparency duties (Article 50) apply at every level and make an otherwise minimal
system "limited"; anything else is minimal risk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core import audit
from modelworks.governance.services.aiact_questionnaire import (
    ANNEX_III_KEYS,
    EXEMPTION_KEYS,
    JUSTIFICATION_KEY,
    PROHIBITED_KEYS,
    QUESTIONS,
    QUESTIONS_BY_KEY,
    TRANSPARENCY_KEYS,
)

__all__ = [
    "MAX_JUSTIFICATION",
    "REQUIRED_KEYS",
    "RISK_CLASSES",
    "assess",
    "classify",
    "validate_answers",
]

RISK_CLASSES = ("prohibited", "high", "limited", "minimal")
MAX_JUSTIFICATION = 4000

#: Questions that must be answered explicitly (follow-ups and the exemption section are optional).
REQUIRED_KEYS = tuple(q.key for q in QUESTIONS if not q.parent and q.group != "exemption")

# A follow-up answered yes turns a prohibited practice into an allowed, high-risk one.
_ALLOWED_EXCEPTIONS = {
    "emotion_recognition_work_school": ("emotion_recognition_medical_safety", "Annex III point 1(c)"),
    "realtime_remote_biometric_identification": (
        "biometric_identification_authorised_exception",
        "Annex III point 1(a)",
    ),
}

_HIGH_RISK_DUTIES = (
    "As a high-risk system it must meet the requirements of Chapter III, Section 2 before it is used: "
    "a risk management system (Article 9), data governance (Article 10), technical documentation "
    "(Article 11 and Annex IV), record-keeping (Article 12), information to deployers (Article 13), "
    "human oversight (Article 14) and accuracy, robustness and cybersecurity (Article 15)."
)


def _reason(basis: str, text: str, question: str = "") -> dict[str, str]:
    return {"basis": basis, "text": text, "question": question}


def _yes(answers: Mapping[str, Any], key: str) -> bool:
    return answers.get(key) is True


def classify(answers: Mapping[str, Any]) -> tuple[str, list[dict[str, str]]]:
    """The risk class of a system from its questionnaire answers, with the reasons.

    Args:
        answers: question key → ``True`` (yes) / ``False`` (no); anything but ``True`` counts as no.
            ``exemption_justification`` (text) is carried but does not change the class.

    Returns:
        ``(risk_class, reasons)``: the class is ``prohibited``, ``high``, ``limited`` or ``minimal``;
        each reason is ``{"basis": "Article 5(1)(a)", "text": "…", "question": "<key>"}``, in the
        order of the Act's reasoning.
    """
    prohibited: list[dict[str, str]] = []
    high: list[dict[str, str]] = []
    for key in PROHIBITED_KEYS:
        if not _yes(answers, key):
            continue
        exception = _ALLOWED_EXCEPTIONS.get(key)
        if exception is not None and _yes(answers, exception[0]):
            follow_up = QUESTIONS_BY_KEY[exception[0]]
            high.append(_reason(f"{follow_up.basis}; {exception[1]}", follow_up.finding, follow_up.key))
            continue
        question = QUESTIONS_BY_KEY[key]
        prohibited.append(_reason(question.basis, question.finding, key))
    if prohibited:
        prohibited.append(
            _reason(
                "Article 5(1)",
                "A system with a prohibited practice must not be placed on the market, put into service or "
                "used in the EU. Stop or redesign the use case.",
            )
        )
        return "prohibited", prohibited

    if _yes(answers, "annex_i_safety_component"):
        question = QUESTIONS_BY_KEY["annex_i_safety_component"]
        high.append(_reason(question.basis, question.finding, question.key))
    areas = [QUESTIONS_BY_KEY[k] for k in ANNEX_III_KEYS if _yes(answers, k)]
    exempted: list[dict[str, str]] = []
    if areas:
        area_reasons = [_reason(q.basis, q.finding, q.key) for q in areas]
        claimed = [QUESTIONS_BY_KEY[k] for k in EXEMPTION_KEYS if _yes(answers, k)]
        if _yes(answers, "profiling"):
            high += area_reasons
            profiling = QUESTIONS_BY_KEY["profiling"]
            high.append(_reason(profiling.basis, profiling.finding, profiling.key))
        elif claimed:
            exempted += [
                _reason(
                    q.basis,
                    f"{q.finding} The Annex III area therefore does not make it high-risk (Article 6(3)).",
                    q.key,
                )
                for q in claimed
            ]
            exempted.append(
                _reason(
                    "Article 6(4) and Article 49(2)",
                    "Claiming the exemption: document this assessment before the system is used, register "
                    "the system in the EU database, and give the assessment to the authorities on request.",
                )
            )
            high_areas = "; ".join(q.basis for q in areas)
            exempted.insert(
                0,
                _reason(
                    high_areas,
                    "Used in an Annex III area, but an exemption of Article 6(3) is claimed: "
                    + " ".join(r["text"] for r in area_reasons),
                ),
            )
        else:
            high += area_reasons
    transparency = [
        _reason(QUESTIONS_BY_KEY[k].basis, QUESTIONS_BY_KEY[k].finding, k)
        for k in TRANSPARENCY_KEYS
        if _yes(answers, k)
    ]
    if high:
        high.append(_reason("Article 6 and Chapter III", _HIGH_RISK_DUTIES))
        return "high", high + exempted + transparency
    if transparency:
        return "limited", exempted + transparency
    return "minimal", [
        *exempted,
        _reason(
            "Article 95",
            "No prohibited practice, high-risk purpose or transparency duty applies: minimal risk. No "
            "specific obligation; voluntary codes of conduct are encouraged, and AI literacy of the "
            "people using it is required (Article 4).",
        ),
    ]


def validate_answers(answers: Any) -> dict[str, Any]:
    """The answers, checked and normalised: every key known, yes/no answers booleans, required ones given.

    Raises:
        ValidationError: keyed by the question, with what is wrong and how to fix it.
    """
    if not isinstance(answers, Mapping):
        raise ValidationError({"answers": "Send the answers as an object: question key → true or false."})
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key, value in answers.items():
        if key == JUSTIFICATION_KEY:
            if value is None:
                continue
            if not isinstance(value, str):
                errors[key] = "The justification must be text."
            elif len(value) > MAX_JUSTIFICATION:
                errors[key] = f"The justification is too long: at most {MAX_JUSTIFICATION} characters."
            elif value.strip():
                clean[key] = value.strip()
            continue
        if key not in QUESTIONS_BY_KEY:
            errors[str(key)] = (
                f"Unknown question '{key}'. The questions are listed by GET "
                "/api/v1/governance/ai-act/questionnaire."
            )
        elif value is None:
            continue
        elif not isinstance(value, bool):
            errors[key] = f"Answer '{key}' with true (yes) or false (no), not {value!r}."
        else:
            clean[key] = value
    for key in REQUIRED_KEYS:
        if key not in clean and key not in errors:
            errors[key] = f"Answer this question: {QUESTIONS_BY_KEY[key].text}"
    if not errors:
        claims = [k for k in EXEMPTION_KEYS if clean.get(k)]
        in_area = any(clean.get(k) for k in ANNEX_III_KEYS)
        if claims and in_area and not clean.get("profiling") and not clean.get(JUSTIFICATION_KEY):
            errors[JUSTIFICATION_KEY] = (
                "You claim an Article 6(3) exemption: explain why the system poses no significant risk "
                "(Article 6(4) requires this assessment to be documented)."
            )
    if errors:
        raise ValidationError(errors)
    # Follow-ups of a question answered no, and exemptions without an Annex III area, are irrelevant.
    for question in QUESTIONS:
        if question.parent and not clean.get(question.parent):
            clean.pop(question.key, None)
    return clean


def _snapshot(assessment: Any) -> dict[str, Any]:
    return {
        "version": assessment.version,
        "risk_class": assessment.risk_class,
        "answers": assessment.answers,
        "reasons": assessment.reasons,
        "assessed_by": assessment.assessed_by.get_username() if assessment.assessed_by else None,
        "assessed_at": assessment.assessed_at.isoformat() if assessment.assessed_at else None,
    }


def assess(use_case: Any, answers: Any, *, actor: Any, request: HttpRequest | None = None) -> Any:
    """Classify ``use_case`` from ``answers`` and store its assessment (audited ``governance.aiact_assessed``).

    The caller checks that ``actor`` may edit the use case. Re-assessing replaces the answers, increments
    ``version`` and keeps the previous assessment in the audit entry's details (``previous``).

    Returns:
        The saved ``AIActAssessment``; ``use_case.risk_level`` is set to its class.

    Raises:
        ValidationError: answers missing, unknown or not yes/no (keyed by question).
    """
    from modelworks.governance.models import AIActAssessment, UseCase

    clean = validate_answers(answers)
    risk_class, reasons = classify(clean)
    with transaction.atomic():
        locked = UseCase.objects.select_for_update().get(pk=use_case.pk)
        assessment = AIActAssessment.objects.filter(use_case=locked).select_related("assessed_by").first()
        previous = _snapshot(assessment) if assessment is not None else None
        if assessment is None:
            assessment = AIActAssessment(use_case=locked, version=0)
        assessment.answers = clean
        assessment.risk_class = risk_class
        assessment.reasons = reasons
        assessment.assessed_by = actor if getattr(actor, "is_authenticated", False) else None
        assessment.assessed_at = timezone.now()
        assessment.version = (assessment.version or 0) + 1
        assessment.save()
        old_level = locked.risk_level
        locked.risk_level = risk_class
        locked.save(update_fields=["risk_level", "updated_at"])
        use_case.risk_level = risk_class
        audit.record(
            "governance.aiact_assessed",
            actor=actor,
            project=None,
            target=locked,
            request=request,
            details={
                "use_case": locked.slug,
                "version": assessment.version,
                "risk_class": risk_class,
                "previous_risk_level": old_level,
                "bases": [r["basis"] for r in reasons],
                "previous": previous,
            },
        )
    return assessment
