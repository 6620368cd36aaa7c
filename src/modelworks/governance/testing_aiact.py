"""Test helpers of the EU AI Act part, and its rows of the generated permission suite.

The world's use case ``credit-limits`` is linked to the world's project, so its members see it
(readers included: ``Access.project(READER)`` for reading), and its business owner is the project
admin alice: leads and the owner assess and generate, i.e. ``Access.project(ADMIN)`` (the contributor
and the reader see it but get 403; the outsider gets 404; instance admins are leads).

* ``HIGH_RISK_ANSWERS``: answers classifying a system as high-risk (credit scoring, Annex III 5(b)).
* ``answers(**yes)``: every required question answered no, except those given.
* ``world_aiact_use_case(w)``: the use case, assessed high-risk by alice.
* ``world_document(w)``: a technical document generated for it (no model version linked).
"""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, ApiRouteCase, PageRouteCase, PermissionWorld
from modelworks.governance.services.aiact_classification import REQUIRED_KEYS

__all__ = [
    "API_ROUTES",
    "HIGH_RISK_ANSWERS",
    "PAGE_ROUTES",
    "answers",
    "world_aiact_use_case",
    "world_document",
]

READER = Access.project(Role.READER)
EDITOR = Access.project(Role.ADMIN)  # the world's business owner is the project admin
REDIRECTED = (303,)


def answers(**yes: bool) -> dict[str, Any]:
    """Every required question answered no, then ``yes`` applied (keys of the questionnaire)."""
    result: dict[str, Any] = dict.fromkeys(REQUIRED_KEYS, False)
    result.update(yes)
    return result


HIGH_RISK_ANSWERS: dict[str, Any] = answers(annex_iii_credit_scoring=True, profiling=True)


def _high() -> dict[str, Any]:
    return dict(HIGH_RISK_ANSWERS)


def world_aiact_use_case(w: PermissionWorld) -> Any:
    if "aiact.use_case" not in w.extra:
        from modelworks.governance.models import Stage, StageChange, UseCase
        from modelworks.governance.services.aiact_classification import assess

        stage = Stage.objects.get(key="pilot")
        use_case = UseCase.objects.create(
            slug="credit-limits",
            title="Credit limits",
            problem_statement="Suggest credit limits for new retail customers.",
            stage=stage,
            business_owner=w.users["admin"],
        )
        use_case.projects.set([w.project])
        StageChange.objects.create(
            use_case=use_case, to_stage=stage, actor=w.users["admin"], comment="Created"
        )
        assess(use_case, _high(), actor=w.users["admin"])
        w.extra["aiact.use_case"] = use_case
    return w.extra["aiact.use_case"]


def world_document(w: PermissionWorld) -> Any:
    if "aiact.document" not in w.extra:
        from modelworks.governance.services.aiact_documentation import generate_document

        w.extra["aiact.document"] = generate_document(world_aiact_use_case(w), actor=w.users["admin"])
    return w.extra["aiact.document"]


def _use_case(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": world_aiact_use_case(w).slug}


def _api_document(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": world_aiact_use_case(w).slug, "document_id": world_document(w).pk}


def _page_document(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": world_aiact_use_case(w).slug, "pk": world_document(w).pk}


def _form_answers(w: PermissionWorld) -> dict[str, Any]:
    return {key: ("yes" if value else "no") for key, value in _high().items()}


API_ROUTES: list[ApiRouteCase] = [
    ApiRouteCase("governance_aiact_questionnaire", Access.signed_in()),
    ApiRouteCase("governance_aiact_get", READER, _use_case),
    ApiRouteCase("governance_aiact_assess", EDITOR, _use_case, body=lambda w: {"answers": _high()}),
    ApiRouteCase("governance_aiact_documents_list", READER, _use_case),
    ApiRouteCase("governance_aiact_documents_create", EDITOR, _use_case, body=lambda w: {}, ok_status=201),
    ApiRouteCase("governance_aiact_documents_get", READER, _api_document),
    ApiRouteCase("governance_aiact_documents_html", READER, _api_document),
    ApiRouteCase("governance_aiact_documents_pdf", READER, _api_document),
]

PAGE_ROUTES: list[PageRouteCase] = [
    PageRouteCase("governance:aiact_overview", READER, _use_case),
    PageRouteCase("governance:aiact_questionnaire", EDITOR, _use_case),
    PageRouteCase(
        "governance:aiact_questionnaire",
        EDITOR,
        _use_case,
        method="POST",
        data=_form_answers,
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase(
        "governance:aiact_generate",
        EDITOR,
        _use_case,
        method="POST",
        data=lambda w: {},
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("governance:aiact_document", READER, _page_document),
    PageRouteCase("governance:aiact_document_html", READER, _page_document),
    PageRouteCase("governance:aiact_document_pdf", READER, _page_document),
]
