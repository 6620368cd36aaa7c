"""Pages of the governance app (namespace ``governance``): each part lists its own patterns in
``modelworks.governance.urls_<part>`` (portfolio, value, signoff, aiact)."""

from __future__ import annotations

from importlib import import_module

from django.urls import URLPattern

app_name = "governance"

urlpatterns: list[URLPattern] = []
for _part in ("portfolio", "value", "signoff", "aiact"):
    try:
        urlpatterns += import_module(f"modelworks.governance.urls_{_part}").urlpatterns
    except ModuleNotFoundError as exc:  # a part not written yet
        if exc.name != f"modelworks.governance.urls_{_part}":
            raise
