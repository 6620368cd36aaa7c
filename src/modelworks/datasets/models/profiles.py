"""Stored column profiles of dataset versions."""

from __future__ import annotations

from django.db import models


class DatasetProfile(models.Model):
    """The engine's profile of one version, as JSON (recomputed on demand, replacing the old one)."""

    version = models.OneToOneField(
        "datasets.DatasetVersion", on_delete=models.CASCADE, related_name="profile"
    )
    data = models.JSONField(help_text="The engine profile (columns with statistics and histograms).")
    computed_at = models.DateTimeField(auto_now=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-computed_at"]

    def __str__(self) -> str:
        return f"profile of {self.version}"
