"""Re-index a dataset for the catalog search whenever it, or one of its versions, is saved."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from modelworks.catalog.index import index_dataset
from modelworks.datasets.models import Dataset, DatasetVersion


@receiver(post_save, sender=Dataset)
def _dataset_saved(sender: Any, instance: Dataset, raw: bool = False, **kwargs: Any) -> None:
    if not raw:  # fixtures being loaded: their rows are indexed by rebuild_index
        index_dataset(instance)


@receiver(post_save, sender=DatasetVersion)
def _version_saved(sender: Any, instance: DatasetVersion, raw: bool = False, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if raw or (fields is not None and set(fields) <= DatasetVersion.MUTABLE_FIELDS):
        return  # a new quality verdict changes no column
    index_dataset(instance.dataset)
