"""Realised value of use cases: value definitions, their computation and pushed measurements.

* :func:`create_definition`, :func:`update_definition`, :func:`delete_definition`: what a use case
  measures (leads and the business owner; the caller checks it). Formulas are checked against the
  columns of the prediction log when they are saved, so errors show in the form.
* :func:`compute_definition`: realised value per period from the prediction log joined with the
  deployment's feedback; replaces the definition's computed measurements atomically.
* :func:`push_measurement`: a value sent through the API for one period (idempotent per period).
* :func:`value_overview`: what the use case's value page shows (estimated vs realised per period).

A definition reads the log of its ``deployment`` or, for a batch-scoring recipe, of the recipe
named by ``details["recipe"]`` (its id); recipes get no feedback, so ``label`` comes from a labels dataset named by ``details["labels"]`` (see :func:`dataset_labels_table`) or is null.
Each definition remembers its last computation in ``details``: ``last_computed_at``,
``last_error`` (``{"code", "message", "field"}`` or absent), ``rows`` (rows read) and
``next_run_at`` (used by :mod:`modelworks.governance.services.value_schedule`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core.audit import record
from modelworks.governance.models import (
    MeasurementSource,
    UseCase,
    ValueDefinition,
    ValueKind,
    ValueMeasurement,
    ValuePeriod,
)
from modelworks.governance.services.value_common import (
    LABEL_COLUMN,
    MAX_MEASUREMENT,
    PeriodValue,
    RealisedValueError,
    ValueFormulaError,
    period_bounds,
    period_of,
)

if TYPE_CHECKING:
    from types import ModuleType

    import pyarrow as pa


def _compute() -> ModuleType:
    """The computing half (Arrow, DuckDB, SQLGlot), loaded on first use: the pages and the API import
    this module when the web server starts and must not pay for them then."""
    from modelworks.governance.services import value_compute

    return value_compute


__all__ = [
    "ComputeResult",
    "RealisedValueError",
    "compute_definition",
    "create_definition",
    "definition_in_words",
    "delete_definition",
    "estimated_per_period",
    "log_choices",
    "push_measurement",
    "update_definition",
    "value_overview",
    "value_source",
]

_EDITABLE = ("name", "kind", "deployment", "row_filter", "value_per_row", "unit", "period", "description")
_PER_YEAR = {
    ValuePeriod.DAY: Decimal("365.25"),
    ValuePeriod.WEEK: Decimal("52.1775"),
    ValuePeriod.MONTH: Decimal(12),
}


def predictions_root() -> Path:
    return Path(settings.MODELWORKS_PREDICTIONS_DIR)


@dataclass(frozen=True)
class LogSource:
    """The prediction log a definition reads."""

    source: str  # deployment-<id> or recipe-<id>
    label: str  # "deployment 'late-flights'"
    deployment: Any | None  # deployments.Deployment (feedback comes from it)
    project: Any  # core.Project the log belongs to


@dataclass(frozen=True)
class ComputeResult:
    """What one computation stored."""

    periods: int
    rows: int
    total: Decimal
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"periods": self.periods, "rows": self.rows, "total": str(self.total), "message": self.message}


# -- where a definition reads --------------------------------------------------------------------
def log_choices(use_case: UseCase) -> list[tuple[str, str]]:
    """The prediction logs a definition of ``use_case`` may read: deployments and batch-scoring
    recipes of the use case's linked projects, as ``("deployment:<id>" | "recipe:<id>", label)``."""
    from modelworks.deployments.models import Deployment
    from modelworks.flows.models import Recipe

    projects = list(use_case.projects.all())
    choices = [
        (f"deployment:{d.pk}", f"Deployment {d.name} ({d.project.name})")
        for d in Deployment.objects.filter(project__in=projects).select_related("project").order_by("name")
    ]
    choices += [
        (f"recipe:{r.pk}", f"Batch scoring recipe {r.name} ({r.project.name})")
        for r in Recipe.objects.filter(project__in=projects, kind="score")
        .select_related("project")
        .order_by("name")
    ]
    return choices


