"""Pages of the model registry."""

from __future__ import annotations

app_name = "registry"

urlpatterns: list[object] = []
