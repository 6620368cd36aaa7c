"""Build planning: which recipes run, why, and the checks made before anything runs."""

from __future__ import annotations

import json
import math

import pytest

from modelworks.engine.flow import (
    ENGINE_VERSION,
    BlockedInputError,
    BuildPlan,
    FlowGraph,
    PlanError,
    RecipeNode,
    UnknownDatasetError,
    fingerprint,
    plan_build,
)

# raw ─prep→ clean ─agg→ totals ─┐
# raw ─other→ other ─────────────┴─final→ report
SPECS = {
    "prep": ("prepare", {"steps": [{"processor": "trim", "params": {"columns": ["name"]}}]}),
    "agg": ("group", {"keys": ["region"], "aggregations": [{"column": "amount", "function": "sum"}]}),
    "other": ("sample", {"method": "first", "rows": 100}),
    "final": ("join", {"type": "left", "on": [["region", "region"]]}),
}


def fingerprints(
    flow: FlowGraph, versions: dict[str, str], **spec_changes: dict[str, object]
) -> dict[str, str]:
    """Each recipe's fingerprint from its spec and the current version of each input."""
    result = {}
    for rid, node in flow.recipes.items():
        kind, spec = SPECS[rid]
        spec = {**spec, **spec_changes.get(rid, {})}
        result[rid] = fingerprint(kind, spec, {d: versions[d] for d in node.inputs})
    return result


VERSIONS = {"raw": "v1", "clean": "v1", "totals": "v1", "other": "v1", "report": "v1"}


def reasons(plan: BuildPlan) -> dict[str, str]:
    return {s.recipe_id: s.reason for s in plan.steps}


def test_fingerprint_is_a_stable_hash_of_canonical_json() -> None:
    a = fingerprint("group", {"keys": ["x"], "agg": {"b": 1, "a": 2}}, {"in": "v1", "other": "v2"})
    b = fingerprint("group", {"agg": {"a": 2, "b": 1}, "keys": ["x"]}, {"other": "v2", "in": "v1"})
    assert a == b and len(a) == 64 and int(a, 16) >= 0
    assert fingerprint("group", {"keys": ["x"]}, {"in": "v1"}) != fingerprint(
        "group", {"keys": ["y"]}, {"in": "v1"}
    )
    assert fingerprint("group", {}, {"in": "v1"}) != fingerprint("group", {}, {"in": "v2"})
    assert fingerprint("group", {}, {"in": "v1"}) != fingerprint("sort", {}, {"in": "v1"})
    assert fingerprint("group", {}, {}) != fingerprint("group", {}, {}, code_version=ENGINE_VERSION + "+1")
    assert fingerprint("sql", {"query": "SELECT 'é'"}, {}) == fingerprint("sql", {"query": "SELECT 'é'"}, {})


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"when": {1, 2}}, r"settings of this group recipe cannot be saved as JSON .*set"),
        ({"ratio": math.nan}, r"cannot be saved as JSON"),
    ],
)
def test_fingerprint_refuses_settings_that_are_not_json(spec: dict[str, object], match: str) -> None:
    with pytest.raises(PlanError, match=match):
        fingerprint("group", spec, {})


def test_never_built_flow_runs_every_recipe(flow: FlowGraph) -> None:
    current = fingerprints(flow, VERSIONS)
    plan = plan_build(flow, targets=None, current=current, last_built={})
    assert [s.recipe_id for s in plan.steps] == ["other", "prep", "agg", "final"]
    assert set(reasons(plan).values()) == {"never built"}
    # Steps reading a dataset rebuilt by this plan only get their fingerprint at run time.
    assert {s.recipe_id: s.fingerprint for s in plan.steps} == {
        "other": current["other"],
        "prep": current["prep"],
        "agg": None,
        "final": None,
    }
    assert plan.step("final").depends_on == ("other", "agg")
    assert [[s.recipe_id for s in wave] for wave in plan.waves()] == [["other", "prep"], ["agg"], ["final"]]
    assert plan.skipped == ()


def test_an_up_to_date_flow_runs_nothing(flow: FlowGraph) -> None:
    current = fingerprints(flow, VERSIONS)
    plan = plan_build(flow, targets=None, current=current, last_built=dict(current))
    assert plan.steps == ()
    assert [(s.recipe_id, s.reason, s.fingerprint) for s in plan.skipped] == [
        (rid, "up to date", current[rid]) for rid in ("other", "prep", "agg", "final")
    ]
    assert plan.waves() == []


def test_a_changed_recipe_runs_and_rebuilds_what_reads_its_output(flow: FlowGraph) -> None:
    built = fingerprints(flow, VERSIONS)
    current = fingerprints(flow, VERSIONS, agg={"keys": ["country"]})
    plan = plan_build(flow, targets=None, current=current, last_built=built)
    assert reasons(plan) == {"agg": "recipe changed or input version changed", "final": "upstream rebuilt"}
    assert plan.step("agg").fingerprint == current["agg"]
    assert plan.step("agg").depends_on == ()
    assert plan.step("final").fingerprint is None
    assert {s.recipe_id for s in plan.skipped} == {"other", "prep"}


def test_a_new_input_version_reruns_its_consumers(flow: FlowGraph) -> None:
    built = fingerprints(flow, VERSIONS)
    current = fingerprints(flow, {**VERSIONS, "raw": "v2"})
    plan = plan_build(flow, targets=None, current=current, last_built=built)
    assert reasons(plan) == {
        "other": "recipe changed or input version changed",
        "prep": "recipe changed or input version changed",
        "agg": "upstream rebuilt",
        "final": "upstream rebuilt",
    }


