"""A connection: how to reach an external data source, with its credentials encrypted at rest."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q

from modelworks.connections.sources.base import SSL_MODES
from modelworks.core.models import Project, Role, TimestampedModel


class ConnectionKind(models.TextChoices):
    """External sources. The local upload store is implicit: every project has it, no row needed."""

    POSTGRESQL = "postgresql", "PostgreSQL"
    S3 = "s3", "S3-compatible storage"


#: Per kind, the settings that are credentials: encrypted, write-only, never shown back.
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    ConnectionKind.POSTGRESQL: ("password",),
    ConnectionKind.S3: ("access_key", "secret_key"),
}
#: Per kind, the plain settings kept in ``Connection.config``.
CONFIG_FIELDS: dict[str, tuple[str, ...]] = {
    ConnectionKind.POSTGRESQL: ("host", "port", "database", "user", "sslmode"),
    ConnectionKind.S3: ("endpoint_url", "bucket", "region"),
}
#: Per kind, the settings that say *where* the credentials are sent. Changing one of them requires
#: entering the credentials again, so nobody can redirect a stored password to a server of theirs.
DESTINATION_FIELDS: dict[str, tuple[str, ...]] = {
    ConnectionKind.POSTGRESQL: ("host", "port", "user"),
    ConnectionKind.S3: ("endpoint_url",),
}


def validate_label(value: str) -> None:
    """Names are labels, never paths, but control characters would still confuse every screen."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError("Names may not contain control characters (tabs, new lines, NUL…).")
    if not value.strip():
        raise ValidationError("Give a name with at least one visible character.")


