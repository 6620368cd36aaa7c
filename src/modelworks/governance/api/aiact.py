"""EU AI Act API: the questionnaire, a use case's assessment and its technical documentation packs.

* ``GET /governance/ai-act/questionnaire``: the questions (any signed-in user).
* ``GET|PUT /governance/use-cases/{slug}/ai-act``: the assessment (read: who sees the use case;
  write: governance leads and its business owner). Re-assessing increments its version.
* ``GET|POST /governance/use-cases/{slug}/ai-act/documents``: generated packs (POST generates one for
  a high-risk use case: 409 otherwise), ``…/documents/{id}`` with its content, ``…/{id}/html`` and
  ``…/{id}/pdf`` as attachments.

Who cannot see the use case gets 404; who sees it but may not edit it gets 403 on writes.
"""

# No ``from __future__ import annotations``: ninja reads the annotations of paginated views at runtime.

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.schemas import InputSchema
from modelworks.governance.models import AIActAssessment, TechnicalDocument, UseCase
from modelworks.governance.services.aiact_classification import REQUIRED_KEYS, assess
from modelworks.governance.services.aiact_documentation import (
    DocumentConflict,
    candidate_versions,
    generate_document,
)
from modelworks.governance.services.aiact_questionnaire import (
    DISCLAIMER,
    GROUPS,
    JUSTIFICATION_HELP,
    JUSTIFICATION_KEY,
    QUESTIONS,
)
from modelworks.governance.services.portfolio import get_use_case

router = Router(tags=["governance: EU AI Act"])

_UC = "/governance/use-cases/{slug}/ai-act"
_DOC = _UC + "/documents/{document_id}"


# -- schemas --------------------------------------------------------------------------------------
class QuestionOut(Schema):
    key: str
    group: str
    text: str
    help: str
    basis: str = Field(description="The article or annex of Regulation (EU) 2024/1689 it comes from.")
    parent: str = Field(description="For a follow-up: the question it refines (asked when that is yes).")
    required: bool


class GroupOut(Schema):
    key: str
    title: str
    intro: str


class QuestionnaireOut(Schema):
    disclaimer: str
    groups: list[GroupOut]
    questions: list[QuestionOut]
    justification_key: str
    justification_help: str


class ReasonOut(Schema):
    basis: str
    text: str
    question: str


class AssessmentOut(Schema):
    use_case: str
    version: int
    risk_class: str
    answers: dict[str, Any]
    reasons: list[ReasonOut]
    assessed_by: str | None
    assessed_at: datetime
    disclaimer: str


class AssessmentIn(InputSchema):
    answers: dict[str, Any] = Field(
        description="Question key → true (yes) or false (no); 'exemption_justification' → text."
    )


class DocumentIn(InputSchema):
    model_version_id: int | None = Field(
        None,
        description="The model version to document (in a project linked to the use case); "
        "default: the version the 'champion' alias points at.",
    )


class DocumentOut(Schema):
    id: int
    use_case: str
    model_version_id: int | None
    model: dict[str, Any] | None
    generated_by: str | None
    generated_at: datetime
    sha256: str = Field(description="SHA-256 of the rendered HTML.")
    gaps: list[str]


class DocumentDetailOut(DocumentOut):
    content: dict[str, Any]


# -- helpers --------------------------------------------------------------------------------------
def _assessment_out(use_case: UseCase, assessment: AIActAssessment) -> dict[str, Any]:
    return {
        "use_case": use_case.slug,
        "version": assessment.version,
        "risk_class": assessment.risk_class,
        "answers": assessment.answers,
        "reasons": [
            {"basis": r.get("basis", ""), "text": r.get("text", ""), "question": r.get("question", "")}
            for r in assessment.reasons
        ],
        "assessed_by": assessment.assessed_by.get_username() if assessment.assessed_by else None,
        "assessed_at": assessment.assessed_at,
        "disclaimer": DISCLAIMER,
    }


def _document_out(document: TechnicalDocument, *, content: bool = False) -> dict[str, Any]:
    data = {
        "id": document.pk,
        "use_case": document.use_case.slug,
        "model_version_id": document.model_version_id,
        "model": document.content.get("model"),
        "generated_by": document.generated_by.get_username() if document.generated_by else None,
        "generated_at": document.generated_at,
        "sha256": document.sha256,
        "gaps": list(document.content.get("gaps") or []),
    }
    if content:
        data["content"] = document.content
    return data


def _document(request: HttpRequest, slug: str, document_id: int) -> TechnicalDocument:
    use_case = get_use_case(request.user, slug)
    document = (
        TechnicalDocument.objects.filter(use_case=use_case, pk=document_id)
        .select_related("use_case", "generated_by")
        .first()
    )
    if document is None:
        raise Http404(f"Use case '{slug}' has no technical document {document_id}.")
    return document


