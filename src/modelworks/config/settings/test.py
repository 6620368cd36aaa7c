"""Test settings: fast password hashing; the database comes from DATABASE_URL like everywhere else."""

from __future__ import annotations

from modelworks.config.settings.dev import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MODELWORKS_JOB_LEASE_SECONDS = 6
MODELWORKS_JOB_CANCEL_GRACE_SECONDS = 2
MODELWORKS_JOB_SHUTDOWN_GRACE_SECONDS = 3

# Tests start real worker and server processes: they must see the test database, so SQLite's test
# database is a file (not in memory) inside the test instance's home.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(MODELWORKS_HOME / "test-modelworks.sqlite3")}  # noqa: F405
