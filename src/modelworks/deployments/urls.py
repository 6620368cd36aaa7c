"""Pages of the deployments app (namespace ``deployments``)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "deployments"

urlpatterns: list[URLPattern] = []
