"""``BaseJob``: what every background job is built on.

A concrete job sets a few class attributes and implements ``run()``::

    class TrainModelJob(BaseJob):
        kind = "lab.train"
        title = "Train a model"
        max_attempts = 2

        def run(self) -> dict | None:
            for i, fold in enumerate(folds):
                self.progress(100 * i / len(folds), f"fold {i + 1} of {len(folds)}")
                ...
            return {"score": 0.93}

and is listed by dotted path in the ``MODELWORKS_JOB_TYPES`` setting. The worker runs ``run()`` in a
child process; everything the job prints or logs ends up in the job's log.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from modelworks.core.jobs.exceptions import JobCancelled

if TYPE_CHECKING:
    from modelworks.core.models import Job, Project

__all__ = ["LOG_LEVELS", "BaseJob", "JobReporter"]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class JobReporter(Protocol):
    """Where a running job's log lines and progress go (the worker's side of the conversation)."""

    def log(self, level: str, message: str) -> None: ...

    def progress(self, percent: float, message: str) -> None: ...

    def cancel_requested(self) -> bool: ...


class BaseJob:
    """One kind of background work. Subclasses implement ``run()``.

    Class attributes:
        kind: the registered type, e.g. ``"core.self_check"`` (must match its MODELWORKS_JOB_TYPES key).
        title: default title of submitted jobs.
        max_attempts: attempts before a job that keeps raising ``RetryableJobError`` is marked failed.
        retry_backoff_seconds: delay before the first retry; doubled for each further one.
        retry_backoff_max_seconds: the delay never grows past this.
        preload: modules the worker imports once when it starts, before it forks any attempt, so
            that every attempt starts with them loaded (each attempt runs in a forked child: what
            the child imports itself is imported again by the next attempt).

    Inside ``run()``: ``self.params``, ``self.job`` (the row), ``self.project``, ``self.progress()``,
    ``self.log()``, ``self.check_cancelled()``. Raise ``JobFailed`` for an expected failure (its message
    is shown to the user) and ``RetryableJobError`` for a transient one.
    """

    kind: ClassVar[str] = ""
    title: ClassVar[str] = ""
    max_attempts: ClassVar[int] = 3
    retry_backoff_seconds: ClassVar[float] = 10.0
    retry_backoff_max_seconds: ClassVar[float] = 600.0
    preload: ClassVar[tuple[str, ...]] = ()

    def __init__(self, job: Job, reporter: JobReporter) -> None:
        self.job = job
        self._reporter = reporter
        self.logger = logging.getLogger(f"modelworks.jobs.{self.kind or type(self).__name__}")
        self._cancel_seen = False
        self._cancel_checked_at = 0.0

    # ------------------------------------------------------------------------------ to implement

    def run(self) -> dict[str, Any] | None:
        """Do the work and return a small JSON-serialisable result (or None)."""
        raise NotImplementedError(f"{type(self).__name__} must implement run()")

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Check and normalise parameters at submission, before anything is created.

        Override to reject bad input early: raise ``InvalidJobParamsError`` (or ``ValueError``) with a
        message naming the parameter, what was expected and what was given.
        """
        return params

    @classmethod
    def retry_delay(cls, failed_attempts: int) -> float:
        """Seconds to wait after the ``failed_attempts``-th failure: exponential, capped."""
        delay = cls.retry_backoff_seconds * (2 ** max(failed_attempts - 1, 0))
        return float(min(delay, cls.retry_backoff_max_seconds))

    # ---------------------------------------------------------------------------- to use in run()

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    @property
    def project(self) -> Project | None:
        return self.job.project

    def progress(self, percent: float, message: str = "") -> None:
        """Report progress (0 to 100) and a short message; raises ``JobCancelled`` once cancel was asked.

        Cheap to call often: the worker writes at most a couple of updates per second.
        """
        self._reporter.progress(min(max(float(percent), 0.0), 100.0), str(message)[:300])
        self.check_cancelled()

    def report_progress(self, percent: float, message: str = "") -> None:
        """Like :meth:`progress` without the cancel check: safe to call from the job's own threads
        (the reporter is thread-safe), which must not read the job's row themselves."""
        self._reporter.progress(min(max(float(percent), 0.0), 100.0), str(message)[:300])

    def log(self, message: str, level: str = "INFO") -> None:
        """Add a line to the job's log. ``level`` is one of DEBUG, INFO, WARNING, ERROR, CRITICAL."""
        name = str(level).upper()
        if name not in LOG_LEVELS:
            raise ValueError(f"log level {level!r} is unknown; use one of {', '.join(LOG_LEVELS)}")
        self._reporter.log(name, str(message))

    def cancelled(self) -> bool:
        """Whether cancellation was asked, without raising: the worker's signal, or the job's row (read
        at most once a second). For work that stops at its own pace (a training, a scenario waiting on
        the jobs it started)."""
        if self._cancel_seen or self._reporter.cancel_requested():
            return True
        now = time.monotonic()
        if now - self._cancel_checked_at >= 1.0:
            from modelworks.core.models import Job

            self._cancel_checked_at = now
            self._cancel_seen = Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists()
        return self._cancel_seen

    def check_cancelled(self) -> None:
        """Raise ``JobCancelled`` if someone asked to cancel this job. Call it between steps."""
        if self._reporter.cancel_requested():
            raise JobCancelled("Cancelled on request.")
