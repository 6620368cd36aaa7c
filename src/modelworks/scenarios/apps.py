from __future__ import annotations

from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    name = "modelworks.scenarios"
    label = "scenarios"
    verbose_name = "Scenarios"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from modelworks.datasets.models import DatasetVersion
        from modelworks.scenarios.signals import on_version_saved

        post_save.connect(on_version_saved, sender=DatasetVersion, dispatch_uid="scenarios.dataset_changed")
