"""The recipe editor shared by the "new recipe" and "edit recipe" pages: its context (inputs,
outputs, generated settings or Prepare steps with the columns each step can use), its structural
operations (answered with the form again) and the live preview on a sample.

The editor URLs take the whole form by POST: a recipe's settings do not fit in an address, and
contributors only may use them (they show data the same way the recipe would write it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.htmx import render_page, wants_fragment
from modelworks.core.models import Role
from modelworks.datasets.models import Dataset
from modelworks.flows import services
from modelworks.flows.forms.editor import EditorState
from modelworks.flows.forms.kinds import (
    MODE_RULES,
    KindChoice,
    kind_choice,
    processor_categories,
    processor_choice,
)
from modelworks.flows.forms.params import param_fields
from modelworks.flows.models import Recipe, RecipeOutput
from modelworks.flows.services.analysis import input_columns
from modelworks.flows.views.analysis import StepAnalysis, column_choices, prepare_steps
from modelworks.flows.views.base import FlowPageView

__all__ = [
    "EditorMixin",
    "EditorOperationView",
    "PreviewView",
    "error_dict",
    "python_template",
    "sql_template",
]

#: The rows the preview shows.
PREVIEW_ROWS = 50


def error_dict(exc: ValidationError) -> dict[str, list[str]]:
    """A service's ``ValidationError`` as messages by field (``general`` for the rest)."""
    if hasattr(exc, "error_dict"):
        return {
            ("general" if field == "__all__" else field): [m for e in errors for m in e.messages]
            for field, errors in exc.error_dict.items()
        }
    return {"general": list(exc.messages)}


def python_template(inputs: list[str], outputs: list[str]) -> str:
    """The starting code of a new Python recipe, naming its inputs and outputs."""
    first_in = inputs[0] if inputs else "my_input"
    first_out = outputs[0] if outputs else "my_output"
    lines = [
        "from modelworks_recipe import inputs, outputs",
        "",
        f"df = inputs[{first_in!r}].pandas()  # or .polars(), .arrow()",
        "",
        "# Transform df here, e.g.:",
        "# df = df[df['amount'] > 0]",
        "",
        f"outputs[{first_out!r}].write(df)",
    ]
    return "\n".join(lines) + "\n"


def sql_template(inputs: list[str]) -> str:
    """The starting query of a new SQL recipe: every row of its first input, its name quoted."""
    if not inputs:
        return ""
    quoted = '"' + inputs[0].replace('"', '""') + '"'
    return f"SELECT *\nFROM {quoted}\n"


def _show_if(name: str, prefix: str) -> dict[str, str]:
    """When each mode-dependent setting of a kind or processor applies (``ParamField.show_if``)."""
    rule = MODE_RULES.get(name)
    return rule.show_if(prefix) if rule is not None else {}


