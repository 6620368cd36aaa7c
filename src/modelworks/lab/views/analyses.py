"""Lab pages about analyses: the list (and "New analysis"), the column pickers of the create form,
the design page (feature handling, algorithms, budget, validation, metric, data checks), "Train"
and deletion."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.forms import add_service_error
from modelworks.core.models import Role
from modelworks.core.views.base import ProjectPageView, done
from modelworks.datasets.models import Dataset
from modelworks.engine.automl.algorithms import ALGORITHMS
from modelworks.engine.automl.evaluation import METRICS
from modelworks.engine.automl.types import ENCODES, FEATURE_KINDS, IMPUTES
from modelworks.lab import services
from modelworks.lab.forms import AnalysisCreateForm
from modelworks.lab.models import Analysis
from modelworks.lab.services import TrainingConflict
from modelworks.lab.services.data import max_rows
from modelworks.lab.services.design import budget_range, metric_choices
from modelworks.lab.views.base import AnalysisPageView

__all__ = [
    "AnalysisDeleteView",
    "AnalysisDesignView",
    "AnalysisListView",
    "AnalysisTrainView",
    "ColumnChoicesView",
    "design_changes",
]

KIND_LABELS = {
    "numeric": "Number",
    "categorical": "Category",
    "text": "Free text (TF-IDF)",
    "date": "Date (parts)",
    "drop": "Not used",
}
IMPUTE_LABELS = {
    "mean": "Average",
    "median": "Median",
    "most_frequent": "Most frequent",
    "constant": "A fixed value",
    "none": "Leave as is",
}
ENCODE_LABELS = {"onehot": "One column per value", "ordinal": "Codes", "none": "Not applicable"}


class AnalysisListView(ProjectPageView):
    """The project's analyses with their latest training; contributors create one here."""

    template_name = "lab/list.html"
    title = "Lab"
    nav = "lab"
    write_role = Role.CONTRIBUTOR

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        analyses = list(
            Analysis.objects.filter(project=self.project).select_related("dataset").order_by("name")
        )
        for analysis in analyses:
            analysis.last = analysis.latest_session  # type: ignore[attr-defined]
        context["analyses"] = analyses
        context.setdefault("form", AnalysisCreateForm(project=self.project))
        context["has_datasets"] = Dataset.objects.filter(project=self.project).exists()
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = AnalysisCreateForm(request.POST, project=self.project)
        if form.is_valid():
            data = form.cleaned_data
            try:
                analysis = services.create_analysis(
                    self.project,
                    actor=request.user,  # type: ignore[arg-type]
                    name=data["name"],
                    dataset=data["dataset"],
                    target=data["target"],
                    task=data["task"] or None,
                    time_column=data["time_column"],
                    request=request,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = reverse("lab:design", args=[self.project.slug, analysis.pk])
                return done(
                    request,
                    url,
                    f"Analysis '{analysis.name}' created: check the proposed design, then train.",
                )
        return self.render_form_errors(form=form)


class ColumnChoicesView(ProjectPageView):
    """The target and time column pickers of the create form for the dataset chosen (HTMX)."""

    template_name = "lab/partials/column_fields.html"
    nav = "lab"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = AnalysisCreateForm(project=self.project)
        chosen = self.request.GET.get("dataset", "")
        dataset = (
            Dataset.objects.filter(project=self.project, pk=chosen).first() if chosen.isdigit() else None
        )
        if chosen and dataset is None:
            raise Http404(f"No dataset {chosen[:20]} in project '{self.project.slug}'.")
        form.set_columns(dataset)
        context["form"] = form
        return context


def design_changes(post: Any, analysis: Analysis) -> dict[str, Any]:
    """The design fields of a submitted design form, as ``update_design`` keyword arguments."""
    features = []
    for index, feature in enumerate(analysis.features):
        if f"kind_{index}" not in post:
            continue
        features.append(
            {
                "column": feature["column"],
                "kind": post.get(f"kind_{index}"),
                "impute": post.get(f"impute_{index}", feature.get("impute", "none")),
                "encode": post.get(f"encode_{index}", feature.get("encode", "none")),
                "scale": post.get(f"scale_{index}") == "on",
            }
        )
    changes: dict[str, Any] = {
        "name": post.get("name", analysis.name),
        "description": post.get("description", analysis.description),
        "features": features,
        "algorithms": post.getlist("algorithms"),
        "time_budget_s": post.get("time_budget_s", ""),
        "max_trials": post.get("max_trials", ""),
        "metric": post.get("metric", ""),
        "time_column": post.get("time_column", analysis.time_column),
        "validation": {
            "kind": post.get("validation_kind", "kfold"),
            "folds": post.get("folds", 5),
            "holdout_fraction": _percent(post.get("holdout_percent", "20")),
        },
    }
    return changes


def _percent(value: Any) -> Any:
    try:
        return float(value) / 100.0
    except (TypeError, ValueError):
        return value


class AnalysisDesignView(AnalysisPageView):
    """The design page: every column with its proposed handling and reason, algorithms, budget,
    validation, metric and the data checks (errors disable "Train" and say why)."""

    template_name = "lab/design.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        analysis = self.analysis
        version = analysis.dataset.current_version if analysis.dataset is not None else None
        types = {c["name"]: c.get("type", "") for c in (version.schema if version else [])}
        context.update(
            rows=[
                {
                    **f,
                    "index": i,
                    "type": types.get(f["column"], ""),
                    "is_target": f["column"] == analysis.target,
                }
                for i, f in enumerate(analysis.features)
            ],
            kinds=[(k, KIND_LABELS[k]) for k in FEATURE_KINDS],
            imputes=[(k, IMPUTE_LABELS[k]) for k in IMPUTES],
            encodes=[(k, ENCODE_LABELS[k]) for k in ENCODES],
            algorithms=[info for info in ALGORITHMS.values() if analysis.task in info.tasks],
            metrics=metric_choices(analysis.task),
            metric_info=METRICS.get(analysis.metric),
            date_columns=[n for n, t in types.items() if t in ("date", "timestamp") and n != analysis.target],
            budget_min=budget_range()[0],
            budget_max=budget_range()[1],
            holdout_percent=round(float(analysis.validation.get("holdout_fraction", 0.2)) * 100),
            version=version,
            stale=version is not None and analysis.checked_version_id != version.pk,
            row_limit=max_rows(),
            blocking=analysis.blocking_checks,
            sessions=list(analysis.sessions.order_by("-number")[:5]),
        )
        context.setdefault("errors", [])
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            services.update_design(
                self.analysis,
                actor=request.user,  # type: ignore[arg-type]
                request=request,
                **design_changes(request.POST, self.analysis),
            )
        except ValidationError as exc:
            self.analysis.refresh_from_db()
            return self.render_form_errors(errors=_messages(exc))
        message = "Design saved." + (
            " A data check blocks training: see below." if self.analysis.blocking_checks else ""
        )
        return done(request, self.design_url(), message)


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{'' if k == '__all__' else k.replace('_', ' ').capitalize() + ': '}{m}"
            for k, ms in exc.message_dict.items()
            for m in ms
        ]
    return list(exc.messages)


