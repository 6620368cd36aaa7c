"""Forms of the realised-value pages."""

from __future__ import annotations

from typing import Any

from django import forms

from modelworks.core.forms import PageForm
from modelworks.governance.models import ValueKind, ValuePeriod

__all__ = ["ValueDefinitionForm"]


class ValueDefinitionForm(PageForm):
    """What a use case measures: a prediction log and two formulas, or values pushed by API."""

    name = forms.CharField(max_length=200, help_text="What is measured, e.g. 'Avoided delay costs'.")
    kind = forms.ChoiceField(
        choices=ValueKind.choices,
        initial=ValueKind.PREDICTION_LOG,
        label="Measured from",
        widget=forms.RadioSelect,
    )
    source = forms.ChoiceField(
        required=False,
        label="Prediction log",
        help_text="A deployment (its logged predictions and the true outcomes sent back as feedback) or a "
        "batch-scoring recipe of a project linked to this use case.",
    )
    row_filter = forms.CharField(
        required=False,
        label="Rows that count",
        widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false"}),
        help_text="A condition in the formula language over the log's columns and label (the true outcome), "
        "e.g. prediction = 'true' and label = 'true'. Empty: every row counts.",
    )
    value_per_row = forms.CharField(
        required=False,
        label="Value of one row",
        widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false"}),
        help_text="A number or a formula, e.g. 12 * 0.8 (minutes avoided x € per minute) or prediction_value * 10.",
    )
    unit = forms.CharField(
        max_length=20,
        help_text="EUR, USD, minutes… Values in the use case's currency add up to its realised value.",
    )
    period = forms.ChoiceField(choices=ValuePeriod.choices, initial=ValuePeriod.MONTH, label="Per")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, sources: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "Choose a prediction log…"), *(sources or [])]

    def service_values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        return {
            k: data[k]
            for k in ("name", "kind", "row_filter", "value_per_row", "unit", "period", "description")
        }
