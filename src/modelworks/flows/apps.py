from __future__ import annotations

from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "modelworks.flows"
    label = "flows"
    verbose_name = "Flows"
