"""The flow page (the project's datasets and recipes as a graph coloured by build state), its
flow-check panel, and the form that starts a build."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.htmx import hx_redirect
from modelworks.core.models import Role
from modelworks.core.views.base import done
from modelworks.datasets.models import Dataset
from modelworks.flows import services
from modelworks.flows.forms.kinds import kind_groups
from modelworks.flows.models import Build, Recipe
from modelworks.flows.views.base import FlowPageView, safe_next
from modelworks.flows.views.drawing import STATES, draw_flow

__all__ = ["BuildSubmitView", "FlowCheckView", "FlowView"]


class FlowView(FlowPageView):
    """The flow: the graph (zoom, pan, select a node), the toolbar, the legend and the check panel.

    HTMX polls ask for the canvas alone (``partials/flow_canvas.html``) while a build runs, so the
    colours follow the build.
    """

    template_name = "flows/flow.html"
    fragment_template_name = "flows/partials/flow_canvas.html"
    title = "Flow"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        from modelworks.engine.flow import GraphError

        graph_error = ""
        try:
            drawing = draw_flow(services.flow_state(self.project), self.project.slug)
        except GraphError as exc:  # a loop or a dataset written twice: say so, draw nothing
            drawing, graph_error = None, exc.message
        unfinished = [
            services.sync_build_status(b) for b in Build.objects.unfinished().filter(project=self.project)
        ]
        running = [b for b in unfinished if not b.is_finished]
        context.update(
            drawing=drawing,
            graph_error=graph_error,
            running_builds=running,
            states=STATES,
            kind_groups=kind_groups(),
            has_datasets=Dataset.objects.filter(project=self.project).exists(),
            has_recipes=Recipe.objects.filter(project=self.project).exists(),
            last_build=Build.objects.filter(project=self.project).select_related("created_by").first(),
            focus=_focus(self.request.GET.get("focus", "")),
        )
        return context


def _focus(value: str) -> str:
    """The node to select and centre (``?focus=dataset:12`` from a dataset's page), or ``""``."""
    kind, _, pk = value.partition(":")
    return value if kind in ("dataset", "recipe") and pk.isdigit() and len(pk) < 19 else ""


class FlowCheckView(FlowPageView):
    """The flow-check panel: every recipe that would fail with the current columns (HTMX fragment)."""

    template_name = "flows/partials/check_panel.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["problems"] = services.check_flow(self.project)
        return context


def _targets(project: Any, node: str) -> list[Dataset] | None:
    """The datasets to build for a selected node (``dataset:<id>`` or ``recipe:<id>``); None: all."""
    kind, _, pk = node.partition(":")
    if not node or not pk.isdigit():
        return None
    if kind == "dataset":
        dataset = Dataset.objects.filter(project=project, pk=int(pk)).first()
        if dataset is None:
            raise ValidationError(
                {"targets": "That dataset is not in this project any more; reload the page."}
            )
        return [dataset]
    recipe = Recipe.objects.filter(project=project, pk=int(pk)).with_links().first()
    if recipe is None:
        raise ValidationError({"targets": "That recipe is not in this project any more; reload the page."})
    outputs = recipe.output_datasets
    if not outputs:
        raise ValidationError({"targets": f"Recipe '{recipe.name}' has no output to build."})
    return outputs


class BuildSubmitView(FlowPageView):
    """Start a build (contributors): the whole flow, or one node with what it needs (``node``),
    optionally forced. Sends the browser to the build's page."""

    http_method_names = ["post"]
    write_role = Role.CONTRIBUTOR

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        back = safe_next(request, reverse("flows:flow", args=[self.project.slug]))
        try:
            targets = _targets(self.project, str(request.POST.get("node", "")).strip())
            build = services.submit_build(
                self.project,
                actor=request.user,
                targets=targets,
                force=request.POST.get("force") in ("on", "1", "true"),
                request=request,
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return hx_redirect(request, back)
        what = ", ".join(d.name for d in targets) if targets else "the whole flow"
        return done(
            request,
            reverse("flows:build", args=[self.project.slug, build.pk]),
            f"Build {build.pk} queued for {what}.",
        )
