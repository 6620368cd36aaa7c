"""A layered drawing of a flow for the UI, left to right (Sugiyama style).

1. Layers: longest path from the sources (a recipe one layer right of its furthest input, a dataset
   one right of its recipe); a source dataset is then pulled next to its first consumer so that
   imported data sits by the recipe that reads it rather than far left.
2. Edges that span several layers get invisible waypoints, one per layer crossed.
3. Order inside each layer: barycenter sweeps down and up, keeping the order with the fewest
   crossings seen (counted exactly with a Fenwick tree, O(E log V) per pair of layers).
4. Vertical positions: each layer is placed as close as possible to the mean height of its
   neighbours while keeping its order and a minimum gap — an isotonic regression solved exactly by
   pool-adjacent-violators, O(n) per layer.

Everything is deterministic (ties broken by node id) and pure Python; a few hundred nodes take
milliseconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelworks.engine.flow.graph import FlowGraph

__all__ = ["FlowLayout", "LayoutEdge", "LayoutNode", "layout_flow"]

_SWEEPS = 12
_PLACEMENT_PASSES = 4


@dataclass(frozen=True)
class LayoutNode:
    """One box of the drawing.

    Attributes:
        id: ``"dataset:<key>"`` or ``"recipe:<id>"``.
        kind: ``"dataset"`` or ``"recipe"``.
        key: the dataset key or recipe id.
        label: the text to show (dataset label or recipe name).
        layer: its column, from 0 at the left.
        order: its rank from the top inside the column.
        x, y: its top-left corner.
        width, height: its size.
    """

    id: str
    kind: str
    key: str
    label: str
    layer: int
    order: int
    x: float
    y: float
    width: float
    height: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "key": self.key,
            "label": self.label,
            "layer": self.layer,
            "order": self.order,
            "x": self.x,
            "y": self.y,
            "width": self.width,
            "height": self.height,
        }


@dataclass(frozen=True)
class LayoutEdge:
    """An arrow from ``source`` to ``target`` (node ids), drawn through ``points`` ((x, y) pairs)."""

    source: str
    target: str
    points: tuple[tuple[float, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "points": [list(p) for p in self.points]}


@dataclass(frozen=True)
class FlowLayout:
    """The whole drawing: nodes, edges, overall size and the edge crossings left."""

    nodes: tuple[LayoutNode, ...]
    edges: tuple[LayoutEdge, ...]
    width: float
    height: float
    crossings: int

    def node(self, node_id: str) -> LayoutNode:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "width": self.width,
            "height": self.height,
            "crossings": self.crossings,
        }


def layout_flow(
    graph: FlowGraph,
    *,
    dataset_width: float = 160.0,
    dataset_height: float = 40.0,
    recipe_width: float = 40.0,
    recipe_height: float = 40.0,
    layer_gap: float = 60.0,
    node_gap: float = 24.0,
    margin: float = 20.0,
) -> FlowLayout:
    """Compute a layered drawing of ``graph`` (sizes in pixels)."""
    # Node ids and edges of the bipartite graph dataset → recipe → dataset.
    size: dict[str, tuple[float, float]] = {}
    label: dict[str, str] = {}
    succ: dict[str, list[str]] = {}
    pred: dict[str, list[str]] = {}
    for dataset in graph.datasets:
        nid = "dataset:" + dataset
        size[nid], label[nid] = (dataset_width, dataset_height), graph.label(dataset)
        succ[nid], pred[nid] = [], []
    order = graph.topological_order()
    for rid in order:
        nid = "recipe:" + rid
        size[nid], label[nid] = (recipe_width, recipe_height), graph.recipe(rid).name
        succ[nid], pred[nid] = [], []
    edges: list[tuple[str, str]] = []
    for rid in order:
        node = graph.recipe(rid)
        for dataset in dict.fromkeys(node.inputs):
            edges.append(("dataset:" + dataset, "recipe:" + rid))
        for dataset in dict.fromkeys(node.outputs):
            edges.append(("recipe:" + rid, "dataset:" + dataset))
    for a, b in edges:
        succ[a].append(b)
        pred[b].append(a)

    layer = _layers(graph, order, succ, pred)

    # Waypoints for long edges; `chains` keeps, per edge, the node ids it passes through.
    layer_of = dict(layer)
    chains: list[list[str]] = []
    lsucc: dict[str, list[str]] = {n: [] for n in layer_of}
    for a, b in edges:
        chain = [a]
        for step in range(layer_of[a] + 1, layer_of[b]):
            dummy = f"~{a}>{b}@{step}"
            layer_of[dummy] = step
            lsucc[dummy] = []
            chain.append(dummy)
        chain.append(b)
        for u, v in itertools.pairwise(chain):
            lsucc[u].append(v)
        chains.append(chain)
    lpred: dict[str, list[str]] = {n: [] for n in layer_of}
    for u, vs in lsucc.items():
        for v in vs:
            lpred[v].append(u)

    count = max(layer_of.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(count)]
    for nid in sorted(layer_of):
        layers[layer_of[nid]].append(nid)
    layers = _order_layers(layers, lsucc, lpred, label)
    crossings = _total_crossings(layers, lsucc)

    # Columns: each as wide as its widest box.
    widths = [max((size.get(n, (0.0, 0.0))[0] for n in col), default=0.0) for col in layers]
    column_x: list[float] = []
    x = margin
    for w in widths:
        column_x.append(x)
        x += w + layer_gap
    center_y = _place_vertically(layers, lsucc, lpred, size, node_gap)
    top = min((center_y[n] - size.get(n, (0.0, 0.0))[1] / 2 for n in center_y), default=0.0)
    shift = margin - top
    nodes: list[LayoutNode] = []
    anchor: dict[str, tuple[float, float, float]] = {}  # node → (left x, right x, center y)
    for index, col in enumerate(layers):
        for rank, nid in enumerate(col):
            w, h = size.get(nid, (0.0, 0.0))
            left = column_x[index] + (widths[index] - w) / 2
            cy = center_y[nid] + shift
            anchor[nid] = (left, left + w, cy)
            if nid in size:
                kind, _, key = nid.partition(":")
                nodes.append(LayoutNode(nid, kind, key, label[nid], index, rank, left, cy - h / 2, w, h))
    drawn = [
        LayoutEdge(
            chain[0],
            chain[-1],
            (
                (anchor[chain[0]][1], anchor[chain[0]][2]),
                *((anchor[d][0], anchor[d][2]) for d in chain[1:-1]),
                (anchor[chain[-1]][0], anchor[chain[-1]][2]),
            ),
        )
        for chain in chains
    ]
    height = max((n.y + n.height for n in nodes), default=0.0) + margin
    width = (column_x[-1] + widths[-1] + margin) if layers else 2 * margin
    return FlowLayout(tuple(nodes), tuple(drawn), width, max(height, 2 * margin), crossings)


def _layers(
    graph: FlowGraph,
    order: Sequence[str],
    succ: Mapping[str, list[str]],
    pred: Mapping[str, list[str]],
) -> dict[str, int]:
    layer: dict[str, int] = {}
    for dataset in graph.sources():
        layer["dataset:" + dataset] = 0
    for rid in order:  # topological: every input dataset already has its layer
        nid = "recipe:" + rid
        layer[nid] = 1 + max((layer[p] for p in pred[nid]), default=-1)
        for out in succ[nid]:
            layer[out] = layer[nid] + 1
    for dataset in graph.sources():
        nid = "dataset:" + dataset
        if succ[nid]:
            layer[nid] = min(layer[s] for s in succ[nid]) - 1
    return layer


def _order_layers(
    layers: list[list[str]],
    lsucc: Mapping[str, list[str]],
    lpred: Mapping[str, list[str]],
    label: Mapping[str, str],
) -> list[list[str]]:
    if not layers:
        return layers
    # Start: the first column by label, then each column by the barycenter of the previous one.
    current = [sorted(layers[0], key=lambda n: (label.get(n, ""), n))]
    for col in layers[1:]:
        current.append(_by_barycenter(col, lpred, current[-1]))
    best, best_crossings = [list(c) for c in current], _total_crossings(current, lsucc)
    for sweep in range(_SWEEPS):
        if best_crossings == 0:
            break
        if sweep % 2 == 0:
            for i in range(1, len(current)):
                current[i] = _by_barycenter(current[i], lpred, current[i - 1])
        else:
            for i in range(len(current) - 2, -1, -1):
                current[i] = _by_barycenter(current[i], lsucc, current[i + 1])
        crossings = _total_crossings(current, lsucc)
        if crossings < best_crossings:
            best, best_crossings = [list(c) for c in current], crossings
    return best


def _by_barycenter(col: list[str], neighbours: Mapping[str, list[str]], fixed: list[str]) -> list[str]:
    """Sort ``col`` by the mean position of each node's neighbours in the ``fixed`` column."""
    position = {n: i for i, n in enumerate(fixed)}
    scale = len(fixed) / max(len(col), 1)
    keyed = []
    for index, nid in enumerate(col):
        ranks = [position[m] for m in neighbours[nid] if m in position]
        # A node with no neighbour there keeps (proportionally) where it was.
        center = sum(ranks) / len(ranks) if ranks else index * scale
        keyed.append((center, index, nid))
    keyed.sort()
    return [nid for _, _, nid in keyed]


