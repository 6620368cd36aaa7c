"""The catalog's search index: each dataset's tags and current columns as rows, so that a search by
tag or column name is a plain indexed join instead of a scan of JSON documents.

The rows are derived data, rebuilt from ``datasets.Dataset`` and its current version by
``modelworks.catalog.index`` whenever either is saved.
"""

from __future__ import annotations

from django.db import models

__all__ = ["CatalogColumn", "CatalogTag"]


class CatalogColumn(models.Model):
    """One column of a dataset's current version, with its description."""

    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.CASCADE, related_name="catalog_columns")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=1000)
    type = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["dataset", "position"]
        indexes = [models.Index(fields=["name"], name="catalog_column_name")]

    def __str__(self) -> str:
        return f"{self.dataset_id}.{self.name}"


class CatalogTag(models.Model):
    """One tag of a dataset."""

    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.CASCADE, related_name="catalog_tags")
    tag = models.CharField(max_length=200)

    class Meta:
        ordering = ["dataset", "tag"]
        constraints = [models.UniqueConstraint(fields=["dataset", "tag"], name="unique_catalog_tag")]
        indexes = [models.Index(fields=["tag"], name="catalog_tag")]

    def __str__(self) -> str:
        return self.tag
