"""Exceptions of the job system.

Two families:

* raised *by a job's* ``run()`` to say how it ended: ``JobFailed`` (expected failure, message shown to
  the user), ``RetryableJobError`` (transient: try again later), ``JobCancelled`` (stopped on request);
* raised *to a caller* of ``enqueue``/``request_cancel``/``retry_job`` whose request cannot be done:
  ``JobError`` and its subclasses. They are ``ValueError``s, so forms and API views can turn them
  into a 400 with the message as is; nothing was changed when one is raised.
"""

from __future__ import annotations

__all__ = [
    "InvalidJobParamsError",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobStateError",
    "RetryableJobError",
    "UnknownJobTypeError",
]


class JobFailed(Exception):
    """The job cannot do its work; the message says why in the user's words and is shown as is."""


class RetryableJobError(Exception):
    """A transient failure (a service briefly unreachable, a lock held): the job is tried again later."""


class JobCancelled(Exception):
    """Raised inside a running job by ``check_cancelled()``/``progress()`` once cancellation was requested."""


class JobError(ValueError):
    """A job request cannot be done; the message names the job or type, the reason and the fix."""


class UnknownJobTypeError(JobError):
    """The job type is not listed in the MODELWORKS_JOB_TYPES setting."""


class InvalidJobParamsError(JobError):
    """The parameters are not a JSON object, or the job type rejects them."""


class JobStateError(JobError):
    """The job is not in a state that allows the request (e.g. cancelling a finished job)."""
