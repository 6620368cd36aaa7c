"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

import modelworks
from modelworks.core.views.navigation import NavigationMenu


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {"modelworks_version": modelworks.__version__, "nav_menu": NavigationMenu(request)}
