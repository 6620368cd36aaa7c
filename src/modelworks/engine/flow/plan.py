"""Which recipes a build runs, and why.

A recipe's *fingerprint* is a hash of everything its output depends on: its kind, its settings, the
versions of its inputs and the engine's own version. A build of some target datasets looks at the
recipes upstream of them, in dependency order, and runs a recipe when

* it is forced,
* it was never built,
* it consumes the output of a recipe that runs in this build (its new fingerprint is then only
  known at run time, once that input has its new version), or
* its fingerprint differs from the one of its last build (settings or input versions changed).

The others are skipped as up to date. A recipe that would run on a dataset version that failed a
blocking quality rule stops the plan before anything runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelworks.engine.flow.errors import BlockedInputError, PlanError
from modelworks.engine.flow.graph import FlowGraph

__all__ = [
    "ENGINE_VERSION",
    "REASON_CHANGED",
    "REASON_FORCED",
    "REASON_NEVER_BUILT",
    "REASON_UPSTREAM",
    "REASON_UP_TO_DATE",
    "BuildPlan",
    "PlannedStep",
    "SkippedStep",
    "fingerprint",
    "plan_build",
]

#: Part of every fingerprint: bump it when compiling or running recipes changes what they produce,
#: so that the next build rebuilds everything.
ENGINE_VERSION = "modelworks-flow/1"

REASON_FORCED = "forced"
REASON_NEVER_BUILT = "never built"
REASON_UPSTREAM = "upstream rebuilt"
REASON_CHANGED = "recipe changed or input version changed"
REASON_UP_TO_DATE = "up to date"


def fingerprint(
    kind: str,
    spec: Mapping[str, Any],
    input_versions: Mapping[str, str],
    *,
    code_version: str = ENGINE_VERSION,
) -> str:
    """The SHA-256 (hex) of the canonical JSON of a recipe's kind, settings and input versions.

    Args:
        kind: the recipe kind (``prepare``, ``join``…).
        spec: its settings (JSON values only).
        input_versions: input name → the id of the version the recipe reads.
        code_version: the engine version (see :data:`ENGINE_VERSION`).

    Raises:
        PlanError: the settings hold something that is not JSON (a date, a set, NaN…).
    """
    document = {
        "code": code_version,
        "inputs": dict(input_versions),
        "kind": kind,
        "spec": spec,
    }
    try:
        text = json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise PlanError(
            f"the settings of this {kind} recipe cannot be saved as JSON ({exc}); "
            "use only text, numbers, booleans, lists and objects",
            kind=kind,
        ) from exc
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PlannedStep:
    """A recipe the build runs.

    Attributes:
        recipe_id, name, inputs, outputs: the recipe.
        reason: why it runs (one of the ``REASON_*`` texts).
        fingerprint: its current fingerprint, or ``None`` when an input is rebuilt in this build.
        depends_on: ids of the steps of this plan it must wait for.
    """

    recipe_id: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    reason: str
    fingerprint: str | None
    depends_on: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipe_id": self.recipe_id,
            "name": self.name,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "reason": self.reason,
            "fingerprint": self.fingerprint,
            "depends_on": list(self.depends_on),
        }


@dataclass(frozen=True)
class SkippedStep:
    """A recipe upstream of the targets that does not need to run."""

    recipe_id: str
    name: str
    reason: str
    fingerprint: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipe_id": self.recipe_id,
            "name": self.name,
            "reason": self.reason,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class BuildPlan:
    """The steps of a build in dependency order, and the recipes it leaves alone.

    Attributes:
        targets: the datasets asked for (``None``: the whole flow).
        steps: the recipes to run, each after the steps it depends on.
        skipped: the up-to-date recipes upstream of the targets.
        fused: step id → the ids of the recipes with virtual outputs that the step computes inline
            (see :mod:`modelworks.engine.flow.pipeline`); empty when no dataset is virtual.
    """

    targets: tuple[str, ...] | None
    steps: tuple[PlannedStep, ...]
    skipped: tuple[SkippedStep, ...]
    fused: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def step(self, recipe_id: str) -> PlannedStep:
        for step in self.steps:
            if step.recipe_id == recipe_id:
                return step
        raise KeyError(recipe_id)

    def waves(self) -> list[list[PlannedStep]]:
        """The steps grouped so that each group only depends on earlier groups.

        Steps of one wave may run at the same time; the runner does better (a step starts as soon as
        its own dependencies are done) but waves are how a page shows the plan.
        """
        wave_of: dict[str, int] = {}
        waves: list[list[PlannedStep]] = []
        for step in self.steps:
            wave = 1 + max((wave_of[d] for d in step.depends_on), default=-1)
            wave_of[step.recipe_id] = wave
            if wave == len(waves):
                waves.append([])
            waves[wave].append(step)
        return waves

    def to_dict(self) -> dict[str, Any]:
        return {
            "targets": None if self.targets is None else list(self.targets),
            "steps": [s.to_dict() for s in self.steps],
            "skipped": [s.to_dict() for s in self.skipped],
            "waves": [[s.recipe_id for s in wave] for wave in self.waves()],
            "fused": {rid: list(ids) for rid, ids in self.fused.items()},
        }


def plan_build(
    graph: FlowGraph,
    *,
    targets: Iterable[str] | None,
    current: Mapping[str, str | None],
    last_built: Mapping[str, str | None],
    force: bool | Iterable[str] = False,
    blocked_inputs: Mapping[str, str] | None = None,
) -> BuildPlan:
    """Decide which recipes a build runs.

    Args:
        graph: the flow.
        targets: the dataset keys to build (``None``: every recipe of the flow).
        current: recipe id → its fingerprint now (``None`` or absent: unknown, so it runs).
        last_built: recipe id → the fingerprint of its last successful build (``None`` or absent:
            never built).
        force: ``True`` to run every recipe upstream of the targets, or the ids of the recipes to
            run whatever their state.
        blocked_inputs: dataset key → why its current version may not be read, e.g. ``"version 4
            failed the blocking quality rule 'amount >= 0'"``.

    Returns:
        The plan; nothing has run.

    Raises:
        UnknownDatasetError: a target is not in the flow.
        PlanError: ``force`` names a recipe that is not in the flow.
        BlockedInputError: a recipe that must run reads a blocked dataset version that this build
            does not replace.
    """
    target_keys = None if targets is None else tuple(dict.fromkeys(targets))
    chosen = graph.topological_order() if target_keys is None else graph.upstream(target_keys)
    if isinstance(force, bool):
        forced = set(chosen) if force else set()
    else:
        forced = set(force)
        unknown = sorted(forced - set(graph.topological_order()))
        if unknown:
            raise PlanError(
                f"cannot force recipe {unknown[0]!r}: it is not part of this flow", recipes=unknown
            )
    steps: list[PlannedStep] = []
    skipped: list[SkippedStep] = []
    running: set[str] = set()
    for rid in chosen:
        node = graph.recipe(rid)
        depends_on = tuple(d for d in graph.dependencies(rid) if d in running)
        now = None if depends_on else current.get(rid)
        before = last_built.get(rid)
        if rid in forced:
            reason = REASON_FORCED
        elif before is None:
            reason = REASON_NEVER_BUILT
        elif depends_on:
            reason = REASON_UPSTREAM
        elif now is None or now != before:
            reason = REASON_CHANGED
        else:
            skipped.append(SkippedStep(rid, node.name, REASON_UP_TO_DATE, now))
            continue
        running.add(rid)
        steps.append(PlannedStep(rid, node.name, node.inputs, node.outputs, reason, now, depends_on))
    _check_blocked(graph, steps, running, blocked_inputs or {})
    return BuildPlan(target_keys, tuple(steps), tuple(skipped))


def _check_blocked(
    graph: FlowGraph,
    steps: list[PlannedStep],
    running: set[str],
    blocked: Mapping[str, str],
) -> None:
    problems: list[tuple[str, str, str]] = []
    for step in steps:
        for dataset in dict.fromkeys(step.inputs):
            if dataset in blocked and graph.producer(dataset) not in running:
                problems.append((step.recipe_id, dataset, blocked[dataset]))
    if not problems:
        return
    recipe_id, dataset, why = problems[0]
    message = (
        f"recipe {graph.recipe(recipe_id).name!r} cannot run: input {graph.label(dataset)!r} "
        f"{why}; fix the data or unblock the rule"
    )
    if len(problems) > 1:
        message += f" ({len(problems) - 1} more blocked input{'s' if len(problems) > 2 else ''})"
    raise BlockedInputError(
        message,
        blocked=[{"recipe": r, "dataset": d, "reason": w} for r, d, w in problems],
    )
