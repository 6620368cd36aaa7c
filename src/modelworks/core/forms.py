"""Forms of the core pages. They validate input; the writes themselves go through ``core.services``.

Every form derives from ``AccessibleFormMixin``: after validation each field in error points its
``aria-describedby`` at its error message, so screen readers read the reason next to the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from modelworks.core.models import JobState, Project, Role, User

__all__ = [
    "AddMemberForm",
    "AuditFilterForm",
    "ChangeRoleForm",
    "CreateGroupForm",
    "CreateProjectForm",
    "CreateTokenForm",
    "CreateUserForm",
    "DeleteProjectForm",
    "GroupMemberForm",
    "JobFilterForm",
    "LoginForm",
    "PasswordChangeForm",
    "ProfileForm",
    "ProjectAuditFilterForm",
    "ProjectSettingsForm",
    "RunJobForm",
    "UserSearchForm",
    "add_service_error",
]


class AccessibleFormMixin:
    """Links each field's error message to its input (``aria-describedby``)."""

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            if name not in self.fields:  # type: ignore[attr-defined]
                continue
            bound = self[name]  # type: ignore[index]
            ids = [f"{bound.auto_id}_error"]
            if bound.help_text:
                ids.append(f"{bound.auto_id}_helptext")
            self.fields[name].widget.attrs["aria-describedby"] = " ".join(ids)  # type: ignore[attr-defined]


class PageForm(AccessibleFormMixin, forms.Form):
    """Base form of the pages."""


def add_service_error(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ``ValidationError`` on the form: on its field when the form has it, on top otherwise."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# ------------------------------------------------------------------------------------------- identity


class LoginForm(PageForm):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class PasswordChangeForm(AccessibleFormMixin, DjangoPasswordChangeForm):
    """Django's form (old password, new password twice, the password validators)."""


class ProfileForm(AccessibleFormMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "notify_by_email"]
        labels = {"email": "E-mail address"}
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }


class CreateTokenForm(PageForm):
    name = forms.CharField(
        max_length=100,
        help_text="What the token is for, e.g. “nightly training job”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    expires_on = forms.DateField(
        required=False,
        label="Expires on",
        help_text="Leave empty for a token that works until you revoke it.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_expires_on(self) -> dt.date | None:
        value = self.cleaned_data.get("expires_on")
        if value is not None and value <= timezone.localdate():
            raise ValidationError("Choose a date after today, or leave the field empty.")
        return value

    def expires_at(self) -> dt.datetime | None:
        """The expiry as an aware time: the end of the chosen day."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


class CreateUserForm(PageForm):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    email = forms.EmailField(required=False, label="E-mail address")
    is_instance_admin = forms.BooleanField(
        required=False,
        label="Instance administrator",
        help_text="Can manage users and groups and is admin of every project.",
    )


class UserSearchForm(PageForm):
    q = forms.CharField(
        required=False, max_length=150, label="Find a user", help_text="Name, username or e-mail."
    )


class CreateGroupForm(PageForm):
    name = forms.CharField(max_length=150, help_text="e.g. “data-science” or “finance analysts”.")


class GroupMemberForm(PageForm):
    username = forms.CharField(max_length=150, label="Add a person by username")

    def clean_username(self) -> User:
        name = self.cleaned_data["username"].strip()
        user = User.objects.filter(username__iexact=name).first()
        if user is None:
            raise ValidationError(f"No user named “{name}”. Check the spelling on the Users page.")
        return user


# ------------------------------------------------------------------------------------------- projects


class CreateProjectForm(PageForm):
    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"data-slug-source": "id_slug"}))
    slug = forms.CharField(
        max_length=64,
        label="Short name",
        help_text="Used in addresses, e.g. flight-delays. Lower-case letters, digits and hyphens; "
        "it cannot be changed later.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ProjectSettingsForm(PageForm):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))


class DeleteProjectForm(PageForm):
    confirm = forms.CharField(max_length=64, label="Type the project's short name to confirm")

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["confirm"].widget.attrs.update(
            {"autocomplete": "off", "data-confirm-match": project.slug}
        )

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.project.slug:
            raise ValidationError(
                f"That is not the short name. Type “{self.project.slug}” exactly to delete this project."
            )
        return value


class AddMemberForm(PageForm):
    principal = forms.CharField(
        max_length=160,
        label="User or group",
        help_text="Type a username, or group:name for a group, then pick from the suggestions.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "list": "principal-suggestions"}),
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.READER)

    def clean_principal(self) -> User | Group:
        """Resolve the text to a user, or to a group when written ``group:name``."""
        text = self.cleaned_data["principal"].strip()
        if text.lower().startswith("group:"):
            name = text[len("group:") :].strip()
            group = Group.objects.filter(name__iexact=name).first()
            if group is None:
                raise ValidationError(f"No group named “{name}”. An instance administrator creates groups.")
            return group
        user = User.objects.filter(username__iexact=text, is_active=True).first()
        if user is not None:
            return user
        group = Group.objects.filter(name__iexact=text).first()
        if group is not None:
            return group
        raise ValidationError(
            f"No active user or group named “{text}”. Pick one from the suggestions, or ask an instance "
            "administrator to create the account."
        )


class ChangeRoleForm(PageForm):
    role = forms.ChoiceField(choices=Role.choices)


# ----------------------------------------------------------------------------------------------- jobs


class JobFilterForm(PageForm):
    state = forms.ChoiceField(choices=[("", "Any state"), *JobState.choices], required=False)


class RunJobForm(PageForm):
    kind = forms.ChoiceField(label="Job")

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds


# ---------------------------------------------------------------------------------------------- audit


class AuditFilterForm(PageForm):
    action = forms.CharField(
        required=False,
        max_length=64,
        label="Action",
        widget=forms.TextInput(attrs={"list": "audit-actions", "placeholder": "e.g. membership"}),
    )
    user = forms.CharField(required=False, max_length=150, label="User")
    project = forms.CharField(required=False, max_length=64, label="Project short name")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date; swap them or widen the range.")
        return data


class ProjectAuditFilterForm(AuditFilterForm):
    """The filters of one project's audit log (the project is given)."""

    project = None
