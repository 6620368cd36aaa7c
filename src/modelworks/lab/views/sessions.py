"""Lab pages about one training: progress and live leaderboard while it runs, then the results
(leaderboard, metric cards, charts, importances, partial dependence, per-row explanations), the
what-if form, cancel and "Register model"."""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.forms import add_service_error
from modelworks.core.htmx import is_htmx
from modelworks.core.views.base import done
from modelworks.engine.automl.evaluation import METRICS
from modelworks.lab import services
from modelworks.lab.forms import RegisterForm
from modelworks.lab.services import TrainingConflict
from modelworks.lab.services.charts import dependence_charts, evaluation_charts, importance_charts
from modelworks.lab.views.base import SessionPageView

__all__ = ["SessionCancelView", "SessionLiveView", "SessionRegisterView", "SessionView", "WhatIfView"]


def _shown(value: Any, greater_is_better: bool) -> float | None:
    """A trial's score as the user knows the metric (losses positive again)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return float(value) if greater_is_better else -float(value)


def leaderboard_rows(session: Any) -> list[dict[str, Any]]:
    """Trials best first (failed ones last), with the optimised metric shown as the user knows it."""
    metric = METRICS.get(str(session.spec.get("metric", "")))
    better = metric.greater_is_better if metric else True
    rows = []
    for trial in session.leaderboard:
        rows.append({**trial, "shown": _shown(trial.get("score"), better)})
    rows.sort(
        key=lambda r: (r["status"] != "complete", -(r["score"] if r.get("score") is not None else -math.inf))
    )
    best = (session.best_trial or {}).get("number")
    for position, row in enumerate(rows, start=1):
        row["rank"] = position
        row["is_best"] = row.get("number") == best
    return rows


def metric_cards(session: Any) -> list[dict[str, Any]]:
    metrics = ((session.holdout or {}).get("metrics")) or {}
    cards = []
    for name, value in metrics.items():
        info = METRICS.get(name)
        cards.append(
            {
                "name": name,
                "label": info.label if info else name,
                "value": value,
                "description": info.description if info else "",
                "optimised": name == session.spec.get("metric"),
            }
        )
    cards.sort(key=lambda c: not c["optimised"])
    return cards


class SessionView(SessionPageView):
    """One training: a progress bar and live leaderboard while it runs; the results once done."""

    template_name = "lab/session.html"
    fragment_template_name = "lab/partials/session_live.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        session = self.session
        metric = METRICS.get(str(session.spec.get("metric", "")))
        context.update(
            metric=metric,
            rows=leaderboard_rows(session),
            job=session.job,
            progress_percent=session.job.progress if session.job is not None else 0,
        )
        if session.has_model:
            context.update(
                cards=metric_cards(session),
                evaluation_charts=evaluation_charts(session),
                importance_charts=importance_charts(session),
                dependence_charts=dependence_charts(session),
                explained_rows=(session.explanations or {}).get("rows_explained") or [],
                notes=(session.explanations or {}).get("notes") or [],
                fields=services.form_fields(session),
                register_form=kwargs.get("register_form")
                or RegisterForm(initial={"name": self.analysis.name}),
            )
        return context


class SessionLiveView(SessionView):
    """The live part of the training page (HTMX polling every 2 s while it runs)."""

    template_name = "lab/partials/session_live.html"
    fragment_template_name = None

    def render_to_response(self, context: dict[str, Any], **response_kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **response_kwargs)
        if not self.session.is_active and is_htmx(self.request):
            # The training ended while the page was polling: reload it whole to show the results.
            response["HX-Refresh"] = "true"
        return response


class SessionCancelView(SessionPageView):
    """POST: stop the training (contributors); no model is kept."""

    template_name = "lab/session.html"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            services.cancel_training(self.session, actor=request.user, request=request)  # type: ignore[arg-type]
        except TrainingConflict as exc:
            from django.contrib import messages

            messages.warning(request, exc.message)
            return done(request, self.session_url())
        return done(request, self.session_url(), f"Training {self.session.number} is stopping.")


class WhatIfView(SessionView):
    """GET: score the row given in the query (one parameter per feature) and show its explanation."""

    template_name = "lab/whatif.html"
    fragment_template_name = "lab/partials/whatif_result.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            answer = services.score_row(self.session, request.GET)
        except TrainingConflict as exc:
            return self.render_to_response(self.get_context_data(whatif_error=exc.message), status=409)
        except ValidationError as exc:
            messages = (
                [m for ms in exc.message_dict.values() for m in ms]
                if hasattr(exc, "error_dict")
                else exc.messages
            )
            fields = services.form_fields(self.session)
            for field in fields:
                field["value"] = request.GET.get(field["column"], "")
            context = self.get_context_data(whatif_error=" ".join(messages))
            context["fields"] = fields
            return self.render_to_response(context, status=422)
        fields = services.form_fields(self.session)
        for field in fields:
            field["value"] = answer["row"].get(field["column"])
        context = self.get_context_data(answer=answer)
        context["fields"] = fields
        return self.render_to_response(context)


class SessionRegisterView(SessionView):
    """POST: register the model in the model registry under a name, with an optional alias (contributors)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = RegisterForm(request.POST)
        if form.is_valid():
            try:
                services.register_model(
                    self.session,
                    actor=request.user,  # type: ignore[arg-type]
                    name=form.cleaned_data["name"],
                    alias=form.cleaned_data["alias"],
                    request=request,
                )
            except TrainingConflict as exc:
                form.add_error(None, exc.message)
                return self.render_to_response(self.get_context_data(register_form=form), status=409)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                s = self.session
                return done(
                    request,
                    self.session_url(),
                    f"Registered as '{s.registered_model_name}' version {s.registered_version}.",
                )
        return self.render_form_errors(register_form=form)


def session_url(slug: str, analysis_pk: int, number: int) -> str:
    return reverse("lab:session", args=[slug, analysis_pk, number])
