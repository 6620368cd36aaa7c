"""Measurements of realised value: :func:`compute_definition` (the prediction log joined with the
deployment's feedback or a labels dataset, per period, replacing the computed measurements
atomically; a :class:`ComputeResult`) and :func:`push_measurement` (a value sent through the API for
one period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from modelworks.core.audit import record
from modelworks.governance.models import (
    MeasurementSource,
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
    period_bounds,
    period_of,
)
from modelworks.governance.services.value_sources import _compute, predictions_root, value_source

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class ComputeResult:
    """What one computation stored."""

    periods: int
    rows: int
    total: Decimal
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"periods": self.periods, "rows": self.rows, "total": str(self.total), "message": self.message}


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