def test_an_unknown_current_fingerprint_runs_the_recipe(flow: FlowGraph) -> None:
    built = fingerprints(flow, VERSIONS)
    current: dict[str, str | None] = {**built, "other": None}
    plan = plan_build(flow, targets=None, current=current, last_built=built)
    assert reasons(plan) == {"other": "recipe changed or input version changed", "final": "upstream rebuilt"}


@pytest.mark.parametrize(
    ("force", "expected"),
    [
        (True, {"other": "forced", "prep": "forced", "agg": "forced", "final": "forced"}),
        (["prep"], {"prep": "forced", "agg": "upstream rebuilt", "final": "upstream rebuilt"}),
        ({"final"}, {"final": "forced"}),
        (False, {}),
    ],
)
def test_forced_recipes_run_even_when_up_to_date(
    flow: FlowGraph, force: bool | list[str], expected: dict[str, str]
) -> None:
    current = fingerprints(flow, VERSIONS)
    plan = plan_build(flow, targets=None, current=current, last_built=dict(current), force=force)
    assert reasons(plan) == expected


def test_targets_limit_the_build_to_their_upstream(flow: FlowGraph) -> None:
    current = fingerprints(flow, VERSIONS)
    plan = plan_build(flow, targets=["totals"], current=current, last_built={"prep": current["prep"]})
    assert reasons(plan) == {"agg": "never built"}
    assert [s.recipe_id for s in plan.skipped] == ["prep"]
    assert plan.targets == ("totals",)
    # A source dataset as target: nothing to do.
    assert plan_build(flow, targets=["raw"], current=current, last_built={}).steps == ()
    # Forcing everything still stays within the targets.
    forced = plan_build(flow, targets=["clean", "clean"], current=current, last_built={}, force=True)
    assert reasons(forced) == {"prep": "forced"} and forced.targets == ("clean",)


def test_blocked_input_stops_the_plan_before_anything_runs(flow: FlowGraph) -> None:
    current = fingerprints(flow, VERSIONS)
    why = "version 4 failed the blocking quality rule 'amount >= 0'"
    with pytest.raises(
        BlockedInputError,
        match=r"^recipe 'other' cannot run: input 'raw' version 4 failed the blocking quality rule "
        r"'amount >= 0'; fix the data or unblock the rule \(1 more blocked input\)$",
    ) as caught:
        plan_build(flow, targets=None, current=current, last_built={}, blocked_inputs={"raw": why})
    assert caught.value.details["blocked"] == [
        {"recipe": "other", "dataset": "raw", "reason": why},
        {"recipe": "prep", "dataset": "raw", "reason": why},
    ]


def test_blocked_input_does_not_matter_when_rebuilt_or_not_read(flow: FlowGraph) -> None:
    built = fingerprints(flow, VERSIONS)
    blocked = {"clean": "version 2 failed the blocking quality rule 'not null'"}
    # `clean` is rebuilt by `prep` in this build: `agg` will read the new version.
    current = fingerprints(flow, {**VERSIONS, "raw": "v2"})
    plan = plan_build(flow, targets=None, current=current, last_built=built, blocked_inputs=blocked)
    assert "agg" in reasons(plan)
    # `agg` is up to date: it does not run, so the blocked version is not read.
    plan = plan_build(flow, targets=None, current=built, last_built=built, blocked_inputs=blocked)
    assert plan.steps == ()
    # `agg` must run on the blocked version: refused.
    with pytest.raises(BlockedInputError, match=r"^recipe 'agg' cannot run: input 'clean' version 2"):
        plan_build(
            flow, targets=["totals"], current=built, last_built=built, force=["agg"], blocked_inputs=blocked
        )


def test_messages_use_dataset_labels() -> None:
    graph = FlowGraph.from_recipes(
        [RecipeNode("7", "Clean orders", ("ds-1",), ("ds-2",))], labels={"ds-1": "Orders"}
    )
    with pytest.raises(
        BlockedInputError, match=r"recipe 'Clean orders' cannot run: input 'Orders' is stale;"
    ):
        plan_build(graph, targets=None, current={}, last_built={}, blocked_inputs={"ds-1": "is stale"})


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"targets": ["totalz"]},
            UnknownDatasetError,
            r"dataset 'totalz' is not part of this flow; did you mean 'totals'\?",
        ),
        (
            {"targets": None, "force": ["nope"]},
            PlanError,
            r"cannot force recipe 'nope': it is not part of this flow",
        ),
    ],
)
def test_bad_requests_are_refused(
    flow: FlowGraph, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        plan_build(flow, current={}, last_built={}, **kwargs)  # type: ignore[arg-type]


def test_plan_to_dict_is_json(flow: FlowGraph) -> None:
    current = fingerprints(flow, VERSIONS)
    plan = plan_build(flow, targets=["report"], current=current, last_built={"other": current["other"]})
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["targets"] == ["report"]
    assert [s["recipe_id"] for s in data["steps"]] == ["prep", "agg", "final"]
    assert data["skipped"] == [
        {"recipe_id": "other", "name": "other", "reason": "up to date", "fingerprint": current["other"]}
    ]
    assert data["waves"] == [["prep"], ["agg"], ["final"]]
    assert data["steps"][2]["depends_on"] == ["agg"]
