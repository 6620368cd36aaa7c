"""Users of the instance. Groups are Django's own ``auth.Group``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person (or a service account) who signs in or calls the API.

    ``is_superuser`` makes an *instance administrator*: admin of every project, and the only one
    who manages users, groups and instance-wide settings.
    """

    must_change_password = models.BooleanField(
        default=False, help_text="Set for accounts created with a one-time password."
    )
    notify_by_email = models.BooleanField(
        "E-mail me when I must approve or review",
        default=True,
        help_text="A promotion request or a sign-off step waiting for you, and the outcome of your own "
        "requests. Sent only when the instance has an SMTP server.",
    )

    class Meta:
        ordering = ["username"]
        db_table = "core_user"

    def __str__(self) -> str:
        return self.username

    @property
    def is_instance_admin(self) -> bool:
        return bool(self.is_active and self.is_superuser)

    @property
    def display_name(self) -> str:
        full = self.get_full_name()
        return full or self.username
