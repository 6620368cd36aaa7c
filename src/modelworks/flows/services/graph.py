"""A project's flow as a graph: building it (with a candidate recipe, to refuse loops) and propagating
schemas through it (``check_flow``). The states pages draw are in ``services.state``.

Datasets are keyed in the engine's graph by ``dataset_key`` (their database id as text; a new output
not created yet is ``"new:<name>"``), and labelled by name, so messages name what users see.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelworks.core.models import Project
from modelworks.datasets.models import Dataset, DatasetVersion
from modelworks.flows.models import Recipe, RecipeKind

if TYPE_CHECKING:
    from modelworks.engine.flow import FlowGraph
    from modelworks.engine.recipes.types import Column

__all__ = [
    "OUTPUT_SETTINGS_KEY",
    "FlowProblem",
    "RecipeShape",
    "SchemaPropagation",
    "check_flow",
    "dataset_key",
    "fingerprint_spec",
    "flow_graph",
    "input_relations",
    "propagate_schemas",
    "recipe_shapes",
    "version_columns",
]


def dataset_key(dataset: Dataset | str) -> str:
    """The key of a dataset in the engine's graph: its id as text, or ``new:<name>`` for a new output."""
    if isinstance(dataset, str):
        return f"new:{dataset}"
    return str(dataset.pk)


#: The key under which a recipe's non-default output settings join its spec in fingerprints.
OUTPUT_SETTINGS_KEY = "~outputs"


def fingerprint_spec(spec: Mapping[str, Any], output_settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a recipe's build fingerprint covers besides its kind and input versions: its spec and,
    when some output is not in Modelworks storage (a connection and schema, or not stored at all),
    those settings (``Recipe.output_settings``). Changing where an output goes thus makes the recipe
    out of date, while a recipe without such settings keeps the fingerprint it always had."""
    covered = dict(spec)
    if output_settings:
        covered[OUTPUT_SETTINGS_KEY] = {name: dict(output_settings[name]) for name in sorted(output_settings)}
    return covered


@dataclass(frozen=True)
class RecipeShape:
    """A recipe as the flow sees it; saved (``id`` set) or a candidate being validated (``id`` None).

    ``outputs`` holds existing datasets and names of outputs to be created; ``output_settings``
    the outputs' non-default storage settings (``Recipe.output_settings``).
    """

    id: int | None
    name: str
    kind: str
    spec: Mapping[str, Any]
    inputs: tuple[Dataset, ...]
    outputs: tuple[Dataset | str, ...]
    output_settings: Mapping[str, Any] = field(default_factory=dict)
    project_id: int | None = None  # score recipes resolve their model's alias in this project

    @property
    def key(self) -> str:
        return str(self.id) if self.id is not None else "candidate"

    @property
    def fingerprint_spec(self) -> dict[str, Any]:
        """The settings the build fingerprint covers (see :func:`fingerprint_spec`); for a score
        recipe also the model version its alias points at now (a promotion makes it out of date)."""
        covered = fingerprint_spec(self.spec, self.output_settings)
        if self.kind == RecipeKind.SCORE:
            from modelworks.flows.services.scoring import MODEL_VERSION_KEY, resolved_version_id

            covered[MODEL_VERSION_KEY] = resolved_version_id(self.project_id, self.spec)
        return covered

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o if isinstance(o, str) else o.name for o in self.outputs)

    @classmethod
    def of(cls, recipe: Recipe) -> RecipeShape:
        """The shape of a saved recipe (uses prefetched links when present)."""
        return cls(
            id=recipe.pk,
            name=recipe.name,
            kind=recipe.kind,
            spec=recipe.spec,
            inputs=tuple(recipe.input_datasets),
            outputs=tuple(recipe.output_datasets),
            output_settings=recipe.output_settings(),
            project_id=recipe.project_id,
        )


def recipe_shapes(project: Project, *, replace: RecipeShape | None = None) -> list[RecipeShape]:
    """The shapes of the project's recipes; ``replace`` stands in for the saved recipe of the same id
    (or is added, when it has no id)."""
    shapes = [
        RecipeShape.of(r)
        for r in Recipe.objects.filter(project=project)
        .prefetch_related("input_links__dataset", "output_links__dataset")
        .order_by("name", "id")
    ]
    if replace is not None:
        shapes = [s for s in shapes if s.id is None or s.id != replace.id]
        shapes.append(replace)
    return shapes


def flow_graph(
    project: Project, *, replace: RecipeShape | None = None, shapes: Sequence[RecipeShape] | None = None
) -> FlowGraph:
    """The engine's checked graph of the project's recipes and datasets.

    Args:
        project: the project.
        replace: a candidate recipe that replaces the saved one with its id (or is added); this is
            how a change that would close a loop is refused before anything is saved.
        shapes: the project's :func:`recipe_shapes`, when the caller read them already (``replace``
            is then ignored).

    Raises:
        modelworks.engine.flow.CycleError: the recipes feed each other in a loop (the message
            names the loop), and the other ``GraphError``s of ``FlowGraph.from_recipes``.
    """
    from modelworks.engine.flow import FlowGraph, RecipeNode

    shapes = recipe_shapes(project, replace=replace) if shapes is None else shapes
    labels = {str(pk): name for pk, name in Dataset.objects.filter(project=project).values_list("pk", "name")}
    nodes = []
    for shape in shapes:
        outputs = tuple(dataset_key(o) for o in shape.outputs)
        for o in shape.outputs:
            labels[dataset_key(o)] = o if isinstance(o, str) else o.name
        nodes.append(
            RecipeNode(
                id=shape.key,
                name=shape.name,
                inputs=tuple(dataset_key(d) for d in shape.inputs),
                outputs=outputs,
            )
        )
    return FlowGraph.from_recipes(nodes, list(labels), labels=labels)


def version_columns(version: DatasetVersion | None) -> tuple[Column, ...] | None:
    """The engine columns of a stored version (None when there is no version)."""
    from modelworks.engine.recipes.types import Column

    if version is None:
        return None
    return tuple(Column(str(c["name"]), str(c.get("type", "other"))) for c in version.schema)


@dataclass(frozen=True)
class FlowProblem:
    """Why a recipe would not run with the current schemas; ``code`` is the engine error's code."""

    recipe_id: int | None
    recipe: str
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipe_id": self.recipe_id,
            "recipe": self.recipe,
            "code": self.code,
            "message": self.message,
            "details": self.details,
        }


