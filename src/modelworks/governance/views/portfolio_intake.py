"""Demand intake pages: submit an idea (anyone signed in), "My ideas", and the governance leads'
queue with qualify (optionally naming the business owner) and reject (with a required reason)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.forms import add_service_error
from modelworks.core.views.base import done
from modelworks.governance.forms_portfolio import IdeaForm, QualifyForm, RejectForm
from modelworks.governance.services import portfolio_intake as intake
from modelworks.governance.views.portfolio import PortfolioPageView, UseCasePageView

__all__ = ["IdeaQualifyView", "IdeaRejectView", "IdeaSubmitView", "IntakeQueueView", "MyIdeasView"]


class IdeaSubmitView(PortfolioPageView):
    template_name = "governance/portfolio/idea_form.html"
    title = "Submit an idea"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", IdeaForm())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = IdeaForm(request.POST)
        if form.is_valid():
            try:
                idea = intake.submit_idea(actor=request.user, request=request, **form.cleaned_data)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(
                    request,
                    reverse("governance:intake_mine"),
                    f"Thank you: your idea '{idea.title}' is waiting for a governance lead.",
                )
        return self.render_form_errors(form=form)


class MyIdeasView(PortfolioPageView):
    template_name = "governance/portfolio/my_ideas.html"
    title = "My ideas"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["ideas"] = list(intake.ideas_of(self.request.user)[:500])
        return context


class IntakeQueueView(PortfolioPageView):
    template_name = "governance/portfolio/queue.html"
    title = "Intake queue"
    lead_only = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        ideas = list(intake.intake_queue()[:500])
        forms = kwargs.get("forms") or {}
        context["rows"] = [
            {
                "idea": idea,
                "qualify_form": forms.get(("qualify", idea.pk)) or QualifyForm(prefix=f"q{idea.pk}"),
                "reject_form": forms.get(("reject", idea.pk)) or RejectForm(prefix=f"r{idea.pk}"),
            }
            for idea in ideas
        ]
        return context


class IdeaQualifyView(UseCasePageView):
    template_name = "governance/portfolio/queue.html"
    lead = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        idea = self.use_case
        form = QualifyForm(request.POST, prefix=f"q{idea.pk}")
        if form.is_valid():
            try:
                intake.qualify_idea(
                    idea,
                    actor=request.user,
                    business_owner=form.cleaned_data["business_owner"],
                    comment=form.cleaned_data["comment"],
                    request=request,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(request, reverse("governance:intake_queue"), f"'{idea.title}' qualified.")
        return _queue_with(request, {("qualify", idea.pk): form})


class IdeaRejectView(UseCasePageView):
    template_name = "governance/portfolio/queue.html"
    lead = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        idea = self.use_case
        form = RejectForm(request.POST, prefix=f"r{idea.pk}")
        if form.is_valid():
            try:
                intake.reject_idea(
                    idea, actor=request.user, reason=form.cleaned_data["reason"], request=request
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(
                    request,
                    reverse("governance:intake_queue"),
                    f"'{idea.title}' rejected; its submitter sees your reason.",
                )
        return _queue_with(request, {("reject", idea.pk): form})


def _queue_with(request: HttpRequest, forms: dict[tuple[str, int], Any]) -> HttpResponse:
    """The queue page again, with one form showing its errors (422)."""
    queue = IntakeQueueView(request=request, args=(), kwargs={})
    return queue.render_to_response(queue.get_context_data(forms=forms), status=422)
