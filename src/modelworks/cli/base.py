"""What every command shares: Django set-up from MODELWORKS_ENV, migrations, and CommandError.

Django is imported inside the functions, never at import time, so ``modelworks --help`` stays fast.
"""

from __future__ import annotations

import os

__all__ = [
    "SETTINGS_BY_ENV",
    "CommandError",
    "migrate",
    "pending_migrations",
    "require_migrated",
    "setup_django",
]

SETTINGS_BY_ENV = {
    "development": "modelworks.config.settings.dev",
    "production": "modelworks.config.settings.prod",
    "test": "modelworks.config.settings.test",
}


class CommandError(Exception):
    """A command cannot do what was asked; the message says why and what to do."""


def setup_django() -> None:
    """Configure Django for the environment MODELWORKS_ENV names (development by default).

    Raises:
        CommandError: MODELWORKS_ENV is unknown or the configuration is invalid.
    """
    env = os.environ.get("MODELWORKS_ENV")
    if env is not None and env not in SETTINGS_BY_ENV:
        raise CommandError(f"MODELWORKS_ENV={env!r} is unknown; use one of {', '.join(SETTINGS_BY_ENV)}.")
    if env is not None:
        # An explicit environment wins over an inherited DJANGO_SETTINGS_MODULE.
        os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_BY_ENV[env]
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_BY_ENV["development"])
    import django

    from modelworks.config.env import ConfigError

    try:
        django.setup()
    except ConfigError as exc:
        raise CommandError(str(exc)) from exc


def migrate(verbosity: int = 1) -> None:
    """Create MODELWORKS_HOME if needed and apply every migration."""
    from django.core.management import call_command

    from modelworks.config.env import load_config

    home = load_config().home
    home.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=verbosity)


def pending_migrations() -> list[str]:
    """The migrations not applied yet, as ``app_label.name``."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


def require_migrated() -> None:
    """Raise CommandError when the database has unapplied migrations."""
    pending = pending_migrations()
    if pending:
        raise CommandError(
            f"the database has {len(pending)} unapplied migration(s) (first: {pending[0]}); "
            "run 'modelworks migrate' first."
        )