@dataclass
class SchemaPropagation:
    """The columns each dataset of the flow will have, and the recipes that would fail.

    ``schemas`` maps dataset keys to columns (``None``: unknown); ``problems`` maps recipe keys to
    the first problem found; ``output_schemas`` maps recipe keys to their outputs' columns by name.
    """

    schemas: dict[str, tuple[Column, ...] | None] = field(default_factory=dict)
    problems: dict[str, FlowProblem] = field(default_factory=dict)
    output_schemas: dict[str, dict[str, tuple[Column, ...]]] = field(default_factory=dict)


def propagate_schemas(
    project: Project,
    *,
    replace: RecipeShape | None = None,
    graph: FlowGraph | None = None,
    shapes: Sequence[RecipeShape] | None = None,
    only: Collection[str] | None = None,
) -> SchemaPropagation:
    """Compile every recipe in dependency order from the current schemas, as a build would.

    ``only`` (recipe keys) compiles just those recipes; every other dataset contributes the columns
    of its current version, as a source does (a build checks its planned steps so).

    Source datasets contribute the columns of their current version; a recipe's outputs get the
    columns its compiled queries produce over empty tables of its inputs' types (the engine's
    ``output_schemas``), so a column lost upstream is reported at the first recipe that uses it,
    with the column and the recipe named. A Python recipe cannot be compiled: its outputs keep the
    columns of their current version. Recipes downstream of a failing one are reported as
    ``flow_upstream_error`` rather than checked against stale columns.

    Raises:
        modelworks.engine.flow.GraphError: the flow itself is invalid (a loop…).
    """
    graph = graph or flow_graph(project, replace=replace)
    by_key = {s.key: s for s in (shapes if shapes is not None else recipe_shapes(project, replace=replace))}
    result = SchemaPropagation()
    datasets = {
        str(d.pk): d for d in Dataset.objects.filter(project=project).select_related("pinned_version")
    }
    broken_by: dict[str, str] = {}
    checked = set(only) if only is not None else set(graph.topological_order())
    read = {dataset_key(d) for k in checked for d in by_key[k].inputs} if only is not None else None
    for key in graph.datasets:
        producer = graph.producer(key)
        # Every source; with ``only``, what the checked recipes read and do not compute themselves.
        wanted = producer is None if read is None else (key in read and producer not in checked)
        if wanted:
            dataset = datasets.get(key)
            result.schemas[key] = version_columns(dataset.current_version) if dataset else None
    for recipe_key in graph.topological_order():
        if recipe_key not in checked:
            continue
        shape = by_key[recipe_key]
        problem = _check_shape(shape, result, broken_by, datasets)
        outputs = [dataset_key(o) for o in shape.outputs]
        if problem is not None:
            result.problems[recipe_key] = problem
            for out in outputs:
                result.schemas[out] = None
                broken_by[out] = shape.name
        elif shape.kind == RecipeKind.PYTHON or (
            shape.kind == RecipeKind.SCORE and shape.key not in result.output_schemas
        ):
            for out in outputs:
                stored = datasets.get(out)
                result.schemas[out] = version_columns(stored.current_version) if stored else None
        else:
            produced = result.output_schemas[recipe_key]
            for out, name in zip(outputs, shape.output_names, strict=True):
                result.schemas[out] = produced.get(name)
    return result


