"""Value definitions of a use case: :func:`create_definition`, :func:`update_definition`,
:func:`delete_definition`, the checks before saving (:func:`clean_definition`, formulas compiled
against the log's columns) and the form value of the log a definition reads (:func:`source_key`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from modelworks.core.audit import record
from modelworks.governance.models import UseCase, ValueDefinition, ValueKind, ValuePeriod
from modelworks.governance.services.value_common import RealisedValueError, ValueFormulaError
from modelworks.governance.services.value_sources import _columns, _compute, log_choices, value_source

_EDITABLE = ("name", "kind", "deployment", "row_filter", "value_per_row", "unit", "period", "description")


# -- definitions -----------------------------------------------------------------------------------
def _apply_source(definition: ValueDefinition, source: str | None, use_case: UseCase) -> None:
    """Point ``definition`` at ``"deployment:<id>"`` / ``"recipe:<id>"`` (None: keep as is)."""
    if source is None:
        return
    allowed = dict(log_choices(use_case))
    details = dict(definition.details or {})
    details.pop("recipe", None)
    if not source:
        definition.deployment = None
        details.pop("source_name", None)
    elif source not in allowed:
        raise ValidationError(
            {
                "source": "Choose a deployment or a batch-scoring recipe of a project linked to this use case "
                "(link the project on the use case first)."
            }
        )
    else:
        kind, _, pk = source.partition(":")
        if kind == "deployment":
            from modelworks.deployments.models import Deployment

            deployment = Deployment.objects.get(pk=int(pk))
            definition.deployment = deployment
            details["source_name"] = deployment.name
        else:
            from modelworks.flows.models import Recipe

            recipe = Recipe.objects.get(pk=int(pk))
            definition.deployment = None
            details["recipe"] = recipe.pk
            details["source_name"] = recipe.name
    definition.details = details


def source_key(definition: ValueDefinition) -> str:
    """The form value of the log a definition reads (``deployment:<id>``, ``recipe:<id>`` or "")."""
    recipe = (definition.details or {}).get("recipe")
    if recipe:
        return f"recipe:{recipe}"
    return f"deployment:{definition.deployment_id}" if definition.deployment_id else ""


def clean_definition(definition: ValueDefinition) -> None:
    """Check a definition before it is saved; errors keyed by field (``source``, ``row_filter``…).

    Raises:
        ValidationError: with the field's message (a formula error gives its position and a hint).
    """
    errors: dict[str, str] = {}
    if not definition.name.strip():
        errors["name"] = "Give the measure a name, e.g. 'Avoided delay costs'."
    if definition.kind not in ValueKind.values:
        errors["kind"] = f"Choose one of: {', '.join(ValueKind.values)}."
    if definition.period not in ValuePeriod.values:
        errors["period"] = f"Choose one of: {', '.join(ValuePeriod.values)}."
    if not definition.unit.strip():
        errors["unit"] = "Give the unit of the value, e.g. EUR or minutes."
    if definition.kind == ValueKind.PUSHED:
        definition.deployment = None
        definition.row_filter = ""
        definition.value_per_row = ""
        details = dict(definition.details or {})
        details.pop("recipe", None)
        details.pop("source_name", None)
        definition.details = details
    elif definition.kind == ValueKind.PREDICTION_LOG:
        try:
            log = value_source(definition)
        except RealisedValueError as exc:
            errors["source"] = exc.message
        else:
            try:
                _compute().compile_value(definition.row_filter, definition.value_per_row, _columns(log))
            except ValueFormulaError as exc:
                errors[exc.field] = exc.message[:1].upper() + exc.message[1:]
    if errors:
        raise ValidationError(errors)


def create_definition(
    use_case: UseCase,
    *,
    actor: Any,
    source: str | None = None,
    request: HttpRequest | None = None,
    **fields: Any,
) -> ValueDefinition:
    """Add a way of measuring ``use_case``'s realised value.

    Args:
        use_case: the use case.
        actor: who adds it (a lead or the business owner: the caller checks).
        source: ``"deployment:<id>"`` or ``"recipe:<id>"`` of a linked project (prediction_log kind).
        request: for the audit log.
        **fields: ``name``, ``kind``, ``row_filter``, ``value_per_row``, ``unit``, ``period``,
            ``description``.

    Raises:
        ValidationError: keyed by field.
    """
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ValidationError({"__all__": f"Unknown field(s): {', '.join(sorted(unknown))}."})
    definition = ValueDefinition(use_case=use_case, created_by=actor if getattr(actor, "pk", None) else None)
    for name, value in fields.items():
        setattr(definition, name, value)
    if "unit" not in fields:
        definition.unit = use_case.currency
    _apply_source(definition, source, use_case)
    clean_definition(definition)
    with transaction.atomic():
        definition.save()
        record(
            "governance.value_definition_created",
            actor=actor,
            target=definition,
            details={"use_case": use_case.slug, "kind": definition.kind, "name": definition.name},
            request=request,
        )
    return definition


def update_definition(
    definition: ValueDefinition,
    *,
    actor: Any,
    source: str | None = None,
    request: HttpRequest | None = None,
    **fields: Any,
) -> ValueDefinition:
    """Change a definition; computed measurements are kept until the next computation replaces them.

    Raises:
        ValidationError: keyed by field.
    """
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ValidationError({"__all__": f"Unknown field(s): {', '.join(sorted(unknown))}."})
    before = {name: str(getattr(definition, name)) for name in _EDITABLE if name != "deployment"}
    for name, value in fields.items():
        setattr(definition, name, value)
    _apply_source(definition, source, definition.use_case)
    clean_definition(definition)
    changed = sorted(n for n, old in before.items() if str(getattr(definition, n)) != old)
    with transaction.atomic():
        definition.save()
        record(
            "governance.value_definition_updated",
            actor=actor,
            target=definition,
            details={"use_case": definition.use_case.slug, "changed": changed},
            request=request,
        )
    return definition


def delete_definition(definition: ValueDefinition, *, actor: Any, request: HttpRequest | None = None) -> None:
    """Delete a definition and its measurements."""
    with transaction.atomic():
        record(
            "governance.value_definition_deleted",
            actor=actor,
            target=definition,
            details={
                "use_case": definition.use_case.slug,
                "name": definition.name,
                "measurements": definition.measurements.count(),
            },
            request=request,
        )
        definition.delete()