def value_source(definition: ValueDefinition) -> LogSource:
    """The prediction log of a ``prediction_log`` definition.

    Raises:
        RealisedValueError: ``deployment_gone`` / ``recipe_gone`` when what it read was deleted,
            ``no_source`` when it names none.
    """
    from modelworks.flows.models import Recipe

    recipe_id = (definition.details or {}).get("recipe")
    if recipe_id:
        recipe = Recipe.objects.select_related("project").filter(pk=recipe_id).first()
        if recipe is None:
            name = definition.details.get("source_name") or f"#{recipe_id}"
            raise RealisedValueError(
                f"the batch-scoring recipe {name!r} whose prediction log '{definition.name}' read has been "
                "deleted; edit the definition and choose another prediction log.",
                code="recipe_gone",
                field="source",
            )
        return LogSource(f"recipe-{recipe.pk}", f"batch-scoring recipe '{recipe.name}'", None, recipe.project)
    if definition.deployment_id is None:
        name = (definition.details or {}).get("source_name")
        if name:
            raise RealisedValueError(
                f"the deployment {name!r} whose prediction log '{definition.name}' read has been deleted; "
                "edit the definition and choose another deployment, or delete the definition (its "
                "measurements so far stay until then).",
                code="deployment_gone",
                field="source",
            )
        raise RealisedValueError(
            f"'{definition.name}' reads no prediction log; edit it and choose a deployment.",
            code="no_source",
            field="source",
        )
    deployment = definition.deployment
    assert deployment is not None
    return LogSource(
        deployment.prediction_source, f"deployment '{deployment.name}'", deployment, deployment.project
    )


def _signature_features(log: LogSource) -> dict[str, str]:
    """Input features of the model answering for ``log`` (to check formulas before any traffic)."""
    from modelworks.monitoring.services.sources import signature_inputs

    deployment = log.deployment
    if deployment is None:
        return {}
    target = (
        deployment.targets.filter(role="primary").select_related("registered_model", "model_version").first()
    )
    if target is None:
        return {}
    version = target.model_version
    if version is None:
        from modelworks.registry.errors import RegistryError
        from modelworks.registry.services import get_version_by_alias

        try:
            version = get_version_by_alias(target.registered_model, target.alias)
        except RegistryError:
            return {}
    return dict.fromkeys(signature_inputs(version), "any")


def _columns(log: LogSource) -> dict[str, str]:
    return _compute().log_columns(predictions_root(), log.source) or _compute().default_columns(
        _signature_features(log)
    )


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


# -- computing -------------------------------------------------------------------------------------
def labels_table(deployment: Any) -> pa.Table:
    """The feedback of ``deployment`` as an Arrow table (``row_id``, ``label``), read in chunks."""
    from modelworks.deployments.models import Feedback

    ids: list[str] = []
    labels: list[str] = []
    for row_id, label in (
        Feedback.objects.filter(deployment=deployment)
        .values_list("row_id", "label")
        .iterator(chunk_size=20_000)
    ):
        ids.append(row_id)
        labels.append(label)
    import pyarrow as pa

    return pa.table({"row_id": pa.array(ids, pa.string()), LABEL_COLUMN: pa.array(labels, pa.string())})


