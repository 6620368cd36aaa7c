"""Durable background jobs: a database-backed queue run by ``modelworks worker`` processes.

Public API:

* ``BaseJob``: subclass it and implement ``run()``; list the class in ``MODELWORKS_JOB_TYPES``.
* Raised by jobs: ``JobFailed`` (expected failure, message shown), ``RetryableJobError`` (transient,
  retried with backoff), ``JobCancelled`` (stopped on request).
* ``enqueue``, ``request_cancel``, ``retry_job``: submit and steer jobs (atomic, audited); they raise
  ``JobError`` subclasses (``ValueError``s) with a plain message when the request cannot be done.
* ``job_type``, ``registered_job_types``: the registered types.
* ``job_log_lines``, ``live_workers``: what pages and the API show.

The worker itself is ``modelworks.core.jobs.worker.run_worker``.
"""

from __future__ import annotations

from modelworks.core.jobs.base import LOG_LEVELS, BaseJob
from modelworks.core.jobs.exceptions import (
    InvalidJobParamsError,
    JobCancelled,
    JobError,
    JobFailed,
    JobStateError,
    RetryableJobError,
    UnknownJobTypeError,
)
from modelworks.core.jobs.registry import job_type, registered_job_types
from modelworks.core.jobs.services import enqueue, job_log_lines, request_cancel, retry_job
from modelworks.core.jobs.store import live_workers

__all__ = [
    "LOG_LEVELS",
    "BaseJob",
    "InvalidJobParamsError",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobStateError",
    "RetryableJobError",
    "UnknownJobTypeError",
    "enqueue",
    "job_log_lines",
    "job_type",
    "live_workers",
    "registered_job_types",
    "request_cancel",
    "retry_job",
]
