from __future__ import annotations

from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    name = "modelworks.scenarios"
    label = "scenarios"
    verbose_name = "Scenarios"