class EditorMixin:
    """What the editor pages share. Needs ``self.project`` and ``get_kind()``; ``recipe`` is the
    recipe being edited (None for a new one)."""

    recipe: Recipe | None = None
    request: HttpRequest
    kwargs: dict[str, Any]
    project: Any

    def get_kind(self) -> KindChoice:
        kind = kind_choice(self.recipe.kind if self.recipe is not None else self.kwargs["kind"])
        if kind is None:
            raise Http404("This kind of recipe is not available on this server.")
        return kind

    def editor_urls(self) -> dict[str, str]:
        slug = self.project.slug
        if self.recipe is None:
            kind = self.kwargs["kind"]
            return {
                "save_url": reverse("flows:recipe_new", args=[slug, kind]),
                "editor_url": reverse("flows:recipe_new_editor", args=[slug, kind]),
                "preview_url": reverse("flows:recipe_new_preview", args=[slug, kind]),
            }
        pk = self.recipe.pk
        return {
            "save_url": reverse("flows:recipe_edit", args=[slug, pk]),
            "editor_url": reverse("flows:recipe_editor", args=[slug, pk]),
            "preview_url": reverse("flows:recipe_preview", args=[slug, pk]),
        }

    def editor_context(
        self, state: EditorState, errors: Mapping[str, list[str]] | None = None
    ) -> dict[str, Any]:
        """Everything the editor template needs to draw ``state`` (with ``errors`` by field)."""
        errors = dict(errors or {})
        project = self.project
        kind = state.kind
        inputs = state.inputs(project)
        columns = input_columns(project, inputs)
        choices = column_choices(inputs, columns)
        datasets = list(Dataset.objects.filter(project=project).order_by("name"))
        taken = RecipeOutput.objects.filter(recipe__project=project)
        if self.recipe is not None:
            taken = taken.exclude(recipe=self.recipe)
        produced = set(taken.values_list("dataset_id", flat=True))
        chosen_inputs = {d.pk for d in inputs}
        context: dict[str, Any] = {
            "state": state,
            "kind": kind,
            "editing": self.recipe,
            "errors": errors,
            "datasets": datasets,
            "input_slots": list(enumerate(state.input_ids)),
            "output_slots": list(enumerate(state.output_names)),
            "output_options": [
                d.name for d in datasets if d.pk not in produced and d.pk not in chosen_inputs
            ],
            "column_choices": choices,
            "input_names": [d.name for d in inputs],
            "unknown_inputs": [d.name for d, c in zip(inputs, columns, strict=True) if c is None],
            "preview_sample_rows_label": f"{services.PREVIEW_SAMPLE_ROWS:,}",
            "python_preview_seconds": f"{services.python_preview_seconds():g}",
            **self.editor_urls(),
        }
        if kind.kind == "prepare":
            context.update(self._prepare_context(state, inputs, columns))
        elif kind.kind == "score":
            from modelworks.flows.views.score import score_editor_context

            context.update(score_editor_context(state, inputs, columns, choices, errors))
            context["score_choices_url"] = reverse("flows:score_model_choices", args=[project.slug])
        else:
            context["fields"] = param_fields(
                kind.other_params,
                state.settings,
                "spec",
                columns=choices,
                datalist="cols-inputs",
                show_if=_show_if(kind.kind, "spec"),
            )
            code = kind.code_param
            if code is not None:
                context["code_param"] = code
                context["code_name"] = f"spec.{code.name}"
                context["code_value"] = str(state.settings.get(code.name) or "")
        return context

    def _prepare_context(
        self, state: EditorState, inputs: list[Dataset], columns: list[Any]
    ) -> dict[str, Any]:
        analysis = self.step_analysis(state, inputs, columns)
        steps = []
        for index, (step, found) in enumerate(zip(state.steps, analysis, strict=True)):
            processor = processor_choice(str(step.get("processor", "")))
            datalist = f"cols-step-{index}"
            steps.append(
                {
                    "index": index,
                    "processor": processor,
                    "name": step.get("processor", ""),
                    "enabled": step.get("enabled", True),
                    "comment": step.get("comment", ""),
                    "fields": param_fields(
                        processor.params,
                        step.get("params") or {},
                        f"step.{index}.p",
                        columns=found.columns,
                        datalist=datalist,
                        show_if=_show_if(str(step.get("processor", "")), f"step.{index}.p"),
                    )
                    if processor
                    else [],
                    "analysis": found,
                    "datalist": datalist,
                    "focus": state.focus_step == index,
                    "first": index == 0,
                    "last": index == len(state.steps) - 1,
                }
            )
        return {"steps": steps, "processor_categories": processor_categories(), "step_count": len(steps)}

    def step_analysis(
        self, state: EditorState, inputs: list[Dataset], columns: list[Any]
    ) -> list[StepAnalysis]:
        if not state.steps:
            return []
        if not inputs:
            return [StepAnalysis([], "Choose the input dataset first.") for _ in state.steps]
        draft = self.draft(state, inputs, [n for n in state.output_names if n] or ["preview"])
        return prepare_steps(draft, columns[0])

    def draft(self, state: EditorState, inputs: list[Dataset], outputs: list[str]) -> services.RecipeDraft:
        """The editor's settings as a recipe the services can compile and preview."""
        return services.RecipeDraft(
            project=self.project,
            kind=state.kind.kind,
            spec=state.spec,
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            name=state.name.strip() or "this recipe",
        )


class EditorOperationView(EditorMixin, FlowPageView):
    """A structural change of the editor (``op``): answers the form again (HTMX) or the whole page."""

    http_method_names = ["post"]
    write_role = Role.CONTRIBUTOR
    template_name = "flows/recipe_edit.html"
    fragment_template_name = "flows/partials/editor_form.html"

    def check_access(self, request: HttpRequest) -> None:
        super().check_access(request)
        if "pk" in self.kwargs:
            self.recipe = (
                Recipe.objects.filter(project=self.project, pk=self.kwargs["pk"]).with_links().first()
            )
            if self.recipe is None:
                raise Http404(f"No recipe {self.kwargs['pk']} in project '{self.project.slug}'.")

    def get_title(self) -> str:
        return f"{'Edit' if self.recipe else 'New'} recipe · {self.project.name}"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        state = EditorState.from_post(self.get_kind(), request.POST)
        context = self.get_context_data(**self.editor_context(state))
        response = render_page(request, self.template_name, context, fragment=self.fragment_template_name)
        if wants_fragment(request):
            response["HX-Trigger-After-Settle"] = "flows-preview"
        return response


