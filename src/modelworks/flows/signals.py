"""Signal receivers of the flows app (connected in ``FlowsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from modelworks.datasets.models import DatasetVersion

__all__ = ["version_deleted"]


@receiver(post_delete, sender=DatasetVersion, dispatch_uid="flows.version_deleted")
def version_deleted(sender: Any, instance: DatasetVersion, **kwargs: Any) -> None:
    """A deleted recipe output version stored in PostgreSQL: its table is dropped after the commit."""
    from modelworks.flows.services.pushdown.cleanup import remember_table_drop

    remember_table_drop(instance)
