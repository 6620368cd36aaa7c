"""The recipe editor's state: what the form holds (name, inputs, outputs, settings or Prepare steps),
read from a post with the editor's operations applied, and checked into service arguments.

The editor is one HTML form. Buttons that change its structure (add a step, move it, add an input…)
post the whole form with an ``op`` value to the editor URL, which answers the form again; the same
state is previewed and finally saved. Nothing here writes: saving goes through
``modelworks.flows.services.create_recipe`` / ``update_recipe``.

Operations (``op``): ``add-step:<processor>``, ``del-step:<i>``, ``up-step:<i>``, ``down-step:<i>``,
``toggle-step:<i>``, ``add-input``, ``del-input:<i>``, ``add-output``, ``del-output:<i>``, and the
list operations of :func:`modelworks.flows.forms.params.read_params`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset
from modelworks.flows.forms.kinds import MODE_RULES, KindChoice, processor_choice
from modelworks.flows.forms.params import default_values, read_params
from modelworks.flows.forms.score import TARGET_FIELD, decode_target, default_target, project_models
from modelworks.flows.models import Recipe
from modelworks.flows.services.pushdown import OutputChoice, OutputStorage, storage_choices

__all__ = ["OUTPUT_SUFFIXES", "EditorState", "suggest_names"]

#: The suffix of a suggested output name, by kind ("flights" → "flights_prepared").
OUTPUT_SUFFIXES: Mapping[str, str] = {
    "prepare": "prepared",
    "join": "joined",
    "group": "grouped",
    "window": "windowed",
    "stack": "stacked",
    "split": "split",
    "sample": "sample",
    "sort": "sorted",
    "distinct": "distinct",
    "pivot": "pivoted",
    "top_n": "top",
    "sql": "sql",
    "python": "py",
    "score": "scored",
}

_MAX_STEPS = 200
_MAX_LINKS = 50


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()[:60] or "data"


def suggest_names(
    kind: str, inputs: Sequence[Dataset], taken: set[str], count: int = 1
) -> tuple[str, list[str]]:
    """A recipe name and ``count`` output names not used yet in the project (``taken``)."""
    base = _slug(inputs[0].name) if inputs else "data"
    suffix = OUTPUT_SUFFIXES.get(kind, kind)

    def free(name: str) -> str:
        candidate, n = name, 2
        while candidate in taken:
            candidate = f"{name}_{n}"
            n += 1
        taken.add(candidate)
        return candidate

    recipe = free(f"{kind}_{base}")
    if count == 1:
        outputs = [free(f"{base}_{suffix}")]
    else:
        outputs = [free(f"{base}_{suffix}_{i + 1}") for i in range(count)]
    return recipe, outputs


def _index(op: str, name: str) -> int | None:
    prefix = f"{name}:"
    if not op.startswith(prefix):
        return None
    try:
        return int(op[len(prefix) :])
    except ValueError:
        return None


@dataclass
class EditorState:
    """Everything the editor form holds.

    Attributes:
        kind: the recipe kind.
        name, description: of the recipe.
        input_ids: the chosen input dataset ids in order (None: a slot not chosen yet).
        output_names: output dataset names in order (an existing dataset's name, or a new one).
        output_storage: for each output, where its versions are stored: (PostgreSQL connection id,
            schema), or (None, "") for Modelworks storage.
        output_virtual: for each output, whether it is not stored (computed on the fly by the
            recipes that read it).
        project: the project (known once the state was read for one), for the storage choices.
        settings: the kind's settings (every kind but Prepare).
        steps: Prepare steps, ``{"processor", "params", "enabled", "comment"}`` each.
        focus_step: the step just added or moved (the page scrolls to it).
    """

    kind: KindChoice
    name: str = ""
    description: str = ""
    input_ids: list[int | None] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)
    output_storage: list[tuple[int | None, str]] = field(default_factory=list)
    output_virtual: list[bool] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    focus_step: int | None = None
    project: Project | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------------------- building

    @classmethod
    def new(cls, kind: KindChoice, project: Project, *, input_id: int | None = None) -> EditorState:
        """A new recipe of ``kind``, reading ``input_id`` when given, with suggested names."""
        state = cls(kind=kind, settings=default_values(kind.other_params))
        first = Dataset.objects.filter(project=project, pk=input_id).first() if input_id else None
        slots = max(kind.min_inputs, 1)
        state.input_ids = [first.pk if first else None] + [None] * (slots - 1)
        taken = set(Dataset.objects.filter(project=project).values_list("name", flat=True))
        taken |= set(Recipe.objects.filter(project=project).values_list("name", flat=True))
        count = max(kind.min_outputs, 1)
        state.name, state.output_names = suggest_names(kind.kind, [first] if first else [], taken, count)
        state.output_storage = [(None, "")] * len(state.output_names)
        state.output_virtual = [False] * len(state.output_names)
        state.project = project
        if kind.code_param is not None:
            state.settings.setdefault(kind.code_param.name, "")
        if kind.kind == "score":
            state._choose_only_model(project)
        return state

    def _choose_only_model(self, project: Project) -> None:
        """A new Score recipe in a project with one registered model scores with that model, following
        its champion alias (or what :func:`~modelworks.flows.forms.score.default_target` picks)."""
        models = project_models(project)
        if len(models) != 1:
            return
        self.settings["model"] = models[0].name
        self.set_target(default_target(models[0]))

    def set_target(self, target: str) -> None:
        """Set a Score recipe's ``alias`` or ``version`` from a ``spec.target`` value."""
        alias, version = decode_target(target)
        self.settings["alias"] = alias
        self.settings["version"] = version

    @classmethod
    def of(cls, recipe: Recipe, kind: KindChoice) -> EditorState:
        """The editor state of a saved recipe."""
        spec = dict(recipe.spec or {})
        state = cls(
            kind=kind,
            name=recipe.name,
            description=recipe.description,
            input_ids=[d.pk for d in recipe.input_datasets],
            output_names=[d.name for d in recipe.output_datasets],
            project=recipe.project,
        )
        state.output_storage = [
            (link.storage_connection_id, link.storage_schema if link.storage_connection_id else "")
            for link in sorted(recipe.output_links.all(), key=lambda link: link.position)
        ]
        state.output_virtual = [
            link.virtual for link in sorted(recipe.output_links.all(), key=lambda link: link.position)
        ]
        if kind.kind == "prepare":
            state.steps = [dict(s) for s in spec.get("steps") or [] if isinstance(s, Mapping)]
            state.settings = {k: v for k, v in spec.items() if k != "steps"}
        else:
            state.settings = spec
        return state

    @classmethod
    def from_post(cls, kind: KindChoice, data: Any) -> EditorState:
        """The state posted by the editor form, with its ``op`` applied."""
        op = str(data.get("op", "") or "")
        state = cls(
            kind=kind,
            name=str(data.get("name", "")),
            description=str(data.get("description", "")).replace("\r\n", "\n"),
        )
        for raw in data.getlist("inputs")[:_MAX_LINKS]:
            state.input_ids.append(int(raw) if str(raw).isdigit() else None)
        state.output_names = [str(v).strip() for v in data.getlist("outputs")[:_MAX_LINKS]]
        state.output_storage = _read_storage(data, len(state.output_names))
        ticked = {str(v) for v in data.getlist("output_virtual")}
        state.output_virtual = [str(i) in ticked for i in range(len(state.output_names))]
        state.settings = read_params(kind.other_params, data, "spec", op=op)
        if kind.kind in MODE_RULES:
            state.settings = MODE_RULES[kind.kind].keep(state.settings)
        if kind.code_param is not None and f"spec.{kind.code_param.name}" in data:
            state.settings[kind.code_param.name] = str(data.get(f"spec.{kind.code_param.name}")).replace(
                "\r\n", "\n"
            )
        if kind.kind == "prepare":
            state.steps = _read_steps(data, op)
        if kind.kind == "score" and TARGET_FIELD in data:
            state.set_target(str(data.get(TARGET_FIELD, "")))
        state._apply(op)
        return state

    def _apply(self, op: str) -> None:
        """Apply a structural operation (the list ones were applied while reading)."""
        if op.startswith("add-step:"):
            name = op[len("add-step:") :]
            processor = processor_choice(name)
            if processor is not None and len(self.steps) < _MAX_STEPS:
                self.steps.append(
                    {
                        "processor": processor.name,
                        "params": default_values(processor.params),
                        "enabled": True,
                        "comment": "",
                    }
                )
                self.focus_step = len(self.steps) - 1
        elif (i := _index(op, "del-step")) is not None and 0 <= i < len(self.steps):
            del self.steps[i]
        elif (i := _index(op, "up-step")) is not None and 0 < i < len(self.steps):
            self.steps[i - 1], self.steps[i] = self.steps[i], self.steps[i - 1]
            self.focus_step = i - 1
        elif (i := _index(op, "down-step")) is not None and 0 <= i < len(self.steps) - 1:
            self.steps[i + 1], self.steps[i] = self.steps[i], self.steps[i + 1]
            self.focus_step = i + 1
        elif (i := _index(op, "toggle-step")) is not None and 0 <= i < len(self.steps):
            self.steps[i]["enabled"] = not self.steps[i].get("enabled", True)
            self.focus_step = i
        elif op == "add-input" and (
            self.kind.max_inputs is None or len(self.input_ids) < self.kind.max_inputs
        ):
            self.input_ids.append(None)
        elif (i := _index(op, "del-input")) is not None and 0 <= i < len(self.input_ids):
            del self.input_ids[i]
        elif op == "add-output" and (
            self.kind.max_outputs is None or len(self.output_names) < self.kind.max_outputs
        ):
            self.output_names.append("")
            self.output_storage.append((None, ""))
            self.output_virtual.append(False)
        elif (i := _index(op, "del-output")) is not None and 0 <= i < len(self.output_names):
            del self.output_names[i]
            del self.output_storage[i]
            if i < len(self.output_virtual):
                del self.output_virtual[i]

    # ------------------------------------------------------------------------------- reading

    @property
    def spec(self) -> dict[str, Any]:
        """The recipe's spec as the engine takes it."""
        if self.kind.kind == "prepare":
            return {**self.settings, "steps": [dict(s) for s in self.steps]}
        return dict(self.settings)

    def inputs(self, project: Project) -> list[Dataset]:
        """The chosen input datasets of ``project`` in order (unknown ids and empty slots left out)."""
        self.project = project
        ids = [i for i in self.input_ids if i is not None]
        found = {
            d.pk: d
            for d in Dataset.objects.filter(project=project, pk__in=ids).select_related("pinned_version")
        }
        return [found[i] for i in ids if i in found]

    def outputs(self, project: Project) -> list[Any]:
        """The outputs: existing datasets of ``project`` by name, or the new names (empty ones left
        out), each with where it is stored (an ``OutputChoice`` the recipe services take)."""
        self.project = project
        names = [n for n in self.output_names if n]
        found = {d.name: d for d in Dataset.objects.filter(project=project, name__in=names)}
        chosen = [
            OutputChoice(found.get(name, name), OutputStorage(*storage))
            for name, storage in zip(self.output_names, self._padded_storage(), strict=True)
            if name
        ]
        return chosen

    def _padded_storage(self) -> list[tuple[int | None, str]]:
        missing = len(self.output_names) - len(self.output_storage)
        return (self.output_storage + [(None, "")] * max(missing, 0))[: len(self.output_names)]

    @property
    def output_rows(self) -> list[dict[str, Any]]:
        """One row per output slot for the form: index, name, connection id, schema, not stored."""
        return [
            {
                "index": index,
                "name": name,
                "connection_id": storage[0],
                "schema": storage[1],
                "virtual": index < len(self.output_virtual) and self.output_virtual[index],
            }
            for index, (name, storage) in enumerate(
                zip(self.output_names, self._padded_storage(), strict=True)
            )
        ]

    @property
    def virtual_outputs(self) -> list[str]:
        """The names of the outputs ticked “Don't store” (``virtual_outputs`` of the services)."""
        return [n for n, v in zip(self.output_names, self.output_virtual, strict=False) if n and v]

    @property
    def storage_options(self) -> list[tuple[int, str]]:
        """(id, label) of the connections outputs may be stored in, plus any chosen one that no longer
        is (so the form shows it, and saving explains why it cannot stay)."""
        if self.project is None:
            return []
        options = [(c.pk, c.name) for c in storage_choices(self.project)]
        known = {pk for pk, _ in options}
        for connection_id, _ in self.output_storage:
            if connection_id is not None and connection_id not in known:
                options.append((connection_id, f"Connection {connection_id} (not available here)"))
                known.add(connection_id)
        return options

    @property
    def can_add_input(self) -> bool:
        return self.kind.max_inputs is None or len(self.input_ids) < self.kind.max_inputs

    @property
    def can_remove_input(self) -> bool:
        return len(self.input_ids) > max(self.kind.min_inputs, 1)

    @property
    def can_add_output(self) -> bool:
        return self.kind.max_outputs is None or len(self.output_names) < self.kind.max_outputs

    @property
    def can_remove_output(self) -> bool:
        return len(self.output_names) > max(self.kind.min_outputs, 1)


def _read_storage(data: Any, count: int) -> list[tuple[int | None, str]]:
    """Where each output is stored, from the ``output_connection`` / ``output_schema`` fields."""
    connections = [str(v) for v in data.getlist("output_connection")[:count]]
    schemas = [str(v).strip() for v in data.getlist("output_schema")[:count]]
    storage: list[tuple[int | None, str]] = []
    for index in range(count):
        raw = connections[index] if index < len(connections) else ""
        connection_id = int(raw) if raw.isdigit() else None
        schema = schemas[index] if index < len(schemas) and connection_id is not None else ""
        storage.append((connection_id, schema[:200]))
    return storage


def _read_steps(data: Any, op: str) -> list[dict[str, Any]]:
    try:
        count = max(0, min(int(data.get("step.n", 0)), _MAX_STEPS))
    except ValueError:
        count = 0
    steps = []
    for i in range(count):
        name = str(data.get(f"step.{i}.processor", "")).strip()
        processor = processor_choice(name)
        params = read_params(processor.params, data, f"step.{i}.p", op=op) if processor else {}
        if name in MODE_RULES:
            params = MODE_RULES[name].keep(params)
        steps.append(
            {
                "processor": name,
                "params": params,
                "enabled": str(data.get(f"step.{i}.enabled", "1")) not in ("0", "false", ""),
                "comment": str(data.get(f"step.{i}.comment", "")).strip(),
            }
        )
    return steps
