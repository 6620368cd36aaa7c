from __future__ import annotations

from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "modelworks.tracking"
    label = "tracking"
    verbose_name = "Experiment tracking"
