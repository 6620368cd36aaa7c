"""The flow graph: checks on construction, walks, deterministic order."""

from __future__ import annotations

import random

import pytest

from modelworks.engine.flow import (
    CycleError,
    DuplicateProducerError,
    DuplicateRecipeError,
    FlowGraph,
    InvalidRecipeNodeError,
    MissingInputError,
    RecipeNode,
    UnknownDatasetError,
)


def r(rid: str, inputs: tuple[str, ...], outputs: tuple[str, ...], name: str | None = None) -> RecipeNode:
    return RecipeNode(rid, name or rid, inputs, outputs)


@pytest.mark.parametrize(
    ("nodes", "datasets", "error", "match"),
    [
        (
            [r("1", ("x",), ("y",), "a"), r("2", ("y",), ("x",), "b")],
            None,
            CycleError,
            r"^recipes feed each other in a loop: recipe 'a' → dataset 'y' → recipe 'b' → dataset 'x' "
            r"→ recipe 'a'; change the inputs or outputs of one of them to break the loop$",
        ),
        (
            # The loop is named from the recipe that sorts first, whatever the walk found first.
            [
                r("1", ("src", "w"), ("u",), "c"),
                r("2", ("u",), ("v",), "a"),
                r("3", ("v",), ("w",), "b"),
            ],
            ["src"],
            CycleError,
            r"recipe 'a' → dataset 'v' → recipe 'b' → dataset 'w' → recipe 'c' → dataset 'u' → recipe 'a';",
        ),
        (
            [r("1", ("x",), ("x",), "self")],
            None,
            CycleError,
            r"loop: recipe 'self' → dataset 'x' → recipe 'self';",
        ),
        (
            [r("1", ("raw",), ("out",), "clean"), r("2", ("raw",), ("out",), "fix")],
            ["raw"],
            DuplicateProducerError,
            r"^dataset 'out' is written by two recipes, 'clean' and 'fix'; a dataset can have only one "
            r"producing recipe",
        ),
        (
            [r("1", ("orders",), ("out",), "clean")],
            ["order", "customers"],
            MissingInputError,
            r"^recipe 'clean' reads dataset 'orders', which does not exist and no recipe produces it; "
            r"import or create 'orders', or pick another input; did you mean 'order'\?$",
        ),
        ([r("1", ("a",), (), "empty")], ["a"], InvalidRecipeNodeError, r"recipe 'empty' has no output"),
        ([r("", ("a",), ("b",), "anon")], ["a"], InvalidRecipeNodeError, r"recipe 'anon' has no id"),
        (
            [r("7", ("a",), ("b",), "one"), r("7", ("a",), ("c",), "two")],
            ["a"],
            DuplicateRecipeError,
            r"two recipes share the id '7' \('one' and 'two'\)",
        ),
    ],
)
def test_invalid_flows_are_refused(
    nodes: list[RecipeNode], datasets: list[str] | None, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        FlowGraph.from_recipes(nodes, datasets)


def test_cycle_error_details_list_the_loop() -> None:
    with pytest.raises(CycleError) as caught:
        FlowGraph.from_recipes([r("1", ("x",), ("y",), "a"), r("2", ("y",), ("x",), "b")])
    assert caught.value.details == {"cycle": ["1", "2"]}
    assert caught.value.code == "flow_cycle"


def test_messages_use_dataset_labels() -> None:
    with pytest.raises(MissingInputError, match=r"reads dataset 'Orders 2024'.*; did you mean 'Orders'\?"):
        FlowGraph.from_recipes(
            [r("1", ("d9",), ("d2",), "clean")], ["d1"], labels={"d9": "Orders 2024", "d1": "Orders"}
        )


def test_without_a_dataset_list_unproduced_inputs_are_sources() -> None:
    graph = FlowGraph.from_recipes([r("1", ("a", "b"), ("c",))])
    assert graph.sources() == ("a", "b")
    assert graph.datasets == ("a", "b", "c")


def test_walks(flow: FlowGraph) -> None:
    assert flow.topological_order() == ("other", "prep", "agg", "final")
    assert flow.sources() == ("lookup", "raw")
    assert flow.producer("totals") == "agg"
    assert flow.producer("raw") is None
    assert flow.producers == {"clean": "prep", "totals": "agg", "other": "other", "report": "final"}
    assert flow.consumers("raw") == ("other", "prep")
    assert flow.consumers("lookup") == ()
    assert flow.dependencies("final") == ("other", "agg")
    assert flow.upstream(["totals"]) == ("prep", "agg")
    assert flow.upstream(["report"]) == ("other", "prep", "agg", "final")
    assert flow.upstream(["raw"]) == ()
    assert flow.downstream(["clean"]) == ("agg", "final")
    assert flow.downstream(["raw"]) == ("other", "prep", "agg", "final")
    assert flow.downstream(["report", "lookup"]) == ()
    assert list(flow.recipes) == ["other", "prep", "agg", "final"]


@pytest.mark.parametrize("call", ["upstream", "downstream", "producer", "consumers"])
def test_unknown_datasets_are_named(flow: FlowGraph, call: str) -> None:
    argument: object = ["totalz"] if call in ("upstream", "downstream") else "totalz"
    with pytest.raises(
        UnknownDatasetError, match=r"dataset 'totalz' is not part of this flow; did you mean 'totals'\?"
    ):
        getattr(flow, call)(argument)


def test_order_does_not_depend_on_the_order_recipes_are_given() -> None:
    nodes = [r(f"{i}", (f"d{i // 2}",), (f"d{i + 10}",), f"recipe {i:02d}") for i in range(30)]
    nodes += [r("j", ("d10", "d25", "d39"), ("joined",), "join")]
    orders = set()
    for seed in range(5):
        shuffled = nodes[:]
        random.Random(seed).shuffle(shuffled)  # noqa: S311
        graph = FlowGraph.from_recipes(shuffled)
        order = graph.topological_order()
        position = {rid: i for i, rid in enumerate(order)}
        for rid in order:
            assert all(position[d] < position[rid] for d in graph.dependencies(rid))
        orders.add(order)
    assert len(orders) == 1
