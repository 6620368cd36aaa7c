"""The layered drawing: deterministic, boxes never overlap, edges go left to right."""

from __future__ import annotations

import itertools
import json
import random

import pytest

from modelworks.engine.flow import FlowGraph, FlowLayout, RecipeNode


def random_flow(recipes: int, seed: int) -> FlowGraph:
    """A random DAG: each recipe reads 1-3 earlier datasets (or sources) and writes 1-2 new ones."""
    rng = random.Random(seed)  # noqa: S311
    available = [f"source {i}" for i in range(max(3, recipes // 10))]
    nodes = []
    for i in range(recipes):
        inputs = tuple(sorted(set(rng.sample(available, k=min(len(available), rng.randint(1, 3))))))
        outputs = tuple(f"ds {i}.{k}" for k in range(rng.choice((1, 1, 1, 2))))
        nodes.append(RecipeNode(f"r{i}", f"recipe {i}", inputs, outputs))
        available.extend(outputs)
    return FlowGraph.from_recipes(nodes)


def check_layout(layout: FlowLayout, graph: FlowGraph) -> None:
    ids = {n.id for n in layout.nodes}
    assert ids == {f"dataset:{d}" for d in graph.datasets} | {f"recipe:{r}" for r in graph.recipes}
    # No two boxes of a column overlap, and the order is top to bottom.
    for _, column in itertools.groupby(
        sorted(layout.nodes, key=lambda n: (n.layer, n.order)), key=lambda n: n.layer
    ):
        boxes = list(column)
        for upper, lower in itertools.pairwise(boxes):
            assert upper.y + upper.height <= lower.y + 1e-6, (upper, lower)
    # Columns do not overlap either, and every box is inside the drawing.
    for a in layout.nodes:
        assert 0 <= a.x and a.x + a.width <= layout.width
        assert 0 <= a.y and a.y + a.height <= layout.height
        for b in layout.nodes:
            if a.layer < b.layer:
                assert a.x + a.width < b.x
    # Edges: one per (input|output) link, left to right, from the source's right side to the target's left.
    for edge in layout.edges:
        source, target = layout.node(edge.source), layout.node(edge.target)
        assert source.layer < target.layer
        assert edge.points[0] == (source.x + source.width, source.y + source.height / 2)
        assert edge.points[-1] == (target.x, target.y + target.height / 2)
        assert len(edge.points) == target.layer - source.layer + 1
        xs = [p[0] for p in edge.points]
        assert xs == sorted(xs)
    links = {(f"dataset:{d}", f"recipe:{rid}") for rid, n in graph.recipes.items() for d in n.inputs}
    links |= {(f"recipe:{rid}", f"dataset:{d}") for rid, n in graph.recipes.items() for d in n.outputs}
    assert {(e.source, e.target) for e in layout.edges} == links
    assert layout.crossings == brute_force_crossings(layout)


def brute_force_crossings(layout: FlowLayout) -> int:
    """Segments between the same two columns cross when their ends are in opposite vertical order."""
    layer_segments: dict[int, list[tuple[float, float]]] = {}
    for edge in layout.edges:
        source = layout.node(edge.source)
        for offset, (a, b) in enumerate(itertools.pairwise(edge.points)):
            layer_segments.setdefault(source.layer + offset, []).append((a[1], b[1]))
    count = 0
    for segs in layer_segments.values():
        for (a1, b1), (a2, b2) in itertools.combinations(segs, 2):
            if (a1 - a2) * (b1 - b2) < 0:
                count += 1
    return count


def test_the_example_flow_is_drawn_in_columns(flow: FlowGraph) -> None:
    layout = flow.layout()
    check_layout(layout, flow)
    layer = {n.id: n.layer for n in layout.nodes}
    # Sources at the left, each recipe right of its inputs, each output right of its recipe.
    assert layer["dataset:raw"] == 0 and layer["recipe:prep"] == 1 and layer["recipe:other"] == 1
    assert layer["dataset:clean"] == 2 and layer["dataset:other"] == 2 and layer["recipe:agg"] == 3
    assert layer["dataset:totals"] == 4 and layer["recipe:final"] == 5 and layer["dataset:report"] == 6
    assert layer["dataset:lookup"] == 0
    # `other` (layer 2) reaches `final` (layer 5) through two waypoints.
    edge = next(e for e in layout.edges if e.source == "dataset:other")
    assert len(edge.points) == 4
    assert layout.crossings == 0
    assert json.loads(json.dumps(layout.to_dict()))["nodes"][0]["id"] == layout.nodes[0].id


def test_a_source_sits_next_to_its_first_consumer() -> None:
    graph = FlowGraph.from_recipes(
        [
            RecipeNode("1", "a", ("raw",), ("x",)),
            RecipeNode("2", "b", ("x",), ("y",)),
            RecipeNode("3", "c", ("y", "late"), ("z",)),
        ]
    )
    layout = graph.layout()
    check_layout(layout, graph)
    assert layout.node("dataset:late").layer == layout.node("recipe:3").layer - 1 == 4


def test_ordering_removes_avoidable_crossings() -> None:
    # Sorted by label, the sources come a, b, c but their recipes' outputs feed joins in the
    # opposite order; barycenter sweeps must untangle it completely.
    graph = FlowGraph.from_recipes(
        [
            RecipeNode("1", "p", ("a",), ("a2",)),
            RecipeNode("2", "q", ("b",), ("b2",)),
            RecipeNode("3", "r", ("c",), ("c2",)),
            RecipeNode("4", "j1", ("c2",), ("out1",)),
            RecipeNode("5", "j2", ("b2", "a2"), ("out2",)),
        ]
    )
    layout = graph.layout()
    check_layout(layout, graph)
    assert layout.crossings == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_large_random_flows_keep_every_invariant(seed: int) -> None:
    graph = random_flow(150, seed)
    check_layout(graph.layout(), graph)


def test_layout_is_deterministic_whatever_the_recipe_order() -> None:
    graph = random_flow(80, 7)
    first = graph.layout().to_dict()
    nodes = list(graph.recipes.values())
    random.Random(3).shuffle(nodes)  # noqa: S311
    again = FlowGraph.from_recipes(nodes).layout().to_dict()
    assert again == first
    assert graph.layout().to_dict() == first


def test_sizes_are_configurable_and_an_empty_flow_is_empty() -> None:
    graph = FlowGraph.from_recipes([RecipeNode("1", "a", ("raw",), ("out",))])
    layout = graph.layout(dataset_width=200, recipe_width=50, layer_gap=100, margin=10)
    assert [(n.key, n.x, n.width) for n in layout.nodes] == [
        ("raw", 10, 200),
        ("1", 310, 50),
        ("out", 460, 200),
    ]
    empty = FlowGraph.from_recipes([]).layout()
    assert empty.nodes == () and empty.edges == ()
