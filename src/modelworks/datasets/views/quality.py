"""Quality rules of a dataset: add, switch blocking on or off, delete, run now, and the history of
runs with the failing rows of each rule."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.forms import add_service_error
from modelworks.core.jobs import enqueue
from modelworks.core.models import Role
from modelworks.core.views.base import done
from modelworks.datasets import services
from modelworks.datasets.forms import RULE_LABELS, RuleForm
from modelworks.datasets.models import QualityRule, QualityRun
from modelworks.datasets.views.base import DatasetPageView

__all__ = ["QualityRunView", "QualityView", "RuleDeleteView", "RuleUpdateView"]

RUNS_SHOWN = 10


class QualityView(DatasetPageView):
    """Rules, the "Add a rule" form (contributors post here) and recent runs."""

    template_name = "datasets/quality.html"
    tab = "quality"
    write_role = Role.CONTRIBUTOR

    def _columns(self) -> list[dict[str, Any]]:
        version = self.dataset.current_version
        return list(version.schema) if version is not None else []

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        runs = (
            QualityRun.objects.filter(version__dataset=self.dataset)
            .select_related("version", "created_by")
            .prefetch_related("results")[:RUNS_SHOWN]
        )
        runs = list(runs)
        for run in runs:
            for result in run.results.all():
                # The failing rows as a small table: the columns the rule reports, in order.
                sample = result.failing_sample or []
                result.sample_columns = list(sample[0]["values"]) if sample else []
                result.sample_rows = [
                    (row.get("row_number"), [row["values"].get(c) for c in result.sample_columns])
                    for row in sample
                ]
        context.update(
            rules=self.dataset.rules.all(),
            runs=runs,
            rule_labels=RULE_LABELS,
        )
        context.setdefault("form", RuleForm(columns=self._columns()))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = RuleForm(request.POST, columns=self._columns())
        if form.is_valid():
            try:
                services.add_rule(
                    self.dataset,
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    params=form.params(),
                    blocking=form.cleaned_data["blocking"],
                    request=request,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                return done(
                    request, request.path, "Rule added. Run the checks to see how the current version fares."
                )
        return self.render_form_errors(form=form)


class _RuleView(QualityView):
    http_method_names = ["post"]
    rule: QualityRule

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        rule = self.dataset.rules.filter(pk=self.kwargs["rule_pk"]).first()
        if rule is None:
            raise Http404("No such rule on this dataset.")
        self.rule = rule

    def back(self) -> str:
        return reverse("datasets:quality", args=[self.project.slug, self.dataset.pk])


class RuleUpdateView(_RuleView):
    """Switch a rule's ``blocking`` or ``enabled`` flag (``field`` and ``value`` in the form)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        field = request.POST.get("field")
        if field not in ("blocking", "enabled"):
            raise Http404("Only 'blocking' and 'enabled' can be switched here.")
        value = request.POST.get("value") == "true"
        services.update_rule(self.rule, actor=request.user, request=request, **{field: value})
        return done(request, self.back(), "Rule updated.")


class RuleDeleteView(_RuleView):
    """Delete a rule (its past results stay in the history)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        services.delete_rule(self.rule, actor=request.user, request=request)
        return done(request, self.back(), "Rule deleted.")


class QualityRunView(QualityView):
    """Run the rules against a version now (as a job)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = self.get_version()
        back = reverse("datasets:quality", args=[self.project.slug, self.dataset.pk])
        if version is None:
            return done(request, back, "This dataset has no version to check yet.")
        job = enqueue(
            "datasets.quality",
            title=f"Check {self.dataset.name} v{version.number}",
            project=self.project,
            created_by=request.user,
            params={"version_id": version.pk},
            request=request,
        )
        return done(request, reverse("core:job", args=[job.pk]), f"Checking version {version.number}.")
