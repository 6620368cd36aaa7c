"""The technical documentation pack of a high-risk use case (EU AI Act Article 11 and Annex IV).

Built from what Modelworks knows about the use case and one model version of a linked project (by
default the version its ``champion`` alias points at): purpose, data sources and lineage, data quality,
training procedure, metrics, drift monitoring, human oversight, versions and approvals, and the risk
assessment itself. Each section says plainly what is missing and how to add it.

The pack is data (``content``): a list of sections made of blocks, rendered to HTML and PDF by
``aiact_render``. ``generate_document`` stores it as a ``TechnicalDocument`` with the SHA-256 of its
HTML, so an old pack is shown again exactly as generated, whatever changed since.

Block shapes (``type`` first):

* ``{"type": "paragraph", "text": str}``
* ``{"type": "facts", "rows": [[label, value], …]}``
* ``{"type": "table", "caption": str, "columns": [str, …], "rows": [[str, …], …]}``
* ``{"type": "list", "items": [str, …]}``
* ``{"type": "missing", "text": str}``: something Modelworks does not know, with how to fix it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core import audit
from modelworks.governance.services import aiact_sections as sections
from modelworks.governance.services import aiact_sections_production as production

__all__ = [
    "CONTENT_SCHEMA",
    "DocumentConflict",
    "build_content",
    "candidate_versions",
    "default_version",
    "generate_document",
]

CONTENT_SCHEMA = 1
DEFAULT_ALIAS = "champion"


class DocumentConflict(Exception):
    """The documentation cannot be generated in the use case's current state (message says why)."""


def candidate_versions(use_case: Any) -> QuerySet[Any]:
    """The model versions of the use case's linked projects, newest first per model."""
    from modelworks.registry.models import ModelVersion

    return (
        ModelVersion.objects.filter(registered_model__project__in=use_case.projects.all())
        .select_related("registered_model", "registered_model__project")
        .prefetch_related("aliases")
        .order_by("registered_model__project__slug", "registered_model__name", "-version")
    )


def default_version(use_case: Any) -> Any:
    """The version the ``champion`` alias points at in a linked project (first model by name), or None."""
    from modelworks.registry.models import ModelAlias

    alias = (
        ModelAlias.objects.filter(alias=DEFAULT_ALIAS, registered_model__project__in=use_case.projects.all())
        .select_related("model_version__registered_model__project")
        .order_by("registered_model__project__slug", "registered_model__name")
        .first()
    )
    return alias.model_version if alias is not None else None


def _assessment_of(use_case: Any) -> Any:
    """The use case's assessment read afresh (a cached relation may predate a re-assessment)."""
    from modelworks.governance.models import AIActAssessment

    if use_case.pk is None:
        return None
    return AIActAssessment.objects.filter(use_case=use_case).select_related("assessed_by").first()


def _person(user: Any) -> str:
    if user is None:
        return "—"
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{full} ({user.get_username()})" if full else user.get_username()


def build_content(use_case: Any, version: Any, *, actor: Any = None, now: Any = None) -> dict[str, Any]:
    """The documentation's content for ``use_case`` and model ``version`` (None: no model chosen)."""
    assessment = _assessment_of(use_case)
    now = now or timezone.now()
    model: dict[str, Any] | None = None
    if version is not None:
        registered = version.registered_model
        model = {
            "project": registered.project.slug,
            "project_name": registered.project.name,
            "name": registered.name,
            "version": version.version,
            "id": version.pk,
            "aliases": sorted(version.aliases.values_list("alias", flat=True)),
        }
    parts = [
        sections.general(use_case, version),
        sections.data_and_lineage(version),
        sections.data_quality(version),
        sections.training(version),
        sections.metrics(version),
        production.monitoring(version),
        production.oversight(version),
        production.versions_and_approvals(version),
        production.risk_assessment(use_case, assessment),
    ]
    gaps = [
        f"{part['title']}: {block['text']}"
        for part in parts
        for block in part["blocks"]
        if block["type"] == "missing"
    ]
    return {
        "schema": CONTENT_SCHEMA,
        "title": f"Technical documentation: {use_case.title}",
        "use_case": {"slug": use_case.slug, "title": use_case.title},
        "model": model,
        "risk_class": assessment.risk_class if assessment is not None else None,
        "generated_at": now.strftime("%Y-%m-%d %H:%M UTC"),
        "generated_by": _person(actor) if getattr(actor, "is_authenticated", False) else "—",
        "disclaimer": (
            "Generated by Modelworks from the facts it records, following the structure of Annex IV of "
            "Regulation (EU) 2024/1689 (EU AI Act). It is not legal advice and not a complete conformity "
            "file: review it, complete the gaps listed below and have it checked by your compliance team."
        ),
        "gaps": gaps,
        "sections": parts,
    }


def generate_document(
    use_case: Any,
    *,
    actor: Any,
    model_version: Any = None,
    use_default: bool = True,
    request: HttpRequest | None = None,
) -> Any:
    """Generate and store a ``TechnicalDocument`` (audited ``governance.aiact_document_generated``).

    Args:
        use_case: a use case assessed high-risk.
        actor: who generates it (the caller checks they may edit the use case).
        model_version: the ``ModelVersion`` to document; it must belong to a linked project.
        use_default: with no ``model_version``, take the ``champion`` of a linked project (if any).
        request: for the audit entry.

    Raises:
        DocumentConflict: the use case is not assessed, or not high-risk.
        ValueError: ``model_version`` is not in a project linked to the use case.
    """
    from modelworks.governance.models import AIActRiskClass, TechnicalDocument
    from modelworks.governance.services.aiact_render import render_html

    assessment = _assessment_of(use_case)
    if assessment is None:
        raise DocumentConflict(
            f"Use case '{use_case.title}' has no AI Act assessment yet: fill the questionnaire first."
        )
    if assessment.risk_class != AIActRiskClass.HIGH:
        raise DocumentConflict(
            f"Use case '{use_case.title}' is assessed '{assessment.get_risk_class_display()}': the Annex IV "
            "technical documentation is required for high-risk systems only. Re-assess it if its purpose "
            "changed."
        )
    if model_version is not None:
        if not use_case.projects.filter(pk=model_version.registered_model.project_id).exists():
            raise ValueError(
                f"Model version {model_version} is not in a project linked to use case '{use_case.title}'; "
                "link its project to the use case or choose another version."
            )
    elif use_default:
        model_version = default_version(use_case)
    now = timezone.now()
    content = build_content(use_case, model_version, actor=actor, now=now)
    html = render_html(content)
    with transaction.atomic():
        document = TechnicalDocument.objects.create(
            use_case=use_case,
            model_version=model_version,
            generated_by=actor if getattr(actor, "is_authenticated", False) else None,
            generated_at=now,
            content=content,
            sha256=hashlib.sha256(html.encode()).hexdigest(),
        )
        audit.record(
            "governance.aiact_document_generated",
            actor=actor,
            project=model_version.registered_model.project if model_version is not None else None,
            target=use_case,
            request=request,
            details={
                "use_case": use_case.slug,
                "document": document.pk,
                "model": content["model"],
                "sha256": document.sha256,
                "gaps": len(content["gaps"]),
            },
        )
    return document
