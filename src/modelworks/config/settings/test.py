"""Test settings: fast password hashing; the database comes from DATABASE_URL like everywhere else."""

from __future__ import annotations

from modelworks.config.settings.dev import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MODELWORKS_JOB_LEASE_SECONDS = 6
