"""A layered drawing of a directed graph, left to right (plain Python, no Django).

The classic Sugiyama steps, kept simple:

1. cycles are broken by reversing the edges a depth-first search finds going back;
2. each node gets a layer (a column): the longest path from a source, then sources move right,
   next to their first consumer, so an input used late does not stretch across the page;
3. edges spanning several layers get invisible waypoints, one per layer crossed;
4. nodes are ordered inside each layer by the barycentre of their neighbours, sweeping down and up;
5. each node is placed at the height of its neighbours where the order and spacing allow.

Each edge comes back as its points (source port, waypoints, target port) and as an SVG path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

__all__ = ["Box", "Layout", "Route", "layered_layout"]

Key = Hashable


@dataclass(frozen=True)
class Box:
    """A node to place, with its size."""

    key: Key
    width: float
    height: float


@dataclass
class Route:
    """How one edge is drawn: its points and a smooth SVG path through them."""

    source: Key
    target: Key
    points: list[tuple[float, float]]
    backward: bool = False

    @property
    def path(self) -> str:
        return smooth_path(self.points, backward=self.backward)


@dataclass
class Layout:
    """Placed nodes (top-left corners), routes and the drawing's size."""

    positions: dict[Key, tuple[float, float]] = field(default_factory=dict)
    sizes: dict[Key, tuple[float, float]] = field(default_factory=dict)
    layers: dict[Key, int] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0


def smooth_path(points: Sequence[tuple[float, float]], *, backward: bool = False) -> str:
    """Cubic Bézier segments through ``points``, leaving and entering each point horizontally."""
    (x0, y0), rest = points[0], points[1:]
    parts = [f"M{x0:.1f},{y0:.1f}"]
    for x1, y1 in rest:
        if backward:
            # An edge going back to an earlier layer loops below both ends instead of crossing them.
            drop = max(abs(y1 - y0), 40.0) * 0.6 + 40
            parts.append(f"C{x0 + 60:.1f},{y0 + drop:.1f} {x1 - 60:.1f},{y1 + drop:.1f} {x1:.1f},{y1:.1f}")
        else:
            bend = max((x1 - x0) / 2, 20.0)
            parts.append(f"C{x0 + bend:.1f},{y0:.1f} {x1 - bend:.1f},{y1:.1f} {x1:.1f},{y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(parts)


def _acyclic(keys: list[Key], edges: list[tuple[Key, Key]]) -> set[tuple[Key, Key]]:
    """The edges to reverse so that the graph has no cycle (back edges of an iterative DFS)."""
    succ: dict[Key, list[Key]] = defaultdict(list)
    for s, t in edges:
        succ[s].append(t)
    state: dict[Key, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[Key, Key]] = set()
    for start in keys:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(succ[start]))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    return back


def _assign_layers(keys: list[Key], dag: list[tuple[Key, Key]]) -> dict[Key, int]:
    preds: dict[Key, list[Key]] = defaultdict(list)
    succ: dict[Key, list[Key]] = defaultdict(list)
    indegree = {k: 0 for k in keys}
    for s, t in dag:
        preds[t].append(s)
        succ[s].append(t)
        indegree[t] += 1
    order: list[Key] = []
    ready = [k for k in keys if indegree[k] == 0]
    while ready:
        node = ready.pop(0)
        order.append(node)
        for t in succ[node]:
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
    layer: dict[Key, int] = {}
    for node in order:
        layer[node] = max((layer[p] + 1 for p in preds[node]), default=0)
    for node in reversed(order):
        if not preds[node] and succ[node]:
            layer[node] = min(layer[t] for t in succ[node]) - 1
    return layer


def _crossing_order(layers: list[list[Key]], up: dict[Key, list[Key]], down: dict[Key, list[Key]]) -> None:
    """Reorder each layer in place by the barycentre of its neighbours (four sweeps each way)."""

    def sweep(seq: range, neighbours: dict[Key, list[Key]], ref_of: int) -> None:
        for i in seq:
            ref = {k: n for n, k in enumerate(layers[i + ref_of])}
            current = {k: n for n, k in enumerate(layers[i])}

            def barycentre(k: Key, ref: dict[Key, int] = ref, current: dict[Key, int] = current) -> float:
                linked = [ref[n] for n in neighbours[k] if n in ref]
                return sum(linked) / len(linked) if linked else float(current[k])

            layers[i].sort(key=barycentre)

    for _ in range(4):
        sweep(range(1, len(layers)), up, -1)
        sweep(range(len(layers) - 2, -1, -1), down, 1)


