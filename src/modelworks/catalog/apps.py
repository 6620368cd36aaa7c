from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "modelworks.catalog"
    label = "catalog"
    verbose_name = "Catalog and lineage"

    def ready(self) -> None:
        from modelworks.catalog import signals  # noqa: F401  (keeps the search index in step with datasets)
