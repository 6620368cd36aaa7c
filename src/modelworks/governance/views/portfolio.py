"""Portfolio pages: the list with filters and the prioritisation matrix, a use case's page (all its
facts, stage history, linked projects with their models and deployments), create / edit / delete,
and stage moves.

Bases: ``PortfolioPageView`` (any signed-in user; ``lead_only`` for governance leads, others 403)
and ``UseCasePageView`` (one use case by ``slug``: 404 when the caller may not see it; ``edit`` or
``lead`` for what the page needs, 403 otherwise).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.safestring import mark_safe

from modelworks.core.forms import add_service_error
from modelworks.core.models import Project, User
from modelworks.core.views.base import ListPageMixin, PageView, done
from modelworks.governance.api.portfolio import linked_projects_for
from modelworks.governance.forms_portfolio import MoveForm, PortfolioFilterForm, UseCaseForm
from modelworks.governance.models import PRIORITY_FORMULA, StageKind, UseCase
from modelworks.governance.services import portfolio as services
from modelworks.governance.services.access import (
    can_edit_use_case,
    is_lead,
    is_portfolio_viewer,
    visible_use_cases,
)
from modelworks.governance.services.portfolio_matrix import QUADRANTS, MatrixPoint, prioritisation_matrix

__all__ = [
    "PortfolioPageView",
    "PortfolioView",
    "UseCaseCreateView",
    "UseCaseDeleteView",
    "UseCaseDetailView",
    "UseCaseEditView",
    "UseCaseMoveView",
    "UseCasePageView",
]

MATRIX_LIMIT = 300


class PortfolioPageView(PageView):
    """A portfolio page for signed-in users; ``lead_only`` pages are for governance leads (403)."""

    nav = "portfolio"
    lead_only = False
    lead_message = "Only governance leads can use this page; ask an instance administrator for the role."

    def check_access(self, request: HttpRequest) -> None:
        if self.lead_only and not is_lead(request.user):
            raise PermissionDenied(self.lead_message)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["is_lead"] = is_lead(self.request.user)
        return context


class UseCasePageView(PortfolioPageView):
    """A page of one use case (URL argument ``slug``); ``edit`` / ``lead`` say who may use it."""

    edit = False
    lead = False
    use_case: UseCase

    def check_access(self, request: HttpRequest) -> None:
        self.use_case = services.get_use_case(
            request.user, self.kwargs["slug"], edit=self.edit, lead=self.lead
        )

    def get_title(self) -> str:
        return f"{self.title} · {self.use_case.title}" if self.title else self.use_case.title

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["use_case"] = self.use_case
        context["can_edit"] = can_edit_use_case(self.request.user, self.use_case)
        return context


class PortfolioView(ListPageMixin, PortfolioPageView):
    """Every use case the caller may see: filters, sortable table and the prioritisation matrix."""

    template_name = "governance/portfolio/portfolio.html"
    fragment_template_name = "governance/portfolio/partials/results.html"
    title = "Use-case portfolio"
    paginate_by = 50

    def filter_form(self) -> PortfolioFilterForm:
        visible = visible_use_cases(self.request.user)
        units = sorted({u for u in visible.values_list("business_unit", flat=True) if u})
        owners = list(User.objects.filter(id__in=visible.values("business_owner_id")).order_by("username"))
        return PortfolioFilterForm(self.request.GET or None, units=units, owners=owners)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = self.filter_form()
        filters: dict[str, Any] = {}
        queryset = services.filter_use_cases(self.request.user)
        if form.is_bound and form.is_valid():
            filters = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
            queryset = services.filter_use_cases(self.request.user, **filters)
        elif form.is_bound:
            queryset = queryset.none()
        self.queryset = queryset
        listing = self.list_context()
        listing["filter_form"] = form
        listing["filtered"] = bool(filters) and set(filters) != {"sort"}
        scored = [uc for uc in queryset.filter(feasibility_score__isnull=False)[:MATRIX_LIMIT]]
        points = [
            MatrixPoint(
                title=uc.title,
                url=reverse("governance:usecase_detail", args=[uc.slug]),
                feasibility=int(uc.feasibility_score or 0),
                value=uc.first_year_value,
                effort_days=uc.cost_people_days,
                risk=uc.risk_level,
                stage=uc.stage.label,
            )
            for uc in scored
        ]
        currencies = {uc.currency for uc in scored}
        currency = currencies.pop() if len(currencies) == 1 else "EUR"
        svg, split = prioritisation_matrix(points, currency=currency)
        context.update(
            listing,
            matrix_svg=mark_safe(svg),  # noqa: S308 - built by portfolio_matrix, which escapes every label
            value_split=split,
            matrix_currency=currency,
            mixed_currencies=len({uc.currency for uc in scored}) > 1,
            unscored=queryset.filter(feasibility_score__isnull=True).count(),
            quadrants=QUADRANTS.values(),
            priority_formula=PRIORITY_FORMULA,
            sees_all=is_portfolio_viewer(self.request.user),
            total=queryset.count(),
        )
        return context

    def get_queryset(self) -> Any:
        return self.queryset


class UseCaseDetailView(UseCasePageView):
    template_name = "governance/portfolio/detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from modelworks.deployments.models import Deployment
        from modelworks.registry.models import RegisteredModel

        context = super().get_context_data(**kwargs)
        user = self.request.user
        projects = linked_projects_for(user, self.use_case)
        linked = []
        for project in projects:
            models = RegisteredModel.objects.filter(project=project).prefetch_related(
                "aliases__model_version"
            )
            deployments = Deployment.objects.filter(project=project).order_by("name")
            linked.append({"project": project, "models": list(models), "deployments": list(deployments)})
        stage = self.use_case.stage
        is_owner = self.use_case.business_owner_id == user.id
        can_move = is_lead(user) or (is_owner and stage.kind == StageKind.ACTIVE)
        context.update(
            linked=linked,
            member_project_ids=set(Project.objects.visible_to(user).values_list("id", flat=True)),
            history=self.use_case.stage_changes.select_related("from_stage", "to_stage", "actor").order_by(
                "created_at", "id"
            ),
            move_form=kwargs.get("move_form") or MoveForm(current=stage) if can_move else None,
            owner_moves_active_only=not is_lead(user),
            expected_benefit=(self.use_case.details or {}).get("expected_benefit", ""),
            priority_formula=PRIORITY_FORMULA,
        )
        return context


class UseCaseCreateView(PortfolioPageView):
    template_name = "governance/portfolio/form.html"
    title = "New use case"
    lead_only = True
    lead_message = "Only governance leads can add use cases; you can submit an idea instead."

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", UseCaseForm(editor=self.request.user))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = UseCaseForm(request.POST, editor=request.user)
        if form.is_valid():
            values, projects = form.values()
            try:
                use_case = services.create_use_case(
                    actor=request.user, projects=projects, request=request, **values
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = reverse("governance:usecase_detail", args=[use_case.slug])
                return done(request, url, f"Use case '{use_case.title}' added to the portfolio.")
        return self.render_form_errors(form=form)


class UseCaseEditView(UseCasePageView):
    template_name = "governance/portfolio/form.html"
    title = "Edit"
    edit = True

    def _form(self, data: Any = None) -> UseCaseForm:
        initial = None if data is not None else UseCaseForm.initial_of(self.use_case)
        return UseCaseForm(
            data,
            initial=initial,
            editor=self.request.user,
            use_case=self.use_case,
            can_change_owner=is_lead(self.request.user),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self._form())
        context["editing"] = True
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self._form(request.POST)
        if form.is_valid():
            values, projects = form.values()
            if not is_lead(request.user):
                values.pop("business_owner")
            try:
                services.update_use_case(
                    self.use_case, actor=request.user, projects=projects, request=request, **values
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = reverse("governance:usecase_detail", args=[self.use_case.slug])
                return done(request, url, f"Use case '{self.use_case.title}' saved.")
        return self.render_form_errors(form=form)


class UseCaseDeleteView(UseCasePageView):
    template_name = "governance/portfolio/delete.html"
    title = "Delete"
    lead = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        title = self.use_case.title
        services.delete_use_case(self.use_case, actor=request.user, request=request)
        return done(request, reverse("governance:portfolio"), f"Use case '{title}' deleted.")


class UseCaseMoveView(UseCasePageView):
    """Move to another stage (POST): leads anywhere, the business owner between active stages."""

    template_name = "governance/portfolio/detail.html"
    edit = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = MoveForm(request.POST, current=self.use_case.stage)
        if form.is_valid():
            try:
                change = services.move_use_case(
                    self.use_case,
                    form.cleaned_data["stage"],
                    actor=request.user,
                    comment=form.cleaned_data["comment"],
                    request=request,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = reverse("governance:usecase_detail", args=[self.use_case.slug])
                return done(
                    request, url, f"'{self.use_case.title}' moved to stage '{change.to_stage.label}'."
                )
        detail = UseCaseDetailView(request=request, kwargs=self.kwargs, args=self.args)
        detail.use_case = self.use_case
        return detail.render_to_response(detail.get_context_data(move_form=form), status=422)
