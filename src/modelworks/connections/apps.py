from __future__ import annotations

from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "modelworks.connections"
    label = "connections"
    verbose_name = "Connections"