def dataset_labels_table(definition: ValueDefinition) -> pa.Table | None:
    """The true outcomes named by ``details["labels"]`` (``{"dataset", "id_column", "label_column"}``):
    a dataset of the use case's linked projects whose id column matches the log's ``row_id`` (a
    batch-scoring recipe logs rows under its ``id_column``). None when not set.

    Raises:
        RealisedValueError: the dataset, its data or one of its columns is missing.
    """
    spec = (definition.details or {}).get("labels")
    if not spec:
        return None
    from modelworks.datasets.models import Dataset
    from modelworks.datasets.services import version_path
    from modelworks.engine.duck import connect, quote_identifier

    dataset = Dataset.objects.filter(
        pk=spec.get("dataset"), project__in=definition.use_case.projects.all()
    ).first()
    version = dataset.current_version if dataset is not None else None
    if version is None:
        raise RealisedValueError(
            f"The labels dataset of '{definition.name}' is gone or has no data; choose another one.",
            code="labels_missing",
        )
    path = str(version_path(version))
    con = connect(read=[path])
    try:
        names = [row[0] for row in con.execute("DESCRIBE SELECT * FROM read_parquet($1)", [path]).fetchall()]
        for key in ("id_column", "label_column"):
            if spec.get(key) not in names:
                raise RealisedValueError(
                    f"Column '{spec.get(key)}' is not in {dataset.name} (v{version.number}); the labels of "
                    f"'{definition.name}' need it.",
                    code="labels_missing",
                )
        query = (
            f"SELECT CAST({quote_identifier(spec['id_column'])} AS VARCHAR) AS row_id, "  # noqa: S608 - quoted identifiers
            f"CAST({quote_identifier(spec['label_column'])} AS VARCHAR) AS {LABEL_COLUMN} "
            "FROM read_parquet($1)"
        )
        return con.sql(query, params=[path]).to_arrow_table()
    finally:
        con.close()


def _remember(definition: ValueDefinition, **facts: Any) -> None:
    details = dict(definition.details or {})
    details.update({k: v for k, v in facts.items() if v is not None})
    if facts.get("last_error") is None:
        details.pop("last_error", None)
    definition.details = details
    ValueDefinition.objects.filter(pk=definition.pk).update(details=details)


