"""Pages of a use case's realised value: the estimated-vs-realised overview, adding, editing,
deleting and computing value definitions.

Who: everyone who may see the use case sees its value (portfolio viewers and leads, its business
owner, its submitter, members of a linked project); governance leads and the business owner change
definitions and start computations (``governance.services.access``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse

from modelworks.core.forms import add_service_error
from modelworks.core.views.base import PageView, done
from modelworks.governance.forms_value import ValueDefinitionForm
from modelworks.governance.models import UseCase, ValueDefinition, ValueKind
from modelworks.governance.services.access import can_edit_use_case
from modelworks.governance.services.portfolio import get_use_case
from modelworks.governance.services.value import (
    RealisedValueError,
    compute_definition,
    create_definition,
    delete_definition,
    log_choices,
    source_key,
    update_definition,
    value_overview,
)
from modelworks.governance.services.value_charts import cumulative_chart, value_chart

__all__ = [
    "ValueComputeView",
    "ValueCreateView",
    "ValueDeleteView",
    "ValueEditView",
    "ValuePageView",
]


def use_case_url(use_case: UseCase) -> str | None:
    """The use case's own page (part ``portfolio``), if that page exists."""
    for name in ("governance:usecase", "governance:usecase_detail"):
        try:
            return reverse(name, args=[use_case.slug])
        except NoReverseMatch:
            continue
    return None


class UseCaseValueView(PageView):
    """A page about the value of the use case named by the ``slug`` URL argument.

    Attributes:
        edit: True when even reading the page needs the right to edit (forms, actions).
    """

    edit: bool = False
    nav = "governance"
    use_case: UseCase

    def check_access(self, request: HttpRequest) -> None:
        writes = request.method not in ("GET", "HEAD")
        self.use_case = get_use_case(request.user, self.kwargs["slug"], edit=self.edit or writes)

    def get_definition(self) -> ValueDefinition:
        definition = (
            ValueDefinition.objects.select_related("deployment", "use_case")
            .filter(use_case=self.use_case, pk=self.kwargs["pk"])
            .first()
        )
        if definition is None:
            raise Http404(f"Use case '{self.use_case.slug}' has no value definition {self.kwargs['pk']}.")
        return definition

    def value_url(self) -> str:
        return reverse("governance:value_page", args=[self.use_case.slug])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            use_case=self.use_case,
            use_case_url=use_case_url(self.use_case),
            can_edit=can_edit_use_case(self.request.user, self.use_case),
        )
        return context


class ValuePageView(UseCaseValueView):
    """Estimated vs realised value over time, then each value definition with its measurements."""

    template_name = "governance/value/page.html"

    def get_title(self) -> str:
        return f"Realised value · {self.use_case.title}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        overview = value_overview(self.use_case)
        months = overview["months"]
        currency = self.use_case.currency
        starts = [m["period_start"] for m in months]
        context.update(
            overview=overview,
            chart=value_chart(
                starts,
                [m["realised"] for m in months],
                [m["estimated"] for m in months],
                period="month",
                unit=currency,
                title="Realised vs estimated value per month",
            ),
            cumulative=cumulative_chart(
                starts,
                [m["cumulative_realised"] for m in months],
                [m["cumulative_estimated"] for m in months],
                period="month",
                unit=currency,
                title="Realised vs estimated value, cumulative",
            ),
        )
        for item in overview["definitions"]:
            d = item["definition"]
            rows = item["measurements"]
            item["chart"] = value_chart(
                [m.period_start for m in rows],
                [m.value for m in rows],
                [item["estimate"]] * len(rows) if item["estimate"] is not None else None,
                period=d.period,
                unit=d.unit,
                title=f"{d.name} per {d.period}",
            )
            item["api_path"] = f"/api/v1/governance/use-cases/{self.use_case.slug}/value/{d.pk}/measurements"
        return context


class _DefinitionFormView(UseCaseValueView):
    template_name = "governance/value/form.html"
    edit = True

    def form(self, data: Any = None, initial: dict[str, Any] | None = None) -> ValueDefinitionForm:
        return ValueDefinitionForm(data, initial=initial, sources=log_choices(self.use_case))


class ValueCreateView(_DefinitionFormView):
    """Add a value definition."""

    def get_title(self) -> str:
        return f"Measure realised value · {self.use_case.title}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.form(initial={"unit": self.use_case.currency}))
        context["creating"] = True
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.form(request.POST)
        if form.is_valid():
            try:
                definition = create_definition(
                    self.use_case,
                    actor=request.user,
                    source=form.cleaned_data["source"],
                    request=request,
                    **form.service_values(),
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                hint = (
                    " Compute it to see its first values."
                    if definition.kind == ValueKind.PREDICTION_LOG
                    else ""
                )
                return done(request, self.value_url(), f"'{definition.name}' added.{hint}")
        return self.render_form_errors(form=form)


class ValueEditView(_DefinitionFormView):
    """Change a value definition."""

    def get_title(self) -> str:
        return f"Edit value definition · {self.use_case.title}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        definition = self.get_definition()
        initial = {
            "name": definition.name,
            "kind": definition.kind,
            "source": source_key(definition),
            "row_filter": definition.row_filter,
            "value_per_row": definition.value_per_row,
            "unit": definition.unit,
            "period": definition.period,
            "description": definition.description,
        }
        context.setdefault("form", self.form(initial=initial))
        context["definition"] = definition
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        definition = self.get_definition()
        form = self.form(request.POST)
        if form.is_valid():
            try:
                update_definition(
                    definition,
                    actor=request.user,
                    source=form.cleaned_data["source"],
                    request=request,
                    **form.service_values(),
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(request, self.value_url(), f"'{definition.name}' saved.")
        return self.render_form_errors(form=form, definition=definition)


class ValueDeleteView(UseCaseValueView):
    """Delete a value definition and its measurements."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        definition = self.get_definition()
        delete_definition(definition, actor=request.user, request=request)
        return done(request, self.value_url(), f"'{definition.name}' and its measurements deleted.")


class ValueComputeView(UseCaseValueView):
    """Compute a definition now (from its whole prediction log) and come back to the value page."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from django.contrib import messages

        definition = self.get_definition()
        try:
            result = compute_definition(definition, actor=request.user, request=request)
        except RealisedValueError as exc:
            messages.error(request, f"'{definition.name}' could not be computed: {exc.message}")
            return done(request, self.value_url())
        return done(request, self.value_url(), result.message)
