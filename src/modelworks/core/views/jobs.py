"""Jobs: a project's jobs (and the "Run a job" form), all jobs for instance admins, and the job page.

The job page polls ``job_live`` every second while the job is unfinished; each answer replaces the
status panel and appends the log lines written since the last one (an out-of-band swap), and the
answer for a finished job no longer polls.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core import jobs as job_queue
from modelworks.core.forms import JobFilterForm, RunJobForm
from modelworks.core.htmx import wants_fragment
from modelworks.core.models import Job, JobState, Role
from modelworks.core.permissions import get_project
from modelworks.core.views.base import InstanceAdminView, ListPageMixin, PageView, ProjectPageView, done

LOG_LINES_SHOWN = 2000


def job_kinds() -> list[tuple[str, str]]:
    """(kind, label) of the job types users may start from the page."""
    return [(kind, job_type.title or kind) for kind, job_type in job_queue.registered_job_types().items()]


class JobListMixin(ListPageMixin):
    """The jobs table with its state filter; HTMX filters and polling get only the table."""

    filter_form_class = JobFilterForm
    fragment_template_name = "core/partials/job_table.html"

    def filter_queryset(self, queryset: QuerySet, filters: dict[str, Any]) -> QuerySet:
        if "state" in filters:
            queryset = queryset.filter(state=filters["state"])
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(self.list_context())
        context["any_unfinished"] = any(not job.is_finished for job in context["object_list"])
        return context


class ProjectJobsView(JobListMixin, ProjectPageView):
    """A project's jobs, newest first; contributors also see the "Run a job" form."""

    template_name = "core/project_jobs.html"
    title = "Jobs"
    nav = "project_jobs"
    write_role = Role.CONTRIBUTOR

    def get_queryset(self) -> QuerySet:
        return Job.objects.filter(project=self.project).select_related("created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if context["can_contribute"]:
            context.setdefault("run_form", RunJobForm(kinds=job_kinds()))
        return context


class RunJobView(ProjectJobsView):
    """Queue a job in the project, then show its page."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        kinds = job_kinds()
        form = RunJobForm(request.POST, kinds=kinds)
        if form.is_valid():
            kind = form.cleaned_data["kind"]
            try:
                job = job_queue.enqueue(kind, project=self.project, created_by=request.user, request=request)
            except job_queue.JobError as exc:
                form.add_error("kind", str(exc))
            else:
                return done(request, reverse("core:job", kwargs={"pk": job.pk}), f"Job “{job.title}” queued.")
        return self.render_form_errors(run_form=form)


class AllJobsView(JobListMixin, InstanceAdminView):
    """Every job of the instance, for instance administrators."""

    template_name = "core/jobs.html"
    title = "All jobs"
    nav = "jobs"

    def get_queryset(self) -> QuerySet:
        return Job.objects.select_related("project", "created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["show_project"] = True  # jobs of every project: say which
        return context


class JobView(PageView):
    """One job: state, progress, times, attempts, error, result and logs, updated live."""

    template_name = "core/job.html"
    nav = "project_jobs"
    needed_role = Role.READER
    job: Job
    role: Role

    def check_access(self, request: HttpRequest) -> None:
        job = Job.objects.select_related("project", "created_by").filter(pk=self.kwargs["pk"]).first()
        needed = self.needed_role if request.method in ("GET", "HEAD") else Role.CONTRIBUTOR
        if job is None or (job.project is None and not request.user.is_superuser):
            raise Http404("No job with that number that you can see.")
        if job.project is None:
            self.role = Role.ADMIN
        else:
            _, self.role = get_project(request.user, job.project.slug, needed)
        self.job = job

    def get_title(self) -> str:
        return f"{self.job.title} · Job"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        job = self.job
        # The last log line the page shows: sent by the polling URL, and by the Cancel form of the panel.
        after = _int(self.request.GET.get("after") or self.request.POST.get("after"))
        new_lines = job_queue.job_log_lines(job, after_seq=after, limit=LOG_LINES_SHOWN)
        context.update(
            job=job,
            project=job.project,
            role=self.role,
            can_contribute=self.role.allows(Role.CONTRIBUTOR),
            log_lines=new_lines,
            last_seq=new_lines[-1].seq if new_lines else after,
            result_json=json.dumps(job.result, indent=2, sort_keys=True) if job.result is not None else "",
            can_cancel=job.can_cancel and not job.cancel_requested,
            can_retry=job.can_retry,
            progress_percent=max(0, min(100, round(job.progress))),
        )
        return context


class JobLiveView(JobView):
    """The status panel and the new log lines, polled by the job page."""

    fragment_template_name = "core/partials/job_live.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not wants_fragment(request):
            return done(request, reverse("core:job", kwargs={"pk": self.job.pk}))
        return super().get(request, *args, **kwargs)


class CancelJobView(JobLiveView):
    """Ask the worker to stop the job (contributors)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            job = job_queue.request_cancel(self.job, actor=request.user, request=request)
        except job_queue.JobError as exc:
            return self.answer(messages.ERROR, _sentence(str(exc)))
        if job.state == JobState.CANCELLED:
            return self.answer(messages.SUCCESS, "Job cancelled before it started.")
        return self.answer(messages.INFO, "Cancellation requested: the job stops at its next checkpoint.")

    def answer(self, level: int, message: str) -> HttpResponse:
        messages.add_message(self.request, level, message)
        if wants_fragment(self.request):
            self.job.refresh_from_db()
            return self.render_to_response(self.get_context_data())
        return done(self.request, reverse("core:job", kwargs={"pk": self.job.pk}))


class RetryJobView(CancelJobView):
    """Run a failed or cancelled job again (contributors)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            job = job_queue.retry_job(self.job, actor=request.user, request=request)
        except job_queue.JobError as exc:
            return self.answer(messages.ERROR, _sentence(str(exc)))
        return done(request, reverse("core:job", kwargs={"pk": job.pk}), f"Job “{job.title}” queued again.")


def _sentence(text: str) -> str:
    """The jobs package words its errors to follow a colon; a message on a page starts with a capital."""
    return text[:1].upper() + text[1:]


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


__all__ = [
    "AllJobsView",
    "CancelJobView",
    "JobLiveView",
    "JobView",
    "ProjectJobsView",
    "RetryJobView",
    "RunJobView",
]
