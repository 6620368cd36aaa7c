"""``modelworks check``: the configuration and health of one instance, in plain words."""

from __future__ import annotations

import os
import shutil
import stat
from datetime import timedelta
from typing import TextIO

from django.conf import settings
from django.core import checks as django_checks
from django.db import connection
from django.utils import timezone

__all__ = ["run_instance_checks"]


def _line(out: TextIO, ok: bool | None, text: str) -> None:
    mark = {True: "ok  ", False: "FAIL", None: "warn"}[ok]
    out.write(f"[{mark}] {text}\n")


def run_instance_checks(*, deploy: bool, out: TextIO) -> list[str]:
    """Print one line per check and return the problems found (empty when healthy)."""
    problems: list[str] = []
    instance = settings.INSTANCE

    def fail(text: str) -> None:
        problems.append(text)
        _line(out, False, text)

    _line(out, True, f"home folder {instance.home}")
    _line(out, True, f"configuration file {instance.config_file or '(none; environment and defaults)'}")
    _line(out, True, f"settings module {os.environ.get('DJANGO_SETTINGS_MODULE')}")
    _line(out, True, f"web server binds to {instance.bind_host}:{instance.port}")

    for folder in (instance.home, instance.artifacts_dir, instance.data_dir):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".write-check"
            probe.write_text("ok", encoding="utf-8")
            probe.unlink()
            _line(out, True, f"{folder} is writable")
        except OSError as exc:
            fail(f"{folder} is not writable ({exc.strerror}); fix its owner or permissions")
    free = shutil.disk_usage(instance.home).free
    if free < 2 * 1024**3:
        _line(out, None, f"only {free / 1024**3:.1f} GiB free under {instance.home}")
    else:
        _line(out, True, f"{free / 1024**3:.0f} GiB free under {instance.home}")

    from modelworks.engine.recipes.python import check_sandbox

    # A warning, not a failure: an instance without Python recipes runs fine without bubblewrap.
    sandbox = check_sandbox()
    _line(out, True if sandbox.available else None, f"Python recipe sandbox: {sandbox.detail}")

    key_file = instance.home / "secret_key"
    if key_file.exists():
        mode = stat.S_IMODE(key_file.stat().st_mode)
        if mode & 0o077:
            fail(f"{key_file} is readable by other users (mode {mode:o}); run: chmod 600 {key_file}")
        else:
            _line(out, True, "secret key file is private (0600)")

    vendor = connection.vendor
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        _line(out, True, f"database reachable ({vendor}: {connection.settings_dict.get('NAME')})")
    except Exception as exc:  # any driver error means the same thing to the operator
        fail(f"database unreachable ({vendor}): {exc}; check DATABASE_URL")
        return problems

    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        fail(f"{len(pending)} database migration(s) not applied; run: modelworks migrate")
    else:
        _line(out, True, "database schema is up to date")
        from modelworks.core.models import Job, User

        if not User.objects.filter(is_superuser=True, is_active=True).exists():
            _line(out, None, "no instance administrator yet; create one with: modelworks createadmin")
        from modelworks.core.jobs import live_workers

        workers = live_workers()
        if workers:
            names = ", ".join(sorted(w.name for w in workers))
            _line(out, True, f"{len(workers)} job worker(s) alive: {names}")
        else:
            _line(out, None, "no job worker is running; start one with: modelworks worker")
        stale = Job.objects.filter(state="queued", created_at__lt=timezone.now() - timedelta(minutes=5))
        waiting = stale.filter(run_after__isnull=True).count()
        if waiting:
            _line(out, None, f"{waiting} job(s) queued for over 5 minutes: is a 'modelworks worker' running?")

    messages = django_checks.run_checks(include_deployment_checks=deploy)
    serious = [m for m in messages if m.level >= django_checks.WARNING and not m.is_silenced()]
    for message in serious:
        fail(f"{message.id}: {message.msg}")
    if not serious:
        _line(
            out, True, "Django system checks" + (" (including deployment checks)" if deploy else "") + " pass"
        )
    out.write("Healthy.\n" if not problems else f"{len(problems)} problem(s) found.\n")
    return problems
