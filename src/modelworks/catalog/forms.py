"""Forms of the catalog pages: the search box and the graph's view controls (both GET forms)."""

from __future__ import annotations

from typing import Any

from django import forms

from modelworks.catalog.lineage.graph import MAX_DEPTH
from modelworks.core.forms import PageForm

__all__ = ["LineageGraphForm", "SearchForm"]


class SearchForm(PageForm):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Name, description, column, tag or owner",
                "autofocus": True,
            }
        ),
    )
    project = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    tag = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    owner = forms.CharField(required=False, max_length=150, widget=forms.HiddenInput)


VIEW_CHOICES = [("datasets", "Datasets and jobs"), ("columns", "Columns")]
DIRECTION_CHOICES = [("both", "Both ways"), ("upstream", "Upstream"), ("downstream", "Downstream")]
DEPTH_CHOICES = [(n, f"{n} job{'s' if n > 1 else ''} away") for n in range(1, MAX_DEPTH + 1)]


class LineageGraphForm(PageForm):
    """What part of the graph to draw, and how."""

    focus = forms.ChoiceField(label="Around", required=False)
    depth = forms.TypedChoiceField(
        label="Depth", required=False, choices=DEPTH_CHOICES, coerce=int, initial=2
    )
    direction = forms.ChoiceField(label="Direction", required=False, choices=DIRECTION_CHOICES)
    view = forms.ChoiceField(label="Show", required=False, choices=VIEW_CHOICES)
    column = forms.ChoiceField(label="Column", required=False)

    def __init__(
        self,
        *args: Any,
        focus_choices: list[tuple[str, str]],
        column_choices: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["focus"].choices = [("", "The whole project"), *focus_choices]
        self.fields["column"].choices = [("", "No column selected"), *column_choices]
