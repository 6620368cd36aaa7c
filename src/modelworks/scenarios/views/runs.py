"""Run history of a scenario and the page of one run (per-step results, live while it runs)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.htmx import wants_fragment
from modelworks.core.jobs import JobStateError
from modelworks.core.views.base import ListPageMixin, done
from modelworks.scenarios import services
from modelworks.scenarios.models import ScenarioRun
from modelworks.scenarios.views.base import ScenarioPageView

__all__ = ["RunCancelView", "RunHistoryView", "RunLiveView", "RunView"]


class RunHistoryView(ListPageMixin, ScenarioPageView):
    """Every run (and skipped firing) of the scenario, newest first."""

    template_name = "scenarios/runs.html"
    fragment_template_name = "scenarios/partials/run_table.html"
    paginate_by = 25

    def get_queryset(self) -> Any:
        return self.scenario.runs.select_related("triggered_by", "acting_as").order_by("-created_at", "-id")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.list_context())
        return context


class RunView(ScenarioPageView):
    """One run: trigger, who it acted as, status, and each step's result with links to its jobs."""

    template_name = "scenarios/run.html"
    run: ScenarioRun

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        run = (
            self.scenario.runs.select_related("triggered_by", "acting_as", "job", "trigger")
            .filter(number=self.kwargs["number"])
            .first()
        )
        if run is None:
            raise Http404(f"'{self.scenario.name}' has no run {self.kwargs['number']}.")
        self.run = services.reconcile_run(run)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(run=self.run, steps=self.run.step_results, heading=f"Run {self.run.number}")
        return context


class RunLiveView(RunView):
    """The run's status panel, polled every second by the run page while the run is active."""

    fragment_template_name = "scenarios/partials/run_live.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not wants_fragment(request):
            return done(
                request, reverse("scenarios:run", args=[self.project.slug, self.scenario.pk, self.run.number])
            )
        return super().get(request, *args, **kwargs)


class RunCancelView(RunView):
    """Cancel a queued or running run (its current step's job is cancelled too)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        url = reverse("scenarios:run", args=[self.project.slug, self.scenario.pk, self.run.number])
        try:
            run = services.cancel_run(self.run, actor=request.user, request=request)
        except JobStateError as exc:
            messages.error(request, str(exc)[:1].upper() + str(exc)[1:])
            return done(request, url)
        if run.status == "cancelled":
            return done(request, url, "Run cancelled.")
        return done(request, url, "Cancellation requested: the run stops its current step and ends.")
