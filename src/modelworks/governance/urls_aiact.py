"""Pages of a use case's EU AI Act compliance (namespace ``governance``, routes ``aiact_*``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from modelworks.governance.views import aiact

_BASE = "governance/use-cases/<slug:slug>/ai-act/"

urlpatterns: list[URLPattern] = [
    path(_BASE, aiact.AIActOverviewView.as_view(), name="aiact_overview"),
    path(f"{_BASE}questionnaire/", aiact.AIActQuestionnaireView.as_view(), name="aiact_questionnaire"),
    path(f"{_BASE}documents/", aiact.AIActGenerateView.as_view(), name="aiact_generate"),
    path(f"{_BASE}documents/<int:pk>/", aiact.AIActDocumentView.as_view(), name="aiact_document"),
    path(
        f"{_BASE}documents/<int:pk>/download.html",
        aiact.AIActDocumentDownloadView.as_view(format="html"),
        name="aiact_document_html",
    ),
    path(
        f"{_BASE}documents/<int:pk>/download.pdf",
        aiact.AIActDocumentDownloadView.as_view(format="pdf"),
        name="aiact_document_pdf",
    ),
]
