"""Local and demo settings: plain HTTP on the loopback address, so cookies are not marked Secure."""

from __future__ import annotations

import os

from modelworks.config.settings.base import *  # noqa: F403

DEBUG = os.environ.get("MODELWORKS_DEBUG", "") == "1"
