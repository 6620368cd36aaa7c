"""Scenario pages: the list (last outcome, next run), one scenario (triggers, steps, recent runs and
their forms), its settings, "Run now", deletion and the schedule preview of the trigger form."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from modelworks.core.forms import add_service_error
from modelworks.core.models import Role
from modelworks.core.views.base import ProjectPageView, done
from modelworks.scenarios import services
from modelworks.scenarios.forms import ScenarioForm, ScenarioSettingsForm, StepForm, TriggerForm
from modelworks.scenarios.models import RunTrigger, Scenario, TriggerKind
from modelworks.scenarios.services.definitions import describe_step
from modelworks.scenarios.views.base import ScenarioPageView

__all__ = [
    "CronPreviewView",
    "ScenarioDeleteView",
    "ScenarioListView",
    "ScenarioRunNowView",
    "ScenarioSettingsView",
    "ScenarioView",
]

RECENT_RUNS = 10


def _next_run(scenario: Scenario) -> Any:
    if not scenario.enabled:
        return None
    times = [
        t.next_fire_at
        for t in scenario.triggers.all()
        if t.kind == TriggerKind.CRON and t.enabled and t.next_fire_at
    ]
    return min(times, default=None)


class ScenarioListView(ProjectPageView):
    """The project's scenarios with their last outcome and next scheduled run; contributors create here."""

    template_name = "scenarios/list.html"
    title = "Scenarios"
    nav = "scenarios"
    write_role = Role.CONTRIBUTOR

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        scenarios = list(
            Scenario.objects.filter(project=self.project)
            .prefetch_related("triggers", "steps")
            .order_by("name")
        )
        for scenario in scenarios:
            scenario.last_run = scenario.runs.exclude(status="skipped").order_by("-created_at", "-id").first()
            scenario.next_run = _next_run(scenario)
        context.update(scenarios=scenarios)
        context.setdefault("form", ScenarioForm())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ScenarioForm(request.POST)
        if form.is_valid():
            try:
                scenario = services.create_scenario(
                    self.project,
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    request=request,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(
                    request,
                    reverse("scenarios:detail", args=[self.project.slug, scenario.pk]),
                    "Scenario created. Add its steps and triggers.",
                )
        return self.render_form_errors(form=form)


class ScenarioView(ScenarioPageView):
    """One scenario: triggers (with the next times of schedules), steps, recent runs and their forms."""

    template_name = "scenarios/detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        scenario = self.scenario
        now = timezone.now()
        triggers = list(scenario.triggers.select_related("dataset", "upstream"))
        for trigger in triggers:
            trigger.upcoming = (
                services.next_times(trigger.cron, now, 3)
                if trigger.kind == TriggerKind.CRON and trigger.enabled and scenario.enabled
                else []
            )
            trigger.explained = (
                services.describe_cron(trigger.cron) if trigger.kind == TriggerKind.CRON else ""
            )
        runs = list(scenario.runs.select_related("triggered_by")[:RECENT_RUNS])
        steps = list(scenario.steps.all())
        for step in steps:
            step.summary = describe_step(scenario.project, step.kind, step.params)
        context.update(
            triggers=triggers,
            steps=steps,
            runs=runs,
            active_run=next((r for r in runs if r.is_active), None),
            downstream=list(scenario.downstream_triggers.select_related("scenario")),
        )
        context.setdefault("trigger_form", TriggerForm(scenario=scenario))
        context.setdefault("step_form", StepForm(scenario=scenario))
        return context


class ScenarioSettingsView(ScenarioPageView):
    """Name, description, enabled and "run as" (contributors; only admins may pick someone else)."""

    template_name = "scenarios/settings.html"
    needed_role = Role.CONTRIBUTOR

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ScenarioSettingsForm.for_scenario(self.scenario))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ScenarioSettingsForm.for_scenario(self.scenario, request.POST)
        if form.is_valid():
            try:
                services.update_scenario(self.scenario, actor=request.user, request=request, **form.changes())
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(request, self.detail_url(), "Scenario saved.")
        return self.render_form_errors(form=form)


class ScenarioDeleteView(ScenarioPageView):
    """Delete the scenario and its history (project admins)."""

    http_method_names = ["post"]
    write_role = Role.ADMIN

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        name = self.scenario.name
        services.delete_scenario(self.scenario, actor=request.user, request=request)
        return done(
            request, reverse("scenarios:list", args=[self.project.slug]), f"Scenario “{name}” deleted."
        )


class ScenarioRunNowView(ScenarioPageView):
    """Start a run by hand (it acts as you); skipped with the reason when a run is active."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        run = services.start_run(
            self.scenario, trigger_kind=RunTrigger.MANUAL, triggered_by=request.user, request=request
        )
        url = reverse("scenarios:run", args=[self.project.slug, self.scenario.pk, run.number])
        if run.status == "skipped":
            return done(request, url, f"Not started: {run.reason}")
        return done(request, url, f"Run {run.number} queued.")


class CronPreviewView(ProjectPageView):
    """The next three times of a schedule, or what is wrong with it (an HTMX fragment of the trigger form)."""

    template_name = "scenarios/partials/cron_preview.html"
    nav = "scenarios"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        text = self.request.GET.get("cron", "")[:200]
        times: list[Any] = []
        error = explained = ""
        if text.strip():
            try:
                text = services.validate_cron(text)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                times = services.next_times(text, timezone.now(), 3)
                explained = services.describe_cron(text)
        context.update(cron=text, times=times, error=error, explained=explained)
        return context
