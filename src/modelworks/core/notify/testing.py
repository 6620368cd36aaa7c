"""Test helpers: run the queued ``core.send_email`` jobs in the test's own process.

A test that checks e-mails (Django's locmem outbox, or a local SMTP server) after a decision commits
calls ``run_notification_jobs()``: each queued e-mail job is claimed, run and settled through the
same queue functions a ``modelworks worker`` uses (``store.claim``, ``store.settle``), so retries
and failures behave as in production; ``ignore_delay`` runs a job waiting for its retry at once.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils import timezone

from modelworks.core.jobs import JobCancelled, JobFailed, RetryableJobError, job_type, store
from modelworks.core.models import Job, JobState
from modelworks.core.notify.delivery import NOTIFY_JOB_KIND

__all__ = ["closed_port", "refusing_smtp_server", "run_notification_jobs", "run_one"]

WORKER_ID = "test-process"


class _Reporter:
    def __init__(self, ref: store.AttemptRef) -> None:
        self.ref = ref

    def log(self, level: str, message: str) -> None:
        store.append_log_lines(self.ref.job_id, self.ref.attempt, [(timezone.now(), level, message)])

    def progress(self, percent: float, message: str) -> None:
        store.write_progress(self.ref, percent, message)

    def cancel_requested(self) -> bool:
        return False


def run_one(job: Job) -> str | None:
    """Claim and run one queued job here; its new state, or None if it could not be claimed."""
    claimed = store.claim(job.pk, WORKER_ID)
    if claimed is None:
        return None
    ref = store.AttemptRef(claimed.pk, claimed.attempt, WORKER_ID)
    reporter = _Reporter(ref)
    try:
        result: Any = job_type(claimed.kind)(claimed, reporter).run()
        outcome = store.Outcome("succeeded", result=json.loads(json.dumps(result, allow_nan=False)))
    except JobCancelled as exc:
        outcome = store.Outcome("cancelled", str(exc))
    except JobFailed as exc:
        outcome = store.Outcome("failed", str(exc))
    except RetryableJobError as exc:
        outcome = store.Outcome("retry", str(exc))
    except Exception as exc:
        reporter.log("ERROR", traceback.format_exc().rstrip())
        outcome = store.Outcome("failed", f"Internal error: {type(exc).__name__}: {exc}")
    return store.settle(ref, outcome)


def run_notification_jobs(*, ignore_delay: bool = False, limit: int = 200) -> list[Job]:
    """Run the queued ``core.send_email`` jobs (oldest first) until none is due; return them, as they
    ended (a job re-queued for a retry is run again only with ``ignore_delay``)."""
    ran: dict[Any, Job] = {}
    for _ in range(limit):
        queued = Job.objects.filter(kind=NOTIFY_JOB_KIND, state=JobState.QUEUED)
        if ignore_delay:
            queued.update(run_after=None)
        else:
            queued = queued.exclude(run_after__gt=timezone.now())
        job = queued.order_by("created_at", "id").first()
        if job is None or run_one(job) is None:
            break
        ran[job.pk] = job
    for job in ran.values():
        job.refresh_from_db()
    return list(ran.values())


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def refusing_smtp_server(reply: str = "550 5.1.1 No such mailbox") -> Iterator[int]:
    """A real SMTP server on 127.0.0.1 that answers ``reply`` to every recipient; yields its port."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(b"220 refusing.test ESMTP\r\n")
            while raw := self.rfile.readline():
                verb = raw[:4].upper()
                answer = {b"RCPT": reply, b"QUIT": "221 Bye"}.get(verb, "250 OK")
                self.wfile.write(answer.encode() + b"\r\n")
                if verb == b"QUIT":
                    return

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
