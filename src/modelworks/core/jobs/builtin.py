"""Built-in job types: ``core.self_check`` (health of this instance) and ``core.diagnostic`` (a
controllable job to test the queue with)."""

from __future__ import annotations

import logging
import os
import platform
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from modelworks.core.jobs.base import BaseJob
from modelworks.core.jobs.exceptions import InvalidJobParamsError, JobCancelled, JobFailed, RetryableJobError

__all__ = ["DiagnosticJob", "SelfCheckJob"]

GIB = 1024**3


def _check_params(
    kind: str, params: dict[str, Any], spec: dict[str, tuple[type, Any, float, float]]
) -> dict[str, Any]:
    """Validate ``params`` against ``{name: (type, default, min, max)}``; return them with defaults."""
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise InvalidJobParamsError(
            f"'{kind}' has no parameter {unknown[0]!r}; its parameters are: {', '.join(sorted(spec))}."
        )
    cleaned: dict[str, Any] = {}
    for name, (kind_type, default, low, high) in spec.items():
        value = params.get(name, default)
        if kind_type is bool:
            if not isinstance(value, bool):
                raise InvalidJobParamsError(
                    f"'{kind}' parameter {name!r} must be true or false, got {value!r}."
                )
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if kind_type is int:
                ok = ok and float(value).is_integer()
            if not ok or not low <= value <= high:
                what = "a whole number" if kind_type is int else "a number"
                raise InvalidJobParamsError(
                    f"'{kind}' parameter {name!r} must be {what} from {low:g} to {high:g}, got {value!r}."
                )
            value = kind_type(value)
        cleaned[name] = value
    return cleaned


class SelfCheckJob(BaseJob):
    """Checks the database, the instance folders and the free disk space, step by step."""

    kind = "core.self_check"
    title = "Platform self-check"
    max_attempts = 2
    retry_backoff_seconds = 5.0

    PARAMS = {"pause_seconds": (float, 0.5, 0.0, 10.0)}

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        return _check_params(cls.kind, params, cls.PARAMS)

    def _step(self, percent: float, message: str) -> None:
        self.progress(percent, message)
        self.log(message)
        # A short pause between steps, so a person watching the job page sees it advance.
        time.sleep(float(self.params.get("pause_seconds", 0.5)))

    def run(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        self._step(5, "Checking the database")
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except Exception as exc:
            raise RetryableJobError(f"The database could not be queried: {exc}. Check DATABASE_URL.") from exc
        if pending:
            raise JobFailed(
                f"The database has {len(pending)} unapplied migration(s); run 'modelworks migrate'."
            )
        result["database"] = {"vendor": connection.vendor, "schema_up_to_date": True}
        self.log(f"Database reachable ({connection.vendor}); schema up to date.")

        self._step(35, "Checking that the instance folders are writable")
        folders: dict[str, str] = {}
        home = Path(settings.MODELWORKS_HOME)
        for label, path in (
            ("home", home),
            ("artifacts", Path(settings.MODELWORKS_ARTIFACTS_DIR)),
            ("data", Path(settings.MODELWORKS_DATA_DIR)),
        ):
            probe = path / f".write-check-{os.getpid()}"
            try:
                path.mkdir(parents=True, exist_ok=True)
                probe.write_text("ok", encoding="utf-8")
                probe.unlink()
            except OSError as exc:
                raise JobFailed(
                    f"The {label} folder {path} is not writable ({exc.strerror or exc}); give the account "
                    "running Modelworks write access to it, or point MODELWORKS_HOME elsewhere."
                ) from exc
            folders[label] = str(path)
            self.log(f"Folder {path} is writable.")
        result["folders"] = folders

        self._step(65, "Checking free disk space")
        usage = shutil.disk_usage(home)
        free_gib = usage.free / GIB
        result["disk"] = {"free_gib": round(free_gib, 2), "total_gib": round(usage.total / GIB, 2)}
        if usage.free < GIB // 5:
            raise JobFailed(f"Only {free_gib:.2f} GiB free on the disk of {home}; free some space.")
        self.log(
            f"{free_gib:.1f} GiB free of {usage.total / GIB:.1f} GiB on the disk of {home}.",
            "WARNING" if usage.free < 2 * GIB else "INFO",
        )

        self._step(90, "Collecting versions")
        result["versions"] = {"python": platform.python_version(), "django": django.get_version()}
        self.log(f"Python {platform.python_version()}, Django {django.get_version()}.")
        self.progress(100, "All checks passed")
        return result


class DiagnosticJob(BaseJob):
    """A job that does what its parameters say: sleep in steps, fail, fail transiently, ignore
    cancellation, crash. For administrators testing the queue, and for the tests.

    Parameters: ``seconds`` (total duration), ``steps``, ``fail`` (fail half-way with a plain message),
    ``retryable_failures`` (fail transiently on that many first attempts), ``ignore_cancel`` (carry
    on when asked to cancel: the worker then stops it), ``crash`` (the process kills itself
    half-way), ``raise_error`` (an unexpected exception half-way).
    """

    kind = "core.diagnostic"
    title = "Diagnostic job"
    max_attempts = 3
    retry_backoff_seconds = 1.0
    retry_backoff_max_seconds = 4.0

    PARAMS = {
        "seconds": (float, 1.0, 0.0, 3600.0),
        "steps": (int, 5, 1, 1000),
        "fail": (bool, False, 0, 0),
        "retryable_failures": (int, 0, 0, 100),
        "ignore_cancel": (bool, False, 0, 0),
        "crash": (bool, False, 0, 0),
        "raise_error": (bool, False, 0, 0),
    }

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        return _check_params(cls.kind, params, cls.PARAMS)

    def run(self) -> dict[str, Any]:
        p = {**self.clean_params({}), **self.params}
        attempt = self.job.counted_attempts
        self.log(f"Diagnostic job started (attempt {attempt}, process {os.getpid()}).")
        print(f"Diagnostic output via print() (attempt {attempt}).")
        logging.getLogger("modelworks.diagnostic").info("Diagnostic output via logging.")
        os.write(1, b"Diagnostic output via file descriptor 1.\n")
        if attempt <= p["retryable_failures"]:
            raise RetryableJobError(f"Simulated temporary failure on attempt {attempt}.")
        steps, pause = p["steps"], p["seconds"] / p["steps"]
        warned = False
        for i in range(1, steps + 1):
            if i == steps // 2 + 1:
                self._misbehave(p)
            time.sleep(pause)
            try:
                self.progress(100 * i / steps, f"Step {i} of {steps}")
            except JobCancelled:
                if not p["ignore_cancel"]:
                    self.log(f"Cancellation seen at step {i}; stopping.", "WARNING")
                    raise
                if not warned:
                    self.log("Cancellation requested, but ignore_cancel is set: carrying on.", "WARNING")
                    warned = True
            self.log(f"Step {i} of {steps} done.")
        return {"steps": steps, "seconds": p["seconds"], "attempt": attempt, "pid": os.getpid()}

    def _misbehave(self, p: dict[str, Any]) -> None:
        if p["fail"]:
            raise JobFailed("The diagnostic job failed on purpose (fail=true).")
        if p["raise_error"]:
            raise RuntimeError("diagnostic job raised an unexpected error on purpose (raise_error=true)")
        if p["crash"]:
            self.log("Crashing on purpose (crash=true).", "WARNING")
            time.sleep(0.3)  # let the line reach the worker first
            os.kill(os.getpid(), signal.SIGKILL)