# -- operations -----------------------------------------------------------------------------------
@router.get(
    "/governance/ai-act/questionnaire",
    response=responses({200: QuestionnaireOut}),
    operation_id="governance_aiact_questionnaire",
    summary="The AI Act risk-classification questionnaire",
)
def governance_aiact_questionnaire(request: HttpRequest) -> dict[str, Any]:
    """Every question with its help text and legal basis, grouped as the Act reasons."""
    return {
        "disclaimer": DISCLAIMER,
        "groups": [{"key": g.key, "title": g.title, "intro": g.intro} for g in GROUPS],
        "questions": [
            {
                "key": q.key,
                "group": q.group,
                "text": q.text,
                "help": q.help,
                "basis": q.basis,
                "parent": q.parent,
                "required": q.key in REQUIRED_KEYS,
            }
            for q in QUESTIONS
        ],
        "justification_key": JUSTIFICATION_KEY,
        "justification_help": JUSTIFICATION_HELP,
    }


@router.get(
    _UC,
    response=responses({200: AssessmentOut}, 404),
    operation_id="governance_aiact_get",
    summary="A use case's AI Act assessment",
)
def governance_aiact_get(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The latest assessment: risk class, reasons with their legal basis, answers (404 when none yet)."""
    use_case = get_use_case(request.user, slug)
    assessment = AIActAssessment.objects.filter(use_case=use_case).select_related("assessed_by").first()
    if assessment is None:
        raise Http404(f"Use case '{slug}' has no AI Act assessment yet; answer the questionnaire (PUT).")
    return _assessment_out(use_case, assessment)


@router.put(
    _UC,
    response=responses({200: AssessmentOut}, 403, 404, 422),
    operation_id="governance_aiact_assess",
    summary="Assess a use case under the AI Act",
)
def governance_aiact_assess(request: HttpRequest, slug: str, payload: AssessmentIn) -> dict[str, Any]:
    """Classify the use case from the answers and store it (leads and the business owner).

    Sets the use case's risk level; re-assessing increments the version (the previous one is kept in
    the audit log).
    """
    use_case = get_use_case(request.user, slug, edit=True)
    assessment = assess(use_case, payload.answers, actor=request.user, request=request)
    return _assessment_out(use_case, assessment)


@router.get(
    _UC + "/documents",
    response=responses({200: list[DocumentOut]}, 404),
    operation_id="governance_aiact_documents_list",
    summary="A use case's technical documentation packs",
)
@paginate
def governance_aiact_documents_list(request: HttpRequest, slug: str) -> QuerySet:
    """Generated packs, newest first (without their content)."""
    use_case = get_use_case(request.user, slug)
    documents = (
        TechnicalDocument.objects.filter(use_case=use_case)
        .select_related("use_case", "generated_by")
        .order_by("-generated_at", "-id")
    )
    return [_document_out(d) for d in documents]  # type: ignore[return-value]


@router.post(
    _UC + "/documents",
    response=responses({201: DocumentDetailOut}, 403, 404, 409, 422),
    operation_id="governance_aiact_documents_create",
    summary="Generate the technical documentation (Annex IV)",
)
def governance_aiact_documents_create(request: HttpRequest, slug: str, payload: DocumentIn) -> Status:
    """Generate and store a pack for a high-risk use case (leads and the business owner); 409 when the
    use case is not assessed high-risk."""
    use_case = get_use_case(request.user, slug, edit=True)
    version = None
    if payload.model_version_id is not None:
        version = candidate_versions(use_case).filter(pk=payload.model_version_id).first()
        if version is None:
            from django.core.exceptions import ValidationError

            raise ValidationError(
                {
                    "model_version_id": f"No model version {payload.model_version_id} in a project linked to "
                    f"use case '{slug}'; link its project or choose another version."
                }
            )
    try:
        document = generate_document(use_case, actor=request.user, model_version=version, request=request)
    except DocumentConflict as exc:
        raise HttpError(409, str(exc)) from exc
    return Status(201, _document_out(document, content=True))


@router.get(
    _DOC,
    response=responses({200: DocumentDetailOut}, 404),
    operation_id="governance_aiact_documents_get",
    summary="A technical documentation pack with its content",
)
def governance_aiact_documents_get(request: HttpRequest, slug: str, document_id: int) -> dict[str, Any]:
    """The pack exactly as generated (its sections and blocks)."""
    return _document_out(_document(request, slug, document_id), content=True)


@router.get(
    _DOC + "/html",
    response=responses({200: None}, 404),
    operation_id="governance_aiact_documents_html",
    summary="Download a pack as HTML",
    openapi_extra={"responses": {200: {"description": "The HTML file.", "content": {"text/html": {}}}}},
)
def governance_aiact_documents_html(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    """One self-contained HTML file (no external asset), as an attachment."""
    from modelworks.governance.views.aiact import document_response

    return document_response(_document(request, slug, document_id), "html")


@router.get(
    _DOC + "/pdf",
    response=responses({200: None}, 404),
    operation_id="governance_aiact_documents_pdf",
    summary="Download a pack as PDF",
    openapi_extra={"responses": {200: {"description": "The PDF file.", "content": {"application/pdf": {}}}}},
)
def governance_aiact_documents_pdf(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    """The PDF rendering, as an attachment."""
    from modelworks.governance.views.aiact import document_response

    return document_response(_document(request, slug, document_id), "pdf")
