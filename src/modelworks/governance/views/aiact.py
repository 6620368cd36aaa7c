"""Pages of a use case's EU AI Act compliance: the risk-classification result, the questionnaire, and
the technical documentation packs (generate, view, download as HTML or PDF).

Who: everyone who may see the use case reads its result and documents (portfolio viewers and leads,
its business owner, its submitter, members of a linked project); governance leads and the business
owner fill the questionnaire and generate documents (``governance.services.access``). Others get 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.forms import add_service_error
from modelworks.core.views.base import PageView, done
from modelworks.governance.forms_aiact import AssessmentForm, GenerateDocumentForm
from modelworks.governance.models import AIActAssessment, AIActRiskClass, TechnicalDocument, UseCase
from modelworks.governance.services.access import can_edit_use_case
from modelworks.governance.services.aiact_classification import assess
from modelworks.governance.services.aiact_documentation import (
    DocumentConflict,
    candidate_versions,
    default_version,
    generate_document,
)
from modelworks.governance.services.aiact_questionnaire import DISCLAIMER, QUESTIONS_BY_KEY
from modelworks.governance.services.aiact_render import pdf_file_name, render_html, render_pdf
from modelworks.governance.services.portfolio import get_use_case
from modelworks.governance.views.value import use_case_url

__all__ = [
    "AIActDocumentDownloadView",
    "AIActDocumentView",
    "AIActGenerateView",
    "AIActOverviewView",
    "AIActQuestionnaireView",
]


class UseCaseAIActView(PageView):
    """A page about the AI Act compliance of the use case named by the ``slug`` URL argument.

    Attributes:
        edit: True when even reading the page needs the right to edit (forms).
    """

    edit: bool = False
    nav = "governance"
    use_case: UseCase

    def check_access(self, request: HttpRequest) -> None:
        writes = request.method not in ("GET", "HEAD")
        self.use_case = get_use_case(request.user, self.kwargs["slug"], edit=self.edit or writes)

    @property
    def assessment(self) -> AIActAssessment | None:
        return AIActAssessment.objects.filter(use_case=self.use_case).select_related("assessed_by").first()

    def overview_url(self) -> str:
        return reverse("governance:aiact_overview", args=[self.use_case.slug])

    def get_document(self) -> TechnicalDocument:
        document = (
            TechnicalDocument.objects.filter(use_case=self.use_case, pk=self.kwargs["pk"])
            .select_related("generated_by", "model_version__registered_model")
            .first()
        )
        if document is None:
            raise Http404(f"Use case '{self.use_case.slug}' has no technical document {self.kwargs['pk']}.")
        return document

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            use_case=self.use_case,
            use_case_url=use_case_url(self.use_case),
            can_edit=can_edit_use_case(self.request.user, self.use_case),
            disclaimer=DISCLAIMER,
        )
        return context


class AIActOverviewView(UseCaseAIActView):
    """The risk class with its reasons, and the technical documentation packs."""

    template_name = "governance/aiact/overview.html"

    def get_title(self) -> str:
        return f"EU AI Act · {self.use_case.title}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        assessment = self.assessment
        is_high = assessment is not None and assessment.risk_class == AIActRiskClass.HIGH
        versions = list(candidate_versions(self.use_case)) if is_high and context["can_edit"] else []
        context.update(
            assessment=assessment,
            is_high=is_high,
            reasons=[
                {
                    **r,
                    "question_text": QUESTIONS_BY_KEY[r["question"]].text
                    if r.get("question") in QUESTIONS_BY_KEY
                    else "",
                }
                for r in (assessment.reasons if assessment else [])
            ],
            documents=TechnicalDocument.objects.filter(use_case=self.use_case)
            .select_related("generated_by", "model_version__registered_model")
            .order_by("-generated_at", "-id"),
            generate_form=kwargs.get("generate_form")
            or GenerateDocumentForm(versions=versions, default=default_version(self.use_case)),
        )
        return context


class AIActQuestionnaireView(UseCaseAIActView):
    """The questionnaire, on one page, grouped by the Act's sections (leads and the business owner)."""

    template_name = "governance/aiact/questionnaire.html"
    edit = True

    def get_title(self) -> str:
        return f"AI Act questionnaire · {self.use_case.title}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        assessment = self.assessment
        context.update(
            assessment=assessment,
            form=kwargs.get("form") or AssessmentForm(answers=assessment.answers if assessment else None),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = AssessmentForm(request.POST)
        if form.is_valid():
            try:
                assessment = assess(self.use_case, form.answers(), actor=request.user, request=request)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                label = assessment.get_risk_class_display().lower()
                return done(
                    request, self.overview_url(), f"Assessed (version {assessment.version}): {label}."
                )
        return self.render_form_errors(form=form)


class AIActGenerateView(UseCaseAIActView):
    """Generate a technical documentation pack (POST only; leads and the business owner)."""

    template_name = "governance/aiact/overview.html"
    edit = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        versions = list(candidate_versions(self.use_case))
        form = GenerateDocumentForm(request.POST, versions=versions, default=default_version(self.use_case))
        if form.is_valid():
            try:
                document = generate_document(
                    self.use_case, actor=request.user, model_version=form.chosen(), request=request
                )
            except DocumentConflict as exc:
                form.add_error(None, str(exc))
                return self._again(form, 409)
            except ValueError as exc:
                form.add_error("model_version", str(exc))
            else:
                url = reverse("governance:aiact_document", args=[self.use_case.slug, document.pk])
                return done(request, url, "Technical documentation generated.")
        return self._again(form, 422)

    def _again(self, form: GenerateDocumentForm, status: int) -> HttpResponse:
        view = AIActOverviewView()
        view.setup(self.request, **self.kwargs)
        view.use_case = self.use_case
        return view.render_to_response(view.get_context_data(generate_form=form), status=status)


class AIActDocumentView(UseCaseAIActView):
    """One generated document, shown exactly as generated."""

    template_name = "governance/aiact/document.html"

    def get_title(self) -> str:
        return f"Technical documentation · {self.use_case.title}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["document"] = self.get_document()
        return context


class AIActDocumentDownloadView(UseCaseAIActView):
    """A generated document as a downloaded attachment: ``format`` is ``html`` or ``pdf``."""

    format: str = "html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        document = self.get_document()
        return document_response(document, self.format)


def document_response(document: TechnicalDocument, file_format: str) -> HttpResponse:
    """The HTML or PDF attachment of ``document`` (shared by the pages and the API)."""
    content = document.content
    if file_format == "pdf":
        response = HttpResponse(render_pdf(content), content_type="application/pdf")
    else:
        response = HttpResponse(render_html(content), content_type="text/html; charset=utf-8")
        # The HTML holds only escaped text and inline styles: forbid anything else if opened directly.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Content-Disposition"] = f'attachment; filename="{pdf_file_name(content, file_format)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Document-HTML-SHA256"] = document.sha256
    return response
