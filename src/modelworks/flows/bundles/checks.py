"""Checking a parsed bundle completely before anything is created: names, references between the
documents, quality rules, the flow (no loop), and every recipe compiled by the engine against the
columns it will read.

The columns come from the data files when they are included (the real imported schema), else from
the ``columns`` each dataset document declares. Compiling needs no stored data: the engine compiles a
recipe over empty tables of its inputs' types, as ``validate_recipe`` does for a saved flow. A
Python recipe cannot be compiled; its outputs take the columns their documents declare.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from modelworks.core.models import Project
from modelworks.datasets.models.datasets import validate_dataset_name
from modelworks.flows.bundles.format import BundleError
from modelworks.flows.bundles.reader import Bundle
from modelworks.flows.models import RUN_ONLY_KINDS, RecipeKind

__all__ = ["ImportPlan", "check_recipes", "plan_import", "resolve_storage"]


@dataclass
class ImportPlan:
    """What an import will create, checked: datasets by name (with their file and document), the
    recipes in flow order, the scenarios in file order, and the output columns found per dataset."""

    datasets: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    extra_outputs: list[str] = field(default_factory=list)
    recipes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    scenarios: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    storage: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)
    """Recipe name → output name → (connection id, schema), resolved by :func:`resolve_storage`."""


def _check_name(name: str, file: str, what: str) -> None:
    try:
        validate_dataset_name(name)
    except ValidationError as exc:
        raise BundleError(
            f"{what} '{name[:80]}' is not a valid name: {' '.join(exc.messages)}", file=file
        ) from exc


def _check_rules(doc: Mapping[str, Any], file: str) -> None:
    from modelworks.engine.quality import RULE_KINDS, QualityError, rule_from_dict

    for rule in doc.get("quality_rules") or []:
        kind = str(rule.get("kind"))
        if kind not in RULE_KINDS:
            raise BundleError(
                f"quality rule kind '{kind[:40]}' is unknown; use one of {', '.join(RULE_KINDS)}", file=file
            )
        try:
            rule_from_dict({"kind": kind, **(rule.get("params") or {})})
        except QualityError as exc:
            raise BundleError(f"quality rule '{rule.get('name') or kind}': {exc}", file=file) from exc


def _check_tags(doc: Mapping[str, Any], file: str) -> None:
    for tag in doc.get("tags") or []:
        if not isinstance(tag, str) or len(tag) > 50 or any(ord(ch) < 32 for ch in tag):
            raise BundleError(
                f"tag {str(tag)[:60]!r} is not a short label (text, 50 characters at most)", file=file
            )


def plan_import(bundle: Bundle) -> ImportPlan:
    """Check names and references of ``bundle`` and order its recipes (no engine compile yet).

    Raises:
        BundleError: naming the file, the object and what is wrong.
    """
    from modelworks.engine.errors import EngineError
    from modelworks.engine.flow import FlowGraph, RecipeNode

    plan = ImportPlan(scenarios=list(bundle.scenarios))
    for file, doc in bundle.datasets:
        name = doc["name"].strip()
        _check_name(name, file, "dataset")
        if name in plan.datasets:
            raise BundleError(f"dataset '{name}' is also described in {plan.datasets[name][0]}", file=file)
        _check_tags(doc, file)
        _check_rules(doc, file)
        data = doc.get("data")
        if data and data not in bundle.data:
            raise BundleError(f"refers to the data file {data}, which is not in the bundle", file=file)
        plan.datasets[name] = (file, doc)
    recipes: dict[str, tuple[str, dict[str, Any]]] = {}
    writers: dict[str, str] = {}
    for file, doc in bundle.recipes:
        name = doc["name"].strip()
        _check_name(name, file, "recipe")
        if name in recipes:
            raise BundleError(f"recipe '{name}' is also described in {recipes[name][0]}", file=file)
        if doc["kind"] not in RecipeKind.values:
            raise BundleError(
                f"recipe '{name}' has the unknown kind '{doc['kind'][:20]}'; use one of {', '.join(RecipeKind.values)}",
                file=file,
            )
        for output in doc.get("outputs") or []:
            _check_name(output, file, "output dataset")
            if output in writers:
                raise BundleError(
                    f"recipe '{name}' writes '{output}', which recipe '{writers[output]}' writes too",
                    file=file,
                )
            writers[output] = name
        recipes[name] = (file, doc)
    known = set(plan.datasets) | set(writers)
    for name, (file, doc) in recipes.items():
        for dataset in doc.get("inputs") or []:
            if dataset not in known:
                raise BundleError(
                    f"recipe '{name}' reads dataset '{dataset}', which is not in the bundle "
                    "(no datasets/*.yaml describes it and no recipe writes it)",
                    file=file,
                )
    plan.extra_outputs = sorted(set(writers) - set(plan.datasets))
    nodes = [
        RecipeNode(
            id=name, name=name, inputs=tuple(doc.get("inputs") or []), outputs=tuple(doc.get("outputs") or [])
        )
        for name, (_, doc) in sorted(recipes.items())
    ]
    try:
        graph = FlowGraph.from_recipes(nodes, sorted(known))
    except EngineError as exc:
        raise BundleError(f"the recipes do not form a valid flow: {exc.message}") from exc
    plan.recipes = [recipes[name] for name in graph.topological_order()]
    for file, doc in plan.scenarios:
        _check_scenario_refs(doc, file, known, {d["name"] for _, d in plan.scenarios})
    return plan


def _check_scenario_refs(doc: Mapping[str, Any], file: str, datasets: set[str], scenarios: set[str]) -> None:
    for trigger in doc.get("triggers") or []:
        if trigger.get("kind") == "dataset_changed" and trigger.get("dataset") not in datasets:
            raise BundleError(
                f"a trigger watches dataset {str(trigger.get('dataset'))[:80]!r}, which is not in the bundle",
                file=file,
            )
        if trigger.get("kind") == "scenario_finished" and trigger.get("scenario") not in scenarios:
            raise BundleError(
                f"a trigger waits for scenario {str(trigger.get('scenario'))[:80]!r}, which is not in the bundle",
                file=file,
            )
    for step in doc.get("steps") or []:
        names = (step.get("params") or {}).get("datasets") or []
        if not isinstance(names, list):
            raise BundleError("a step's 'datasets' must be a list of dataset names", file=file)
        for name in names:
            if name not in datasets:
                raise BundleError(
                    f"a {step.get('kind')} step names dataset {str(name)[:80]!r}, which is not in the bundle",
                    file=file,
                )


def _columns(declared: Sequence[Mapping[str, Any]]) -> tuple[Any, ...] | None:
    from modelworks.engine.recipes.types import Column

    if not declared:
        return None
    return tuple(Column(str(c["name"]), str(c.get("type") or "other")) for c in declared)


def check_recipes(
    plan: ImportPlan, real_columns: Mapping[str, Sequence[Mapping[str, Any]]]
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Normalise and compile every recipe, in flow order, against the columns it will read.

    Args:
        plan: the checked plan.
        real_columns: dataset name → the columns of its imported data (overrides the declared ones).

    Returns:
        Recipe name → its normalised spec; and the recipes ``validate_recipe`` can check too (every
        input has stored columns once the data is imported, directly or through upstream recipes
        other than Python ones).

    Raises:
        BundleError: the engine's message, naming the recipe and its file.
    """
    from modelworks.engine.errors import EngineError
    from modelworks.engine.flow import relations_for
    from modelworks.engine.recipes import compile_recipe, normalize_spec, output_schemas

    schemas: dict[str, tuple[Any, ...] | None] = {}
    for name, (_, doc) in plan.datasets.items():
        schemas[name] = _columns(real_columns.get(name) or doc.get("columns") or [])
    specs: dict[str, dict[str, Any]] = {}
    stored = set(real_columns)
    checkable: set[str] = set()
    for file, doc in plan.recipes:
        name, kind = doc["name"].strip(), doc["kind"]
        inputs, outputs = list(doc.get("inputs") or []), list(doc.get("outputs") or [])
        if all(i in stored for i in inputs):
            checkable.add(name)
            if kind not in RUN_ONLY_KINDS:
                stored.update(outputs)
        try:
            specs[name] = normalize_spec(kind, dict(doc.get("spec") or {}), recipe=name)
            known = [schemas.get(i) for i in inputs]
            if kind in RUN_ONLY_KINDS or any(cols is None for cols in known):
                if kind not in RUN_ONLY_KINDS:
                    missing = inputs[known.index(None)]
                    plan.warnings.append(
                        f"Recipe '{name}' was not compiled: the columns of its input '{missing}' are unknown "
                        "(no data and none declared); it is checked when the data is there."
                    )
                for output in outputs:
                    declared = plan.datasets.get(output, ("", {}))[1].get("columns") or []
                    schemas[output] = _columns(declared)
                continue
            relations = relations_for(
                {i: cols for i, cols in zip(inputs, known, strict=True) if cols is not None}
            )
            compiled = compile_recipe(kind, specs[name], relations, outputs, recipe=name)
            produced = output_schemas(compiled, relations)
        except EngineError as exc:
            raise BundleError(f"recipe '{name}' does not compile: {exc.message}", file=file) from exc
        for output in outputs:
            schemas[output] = tuple(produced.get(output) or ()) or None
    return specs, checkable


