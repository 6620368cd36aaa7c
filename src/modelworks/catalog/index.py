"""Keeps the catalog's search rows (``CatalogTag``, ``CatalogColumn``) in step with the datasets.

``index_dataset`` rebuilds one dataset's rows; the signals in ``catalog.signals`` call it whenever a
dataset or one of its versions is saved. ``rebuild_index`` redoes every dataset (after a restore).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from modelworks.catalog.models import CatalogColumn, CatalogTag

__all__ = ["index_dataset", "rebuild_index"]


def _tags(dataset: Any) -> list[str]:
    raw = dataset.tags if isinstance(dataset.tags, list) else []
    return sorted({str(t).strip()[:200] for t in raw if str(t).strip()})


@transaction.atomic
def index_dataset(dataset: Any) -> None:
    """Rebuild the search rows of ``dataset`` (a ``datasets.Dataset``): tags and current columns."""
    tags = _tags(dataset)
    CatalogTag.objects.filter(dataset=dataset).exclude(tag__in=tags).delete()
    existing = set(CatalogTag.objects.filter(dataset=dataset).values_list("tag", flat=True))
    CatalogTag.objects.bulk_create([CatalogTag(dataset=dataset, tag=t) for t in tags if t not in existing])

    version = dataset.current_version
    described = dataset.column_descriptions if isinstance(dataset.column_descriptions, dict) else {}
    if version is not None:
        columns = [
            (str(c.get("name", "")), str(c.get("type") or "")) for c in version.schema if isinstance(c, dict)
        ]
    else:
        # No data yet: the documented columns are all there is to find.
        columns = [(str(name), "") for name in described]
    CatalogColumn.objects.filter(dataset=dataset).delete()
    CatalogColumn.objects.bulk_create(
        [
            CatalogColumn(
                dataset=dataset,
                position=i,
                name=name[:1000],
                type=type_[:200],
                description=str(described.get(name, "") or ""),
            )
            for i, (name, type_) in enumerate(columns)
            if name
        ]
    )


def rebuild_index() -> int:
    """Rebuild the search rows of every dataset; returns how many datasets were indexed."""
    from modelworks.datasets.models import Dataset

    count = 0
    for dataset in Dataset.objects.select_related("pinned_version").iterator():
        index_dataset(dataset)
        count += 1
    return count
