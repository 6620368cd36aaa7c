from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "modelworks.registry"
    label = "registry"
    verbose_name = "Model registry"