def compute_definition(
    definition: ValueDefinition,
    *,
    actor: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ComputeResult:
    """Compute the realised value of a ``prediction_log`` definition for every logged period.

    The computed measurements are replaced all at once (a failed computation leaves the previous
    ones in place); the outcome is remembered in ``details`` and audited.

    Raises:
        RealisedValueError: the definition cannot be computed (formula, deleted deployment, empty log…);
            the message is also kept in ``details["last_error"]``.
    """
    now = now or timezone.now()
    if definition.kind != ValueKind.PREDICTION_LOG:
        raise RealisedValueError(
            f"'{definition.name}' is measured by values pushed through the API; there is nothing to compute.",
            code="not_computed",
        )
    try:
        log = value_source(definition)
        labels = (
            labels_table(log.deployment) if log.deployment is not None else dataset_labels_table(definition)
        )
        periods = _compute().compute_log_value(
            predictions_root(),
            log.source,
            row_filter=definition.row_filter,
            value_per_row=definition.value_per_row,
            period=definition.period,
            labels=labels,
            source_label=log.label,
        )
    except RealisedValueError as exc:
        _remember(
            definition,
            last_computed_at=now.isoformat(),
            last_error={"code": exc.code, "message": exc.message, "field": exc.field},
        )
        record(
            "governance.value_computed",
            actor=actor,
            target=definition,
            details={"use_case": definition.use_case.slug, "error": exc.code},
            request=request,
            outcome="failure",
        )
        raise
    user = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        definition.measurements.filter(source=MeasurementSource.COMPUTED).delete()
        ValueMeasurement.objects.bulk_create([_measurement(definition, p, user, now) for p in periods])
        rows = sum(p.total_rows for p in periods)
        _remember(definition, last_computed_at=now.isoformat(), last_error=None, rows=rows)
        total = sum((p.value for p in periods), Decimal("0"))
        record(
            "governance.value_computed",
            actor=actor,
            target=definition,
            details={"use_case": definition.use_case.slug, "periods": len(periods), "total": str(total)},
            request=request,
        )
    matched = sum(p.rows for p in periods)
    message = (
        f"{len(periods)} {definition.period}(s) computed from {rows:,} logged rows ({matched:,} matched): "
        f"{total:,.2f} {definition.unit} in total."
    )
    return ComputeResult(len(periods), rows, total, message)


def _measurement(
    definition: ValueDefinition, period: PeriodValue, user: Any, now: datetime
) -> ValueMeasurement:
    note = f"{period.rows:,} of {period.total_rows:,} logged rows matched"
    if definition.deployment_id:
        note += f"; {period.labelled_rows:,} had feedback"
    return ValueMeasurement(
        definition=definition,
        period_start=period.period_start,
        period_end=period.period_end,
        value=period.value,
        rows=period.rows,
        source=MeasurementSource.COMPUTED,
        note=note,
        created_by=user,
        computed_at=now,
    )


# -- pushed values -----------------------------------------------------------------------------
def parse_period(text: str | date, period: str) -> date:
    """The first day of the period named by ``text``: any ``YYYY-MM-DD`` inside it, or ``YYYY-MM``
    for a month.

    Raises:
        ValidationError: on ``period``, saying the accepted forms.
    """
    if isinstance(text, date):
        return period_of(text, period)
    raw = str(text).strip()
    try:
        if period == ValuePeriod.MONTH and len(raw) == 7:
            day = date.fromisoformat(raw + "-01")
        else:
            day = date.fromisoformat(raw)
    except ValueError:
        forms = (
            "YYYY-MM or a date YYYY-MM-DD inside the month"
            if period == ValuePeriod.MONTH
            else "a date YYYY-MM-DD"
        )
        raise ValidationError({"period": f"{raw[:40]!r} is not a period; write {forms}."}) from None
    return period_of(day, period)


def push_measurement(
    definition: ValueDefinition,
    *,
    period: str | date,
    value: Any,
    rows: int | None = None,
    note: str = "",
    actor: Any,
    request: HttpRequest | None = None,
) -> tuple[ValueMeasurement, bool]:
    """Store the value of one period of a ``pushed`` definition; sending the same period again
    replaces it (idempotent).

    Returns:
        The measurement and whether it was created (False: replaced).

    Raises:
        ValidationError: keyed by field (``period``, ``value``, ``rows``, ``__all__`` for a
            definition that is computed from a prediction log).
    """
    if definition.kind != ValueKind.PUSHED:
        raise ValidationError(
            {
                "__all__": f"'{definition.name}' is computed from a prediction log; only definitions of kind "
                "'pushed' accept values through the API."
            }
        )
    start = parse_period(period, definition.period)
    first, last = period_bounds(start, definition.period)
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"value": f"{str(value)[:40]!r} is not a number."}) from None
    if not amount.is_finite() or abs(amount) > MAX_MEASUREMENT:
        raise ValidationError(
            {"value": f"The value must be a finite number of at most {MAX_MEASUREMENT:,.2f}."}
        )
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 0):
        raise ValidationError({"rows": "rows must be a whole number ≥ 0, or left out."})
    user = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        measurement, created = ValueMeasurement.objects.select_for_update().update_or_create(
            definition=definition,
            period_start=first,
            defaults={
                "period_end": last,
                "value": amount,
                "rows": rows,
                "source": MeasurementSource.PUSHED,
                "note": note[:2000],
                "created_by": user,
                "computed_at": timezone.now(),
            },
        )
        record(
            "governance.value_pushed",
            actor=actor,
            target=definition,
            details={
                "use_case": definition.use_case.slug,
                "period_start": first.isoformat(),
                "value": str(amount),
                "replaced": not created,
            },
            request=request,
        )
    return measurement, created


