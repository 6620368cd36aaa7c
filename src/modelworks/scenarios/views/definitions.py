"""Adding, switching, editing, moving and deleting a scenario's triggers and steps (contributors)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse

from modelworks.core.forms import add_service_error
from modelworks.core.models import Role
from modelworks.core.views.base import done
from modelworks.scenarios import services
from modelworks.scenarios.forms import StepForm, TriggerForm
from modelworks.scenarios.models import Step, Trigger
from modelworks.scenarios.views.base import ScenarioPageView
from modelworks.scenarios.views.scenarios import ScenarioView

__all__ = [
    "StepAddView",
    "StepDeleteView",
    "StepEditView",
    "StepMoveView",
    "TriggerAddView",
    "TriggerDeleteView",
    "TriggerEditView",
    "TriggerUpdateView",
]


def _on_form(form: Any, exc: ValidationError) -> None:
    """Service errors on the form; a job step's ``params`` error belongs to the JSON field."""
    if hasattr(exc, "error_dict") and "params" in exc.error_dict and "job_params" in form.fields:
        exc = ValidationError({("job_params" if k == "params" else k): v for k, v in exc.error_dict.items()})
    add_service_error(form, exc)


class TriggerAddView(ScenarioView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = TriggerForm(request.POST, scenario=self.scenario)
        if form.is_valid():
            try:
                services.add_trigger(
                    self.scenario, actor=request.user, request=request, **form.fields_for_service()
                )
            except ValidationError as exc:
                _on_form(form, exc)
            else:
                return done(request, self.detail_url(), "Trigger added.")
        return self.render_form_errors(trigger_form=form)


class _TriggerView(ScenarioPageView):
    http_method_names = ["post"]
    trigger: Trigger

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        trigger = self.scenario.triggers.filter(pk=self.kwargs["trigger_pk"]).first()
        if trigger is None:
            raise Http404("No such trigger on this scenario.")
        self.trigger = trigger


class TriggerUpdateView(_TriggerView):
    """Switch a trigger on or off (``enabled`` = true/false)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        enabled = request.POST.get("enabled") == "true"
        services.update_trigger(self.trigger, actor=request.user, request=request, enabled=enabled)
        return done(
            request, self.detail_url(), "Trigger switched on." if enabled else "Trigger switched off."
        )


class TriggerEditView(_TriggerView):
    """Change a trigger: what starts the scenario (its kind) and that kind's settings (its own page,
    like a step's). Switching it on or off stays on the scenario page."""

    http_method_names = ["get", "post"]
    template_name = "scenarios/trigger.html"
    needed_role = Role.CONTRIBUTOR

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["trigger"] = self.trigger
        context.setdefault("form", TriggerForm.for_trigger(self.trigger))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = TriggerForm.for_trigger(self.trigger, request.POST)
        if form.is_valid():
            try:
                services.update_trigger(
                    self.trigger, actor=request.user, request=request, **form.fields_for_service()
                )
            except ValidationError as exc:
                _on_form(form, exc)
                self.trigger.refresh_from_db()
            else:
                return done(request, self.detail_url(), "Trigger saved.")
        return self.render_form_errors(form=form)


class TriggerDeleteView(_TriggerView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        services.delete_trigger(self.trigger, actor=request.user, request=request)
        return done(request, self.detail_url(), "Trigger deleted.")


class StepAddView(ScenarioView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = StepForm(request.POST, scenario=self.scenario)
        if form.is_valid():
            try:
                services.add_step(
                    self.scenario, actor=request.user, request=request, **form.fields_for_service()
                )
            except ValidationError as exc:
                _on_form(form, exc)
            else:
                return done(request, self.detail_url(), "Step added.")
        return self.render_form_errors(step_form=form)


class _StepView(ScenarioPageView):
    step: Step

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        step = self.scenario.steps.filter(pk=self.kwargs["step_pk"]).first()
        if step is None:
            raise Http404("No such step in this scenario.")
        self.step = step


class StepEditView(_StepView):
    """Change one step (its own page: the form depends on the step's kind)."""

    template_name = "scenarios/step.html"
    needed_role = Role.CONTRIBUTOR

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["step"] = self.step
        context.setdefault("form", StepForm.for_step(self.step))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = StepForm.for_step(self.step, request.POST)
        if form.is_valid():
            try:
                services.update_step(
                    self.step, actor=request.user, request=request, **form.fields_for_service()
                )
            except ValidationError as exc:
                _on_form(form, exc)
            else:
                return done(request, self.detail_url(), "Step saved.")
        return self.render_form_errors(form=form)


class StepMoveView(_StepView):
    """Move a step one place earlier (``direction=up``) or later."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        offset = -1 if request.POST.get("direction") == "up" else 1
        services.move_step(self.step, actor=request.user, offset=offset, request=request)
        return done(request, self.detail_url())


class StepDeleteView(_StepView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        services.delete_step(self.step, actor=request.user, request=request)
        return done(request, self.detail_url(), "Step deleted.")
