"""A recipe's page (inputs, outputs, settings read-only, last build steps, compiled SQL, Build),
the new-recipe and edit-recipe pages (the editor, saved through the services) and deleting one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.models import Role
from modelworks.core.views.base import done
from modelworks.flows import services
from modelworks.flows.forms.editor import EditorState
from modelworks.flows.forms.kinds import kind_choice, processor_choice
from modelworks.flows.forms.params import display_value
from modelworks.flows.forms.score import TARGET_SETTINGS as SCORE_PICKED
from modelworks.flows.models import BuildStep
from modelworks.flows.models.recipes import DEFAULT_STORAGE_SCHEMA
from modelworks.flows.services import pipeline
from modelworks.flows.views.base import FlowPageView, RecipePageView
from modelworks.flows.views.editor import EditorMixin, error_dict, python_template, sql_template

__all__ = ["RecipeCreateView", "RecipeDeleteView", "RecipeEditView", "RecipeView"]


def storage_label(link: Any) -> str:
    """Where an output's versions are stored, in the user's words."""
    if link.virtual:
        return "Not stored (virtual)"
    if link.storage_connection_id:
        name = link.storage_connection.name if link.storage_connection else "?"
        return f"PostgreSQL '{name}', schema {link.storage_schema or DEFAULT_STORAGE_SCHEMA}"
    return "Modelworks storage"


def _settings_rows(params: Any, values: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.label, display_value(p, values.get(p.name))) for p in params if p.name in values]


class RecipeView(RecipePageView):
    """One recipe for everyone in the project; contributors also get Edit, Build and Delete."""

    template_name = "flows/recipe.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        recipe = self.recipe
        kind = kind_choice(recipe.kind)
        spec = dict(recipe.spec or {})
        inputs, outputs = recipe.input_datasets, recipe.output_datasets
        shape = services.RecipeShape.of(recipe)
        current = pipeline.pipelined_fingerprints(self.project).get(shape.key)
        built = pipeline.last_built_fingerprints(self.project, [shape]).get(shape.key)
        if all(link.virtual for link in recipe.output_links.all()):
            freshness = ("virtual", "Not stored: computed on the fly by the recipes that read its output")
        elif built is None:
            freshness = ("never_built", "Never built")
        elif current == built:
            freshness = ("built", "Up to date")
        else:
            freshness = ("out_of_date", "Out of date: the recipe or an input changed since the last build")
        steps = []
        if recipe.kind == "prepare":
            for index, step in enumerate(spec.get("steps") or []):
                processor = processor_choice(str(step.get("processor", "")))
                steps.append(
                    {
                        "number": index + 1,
                        "label": processor.label if processor else step.get("processor", "?"),
                        "enabled": step.get("enabled", True),
                        "comment": step.get("comment", ""),
                        "settings": _settings_rows(processor.params, step.get("params") or {})
                        if processor
                        else [],
                    }
                )
        code = kind.code_param if kind else None
        sql: list[tuple[str, str]] = []
        sql_error = ""
        if recipe.kind == "score":
            from modelworks.flows.views.score import score_summary

            context["score"] = score_summary(recipe)
        elif recipe.kind != "python":
            try:
                sql = services.recipe_sql(recipe)
            except ValidationError as exc:
                sql_error = " ".join(exc.messages)
        links = recipe.output_links.select_related("dataset", "storage_connection").order_by("position")
        context.update(
            kind=kind,
            inputs=inputs,
            outputs=outputs,
            output_rows=[(link.dataset, storage_label(link)) for link in links],
            freshness=freshness,
            prepare_steps=steps,
            settings_rows=_settings_rows(
                [p for p in kind.other_params if recipe.kind != "score" or p.name not in SCORE_PICKED],
                spec,
            )
            if kind and not code
            else [],
            code=str(spec.get(code.name, "")) if code else "",
            compiled=sql,
            compiled_error=sql_error,
            last_steps=BuildStep.objects.filter(recipe=recipe)
            .select_related("build")
            .order_by("-build__created_at", "-id")[:10],
        )
        return context


class RecipeCreateView(EditorMixin, FlowPageView):
    """A new recipe of one kind (``?input=<dataset id>`` preselects the input); contributors."""

    template_name = "flows/recipe_edit.html"
    needed_role = Role.CONTRIBUTOR
    write_role = Role.CONTRIBUTOR

    def get_title(self) -> str:
        kind = kind_choice(self.kwargs["kind"])
        return f"New {kind.label if kind else ''} recipe · {self.project.name}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if "state" not in context:
            raw = self.request.GET.get("input", "")
            state = EditorState.new(
                self.get_kind(), self.project, input_id=int(raw) if raw.isdigit() else None
            )
            if state.kind.kind == "python":
                state.settings[state.kind.code_param.name] = python_template(  # type: ignore[union-attr]
                    [d.name for d in state.inputs(self.project)], state.output_names
                )
            elif state.kind.kind == "sql":
                state.settings[state.kind.code_param.name] = sql_template(  # type: ignore[union-attr]
                    [d.name for d in state.inputs(self.project)]
                )
            context.update(self.editor_context(state))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        state = EditorState.from_post(self.get_kind(), request.POST)
        try:
            recipe = services.create_recipe(
                self.project,
                actor=request.user,
                name=state.name,
                kind=state.kind.kind,
                inputs=state.inputs(self.project),
                outputs=state.outputs(self.project),
                spec=state.spec,
                description=state.description,
                virtual_outputs=state.virtual_outputs,
                request=request,
            )
        except ValidationError as exc:
            return self.render_form_errors(**self.editor_context(state, error_dict(exc)))
        return done(
            request,
            reverse("flows:recipe", args=[self.project.slug, recipe.pk]),
            f"Recipe “{recipe.name}” saved. Build it to write its output.",
        )


class RecipeEditView(EditorMixin, RecipePageView):
    """Change a recipe (contributors); its kind stays."""

    template_name = "flows/recipe_edit.html"
    needed_role = Role.CONTRIBUTOR
    write_role = Role.CONTRIBUTOR

    def get_title(self) -> str:
        return f"Edit {self.recipe.name} · {self.project.name}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if "state" not in context:
            context.update(self.editor_context(EditorState.of(self.recipe, self.get_kind())))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        state = EditorState.from_post(self.get_kind(), request.POST)
        try:
            recipe = services.update_recipe(
                self.recipe,
                actor=request.user,
                name=state.name,
                inputs=state.inputs(self.project),
                outputs=state.outputs(self.project),
                spec=state.spec,
                description=state.description,
                virtual_outputs=state.virtual_outputs,
                request=request,
            )
        except ValidationError as exc:
            return self.render_form_errors(**self.editor_context(state, error_dict(exc)))
        return done(request, reverse("flows:recipe", args=[self.project.slug, recipe.pk]), "Recipe saved.")


class RecipeDeleteView(RecipePageView):
    """Delete a recipe (contributors). Its output datasets stay with their versions."""

    http_method_names = ["post"]
    write_role = Role.CONTRIBUTOR

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        name = self.recipe.name
        if request.POST.get("confirm") != "yes":
            messages.error(request, f"Tick “Yes, delete {name}” to confirm, then press Delete again.")
            return done(request, reverse("flows:recipe", args=[self.project.slug, self.recipe.pk]))
        try:
            services.delete_recipe(self.recipe, actor=request.user, request=request)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return done(request, reverse("flows:recipe", args=[self.project.slug, self.recipe.pk]))
        return done(
            request,
            reverse("flows:flow", args=[self.project.slug]),
            f"Recipe “{name}” deleted. Its output datasets and their versions are kept.",
        )