# -- reading -----------------------------------------------------------------------------------
def definition_in_words(definition: ValueDefinition) -> str:
    """A sentence saying how the definition measures value (shown next to its chart)."""
    period = dict(ValuePeriod.choices).get(definition.period, definition.period).lower()
    if definition.kind == ValueKind.PUSHED:
        return (
            f"Each {period}, a value in {definition.unit} is sent through the API "
            f"(POST …/value/{definition.pk}/measurements); sending a {period} again replaces its value."
        )
    name = (definition.details or {}).get("source_name") or "(deleted)"
    where = (
        f"batch-scoring recipe '{name}'"
        if (definition.details or {}).get("recipe")
        else f"deployment '{definition.deployment.name if definition.deployment else name}'"
    )
    which = (
        f"the rows where {definition.row_filter.strip()}" if definition.row_filter.strip() else "every row"
    )
    per_row = definition.value_per_row.strip()
    label = (
        " ('label' is the true outcome sent back as feedback for the row)"
        if LABEL_COLUMN in definition.row_filter + definition.value_per_row
        else ""
    )
    return (
        f"Each {period}, Modelworks reads the prediction log of {where} and takes {which}{label}; each of "
        f"them is worth {per_row} {definition.unit}, and the {period}'s realised value is their sum."
    )


def estimated_per_period(use_case: UseCase, period: str) -> Decimal:
    """The expected recurring value of ``use_case`` for one ``period`` (its yearly value prorated)."""
    yearly = use_case.expected_value_recurring or Decimal("0")
    return (yearly / _PER_YEAR[ValuePeriod(period)]).quantize(Decimal("0.01"))


def realised_total(use_case: UseCase) -> Decimal:
    """The realised value measured so far, in the use case's currency (other units left out)."""
    from django.db.models import Sum

    total = ValueMeasurement.objects.filter(
        definition__use_case=use_case, definition__unit=use_case.currency
    ).aggregate(total=Sum("value"))["total"]
    return Decimal(total or 0).quantize(Decimal("0.01"))


def monthly_realised(
    measurements: QuerySet[ValueMeasurement] | list[ValueMeasurement],
) -> dict[date, Decimal]:
    """Measurements summed by calendar month (a week counts in the month it starts in)."""
    months: dict[date, Decimal] = {}
    for m in measurements:
        key = m.period_start.replace(day=1)
        months[key] = months.get(key, Decimal("0")) + m.value
    return dict(sorted(months.items()))


def value_overview(use_case: UseCase) -> dict[str, Any]:
    """What the value page shows: per definition its measurements and chart data, and the use
    case's estimated vs realised value per month (definitions in the use case's currency)."""
    definitions = list(
        use_case.value_definitions.select_related("deployment")
        .prefetch_related("measurements")
        .order_by("name", "id")
    )
    in_currency = [m for d in definitions if d.unit == use_case.currency for m in d.measurements.all()]
    alone = sum(1 for d in definitions if d.unit == use_case.currency) == 1
    months = monthly_realised(in_currency)
    estimate = estimated_per_period(use_case, ValuePeriod.MONTH)
    series = []
    cumulative_real = cumulative_est = Decimal("0")
    for month, realised in months.items():
        cumulative_real += realised
        cumulative_est += estimate
        series.append(
            {
                "period_start": month,
                "realised": realised,
                "estimated": estimate,
                "cumulative_realised": cumulative_real,
                "cumulative_estimated": cumulative_est,
            }
        )
    return {
        "definitions": [
            {
                "definition": d,
                "words": definition_in_words(d),
                "measurements": list(d.measurements.all()),
                "total": sum((m.value for m in d.measurements.all()), Decimal("0")),
                # The use case's estimate is compared with a definition only when it is the one
                # measure in the currency (else each would be held against the whole estimate).
                "estimate": estimated_per_period(use_case, d.period)
                if d.unit == use_case.currency and alone
                else None,
                "last_error": (d.details or {}).get("last_error"),
                "last_computed_at": _parse_time((d.details or {}).get("last_computed_at")),
            }
            for d in definitions
        ],
        "months": series,
        "estimate_per_month": estimate,
        "realised_total": cumulative_real,
        "estimated_total": cumulative_est,
        "ratio": (cumulative_real / cumulative_est * 100).quantize(Decimal("1")) if cumulative_est else None,
    }


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
