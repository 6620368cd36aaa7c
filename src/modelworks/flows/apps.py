from __future__ import annotations

from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "modelworks.flows"
    label = "flows"
    verbose_name = "Flows"

    def ready(self) -> None:
        # The tables of deleted recipe output versions stored in PostgreSQL are dropped.
        from modelworks.flows import signals  # noqa: F401
