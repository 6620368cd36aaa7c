"""Reading realised value: a definition in plain words (:func:`definition_in_words`), the estimated value
per period, realised totals and months, and :func:`value_overview`, what the use case's value page
shows.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from modelworks.governance.models import UseCase, ValueDefinition, ValueKind, ValueMeasurement, ValuePeriod
from modelworks.governance.services.value_common import LABEL_COLUMN

_PER_YEAR = {
    ValuePeriod.DAY: Decimal("365.25"),
    ValuePeriod.WEEK: Decimal("52.1775"),
    ValuePeriod.MONTH: Decimal(12),
}


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
