"""Pages of the scenarios app."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "scenarios"

urlpatterns: list[URLPattern] = []
