"""Django project configuration: settings, URLs, the REST API and the WSGI entry point."""

from __future__ import annotations

__all__: list[str] = []
