"""``/projects/{slug}/jobs`` and ``/jobs/{id}``: background jobs, their progress and logs.

Readers of a project see its jobs; contributors submit, cancel and retry them. A job without a
project (an instance-level task) is visible to instance administrators only: for anyone else it
does not exist (404).
"""

# No ``from __future__ import annotations`` here: ninja evaluates the parameter annotations of a
# ``@paginate`` view in the namespace of the pagination wrapper, where names such as ``AuditFilter``
# or ``uuid`` are unknown; real annotation objects avoid that lookup.

import uuid

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from modelworks.core.api.errors import responses
from modelworks.core.jobs import enqueue, request_cancel, retry_job
from modelworks.core.models import Job, JobLogLine, Role
from modelworks.core.permissions import get_project, require_instance_admin
from modelworks.core.schemas import JobIn, JobLogLineOut, JobOut, JobStateName

__all__ = ["router"]

router = Router(tags=["jobs"])


def get_job(user: object, job_id: uuid.UUID, needed: Role = Role.READER) -> Job:
    """The job ``job_id`` if ``user`` holds ``needed`` in its project (404 for non-members, 403 if weaker)."""
    job = Job.objects.select_related("project", "created_by").filter(pk=job_id).first()
    if job is None:
        raise Http404(f"No job {job_id} that you can see.")
    if job.project_id is None:
        if not getattr(user, "is_instance_admin", False):
            raise Http404(f"No job {job_id} that you can see.")
        return job
    get_project(user, job.project.slug, needed)
    return job


@router.get(
    "/projects/{slug}/jobs",
    response=responses({200: list[JobOut]}, 404, 422),
    operation_id="project_jobs_list",
    summary="List a project's jobs",
)
@paginate
def project_jobs_list(
    request: HttpRequest,
    slug: str,
    state: JobStateName | None = Query(None, description="Only jobs in this state."),  # noqa: B008
) -> QuerySet:
    """The project's jobs, newest first (readers and above)."""
    project, _ = get_project(request.user, slug, Role.READER)
    jobs = Job.objects.filter(project=project).select_related("project", "created_by")
    if state:
        jobs = jobs.filter(state=state)
    return jobs.order_by("-created_at", "-id")


@router.post(
    "/projects/{slug}/jobs",
    response=responses({201: JobOut}, 403, 404, 422),
    operation_id="project_jobs_submit",
    summary="Submit a job",
)
def project_jobs_submit(request: HttpRequest, slug: str, payload: JobIn) -> Status:
    """Submit a job to the project's queue (contributors and above)."""
    project, _ = get_project(request.user, slug, Role.CONTRIBUTOR)
    job = enqueue(
        payload.kind,
        title=payload.title or None,
        project=project,
        created_by=request.user,
        params=payload.params,
        request=request,
    )
    return Status(201, job)


@router.get(
    "/jobs",
    response=responses({200: list[JobOut]}, 403, 422),
    operation_id="jobs_list",
    summary="List every job",
)
@paginate
def jobs_list(
    request: HttpRequest,
    state: JobStateName | None = Query(None, description="Only jobs in this state."),  # noqa: B008
    project: str | None = Query(None, description="Only jobs of this project (slug)."),
) -> QuerySet:
    """Every job of the instance, newest first, including instance-level jobs (instance administrators)."""
    require_instance_admin(request.user)
    jobs = Job.objects.select_related("project", "created_by")
    if state:
        jobs = jobs.filter(state=state)
    if project:
        jobs = jobs.filter(project__slug=project)
    return jobs.order_by("-created_at", "-id")


@router.get(
    "/jobs/{job_id}", response=responses({200: JobOut}, 404), operation_id="jobs_get", summary="Get a job"
)
def jobs_get(request: HttpRequest, job_id: uuid.UUID) -> Job:
    """One job, with its state and progress."""
    return get_job(request.user, job_id)


@router.get(
    "/jobs/{job_id}/logs",
    response=responses({200: list[JobLogLineOut]}, 404, 422),
    operation_id="jobs_logs",
    summary="Read a job's log",
)
@paginate
def jobs_logs(
    request: HttpRequest,
    job_id: uuid.UUID,
    after: int = Query(0, ge=0, description="Only lines with a sequence number above this one."),
) -> QuerySet:
    """A job's log lines in order. Poll with ``after`` set to the last ``seq`` you have."""
    job = get_job(request.user, job_id)
    return JobLogLine.objects.filter(job=job, seq__gt=after).order_by("seq")


@router.post(
    "/jobs/{job_id}/cancel",
    response=responses({200: JobOut}, 403, 404, 409),
    operation_id="jobs_cancel",
    summary="Cancel a job",
)
def jobs_cancel(request: HttpRequest, job_id: uuid.UUID) -> Job:
    """Ask a queued or running job to stop (contributors of its project)."""
    job = get_job(request.user, job_id, Role.CONTRIBUTOR)
    request_cancel(job, actor=request.user, request=request)
    return get_job(request.user, job_id)


@router.post(
    "/jobs/{job_id}/retry",
    response=responses({200: JobOut}, 403, 404, 409),
    operation_id="jobs_retry",
    summary="Retry a job",
)
def jobs_retry(request: HttpRequest, job_id: uuid.UUID) -> Job:
    """Run a failed or cancelled job again (contributors of its project)."""
    job = get_job(request.user, job_id, Role.CONTRIBUTOR)
    retried = retry_job(job, actor=request.user, request=request)
    return get_job(request.user, retried.pk if isinstance(retried, Job) else job.pk)
