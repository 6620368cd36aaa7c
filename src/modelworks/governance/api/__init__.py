"""The governance REST API, one module per part; ``modelworks.config.api`` mounts ``router``.

Each part's module defines its own ``router`` (portfolio and portfolio_admin, value, signoff, aiact);
add yours below.
"""

from __future__ import annotations

from importlib import import_module

from ninja import Router

__all__ = ["router"]

router = Router()
for _part in ("portfolio", "portfolio_admin", "value", "signoff", "aiact"):
    try:
        _module = import_module(f"modelworks.governance.api.{_part}")
    except ModuleNotFoundError as exc:  # a part not written yet
        if exc.name != f"modelworks.governance.api.{_part}":
            raise
        continue
    router.add_router("", _module.router)
