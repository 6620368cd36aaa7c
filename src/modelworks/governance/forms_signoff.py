"""Forms of the sign-off pages. They read input; the rules live in ``services.signoff``, whose
field-keyed ``ValidationError`` is shown on the form (``core.forms.add_service_error``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory

from modelworks.core.forms import PageForm
from modelworks.governance.models import SignoffMode

__all__ = ["CancelForm", "PolicyForm", "ReviewDecisionForm", "SignoffRequestForm", "StepForm", "StepFormSet"]


class PolicyForm(PageForm):
    """The policy's settings (its steps are a formset of ``StepForm``)."""

    enabled = forms.BooleanField(
        required=False, initial=True, help_text="Untick to stop checking promotions."
    )
    aliases = forms.CharField(
        max_length=1000,
        initial="champion, production",
        label="Protected aliases",
        help_text="Comma-separated, e.g. champion, production. Moving one of them needs a sign-off.",
    )
    mode = forms.ChoiceField(
        choices=SignoffMode.choices,
        help_text="Block: the alias does not move without approval. Warn: it moves, and the missing "
        "sign-off is kept in the alias history and the audit log.",
    )
    due_days = forms.IntegerField(
        min_value=1,
        max_value=365,
        initial=5,
        label="Days to decide",
        help_text="Later, a request is overdue.",
    )


class StepForm(PageForm):
    """One review step; leave the title empty to remove it."""

    title = forms.CharField(required=False, max_length=200, help_text="E.g. Data owner, Risk officer.")
    order = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=99,
        help_text="Lower first; equal orders are reviewed in parallel.",
    )
    reviewer = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, choices=())
    reviewer_group = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, choices=(), label="or any member of group"
    )

    def __init__(
        self, *args: Any, users: list[tuple[int, str]], groups: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].choices = [("", "—"), *users]
        self.fields["reviewer_group"].choices = [("", "—"), *groups]


StepFormSet = formset_factory(StepForm, extra=2, max_num=12, validate_max=True)


class SignoffRequestForm(PageForm):
    """Ask for the sign-off of one version of a model as a protected alias."""

    model = forms.TypedChoiceField(coerce=int, choices=(), label="Registered model")
    version = forms.IntegerField(min_value=1, label="Version")
    alias = forms.ChoiceField(choices=(), label="Alias", help_text="The protected alias it should take.")
    note = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the reviewers should know (optional): evidence, tests, links.",
    )

    def __init__(self, *args: Any, models: list[tuple[int, str]], aliases: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = models
        self.fields["alias"].choices = [(a, f"@{a}") for a in aliases]


class ReviewDecisionForm(PageForm):
    """A reviewer's decision on one step; rejecting needs a comment (the service says so)."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    comment = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}), label="Comment"
    )


class CancelForm(PageForm):
    """Why the request (or its approval) is withdrawn; required to withdraw an approval."""

    comment = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}), label="Why"
    )