def clean_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise the plain settings of a ``kind`` connection.

    Raises:
        ValidationError: keyed by setting name, e.g. ``{"port": "Give a port from 1 to 65535."}``.
    """
    allowed = CONFIG_FIELDS.get(kind)
    if allowed is None:
        raise ValidationError({"kind": f"'{kind}' is not a connection kind; use postgresql or s3."})
    errors: dict[str, str] = {}
    unknown = sorted(set(config) - set(allowed))
    for name in unknown:
        errors[name] = f"'{name}' is not a setting of a {ConnectionKind(kind).label} connection."
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in config.items() if k in allowed}
    if kind == ConnectionKind.POSTGRESQL:
        for name in ("host", "database", "user"):
            if not values.get(name):
                errors[name] = f"Give the {name} of the PostgreSQL server."
        host = str(values.get("host") or "")
        if any(ch in host for ch in "/?#@ ") or "\x00" in host:
            errors["host"] = "Give a host name or address only, e.g. db.internal or 10.0.0.5."
        try:
            port = int(values.get("port") or 5432)
        except (TypeError, ValueError):
            port = 0
        if not 1 <= port <= 65535:
            errors["port"] = "Give a port from 1 to 65535 (PostgreSQL usually listens on 5432)."
        values["port"] = port
        values["sslmode"] = values.get("sslmode") or "prefer"
        if values["sslmode"] not in SSL_MODES:
            errors["sslmode"] = f"Choose one of {', '.join(SSL_MODES)}."
    else:
        bucket = str(values.get("bucket") or "")
        if not bucket or "/" in bucket or any(ord(ch) < 32 for ch in bucket):
            errors["bucket"] = "Give the bucket name, e.g. raw-data (without s3:// and without '/')."
        endpoint = str(values.get("endpoint_url") or "")
        if endpoint:
            try:
                URLValidator(schemes=["http", "https"])(endpoint)
            except ValidationError:
                errors["endpoint_url"] = "Give the service address, e.g. https://minio.internal:9000."
        values["endpoint_url"] = endpoint
        values["region"] = str(values.get("region") or "")
    if errors:
        raise ValidationError(errors)
    return values


class ConnectionQuerySet(models.QuerySet):
    """Which connections a user may see or use."""

    def visible_to(self, user: Any) -> ConnectionQuerySet:
        """Connections of projects ``user`` reads, plus instance connections shared with them."""
        return self.with_role(user, Role.READER)

    def with_role(self, user: Any, role: Role) -> ConnectionQuerySet:
        """Connections usable in a project where ``user`` holds at least ``role``.

        Instance admins also see every instance-level connection, shared or not.
        """
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        projects = Project.objects.with_role(user, role)
        return self.filter(
            Q(project__in=projects) | Q(project__isnull=True, shared_with__in=projects)
        ).distinct()

    def usable_in(self, project: Project) -> ConnectionQuerySet:
        """Connections a job of ``project`` may read from: its own and those shared with it."""
        return self.filter(Q(project=project) | Q(project__isnull=True, shared_with=project)).distinct()


class Connection(TimestampedModel):
    """A PostgreSQL database or an S3-compatible bucket.

    Project-scoped (``project`` set), or instance-level (``project`` empty, created by an instance
    admin) and shared with the projects in ``shared_with``. Non-secret settings (host, bucket…) are in
    ``config`` (plain JSON); credentials live only in ``encrypted_secrets``, a Fernet token whose key is outside
    the database (see ``modelworks.connections.secrets``).
    """

    project = models.ForeignKey(
        "core.Project",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="connections",
        help_text="Owning project; empty for an instance-level connection.",
    )
    name = models.CharField(max_length=200, validators=[validate_label])
    kind = models.CharField(max_length=16, choices=ConnectionKind.choices)
    description = models.TextField(blank=True)
    config = models.JSONField(default=dict, blank=True, help_text="Non-secret settings, e.g. host.")
    encrypted_secrets = models.TextField(blank=True, editable=False)
    secret_names = models.JSONField(
        default=list, blank=True, editable=False, help_text="Which credentials are set (names only)."
    )
    shared_with = models.ManyToManyField("core.Project", blank=True, related_name="shared_connections")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    last_test_message = models.CharField(max_length=500, blank=True)

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"],
                condition=Q(project__isnull=False),
                name="unique_project_connection_name",
                violation_error_message="A connection with this name already exists in the project.",
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(project__isnull=True),
                name="unique_instance_connection_name",
                violation_error_message="A shared connection with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_instance_level(self) -> bool:
        return self.project_id is None

    @property
    def secret_field_names(self) -> tuple[str, ...]:
        return SECRET_FIELDS.get(self.kind, ())

    def secrets(self) -> dict[str, str]:
        """The decrypted credentials. Only the code that opens the connection calls this."""
        from modelworks.connections.secrets import decrypt

        return decrypt(self.encrypted_secrets) if self.encrypted_secrets else {}

    def set_secrets(self, values: dict[str, str | None]) -> None:
        """Merge credentials: a non-empty value replaces, ``None``/empty keeps the stored one.

        Does not save; the caller saves inside its transaction.
        """
        from modelworks.connections.secrets import encrypt

        current = self.secrets()
        for key, value in values.items():
            if key not in self.secret_field_names:
                raise ValueError(f"{key!r} is not a credential of a {self.get_kind_display()} connection")
            if value:
                current[key] = value
        self.encrypted_secrets = encrypt(current) if current else ""
        self.secret_names = sorted(current)

    def clear_secret(self, key: str) -> None:
        """Forget one credential (e.g. switch an S3 connection to anonymous access)."""
        from modelworks.connections.secrets import encrypt

        current = self.secrets()
        current.pop(key, None)
        self.encrypted_secrets = encrypt(current) if current else ""
        self.secret_names = sorted(current)

    def clean(self) -> None:
        self.config = clean_config(self.kind, dict(self.config or {}))

    def is_usable_in(self, project: Project) -> bool:
        """Whether jobs of ``project`` may read through this connection."""
        if self.project_id is not None:
            return self.project_id == project.pk
        return self.shared_with.filter(pk=project.pk).exists()