def resolve_storage(plan: ImportPlan, project: Project | None, *, drop_storage: bool = False) -> None:
    """Find, by name, the PostgreSQL connection of every output a recipe stores in one, among the
    connections the target project may use (a new project has none yet); fill ``plan.storage``.

    Args:
        plan: the checked plan.
        project: the existing project imported into, or None for a new one.
        drop_storage: store the outputs whose connection is missing in Modelworks storage instead,
            with a warning each, rather than refusing the bundle.

    Raises:
        BundleError: some connections are missing (and ``drop_storage`` is off); the message lists
            them with the outputs that use them, and how to go on.
    """
    from modelworks.flows.services.pushdown import storage_choices

    usable = {c.name: c for c in storage_choices(project)} if project is not None else {}
    missing: dict[str, list[str]] = {}
    for _file, doc in plan.recipes:
        name = doc["name"].strip()
        for output, chosen in sorted((doc.get("output_settings") or {}).items()):
            storage = chosen.get("storage") if isinstance(chosen, dict) else None
            if not storage:
                continue
            connection = usable.get(storage["connection"])
            if connection is None:
                missing.setdefault(storage["connection"], []).append(f"'{output}' of recipe '{name}'")
                if drop_storage:
                    plan.warnings.append(
                        f"Recipe '{name}': output '{output}' was stored in PostgreSQL connection "
                        f"'{storage['connection']}', which this project cannot use; it is kept in Modelworks "
                        "storage instead (choose its storage on the recipe once the connection exists)."
                    )
                continue
            plan.storage.setdefault(name, {})[output] = (connection.pk, str(storage.get("schema") or ""))
    if missing and not drop_storage:
        listed = "; ".join(f"'{c}' (for {', '.join(uses)})" for c, uses in sorted(missing.items()))
        where = (
            "create them in this project, or ask an instance administrator to share them with it"
            if project is not None
            else "a new project has no connection yet: create an empty project, add these connections "
            "to it, then import the bundle into it from its settings page"
        )
        raise BundleError(
            f"some outputs are stored in PostgreSQL connections this project cannot use: {listed}. "
            f"Either {where}; or import with --drop-storage (API: drop_storage=true) to keep those "
            "outputs in Modelworks storage. Nothing was created"
        )