class AnalysisTrainView(AnalysisPageView):
    """POST: start a training of the design as saved, then show its progress."""

    template_name = "lab/design.html"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            session = services.start_training(self.analysis, actor=request.user, request=request)  # type: ignore[arg-type]
        except TrainingConflict as exc:
            return self._refused(request, exc.message, 409)
        except ValidationError as exc:
            return self._refused(request, " ".join(_messages(exc)), 422)
        url = reverse("lab:session", args=[self.project.slug, self.analysis.pk, session.number])
        return done(request, url, f"Training {session.number} queued.")

    def _refused(self, request: HttpRequest, message: str, status: int) -> HttpResponse:
        view = AnalysisDesignView()
        view.setup(request, *self.args, **self.kwargs)
        view.project, view.role, view.analysis = self.project, self.role, self.analysis
        context = view.get_context_data(errors=[message])
        return view.render_to_response(context, status=status)


class AnalysisDeleteView(AnalysisPageView):
    """POST: delete the analysis and its trainings (project admins)."""

    template_name = "lab/design.html"
    http_method_names = ["post"]
    write_role = Role.ADMIN

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        name = self.analysis.name
        services.delete_analysis(self.analysis, actor=request.user, request=request)  # type: ignore[arg-type]
        return done(request, reverse("lab:list", args=[self.project.slug]), f"Analysis '{name}' deleted.")
