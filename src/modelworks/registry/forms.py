"""Forms of the registry pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from modelworks.core.forms import PageForm
from modelworks.registry.errors import RegistryError
from modelworks.registry.services import check_alias

__all__ = ["AliasForm"]


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
