"""Pages of the monitoring app (namespace ``monitoring``)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "monitoring"

urlpatterns: list[URLPattern] = []
