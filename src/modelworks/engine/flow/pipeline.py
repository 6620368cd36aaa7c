"""Virtual (pipelined) datasets: a chain of recipes compiled into one relational plan.

A *virtual* dataset is never stored. The recipes that read it compute it on the fly: its producing
recipe's compiled query becomes a sub-query of theirs, recursively through chains of virtual
datasets, so prepare → join → group with virtual intermediates is one query that reads only the
stored datasets at the start of the chain. Nothing in between is written.

* :func:`pipeline_flow` contracts a :class:`FlowGraph`: virtual datasets disappear, a recipe whose
  outputs are all virtual is not a step of its own any more, and every other recipe reads the stored
  datasets its virtual inputs are computed from. ``fused`` tells which virtual recipes each step
  computes inline.
* :func:`pipelined_fingerprints`: a recipe reading a virtual dataset depends on the settings of the
  recipes that compute it and on the versions of the stored datasets they read, so its fingerprint
  takes the fingerprint of the virtual input's producer where a stored input has a version id. A
  recipe without virtual inputs keeps exactly the fingerprint of :func:`fingerprint`.
* :func:`plan_pipelined_build`: :func:`plan_build` over the contracted graph; virtual recipes are
  listed as skipped, with the steps that compute them.
* :func:`compile_pipeline` compiles a step and the virtual recipes it reads into one query per
  stored output, plus each recipe's own compilation (for column lineage).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from modelworks.engine.flow.errors import PlanError
from modelworks.engine.flow.execute import relations_for
from modelworks.engine.flow.graph import FlowGraph, RecipeNode
from modelworks.engine.flow.plan import ENGINE_VERSION, BuildPlan, SkippedStep, fingerprint, plan_build
from modelworks.engine.recipes import bind_sources, compile_recipe, normalize_spec, output_schemas
from modelworks.engine.recipes.types import Column, CompiledOutput, CompiledRecipe, RecipeError, Relation

__all__ = [
    "REASON_VIRTUAL",
    "CompiledPipeline",
    "PipelineRecipe",
    "PipelinedFlow",
    "VirtualDatasetError",
    "compile_pipeline",
    "pipeline_flow",
    "pipelined_fingerprints",
    "plan_pipelined_build",
]

#: The start of the reason given for a virtual recipe in a plan's ``skipped`` list.
REASON_VIRTUAL = "virtual"


class VirtualDatasetError(PlanError):
    """A virtual dataset is used where stored data is needed (a build target, a Python recipe…)."""

    code = "flow_virtual_dataset"


@dataclass(frozen=True)
class PipelinedFlow:
    """A flow with its virtual datasets folded into the recipes that read them.

    Attributes:
        full: the flow as drawn, virtual datasets included.
        graph: what builds run: stored datasets only; recipes whose outputs are all virtual are left
            out and every other recipe reads the stored datasets its virtual inputs come from.
        virtual: the keys of the virtual datasets.
        fused: recipe id (of ``graph``) → ids of the recipes it computes inline, in dependency order
            (empty for a recipe without virtual inputs).
    """

    full: FlowGraph
    graph: FlowGraph
    virtual: frozenset[str]
    fused: Mapping[str, tuple[str, ...]]

    def is_step(self, recipe_id: str) -> bool:
        """Whether the recipe runs as a build step (at least one stored output)."""
        return recipe_id in self.fused

    def readers(self, recipe_id: str) -> tuple[str, ...]:
        """The steps that compute the virtual recipe ``recipe_id`` inline, in dependency order."""
        return tuple(rid for rid, ids in self.fused.items() if recipe_id in ids)

    def target_error(self, dataset: str) -> VirtualDatasetError:
        """The refusal to build the virtual ``dataset`` on its own."""
        label = self.full.label(dataset)
        producer = self.full.producer(dataset)
        recipe = self.full.recipe(producer).name if producer else "?"
        readers = [
            self.full.label(out)
            for rid in self.full.consumers(dataset)
            if self.is_step(rid)
            for out in self.graph.recipe(rid).outputs
        ]
        where = (
            f"build a dataset computed from it instead ({', '.join(repr(r) for r in readers[:3])})"
            if readers
            else "no stored dataset is computed from it yet"
        )
        return VirtualDatasetError(
            f"dataset {label!r} is virtual (not stored): it is computed on the fly by the recipes that "
            f'read it, so it cannot be built on its own; {where}, or store it (untick "Don\'t store" '
            f"on this output of recipe {recipe!r})",
            dataset=dataset,
            recipe=producer,
        )


def pipeline_flow(graph: FlowGraph, virtual: Iterable[str], *, run_only: Iterable[str] = ()) -> PipelinedFlow:
    """Fold the ``virtual`` datasets of ``graph`` into the recipes that read them.

    Args:
        graph: the flow.
        virtual: keys of the datasets that are not stored.
        run_only: ids of recipes that cannot be compiled into a query (Python recipes: they run in
            a sandbox over files), so they may neither read nor write a virtual dataset.

    Raises:
        UnknownDatasetError: a virtual key is not in the flow.
        VirtualDatasetError: a virtual dataset has no producing recipe, or a ``run_only`` recipe
            reads or writes one.
    """
    keys = frozenset(virtual)
    for key in sorted(keys):
        if graph.producer(key) is None:
            raise VirtualDatasetError(
                f"dataset {graph.label(key)!r} is marked virtual but no recipe computes it; only a "
                "recipe's output can be virtual",
                dataset=key,
            )
    for rid in sorted(set(run_only) & set(graph.topological_order())):
        node = graph.recipe(rid)
        for key in node.inputs:
            if key in keys:
                raise VirtualDatasetError(
                    f"recipe {node.name!r} is a Python recipe and reads {graph.label(key)!r}, which is "
                    "virtual (not stored); Python recipes read stored files, so store "
                    f'{graph.label(key)!r} (untick "Don\'t store" on its producing recipe)',
                    recipe=rid,
                    dataset=key,
                )
        for key in node.outputs:
            if key in keys:
                raise VirtualDatasetError(
                    f"recipe {node.name!r} is a Python recipe: its output {graph.label(key)!r} must be "
                    "stored (a Python recipe cannot be computed inside another recipe's query)",
                    recipe=rid,
                    dataset=key,
                )
    origins: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # virtual → (stored, recipes)

    def origin(key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if key not in keys:
            return (key,), ()
        if key not in origins:
            producer = graph.producer(key)
            assert producer is not None
            stored: list[str] = []
            recipes: list[str] = [producer]
            for source in graph.recipe(producer).inputs:
                found, through = origin(source)
                stored += found
                recipes += through
            origins[key] = (tuple(dict.fromkeys(stored)), tuple(dict.fromkeys(recipes)))
        return origins[key]

    rank = {rid: i for i, rid in enumerate(graph.topological_order())}
    nodes: list[RecipeNode] = []
    fused: dict[str, tuple[str, ...]] = {}
    for rid in graph.topological_order():
        node = graph.recipe(rid)
        outputs = tuple(k for k in node.outputs if k not in keys)
        if not outputs:
            continue
        inputs: list[str] = []
        recipes: set[str] = set()
        for key in node.inputs:
            found, through = origin(key)
            inputs += found
            recipes.update(through)
        nodes.append(RecipeNode(rid, node.name, tuple(dict.fromkeys(inputs)), outputs))
        fused[rid] = tuple(sorted(recipes, key=rank.__getitem__))
    stored = [k for k in graph.datasets if k not in keys]
    labels = {k: graph.label(k) for k in stored}
    contracted = FlowGraph.from_recipes(nodes, stored, labels=labels)
    return PipelinedFlow(full=graph, graph=contracted, virtual=keys, fused=fused)


def pipelined_fingerprints(
    graph: FlowGraph,
    virtual: Iterable[str],
    recipes: Mapping[str, tuple[str, Mapping[str, Any]]],
    versions: Mapping[str, str | None],
    *,
    code_version: str = ENGINE_VERSION,
) -> dict[str, str | None]:
    """Every recipe's fingerprint, a virtual input standing for the recipes that compute it.

    Args:
        graph: the flow (virtual datasets included).
        virtual: the keys of the virtual datasets.
        recipes: recipe id → ``(kind, spec)``.
        versions: dataset key → id of its current version (``None`` or absent: no data).
        code_version: see :func:`fingerprint`.

    Returns:
        Recipe id → fingerprint, or ``None`` when a stored input it depends on has no data. A recipe
        without virtual inputs gets exactly ``fingerprint(kind, spec, its input versions)``.
    """
    keys = set(virtual)
    found: dict[str, str | None] = {}
    for rid in graph.topological_order():
        inputs: dict[str, str] = {}
        for key in graph.recipe(rid).inputs:
            if key in keys:
                producer = graph.producer(key)
                upstream = found.get(producer) if producer is not None else None
                value = None if upstream is None else f"virtual:{upstream}"
            else:
                value = versions.get(key)
            if value is None:
                break
            inputs[key] = value
        else:
            kind, spec = recipes[rid]
            found[rid] = fingerprint(kind, spec, inputs, code_version=code_version)
            continue
        found[rid] = None
    return found


def plan_pipelined_build(
    graph: FlowGraph,
    *,
    virtual: Iterable[str],
    targets: Iterable[str] | None,
    current: Mapping[str, str | None],
    last_built: Mapping[str, str | None],
    force: bool | Iterable[str] = False,
    blocked_inputs: Mapping[str, str] | None = None,
    run_only: Iterable[str] = (),
) -> BuildPlan:
    """:func:`plan_build` with virtual datasets computed inside the steps that read them.

    Args:
        graph: the flow, virtual datasets included.
        virtual: keys of the virtual datasets.
        targets, last_built, blocked_inputs: as for :func:`plan_build`.
        current: recipe id → fingerprint, from :func:`pipelined_fingerprints`.
        force: ``True``, or recipe ids; forcing a virtual recipe forces the steps that compute it.
        run_only: see :func:`pipeline_flow`.

    Returns:
        The plan: steps are recipes with a stored output; each virtual recipe upstream of the
        targets is in ``skipped`` (reason ``virtual: …``); ``fused`` lists what each step inlines.

    Raises:
        VirtualDatasetError: a target is virtual, or see :func:`pipeline_flow`.
        UnknownDatasetError, PlanError, BlockedInputError: as :func:`plan_build`.
    """
    flow = pipeline_flow(graph, virtual, run_only=run_only)
    target_keys = None if targets is None else tuple(dict.fromkeys(targets))
    for key in target_keys or ():
        graph.producer(key)  # an unknown key fails here, naming it
        if key in flow.virtual:
            raise flow.target_error(key)
    forced: bool | set[str]
    if isinstance(force, bool):
        forced = force
    else:
        wanted = set(force)
        unknown = sorted(wanted - set(graph.topological_order()))
        if unknown:
            raise PlanError(
                f"cannot force recipe {unknown[0]!r}: it is not part of this flow", recipes=unknown
            )
        forced = {rid for rid, ids in flow.fused.items() if rid in wanted or wanted & set(ids)}
    plan = plan_build(
        flow.graph,
        targets=target_keys,
        current=current,
        last_built=last_built,
        force=forced,
        blocked_inputs={k: v for k, v in (blocked_inputs or {}).items() if k not in flow.virtual},
    )
    scope = graph.topological_order() if target_keys is None else graph.upstream(target_keys)
    planned = {s.recipe_id for s in plan.steps} | {s.recipe_id for s in plan.skipped}
    skipped = list(plan.skipped)
    for rid in scope:
        if flow.is_step(rid):
            continue
        readers = [graph.recipe(r).name for r in flow.readers(rid) if r in planned]
        reason = (
            f"{REASON_VIRTUAL}: computed on the fly inside {', '.join(repr(r) for r in readers)}"
            if readers
            else f"{REASON_VIRTUAL}: not stored, and no recipe built here reads it"
        )
        skipped.append(SkippedStep(rid, graph.recipe(rid).name, reason, current.get(rid)))
    rank = {rid: i for i, rid in enumerate(graph.topological_order())}
    skipped.sort(key=lambda s: rank[s.recipe_id])
    fused = {s.recipe_id: flow.fused[s.recipe_id] for s in plan.steps if flow.fused[s.recipe_id]}
    return BuildPlan(plan.targets, plan.steps, tuple(skipped), fused=fused)


# -- compiling a chain -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineRecipe:
    """One recipe of a chain to compile.

    Attributes:
        id, name: the recipe (the name is used in messages).
        kind, spec: what it does.
        inputs, outputs: the names of the datasets it reads and writes, in order.
    """

    id: str
    name: str
    kind: str
    spec: Mapping[str, Any]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class CompiledPipeline:
    """A step compiled with the virtual recipes it reads.

    Attributes:
        compiled: the step's outputs as queries that read only ``relations`` (stored datasets); its
            lineage is the step's own (from its direct inputs, virtual ones included).
        relations: the stored datasets the queries read, through their aliases (bind them with
            :func:`~modelworks.engine.flow.run_in_duckdb` as for any recipe).
        parts: every recipe of the chain compiled on its own, virtual ones first, the step last.
        columns: the columns of each virtual dataset computed inline.
    """

    compiled: CompiledRecipe
    relations: tuple[Relation, ...]
    parts: tuple[tuple[PipelineRecipe, CompiledRecipe], ...]
    columns: Mapping[str, tuple[Column, ...]] = field(default_factory=dict)


def compile_pipeline(
    step: PipelineRecipe,
    upstream: Sequence[PipelineRecipe],
    stored: Mapping[str, Sequence[Column]],
    *,
    outputs: Sequence[str] | None = None,
) -> CompiledPipeline:
    """Compile ``step`` with the virtual datasets it reads computed inline.

    Args:
        step: the recipe the build runs.
        upstream: the recipes computing its virtual inputs, in dependency order
            (:attr:`PipelinedFlow.fused`).
        stored: every stored dataset the chain reads → its current columns.
        outputs: the step's outputs to produce (default: all); leave out its virtual outputs.

    Raises:
        RecipeError / MissingColumnError: a recipe of the chain does not fit its inputs' columns
            (the message names that recipe).
        VirtualDatasetError: a recipe reads a dataset that is neither in ``stored`` nor computed
            earlier in the chain.
    """
    queries: dict[str, exp.Query] = {}
    columns: dict[str, tuple[Column, ...]] = {}
    parts: list[tuple[PipelineRecipe, CompiledRecipe]] = []
    read: dict[str, None] = {}
    final: tuple[CompiledRecipe, list[Relation], list[exp.Expr]] | None = None
    for part in (*upstream, step):
        shapes: dict[str, tuple[Column, ...]] = {}
        for name in part.inputs:
            if name in columns:
                shapes[name] = columns[name]
            elif name in stored:
                shapes[name] = tuple(stored[name])
                read[name] = None
            else:
                raise VirtualDatasetError(
                    f"recipe {part.name!r} reads {name!r}, which is neither stored nor computed by a "
                    "recipe before it in this chain",
                    recipe=part.id,
                    dataset=name,
                )
        relations = relations_for(shapes)
        try:
            spec = normalize_spec(part.kind, part.spec, recipe=part.name)
            compiled = compile_recipe(part.kind, spec, relations, part.outputs, recipe=part.name)
            if part is not step:
                schemas = output_schemas(compiled, relations, recipe=part.name)
        except RecipeError as exc:
            if part is step:
                raise
            # The build shows this on the step; say which recipe of its chain is wrong.
            named = exc.message if repr(part.name) in exc.message else f"recipe {part.name!r}: {exc.message}"
            raise type(exc)(
                f"{named} (its output is not stored: it is computed inside recipe {step.name!r})",
                **exc.details,
            ) from exc
        parts.append((part, compiled))
        replacements: list[exp.Expr] = [queries.get(r.name, r.source) for r in relations]
        if part is step:
            final = (compiled, relations, replacements)
            break
        for out in compiled.outputs:
            queries[out.name] = bind_sources(out.query, relations, replacements)
            columns[out.name] = schemas[out.name]
    assert final is not None
    compiled, relations, replacements = final
    keep = set(step.outputs if outputs is None else outputs)
    fused = CompiledRecipe(
        outputs=tuple(
            CompiledOutput(out.name, bind_sources(out.query, relations, replacements))
            for out in compiled.outputs
            if out.name in keep
        ),
        lineage=tuple(edge for edge in compiled.lineage if edge.output in keep),
        pushdown=all(c.pushdown for _, c in parts),
        notes=tuple(dict.fromkeys(note for _, c in parts for note in c.notes)),
    )
    sources = tuple(relations_for({name: tuple(stored[name]) for name in read}))
    return CompiledPipeline(compiled=fused, relations=sources, parts=tuple(parts), columns=columns)
