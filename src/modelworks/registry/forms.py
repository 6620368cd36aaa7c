"""Forms of the registry pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from modelworks.core.forms import PageForm
from modelworks.registry.errors import RegistryError
from modelworks.registry.services import check_alias

__all__ = ["AliasForm", "DecisionForm", "PromotionRequestForm", "RollbackForm"]


class AliasForm(PageForm):
    """Point an alias (``champion``, ``challenger``…) at a version, or remove it."""

    alias = forms.CharField(
        max_length=255, help_text="Letters, digits, _ and -; e.g. champion. Not 'latest' nor v1, v2…"
    )
    version = forms.TypedChoiceField(coerce=int, choices=())
    remove = forms.BooleanField(required=False, label="Remove this alias instead")

    def __init__(self, *args: Any, versions: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [(v, f"Version {v}") for v in versions]

    def clean_alias(self) -> str:
        value = self.cleaned_data["alias"].strip()
        try:
            return check_alias(value)
        except RegistryError as exc:
            raise ValidationError(exc.message) from exc


class PromotionRequestForm(PageForm):
    """Ask a named approver to point an alias at a version (``services.promotion.request_promotion``)."""

    version = forms.TypedChoiceField(coerce=int, choices=(), label="Version to promote")
    alias = forms.CharField(max_length=255, initial="champion", help_text="Usually champion.")
    approver = forms.TypedChoiceField(
        coerce=int, choices=(), help_text="A contributor or admin of the project; only they can decide."
    )
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Why you ask (optional)."
    )

    def __init__(
        self, *args: Any, versions: list[int], approvers: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [(v, f"Version {v}") for v in versions]
        self.fields["approver"].choices = approvers

    def clean_alias(self) -> str:
        value = self.cleaned_data["alias"].strip()
        try:
            return check_alias(value)
        except RegistryError as exc:
            raise ValidationError(exc.message) from exc


class DecisionForm(PageForm):
    """The approver's (or canceller's) comment; the view says which comments are required."""

    comment = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}), label="Comment"
    )


class RollbackForm(PageForm):
    """Why the alias is rolled back (kept in the audit log)."""

    reason = forms.CharField(
        required=False, max_length=180, help_text="E.g. 'error rate doubled after the promotion'."
    )
