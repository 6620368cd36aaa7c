"""Local and demo settings: plain HTTP on the loopback address, so cookies are not marked Secure."""

from __future__ import annotations

import os

from modelworks.config.settings.base import *  # noqa: F403

# Static files are served by WhiteNoise straight from the apps (no collectstatic needed), so the
# manifest storage, which requires collectstatic, is replaced by the plain one.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DEBUG = os.environ.get("MODELWORKS_DEBUG", "") == "1"
