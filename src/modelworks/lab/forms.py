"""Forms of the Lab pages. They validate input; the writes go through ``modelworks.lab.services``.

The design page's per-column table is read by ``views.analyses.design_changes`` (one row per column,
indexed fields), since its columns come from the dataset.
"""

from __future__ import annotations

from typing import Any

from django import forms

from modelworks.core.forms import PageForm
from modelworks.datasets.models import Dataset
from modelworks.lab.models import TaskKind

__all__ = ["AnalysisCreateForm", "RegisterForm"]


class AnalysisCreateForm(PageForm):
    name = forms.CharField(max_length=200, help_text="For example 'Late flights'.")
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), empty_label=None)
    target = forms.ChoiceField(
        choices=[], label="Column to predict (target)", help_text="What the model should learn to predict."
    )
    task = forms.ChoiceField(
        choices=[("", "Let Modelworks propose it"), *TaskKind.choices],
        required=False,
        help_text="Proposed from the target's values when left as is.",
    )
    time_column = forms.ChoiceField(
        choices=[],
        required=False,
        label="Time column",
        help_text="A date column: the model is then checked on the most recent rows, as it will be used.",
    )

    def __init__(self, *args: Any, project: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        datasets = Dataset.objects.filter(project=project).order_by("name")
        self.fields["dataset"].queryset = datasets  # type: ignore[attr-defined]
        chosen = self.data.get("dataset") if self.is_bound else None
        dataset = datasets.filter(pk=chosen).first() if chosen and str(chosen).isdigit() else datasets.first()
        self.set_columns(dataset)

    def set_columns(self, dataset: Dataset | None) -> None:
        version = dataset.current_version if dataset is not None else None
        columns = version.schema if version is not None else []
        self.fields["target"].choices = [(c["name"], f"{c['name']} ({c.get('type', '')})") for c in columns]  # type: ignore[attr-defined]
        self.fields["time_column"].choices = [("", "None: check on random rows")] + [  # type: ignore[attr-defined]
            (c["name"], c["name"]) for c in columns if c.get("type") in ("date", "timestamp")
        ]
        if dataset is not None:
            self.initial.setdefault("dataset", dataset.pk)


class RegisterForm(PageForm):
    name = forms.CharField(
        max_length=256,
        label="Registered model name",
        help_text="A new name creates the model; an existing one gets a new version.",
    )
    alias = forms.CharField(
        max_length=255,
        required=False,
        help_text="Optional, e.g. 'challenger'; it then points at this version.",
    )
