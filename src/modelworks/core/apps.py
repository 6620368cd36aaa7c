from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "modelworks.core"
    label = "core"
    verbose_name = "Modelworks core"

    def ready(self) -> None:
        from modelworks.core import signals  # noqa: F401  (connects login/logout auditing)
