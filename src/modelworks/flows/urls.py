"""Pages of the flows app."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "flows"

urlpatterns: list[URLPattern] = []