def _check_shape(
    shape: RecipeShape,
    result: SchemaPropagation,
    broken_by: Mapping[str, str],
    datasets: Mapping[str, Dataset],
) -> FlowProblem | None:
    """Compile one recipe against the propagated input schemas; its problem, or None."""
    from modelworks.engine.errors import EngineError
    from modelworks.engine.recipes import compile_recipe, normalize_spec, output_schemas

    def problem(code: str, message: str, **details: Any) -> FlowProblem:
        return FlowProblem(shape.id, shape.name, code, message, details)

    columns: list[tuple[Column, ...]] = []
    for dataset in shape.inputs:
        key = dataset_key(dataset)
        known = result.schemas.get(key)
        if known is None:
            if key in broken_by:
                return problem(
                    "flow_upstream_error",
                    f"recipe {shape.name!r} is not checked: its input {dataset.name!r} comes from recipe "
                    f"{broken_by[key]!r}, which has an error; fix that recipe first",
                    input=dataset.name,
                    upstream=broken_by[key],
                )
            return problem(
                "flow_unknown_schema",
                f"recipe {shape.name!r} reads {dataset.name!r}, which has no data yet, so its columns "
                "are unknown; import it or build the recipe that writes it first",
                input=dataset.name,
            )
        columns.append(known)
    try:
        spec = normalize_spec(shape.kind, dict(shape.spec), recipe=shape.name)
        if shape.kind == RecipeKind.PYTHON:
            return None
        relations = input_relations(shape.inputs, columns)
        if shape.kind == RecipeKind.SCORE:
            result.output_schemas[shape.key] = _score_schemas(shape, spec, relations, datasets)
            return None
        compiled = compile_recipe(shape.kind, spec, relations, list(shape.output_names), recipe=shape.name)
        result.output_schemas[shape.key] = dict(output_schemas(compiled, relations))
    except EngineError as exc:
        return problem(exc.code, exc.message, **_jsonable(exc.details))
    return None


def _score_schemas(
    shape: RecipeShape, spec: Mapping[str, Any], relations: Sequence[Any], datasets: Mapping[str, Dataset]
) -> dict[str, tuple[Column, ...]]:
    """A score recipe's output columns, from its input's columns and its model version (not loaded).

    When the output's current version was scored by that same model version, its stored columns
    are exact (e.g. the probability columns of a model whose classes are only known once loaded).
    """
    from modelworks.engine.recipes import score_output_columns
    from modelworks.engine.recipes.score import check_score_inputs
    from modelworks.flows.services.scoring import model_facts, resolve_score_version

    check_score_inputs(relations, shape.output_names, recipe=shape.name)
    project_id = shape.project_id if shape.project_id is not None else shape.inputs[0].project_id
    version = resolve_score_version(project_id, spec, recipe=shape.name)
    facts = model_facts(version)
    derived = score_output_columns(spec, relations[0], facts, recipe=shape.name)
    output = shape.outputs[0]
    stored = datasets.get(dataset_key(output)) if isinstance(output, Dataset) else None
    current = stored.current_version if stored is not None else None
    if (
        facts.classes is None
        and spec.get("probabilities", True)
        and current is not None
        and (current.how_details or {}).get("model_version_id") == version.pk
    ):
        # Classes only known once the model is loaded: the last output of this version has them.
        inputs = {c.name for c in relations[0].columns}
        known = {c.name: c for c in version_columns(current) or ()}
        probas = [c for name, c in known.items() if name.startswith("proba_") and name not in inputs]
        head = [known.get(c.name, c) if i == len(derived) - 2 else c for i, c in enumerate(derived[:-1])]
        derived = (*head, *probas, derived[-1])
    return {shape.output_names[0]: derived}


def input_relations(inputs: Sequence[Dataset], columns: Sequence[tuple[Column, ...]]) -> list[Any]:
    """The engine relations of a recipe's inputs, named by dataset name."""
    from modelworks.engine.flow import relations_for

    return list(relations_for({d.name: cols for d, cols in zip(inputs, columns, strict=True)}))


def _jsonable(details: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, str | int | float | bool) or value is None:
            out[key] = value
        elif isinstance(value, list | tuple):
            out[key] = [v if isinstance(v, str | int | float | bool) else str(v) for v in value]
        else:
            out[key] = str(value)
    return out


def check_flow(project: Project) -> list[FlowProblem]:
    """Every recipe of the project that would fail with the current schemas, in flow order.

    Each problem names the recipe and (for a missing column) the column and the input, e.g. after an
    upstream re-import lost a column. An invalid flow (a loop) is one problem without a recipe.
    """
    from modelworks.engine.flow import GraphError

    try:
        propagation = propagate_schemas(project)
    except GraphError as exc:
        return [FlowProblem(None, "", exc.code, exc.message, _jsonable(exc.details))]
    return list(propagation.problems.values())