def _total_crossings(layers: Sequence[list[str]], lsucc: Mapping[str, list[str]]) -> int:
    return sum(_crossings(a, b, lsucc) for a, b in itertools.pairwise(layers))


def _crossings(upper: list[str], lower: list[str], lsucc: Mapping[str, list[str]]) -> int:
    """Edges between two adjacent columns that cross: inversions of their endpoint ranks."""
    position = {n: i for i, n in enumerate(lower)}
    targets = [t for u in upper for t in sorted(position[w] for w in lsucc[u])]
    size = len(lower)
    tree = [0] * (size + 1)
    found = 0
    for seen, target in enumerate(targets):
        # Earlier edges (from nodes above) that end strictly below this one cross it.
        i, lower_or_equal = target + 1, 0
        while i > 0:
            lower_or_equal += tree[i]
            i -= i & -i
        found += seen - lower_or_equal
        i = target + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return found


def _place_vertically(
    layers: Sequence[list[str]],
    lsucc: Mapping[str, list[str]],
    lpred: Mapping[str, list[str]],
    size: Mapping[str, tuple[float, float]],
    gap: float,
) -> dict[str, float]:
    """Center heights: stacked first, then pulled toward their neighbours, order and gaps kept."""
    center: dict[str, float] = {}
    heights = [[size.get(n, (0.0, 0.0))[1] for n in col] for col in layers]
    for col, hs in zip(layers, heights, strict=True):
        y = 0.0
        for nid, h in zip(col, hs, strict=True):
            center[nid] = y + h / 2
            y += h + gap
    for step in range(_PLACEMENT_PASSES):
        indices = range(1, len(layers)) if step % 2 == 0 else range(len(layers) - 2, -1, -1)
        neighbours = lpred if step % 2 == 0 else lsucc
        for i in indices:
            col, hs = layers[i], heights[i]
            wanted = []
            for nid in col:
                ys = [center[m] for m in neighbours[nid]]
                wanted.append(sum(ys) / len(ys) if ys else center[nid])
            for nid, y in zip(col, _spread(wanted, hs, gap), strict=True):
                center[nid] = y
    return center


def _spread(wanted: list[float], heights: list[float], gap: float) -> list[float]:
    """Centers closest (least squares) to ``wanted`` with ``c[i+1] - c[i] >= (h[i] + h[i+1]) / 2 + gap``.

    With ``z[i] = c[i] - offset[i]`` the constraint becomes ``z`` non-decreasing: isotonic
    regression, solved by pool-adjacent-violators.
    """
    offsets = [0.0]
    for a, b in itertools.pairwise(heights):
        offsets.append(offsets[-1] + (a + b) / 2 + gap)
    blocks: list[list[float]] = []  # [mean, weight]
    for target, offset in zip(wanted, offsets, strict=True):
        blocks.append([target - offset, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, weight = blocks.pop()
            prev = blocks[-1]
            prev[0] = (prev[0] * prev[1] + mean * weight) / (prev[1] + weight)
            prev[1] += weight
    z: list[float] = []
    for mean, weight in blocks:
        z.extend([mean] * int(weight))
    return [value + offset for value, offset in zip(z, offsets, strict=True)]
