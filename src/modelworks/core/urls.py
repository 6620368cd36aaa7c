"""Pages of the core app."""

from __future__ import annotations

from django.urls import path

app_name = "core"

urlpatterns: list = []
