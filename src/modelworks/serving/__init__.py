"""The scoring service (``modelworks serve-models``): every active deployment over HTTP.

A plain package, not a Django app: the service process calls ``django.setup()`` and reads the
routing through ``modelworks.deployments.runtime``; models are loaded only in its worker processes.
See ``server`` (processes), ``app`` (HTTP), ``routing`` (tables and reloads), ``metrics`` and
``predlog``.
"""

from __future__ import annotations

from modelworks.serving.server import ServeOptions, serve

__all__ = ["ServeOptions", "serve"]
