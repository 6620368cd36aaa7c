"""The layered layout of the graph page (plain Python)."""

from __future__ import annotations

import itertools
import random

import pytest

from modelworks.catalog.lineage.layout import Box, Layout, layered_layout


def boxes(*keys: str, width: float = 100, height: float = 40) -> list[Box]:
    return [Box(k, width, height) for k in keys]


def overlapping(layout: Layout) -> list[tuple[str, str]]:
    found = []
    for a, b in itertools.combinations(layout.positions, 2):
        (ax, ay), (aw, ah) = layout.positions[a], layout.sizes[a]
        (bx, by), (bw, bh) = layout.positions[b], layout.sizes[b]
        if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
            found.append((a, b))
    return found


def test_edges_point_right_and_nodes_never_overlap() -> None:
    edges = [
        ("raw", "clean"),
        ("airports", "clean"),
        ("clean", "flights"),
        ("flights", "agg"),
        ("agg", "daily"),
    ]
    layout = layered_layout(boxes("raw", "airports", "clean", "flights", "agg", "daily"), edges)
    for source, target in edges:
        assert layout.layers[source] < layout.layers[target]
        assert layout.positions[source][0] < layout.positions[target][0]
    assert not overlapping(layout)
    assert layout.width > max(x + 100 for x, _ in layout.positions.values())
    assert all(route.path.startswith("M") and " C" in route.path for route in layout.routes)


def test_a_source_sits_next_to_its_first_consumer() -> None:
    # "late" is only read by the last job: it should not be stretched back to the first layer.
    edges = [("a", "j1"), ("j1", "b"), ("b", "j2"), ("j2", "c"), ("late", "j2")]
    layout = layered_layout(boxes("a", "j1", "b", "j2", "c", "late"), edges)
    assert layout.layers["late"] == layout.layers["j2"] - 1


def test_long_edges_get_waypoints() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")]
    layout = layered_layout(boxes("a", "b", "c", "d"), edges)
    long_route = next(r for r in layout.routes if (r.source, r.target) == ("a", "d"))
    assert len(long_route.points) == 4  # leaves a, crosses the layers of b and c, reaches d
    assert [x for x, _ in long_route.points] == sorted(x for x, _ in long_route.points)


def test_cycles_and_self_loops_are_drawn_without_failing() -> None:
    edges = [("a", "j"), ("j", "a"), ("j", "j"), ("j", "b"), ("b", "k"), ("k", "a")]
    layout = layered_layout(boxes("a", "j", "b", "k"), edges)
    assert set(layout.positions) == {"a", "j", "b", "k"}
    assert sum(r.backward for r in layout.routes) >= 1
    assert all((r.source, r.target) != ("j", "j") for r in layout.routes)
    assert not overlapping(layout)


def test_empty_and_unconnected_graphs() -> None:
    assert layered_layout([], []).positions == {}
    layout = layered_layout(boxes("x", "y"), [("x", "missing")])
    assert not overlapping(layout) and layout.routes == []


@pytest.mark.parametrize("seed", range(5))
def test_random_dags_keep_the_rules(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 (reproducible test graphs, not secrets)
    keys = [f"n{i}" for i in range(40)]
    edges = [(keys[i], keys[j]) for i in range(40) for j in range(i + 1, 40) if rng.random() < 0.06]
    layout = layered_layout(boxes(*keys, height=rng.choice([40, 90])), edges)
    assert not overlapping(layout)
    assert all(layout.layers[s] < layout.layers[t] for s, t in edges)
    assert len(layout.routes) == len(set(edges))
