"""Forms of the connection pages. Credentials are write-only: the form never shows a stored value."""

from __future__ import annotations

from typing import Any

from django import forms

from modelworks.connections.models import CONFIG_FIELDS, SECRET_FIELDS, Connection, ConnectionKind
from modelworks.connections.sources.base import SSL_MODES
from modelworks.core.forms import PageForm
from modelworks.core.models import Project

__all__ = ["ConnectionForm"]

_LABELS = {
    "host": "Host",
    "port": "Port",
    "database": "Database",
    "user": "User",
    "sslmode": "SSL mode",
    "password": "Password",
    "endpoint_url": "Endpoint URL",
    "bucket": "Bucket",
    "region": "Region",
    "access_key": "Access key",
    "secret_key": "Secret key",
}
_HELP = {
    "host": "Name or address of the server, e.g. db.internal.",
    "user": "Prefer a user that may only read: imports never write to the source.",
    "sslmode": "“prefer” uses TLS when the server offers it; “verify-full” also checks its certificate.",
    "endpoint_url": "Leave empty for Amazon S3; for MinIO or Ceph, the address of its S3 API with scheme and port.",
    "region": "e.g. eu-west-1; often optional for other services.",
}


def _field(name: str) -> forms.Field:
    label = _LABELS[name]
    if name == "port":
        return forms.IntegerField(label=label, min_value=1, max_value=65535, initial=5432)
    if name == "sslmode":
        return forms.ChoiceField(label=label, choices=[(m, m) for m in SSL_MODES], initial="prefer")
    required = name in ("host", "database", "user", "bucket")
    return forms.CharField(label=label, required=required, max_length=500)


class ConnectionForm(PageForm):
    """Name, description and the settings of one kind of connection.

    Args:
        kind: ``postgresql`` or ``s3``.
        connection: the connection being edited (None to create one).
        instance_level: show "Shared with" (instance connections).
    """

    name = forms.CharField(max_length=200, help_text="How people will recognise it, e.g. “Sales warehouse”.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        kind: str,
        connection: Connection | None = None,
        instance_level: bool = False,
        **kwargs: Any,
    ) -> None:
        if connection is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": connection.name,
                "description": connection.description,
                **connection.config,
            }
            if instance_level:
                kwargs["initial"]["shared_with"] = list(connection.shared_with.all())
        super().__init__(*args, **kwargs)
        self.kind = ConnectionKind(kind)
        self.connection = connection
        for name in CONFIG_FIELDS[self.kind]:
            self.fields[name] = _field(name)
            if name in _HELP:
                self.fields[name].help_text = _HELP[name]
        stored = set(connection.secret_names) if connection is not None else set()
        for name in SECRET_FIELDS[self.kind]:
            field = forms.CharField(
                label=_LABELS[name],
                required=False,
                strip=False,
                max_length=1000,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
            )
            if name in stored:
                field.help_text = "••• set. Leave empty to keep it; type a new value to replace it."
                self.fields[f"clear_{name}"] = forms.BooleanField(
                    required=False, label=f"Forget the stored {_LABELS[name].lower()}"
                )
            elif self.kind == ConnectionKind.S3:
                field.help_text = "Leave both keys empty for a public bucket."
            self.fields[name] = field
        if instance_level:
            self.fields["shared_with"] = forms.ModelMultipleChoiceField(
                Project.objects.order_by("name"),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text="Projects whose members may import through this connection (they never see its credentials).",
            )

    @property
    def secret_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in SECRET_FIELDS[self.kind]]

    def config(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in CONFIG_FIELDS[self.kind]}

    def secrets(self) -> dict[str, str | None]:
        return {name: self.cleaned_data.get(name) or None for name in SECRET_FIELDS[self.kind]}

    def cleared(self) -> list[str]:
        return [name for name in SECRET_FIELDS[self.kind] if self.cleaned_data.get(f"clear_{name}")]
