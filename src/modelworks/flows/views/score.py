"""The Score recipe on the flow pages: its editor's pickers (model, alias or version, columns), the
fragment that refreshes the alias and version choices when the model changes, the editor's
"preview" (the output's columns: the model only runs in a build) and the recipe page's summary
(which version the alias scores with now, with links to the registry).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from modelworks.core.htmx import render_page
from modelworks.datasets.models import Dataset
from modelworks.flows.forms.editor import EditorState
from modelworks.flows.forms.params import ColumnChoice, param_fields
from modelworks.flows.forms.score import (
    PICKED_SETTINGS,
    TARGET_FIELD,
    ScoreCheck,
    check_score,
    decode_target,
    encode_target,
    score_picker,
)
from modelworks.flows.models import Recipe
from modelworks.flows.services.analysis import input_columns
from modelworks.flows.views.base import FlowPageView

__all__ = ["ScoreModelChoicesView", "score_editor_context", "score_preview_context", "score_summary"]

#: The settings drawn as selects of the input's columns.
COLUMN_SETTINGS = ("id_column", "time_column")


def _check(state: EditorState, inputs: Sequence[Dataset], columns: Sequence[Any]) -> ScoreCheck:
    project = state.project
    assert project is not None  # the editor read its inputs for this project
    return check_score(
        project,
        state.spec,
        recipe=state.name.strip() or "this recipe",
        input_name=inputs[0].name if inputs else "",
        input_columns=columns[0] if len(inputs) == 1 and columns else None,
    )


def _needs(picker_version: Any, columns: Sequence[ColumnChoice]) -> dict[str, Any]:
    """The columns the chosen version needs (from its signature), and those the input lacks."""
    if picker_version is None:
        return {"needs_columns": None, "missing_columns": []}
    from modelworks.flows.services.scoring import model_facts

    needed = model_facts(picker_version).input_columns
    have = {c.name for c in columns}
    return {
        "needs_columns": needed,
        "missing_columns": [c for c in needed or () if have and c not in have],
    }


def score_editor_context(
    state: EditorState,
    inputs: Sequence[Dataset],
    columns: Sequence[Any],
    choices: Sequence[ColumnChoice],
    errors: dict[str, list[str]],
) -> dict[str, Any]:
    """The Score form's context: the model and target pickers, the generated fields of the other
    settings, the column selects, and each problem of a failed save on its field.

    ``errors`` (the services' messages by field) loses the ``spec`` messages that are shown on a
    field instead.
    """
    project = state.project
    assert project is not None
    target = encode_target(state.settings.get("alias"), state.settings.get("version"))
    picker = score_picker(project, str(state.settings.get("model") or ""), target)
    field_errors: dict[str, str] = {}
    if errors:
        field_errors = _check(state, inputs, columns).errors
        shown = set(field_errors.values())
        remaining = [m for m in errors.get("spec", []) if m not in shown]
        if remaining:
            errors["spec"] = remaining
        else:
            errors.pop("spec", None)
    kind = state.kind
    others = [p for p in kind.other_params if p.name not in PICKED_SETTINGS]
    pickers = [p for p in kind.other_params if p.name in COLUMN_SETTINGS]
    return {
        "score": picker,
        "score_errors": field_errors,
        "score_target_field": TARGET_FIELD,
        "fields": param_fields(others, state.settings, "spec", columns=choices, errors=field_errors),
        "score_column_fields": param_fields(pickers, state.settings, "spec", errors=field_errors),
        "score_columns": list(choices),
        "score_column_names": [c.name for c in choices],
        **_needs(picker.resolved, choices),
    }


def score_preview_context(state: EditorState, inputs: Sequence[Dataset]) -> dict[str, Any]:
    """The Score editor's preview: the output's columns (the model only runs in a build, in a
    separate process), or the settings' first problem."""
    columns = input_columns(state.project, inputs[:1])
    found = _check(state, inputs[:1], columns)
    if found.errors:
        return {"error": next(iter(found.errors.values()))}
    if found.columns is None:
        return {"message": "The columns of the input are not known yet: build or import it first."}
    return {"score_columns_only": True, "columns": list(found.columns), "rows": []}


class ScoreModelChoicesView(FlowPageView):
    """The alias and version choices of one registered model (``?spec.model=<name>``), drawn for the
    Score editor when its model changes. ``spec.target`` keeps a choice the model still offers;
    ``inputs`` lets it mark the columns the version needs that the input lacks."""

    template_name = "flows/partials/score_target.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        name = str(request.GET.get("spec.model", ""))
        wanted = str(request.GET.get(TARGET_FIELD, ""))
        picker = score_picker(self.project, name, None)
        if wanted and wanted in {o.value for o in picker.aliases} | {o.value for o in picker.versions}:
            picker = score_picker(self.project, name, wanted)
        ids = [int(v) for v in request.GET.getlist("inputs") if str(v).isdigit()][:1]
        dataset = Dataset.objects.filter(project=self.project, pk__in=ids).first()
        choices: list[ColumnChoice] = []
        if dataset is not None:
            for cols in input_columns(self.project, [dataset]):
                choices += [ColumnChoice(c.name, c.type, dataset.name) for c in cols or ()]
        context = self.get_context_data(
            score=picker, score_target_field=TARGET_FIELD, score_errors={}, **_needs(picker.resolved, choices)
        )
        response = render_page(request, self.template_name, context)
        response["HX-Trigger-After-Settle"] = "flows-preview"
        return response


def score_summary(recipe: Recipe) -> dict[str, Any]:
    """What a Score recipe's page says it runs: the model, the alias and the version it resolves to
    now (or why it does not), with links to the registry."""
    from modelworks.engine.errors import EngineError
    from modelworks.flows.services.scoring import resolve_score_version

    spec: Mapping[str, Any] = recipe.spec or {}
    slug = recipe.project.slug
    name = str(spec.get("model") or "")
    target = encode_target(spec.get("alias"), spec.get("version"))
    alias, version = decode_target(target)
    picker = score_picker(recipe.project, name, target)
    summary: dict[str, Any] = {
        "model_name": name,
        "alias": alias,
        "fixed_version": version,
        "model_url": reverse("registry:model", args=[slug, picker.model.pk]) if picker.model else "",
        "version": None,
        "version_url": "",
        "problem": "",
        "keep": spec.get("keep_columns"),
        "probabilities": spec.get("probabilities", True),
        "log_predictions": spec.get("log_predictions", True),
        "log_source": f"recipe-{recipe.pk}",
    }
    try:
        found = resolve_score_version(recipe.project_id, spec, recipe=recipe.name)
    except EngineError as exc:
        summary["problem"] = exc.message
        return summary
    summary["version"] = found.version
    summary["version_url"] = reverse(
        "registry:version", args=[slug, found.registered_model_id, found.version]
    )
    return summary