def layered_layout(
    boxes: Sequence[Box],
    edges: Sequence[tuple[Key, Key]],
    *,
    layer_gap: float = 70.0,
    node_gap: float = 22.0,
    margin: float = 24.0,
) -> Layout:
    """Place ``boxes`` in layers from left to right so that ``edges`` mostly point right.

    Args:
        boxes: the nodes, in a stable order (it breaks ties).
        edges: ``(source, target)`` pairs; edges naming an unknown node, and self-loops, are ignored.
        layer_gap: horizontal space between layers.
        node_gap: vertical space between nodes of a layer.
        margin: space around the drawing.
    """
    keys = [b.key for b in boxes]
    size = {b.key: (b.width, b.height) for b in boxes}
    edge_list = list(dict.fromkeys((s, t) for s, t in edges if s in size and t in size and s != t))
    back = _acyclic(keys, edge_list)
    dag = [(t, s) if (s, t) in back else (s, t) for s, t in edge_list]
    layer = _assign_layers(keys, list(dict.fromkeys(dag)))
    shift = -min(layer.values(), default=0)
    layer = {k: v + shift for k, v in layer.items()}

    # Waypoints: one invisible node per layer an edge crosses.
    up: dict[Key, list[Key]] = defaultdict(list)
    down: dict[Key, list[Key]] = defaultdict(list)
    chains: dict[tuple[Key, Key], list[Key]] = {}
    for (s, t), (a, b) in zip(edge_list, dag, strict=True):
        chain = [a]
        for n in range(layer[a] + 1, layer[b]):
            dummy = ("~", s, t, n)
            layer[dummy] = n
            size[dummy] = (0.0, 0.0)
            chain.append(dummy)
        chain.append(b)
        for u, v in pairwise(chain):
            down[u].append(v)
            up[v].append(u)
        chains[(s, t)] = chain

    count = max(layer.values(), default=-1) + 1
    layers: list[list[Key]] = [[] for _ in range(count)]
    known = set(keys)
    for key in keys + [k for k in layer if k not in known]:
        layers[layer[key]].append(key)
    _crossing_order(layers, up, down)

    # x: each layer is as wide as its widest node.
    widths = [max((size[k][0] for k in keys_), default=0.0) for keys_ in layers]
    xs, x = [], margin
    for w in widths:
        xs.append(x)
        x += w + layer_gap
    # y: stack, then pull each node towards its neighbours' height (two sweeps), keeping the order.
    y: dict[Key, float] = {}
    for keys_ in layers:
        top = margin
        for k in keys_:
            y[k] = top
            top += size[k][1] + node_gap

    def centre(k: Key) -> float:
        return y[k] + size[k][1] / 2

    def settle(keys_: list[Key], neighbours: dict[Key, list[Key]]) -> None:
        bottom = margin - node_gap
        for k in keys_:
            linked = [centre(n) for n in neighbours[k]]
            wanted = sum(linked) / len(linked) - size[k][1] / 2 if linked else y[k]
            y[k] = max(wanted, bottom + node_gap)
            bottom = y[k] + size[k][1]

    for _ in range(2):
        for keys_ in layers[1:]:
            settle(keys_, up)
        for keys_ in reversed(layers[:-1]):
            settle(keys_, down)
    low = min(y.values(), default=margin)
    y = {k: v - low + margin for k, v in y.items()}

    result = Layout(layers={k: layer[k] for k in keys})
    for k in keys:
        result.positions[k] = (xs[layer[k]] + (widths[layer[k]] - size[k][0]) / 2, y[k])
        result.sizes[k] = size[k]
    for s, t in edge_list:
        chain = chains[(s, t)]
        backward = (s, t) in back
        if backward:
            chain = list(reversed(chain))
        points = []
        for i, k in enumerate(chain):
            w, h = size[k]
            px = xs[layer[k]] + (widths[layer[k]] - w) / 2
            cy = y[k] + h / 2
            if i == 0:
                points.append((px + w, cy))  # leave from the right side
            elif i == len(chain) - 1:
                points.append((px, cy))  # arrive on the left side
            else:
                points.append((xs[layer[k]] + widths[layer[k]] / 2, cy))
        if backward and len(points) > 2:
            points = [points[0], points[-1]]
        result.routes.append(Route(s, t, points, backward=backward))
    result.width = (xs[-1] + widths[-1] + margin) if layers else 2 * margin
    result.height = max((y[k] + size[k][1] for k in y), default=0.0) + margin
    if back:
        result.height += 60  # room for the loops of backward edges
    return result
