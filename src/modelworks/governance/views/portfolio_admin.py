"""Portfolio configuration pages: the pipeline (governance leads: add, rename, reorder, delete
unused stages) and portfolio membership (instance administrators: grant and revoke roles)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.forms import add_service_error
from modelworks.core.views.base import InstanceAdminView, done
from modelworks.governance.forms_portfolio import MemberForm, StageForm
from modelworks.governance.models import PortfolioMember, Stage
from modelworks.governance.services import portfolio_members as members
from modelworks.governance.services import portfolio_pipeline as pipeline
from modelworks.governance.views.portfolio import PortfolioPageView

__all__ = [
    "MemberRevokeView",
    "MembersView",
    "PipelineView",
    "StageDeleteView",
    "StageEditView",
    "StageReorderView",
]


class PipelineView(PortfolioPageView):
    """The stages in order with their use, an edit form per stage, and a form to add one."""

    template_name = "governance/portfolio/pipeline.html"
    title = "Pipeline"
    lead_only = True
    lead_message = "Only governance leads can configure the pipeline."

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        forms = kwargs.get("forms") or {}
        rows = []
        for stage in Stage.objects.order_by("order", "id"):
            current, history = pipeline.stage_usage(stage)
            initial = {"label": stage.label, "kind": stage.kind, "description": stage.description}
            rows.append(
                {
                    "stage": stage,
                    "current": current,
                    "history": history,
                    "protected": stage.key in pipeline.PROTECTED_STAGES,
                    "form": forms.get(stage.pk)
                    or StageForm(initial=initial, editing=True, prefix=f"s{stage.pk}"),
                    "error": (kwargs.get("errors") or {}).get(stage.pk),
                }
            )
        context.update(rows=rows, add_form=kwargs.get("add_form") or StageForm(prefix="new"))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = StageForm(request.POST, prefix="new")
        if form.is_valid():
            try:
                stage = pipeline.create_stage(actor=request.user, request=request, **form.cleaned_data)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(
                    request, reverse("governance:portfolio_pipeline"), f"Stage '{stage.label}' added."
                )
        return self.render_form_errors(add_form=form)


class _StageView(PortfolioPageView):
    template_name = "governance/portfolio/pipeline.html"
    lead_only = True
    lead_message = PipelineView.lead_message
    http_method_names = ["post"]
    stage: Stage

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        stage = Stage.objects.filter(key=self.kwargs["key"]).first()
        if stage is None:
            raise Http404(f"No pipeline stage '{self.kwargs['key']}'.")
        self.stage = stage

    def again(self, **context: Any) -> HttpResponse:
        page = PipelineView(request=self.request, args=(), kwargs={})
        return page.render_to_response(page.get_context_data(**context), status=422)


class StageEditView(_StageView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = StageForm(request.POST, editing=True, prefix=f"s{self.stage.pk}")
        if form.is_valid():
            try:
                pipeline.update_stage(self.stage, actor=request.user, request=request, **form.cleaned_data)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(
                    request, reverse("governance:portfolio_pipeline"), f"Stage '{self.stage.label}' saved."
                )
        return self.again(forms={self.stage.pk: form})


class StageReorderView(_StageView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            pipeline.reorder_stage(
                self.stage, actor=request.user, direction=request.POST.get("direction", ""), request=request
            )
        except ValidationError as exc:
            return self.again(errors={self.stage.pk: " ".join(exc.messages)})
        return done(request, reverse("governance:portfolio_pipeline"))


class StageDeleteView(_StageView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        label = self.stage.label
        try:
            pipeline.delete_stage(self.stage, actor=request.user, request=request)
        except ValidationError as exc:
            return self.again(errors={self.stage.pk: " ".join(exc.messages)})
        return done(request, reverse("governance:portfolio_pipeline"), f"Stage '{label}' deleted.")


class MembersView(InstanceAdminView):
    """Who holds a portfolio role, and a form to grant or change one (instance administrators)."""

    template_name = "governance/portfolio/members.html"
    title = "Portfolio members"
    nav = "portfolio"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["members"] = list(PortfolioMember.objects.select_related("user", "group"))
        context.setdefault("form", MemberForm())
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = MemberForm(request.POST)
        if form.is_valid():
            try:
                member = members.grant_portfolio_role(
                    actor=request.user,
                    role=form.cleaned_data["role"],
                    user=form.cleaned_data["user"],
                    group=form.cleaned_data["group"],
                    request=request,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(
                    request,
                    reverse("governance:portfolio_members"),
                    f"{member.principal_name} is now {member.get_role_display().lower()} of the portfolio.",
                )
        return self.render_form_errors(form=form)


class MemberRevokeView(InstanceAdminView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        member = (
            PortfolioMember.objects.select_related("user", "group").filter(pk=kwargs["member_id"]).first()
        )
        if member is None:
            raise Http404(f"No portfolio member {kwargs['member_id']}.")
        name = member.principal_name
        try:
            members.revoke_portfolio_role(member, actor=request.user, request=request)
        except ValidationError as exc:  # the last governance lead
            page = MembersView(request=request, args=(), kwargs={})
            context = page.get_context_data(row_error=(member.pk, " ".join(exc.messages)))
            return page.render_to_response(context, status=422)
        return done(
            request, reverse("governance:portfolio_members"), f"{name} no longer has a portfolio role."
        )
