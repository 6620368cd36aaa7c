"""Production settings: HTTPS only. ``manage.py check --deploy`` passes with no warning.

Put Modelworks behind a TLS-terminating reverse proxy that sets ``X-Forwarded-Proto``.
"""

from __future__ import annotations

from modelworks.config.settings.base import *  # noqa: F403

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# /health is probed by load balancers over plain HTTP inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^health$"]
