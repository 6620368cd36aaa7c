"""The project's builds (list) and one build's page: steps, why each ran or was skipped, timings,
rows, a join's unmatched rows, logs and errors, followed live while it runs, with a Cancel button
for contributors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.forms import PageForm
from modelworks.core.htmx import wants_fragment
from modelworks.core.jobs.exceptions import JobStateError
from modelworks.core.models import Role
from modelworks.core.views.base import ListPageMixin, done
from modelworks.datasets.models import Dataset
from modelworks.flows import services
from modelworks.flows.models import Build, BuildStatus, StepStatus
from modelworks.flows.services.join_report import step_join_report
from modelworks.flows.views.base import BuildPageView, FlowPageView

__all__ = ["BuildCancelView", "BuildListView", "BuildView"]

_FINISHED_STEPS = (
    StepStatus.SUCCEEDED,
    StepStatus.FAILED,
    StepStatus.SKIPPED,
    StepStatus.CANCELLED,
    StepStatus.UP_TO_DATE,
)


class BuildFilterForm(PageForm):
    status = forms.ChoiceField(choices=[("", "Any status"), *BuildStatus.choices], required=False)


def _target_names(builds: list[Build]) -> dict[int, str]:
    ids = {pk for b in builds for pk in (b.targets or [])}
    names = dict(Dataset.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {
        b.pk: (
            ", ".join(names.get(pk, f"dataset {pk} (deleted)") for pk in b.targets)
            if b.targets
            else "Whole flow"
        )
        for b in builds
    }


class BuildListView(ListPageMixin, FlowPageView):
    """Every build of the project, newest first, with status, trigger, who, when and duration."""

    template_name = "flows/builds.html"
    fragment_template_name = "flows/partials/build_table.html"
    filter_form_class = BuildFilterForm
    title = "Builds"

    def get_queryset(self) -> QuerySet:
        return Build.objects.filter(project=self.project).select_related("created_by")

    def filter_queryset(self, queryset: QuerySet, filters: dict[str, Any]) -> QuerySet:
        if filters.get("status"):
            queryset = queryset.filter(status=filters["status"])
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        for build in Build.objects.unfinished().filter(project=self.project):
            services.sync_build_status(build)
        listing = self.list_context()
        builds = list(listing["object_list"])
        names = _target_names(builds)
        for build in builds:
            build.target_names = names[build.pk]  # type: ignore[attr-defined]
        listing["object_list"] = builds
        context.update(listing)
        context["any_running"] = any(not b.is_finished for b in builds)
        return context


class BuildView(BuildPageView):
    """One build. HTMX polls get ``partials/build_live.html`` (status and steps) every second
    until the build ends."""

    template_name = "flows/build.html"
    fragment_template_name = "flows/partials/build_live.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        build = services.sync_build_status(self.build)
        steps = list(build.steps.select_related("recipe").prefetch_related("output_versions__dataset"))
        for step in steps:
            step.join_report = step_join_report(step.details)  # type: ignore[attr-defined]
        finished = sum(1 for s in steps if s.status in _FINISHED_STEPS)
        planned = (build.plan or {}).get("steps") or []
        total = len(steps) or len(planned)
        context.update(
            build=build,
            steps=steps,
            step_total=total,
            step_done=finished,
            progress_percent=int(100 * finished / total) if total else (100 if build.is_finished else 0),
            target_names=_target_names([build])[build.pk],
            can_cancel=not build.is_finished and build.job_id is not None,
            skipped_plan=(build.plan or {}).get("skipped") or [],
        )
        return context


class BuildCancelView(BuildView):
    """Cancel a queued or running build (contributors). Steps already done keep their versions."""

    http_method_names = ["post"]
    write_role = Role.CONTRIBUTOR

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            services.cancel_build(self.build, actor=request.user, request=request)
        except JobStateError as exc:
            messages.error(request, str(exc))
        else:
            messages.info(request, "Cancellation requested: running steps stop at their next check.")
        if wants_fragment(request):
            self.build.refresh_from_db()
            return self.render_to_response(self.get_context_data())
        return done(request, reverse("flows:build", args=[self.project.slug, self.build.pk]))