class PreviewView(EditorOperationView):
    """The first rows of the edited recipe's output on a sample of its inputs, or the error in
    plain words (naming the step and the column) instead of the table."""

    template_name = "flows/partials/preview.html"
    fragment_template_name = None

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        kind = self.get_kind()
        state = EditorState.from_post(kind, request.POST)
        inputs = state.inputs(self.project)
        output_names = [n for n in state.output_names if n] or ["preview"]
        chosen = str(request.POST.get("preview_output") or output_names[0])
        if chosen not in output_names:
            chosen = output_names[0]
        context: dict[str, Any] = {
            "kind": kind,
            "output_names": output_names,
            "chosen_output": chosen,
            "preview_url": self.editor_urls()["preview_url"],
        }
        if not inputs:
            context["message"] = "Choose the input dataset to see a preview."
        elif kind.kind == "score":
            from modelworks.flows.views.score import score_preview_context

            context.update(score_preview_context(state, inputs))
        else:
            context.update(self._run(self.draft(state, inputs, output_names), chosen))
            if kind.kind == "prepare":
                context["step_analysis"] = self._marked_steps(state, inputs, context.get("error_step"))
        return render_page(request, self.template_name, self.get_context_data(**context))

    def _marked_steps(
        self, state: EditorState, inputs: list[Dataset], failing: tuple[int, str] | None
    ) -> list[tuple[int, StepAnalysis, bool]]:
        """Each step's columns (for its pickers) and problem; the step the preview failed on shows
        the preview's own error, which the engine located (``details["step"]``)."""
        columns = input_columns(self.project, inputs[:1])
        analysis = self.step_analysis(state, inputs[:1], columns)
        marked = []
        for index, found in enumerate(analysis):
            if failing is not None and failing[0] == index:
                marked.append((index, StepAnalysis(found.columns, failing[1], found.details), True))
            else:
                marked.append((index, found, False))
        return marked

    def _run(self, draft: Any, output: str) -> dict[str, Any]:
        from modelworks.engine.errors import EngineError

        try:
            result = services.recipe_preview(draft, output=output, limit=PREVIEW_ROWS)
        except services.PreviewError as exc:
            step = exc.step
            if step is None or draft.kind != "prepare":
                return {"error": exc.engine_error.message, "error_code": exc.code}
            problem = services.StepProblem.of(exc.engine_error)
            processor = processor_choice(str(exc.details.get("processor", "")))
            return {
                "error": exc.engine_error.message,
                "error_code": exc.code,
                "error_step": (step - 1, problem.reason),
                "error_step_label": f"Step {step}" + (f" ({processor.label})" if processor else ""),
                "error_reason": problem.reason,
            }
        except ValidationError as exc:
            return {"error": " ".join(m for ms in error_dict(exc).values() for m in ms)}
        except EngineError as exc:
            # A Python recipe's error keeps the code's traceback and what it printed.
            return {
                "error": exc.message,
                "error_code": exc.code,
                "error_traceback": str(exc.details.get("traceback") or ""),
                "error_log": str(exc.details.get("log") or ""),
            }
        context: dict[str, Any] = {
            "columns": list(result.columns),
            "rows": [list(row) for row in result.rows],
            "sampled": getattr(result, "row_count_sampled", None),
            "log": getattr(result, "log", ""),
            "input_count": len(draft.inputs),
        }
        if draft.kind == "join":
            context.update(self._join_report(draft))
        return context

    @staticmethod
    def _join_report(draft: Any) -> dict[str, Any]:
        """The join's unmatched rows on the preview's sample (or why they are not shown)."""
        from modelworks.engine.errors import EngineError

        try:
            counts = services.join_preview_report(draft)
        except (ValidationError, EngineError) as exc:
            reason = exc.message if isinstance(exc, EngineError) else " ".join(exc.messages)
            return {"join_report_error": reason}
        rows = services.PREVIEW_SAMPLE_ROWS
        return {"join_report": counts, "sample_rows": rows, "sample_rows_label": f"{rows:,}"}
