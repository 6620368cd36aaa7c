"""What every prepare processor builds on: its description, the state it transforms, its settings.

A prepare recipe is compiled step by step into one ``SELECT``. The :class:`PrepareState` is the
select list being built (ordered ``name → expression``) over a source, plus pending ``WHERE``
conditions. A step that changes a column usually rewrites its expression in place (``TRIM(x)`` then
``LOWER(TRIM(x))``); when a step needs the previous steps' results *by name* in a way that cannot be
inlined (a window function, a statistic over the column, a large expression used several times), the
state is wrapped: the current ``SELECT`` becomes a CTE (``_mw_prep_1``…) and the step reads that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from modelworks.engine.errors import did_you_mean
from modelworks.engine.recipes.formula import Formula, analyze_formula
from modelworks.engine.recipes.formula_sql import NUMERIC, column_ref, describe_type, tree_depth
from modelworks.engine.recipes.types import (
    LineageEdge,
    MissingColumnError,
    ParamSpec,
    RecipeSpecError,
    Relation,
)

__all__ = ["Col", "PrepareState", "ProcessorInfo", "Step"]

# A column's expression is copied into the next step's expression only when it is small (at most
# this many nodes and this deep); otherwise the step reads it by name from a CTE. This bounds how
# large and deep expressions grow over many steps.
_INLINE_LIMIT = 80
_INLINE_DEPTH = 25
_HIDDEN = "__mw_"  # prefix of helper columns a step adds and removes again
_MAX_NAME = 255


@dataclass
class Col:
    """One column of the select list being built."""

    name: str
    expr: exp.Expression
    type: str
    origins: dict[str, str]  # input column → "identity" | "transformation"
    windowed: bool = False  # its expression holds a window function


@dataclass(frozen=True)
class ProcessorInfo:
    """A prepare processor: how the UI shows it and the function that applies it.

    Attributes:
        name: stable identifier stored in recipe specs (``rename_columns``).
        label: short name for people (``Rename columns``).
        category: group in the processor library (``Columns``, ``Text``…).
        help: one or two sentences on what it does.
        params: its settings, in form order.
        apply: ``apply(state, step)`` turns the state into the next one.
    """

    name: str
    label: str
    category: str
    help: str
    params: tuple[ParamSpec, ...]
    apply: Callable[[PrepareState, Step], None] = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "category": self.category,
            "help": self.help,
            "params": [p.to_dict() for p in self.params],
        }


class PrepareState:
    """The ``SELECT`` being built, with each column's lineage and whether it can run in PostgreSQL."""

    def __init__(self, relation: Relation, recipe: str) -> None:
        self.relation = relation
        self.recipe = recipe
        self.columns: list[Col] = [
            Col(c.name, column_ref(c.name), c.type, {c.name: "identity"}) for c in relation.columns
        ]
        self.source: exp.Expression = _from_source(relation.source)
        self.where: list[exp.Expression] = []
        self.ctes: list[tuple[str, exp.Select]] = []
        self.filter_origins: set[str] = set()
        self.non_portable: list[str] = []
        self.notes: list[str] = []
        self.last_change: int | None = None  # last step that changed the list of columns

    # -- reading -------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def find(self, name: str) -> Col | None:
        return next((c for c in self.columns if c.name == name), None)

    def types(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns if not c.name.startswith(_HIDDEN)}

    def use(self, names: Iterable[str], *, filtering: bool = False) -> dict[str, Col]:
        """The named columns, ready to be used in new expressions (copies of their expressions).

        Wraps the state first when one of them cannot be inlined, or, with ``filtering``, when the
        select list holds a window function (a ``WHERE`` added now would change its result).
        """
        wanted = list(dict.fromkeys(names))
        cols = [self._get(n) for n in wanted]
        must_wrap = any(not _inlinable(c) for c in cols)
        if filtering and any(c.windowed for c in self.columns):
            must_wrap = True
        if must_wrap:
            self.wrap()
            cols = [self._get(n) for n in wanted]
        return {c.name: Col(c.name, c.expr.copy(), c.type, dict(c.origins), c.windowed) for c in cols}

    def _get(self, name: str) -> Col:
        col = self.find(name)
        if col is None:  # processors check names first; this is a programming error
            raise KeyError(name)
        return col

    # -- changing ------------------------------------------------------------------------------
    def wrap(self) -> str:
        """Turn the current ``SELECT`` into a CTE and continue from it; returns the CTE's name."""
        name = f"_mw_prep_{len(self.ctes) + 1}"
        self.ctes.append((name, self._select()))
        self.source = exp.to_table(name)
        self.where = []
        self.columns = [
            Col(c.name, column_ref(c.name), c.type, c.origins, windowed=False) for c in self.columns
        ]
        return name

    def add_where(self, condition: exp.Expression, used: Iterable[Col]) -> None:
        """Keep only rows where ``condition`` is true (build it from :meth:`use` with ``filtering``)."""
        self.where.append(condition)
        for col in used:
            self.filter_origins.update(col.origins)

    def set(
        self,
        name: str,
        expr: exp.Expression,
        logical: str,
        origins: Mapping[str, str],
        *,
        windowed: bool = False,
        after: str | None = None,
    ) -> None:
        """Replace column ``name`` in place, or add it (after column ``after``, else at the end)."""
        col = Col(name, expr, logical, dict(origins), windowed or _has_window(expr))
        for i, existing in enumerate(self.columns):
            if existing.name == name:
                self.columns[i] = col
                return
        position = len(self.columns)
        if after is not None:
            position = next(i + 1 for i, c in enumerate(self.columns) if c.name == after)
        self.columns.insert(position, col)

    def drop(self, names: Iterable[str]) -> None:
        gone = set(names)
        self.columns = [c for c in self.columns if c.name not in gone]

    def non_portable_because(self, reason: str) -> None:
        if reason not in self.non_portable:
            self.non_portable.append(reason)

    # -- output --------------------------------------------------------------------------------
    def _select(self) -> exp.Select:
        items = [
            c.expr.copy()
            if isinstance(c.expr, exp.Column) and c.expr.name == c.name and not c.expr.table
            else exp.alias_(c.expr.copy(), c.name, quoted=True)
            for c in self.columns
        ]
        select = exp.select(*items).from_(self.source.copy())
        if self.where:
            select = select.where(exp.and_(*(w.copy() for w in self.where)))
        return select

    def build(self) -> exp.Select:
        """The final query: the current ``SELECT`` with every CTE the steps created."""
        select = self._select()
        for name, cte in self.ctes:
            select = select.with_(name, as_=cte)
        return select

    def lineage(self, output: str) -> tuple[LineageEdge, ...]:
        edges: list[LineageEdge] = []
        for col in self.columns:
            for source, how in sorted(col.origins.items()):
                edges.append(LineageEdge(output, col.name, self.relation.name, source, how))
            for source in sorted(self.filter_origins - set(col.origins)):
                edges.append(LineageEdge(output, col.name, self.relation.name, source, "filter"))
        return tuple(edges)


class Step:
    """One step being applied: its number, processor, validated settings and error helpers."""

    def __init__(
        self, number: int, info: ProcessorInfo, params: Mapping[str, Any], state: PrepareState
    ) -> None:
        self.number = number
        self.info = info
        self.params = params
        self.state = state
        self.where = f"step {number} ({info.label})"

    # -- errors --------------------------------------------------------------------------------
    def fail(self, message: str, **details: Any) -> RecipeSpecError:
        return RecipeSpecError(
            f"{self.where}: {message}",
            step=self.number,
            processor=self.info.name,
            recipe=self.state.recipe,
            **details,
        )

    def missing(self, name: str) -> MissingColumnError:
        state = self.state
        after = f" (as it is after step {state.last_change})" if state.last_change else ""
        return MissingColumnError(
            f"{self.where}: column {name!r} not found in input {state.relation.name!r}{after}"
            f"{did_you_mean(name, [n for n in state.names if not n.startswith(_HIDDEN)])}",
            column=name,
            input=state.relation.name,
            recipe=state.recipe,
            step=self.number,
        )

    # -- settings ------------------------------------------------------------------------------
    def get(self, name: str) -> Any:
        return self.params.get(name)

    def text(self, name: str) -> str:
        value = self.params.get(name)
        return "" if value is None else str(value)

    def column(self, name: str = "column") -> Col:
        """The column named by setting ``name`` (already checked to exist)."""
        return self.state.use([self.text(name)])[self.text(name)]

    def column_names(self, name: str = "columns") -> list[str]:
        return list(self.params.get(name) or [])

    def output(self, source: str, param: str = "output") -> str:
        """The output column: setting ``param`` when given, else ``source`` (change in place)."""
        value = self.text(param).strip() if self.params.get(param) is not None else ""
        if not value:
            return source
        return self.new_name(value, param)

    def new_name(self, name: str, param: str = "output") -> str:
        """Check a column name a step creates."""
        if not name.strip():
            raise self.fail(f"setting {param!r}: a column name cannot be empty")
        if len(name) > _MAX_NAME:
            raise self.fail(f"setting {param!r}: column names are limited to {_MAX_NAME} characters")
        if name.startswith(_HIDDEN):
            raise self.fail(f"setting {param!r}: names starting with {_HIDDEN!r} are reserved")
        if any(ord(ch) < 32 for ch in name):
            raise self.fail(f"setting {param!r}: column names cannot contain control characters")
        return name

    def fresh(self, name: str, param: str) -> str:
        """A column name a step adds, which must not exist yet."""
        self.new_name(name, param)
        if self.state.find(name) is not None:
            raise self.fail(f"column {name!r} already exists; choose another name ({param!r})")
        return name

    def formula(self, text: str) -> Formula:
        """Parse a formula against the current columns (the caller substitutes their expressions)."""
        return analyze_formula(text, self.state.types(), where=self.where)

    def require_type(self, col: Col, allowed: Sequence[str] | frozenset[str], what: str) -> None:
        if col.type in allowed or col.type == "any":
            return
        hint = " (convert it first with a 'Cast types' step)" if col.type == "string" else ""
        raise self.fail(
            f"column {col.name!r} holds {describe_type(col.type)}, not {what}{hint}", column=col.name
        )

    def numeric(self, col: Col) -> None:
        self.require_type(col, NUMERIC, "numbers")


def substitute(formula: Formula, cols: Mapping[str, Col]) -> exp.Expression:
    """The formula's expression with each column reference replaced by that column's expression."""

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name in cols and not node.table:
            return cols[node.name].expr.copy()
        return node

    return formula.expression.copy().transform(replace)


def origins_of(cols: Iterable[Col], how: str = "transformation") -> dict[str, str]:
    """Merged lineage of ``cols`` for a column computed from them."""
    merged: dict[str, str] = {}
    for col in cols:
        for source in col.origins:
            merged[source] = how
    return merged


def _inlinable(col: Col) -> bool:
    """Whether ``col``'s expression may be copied into another one (see ``_INLINE_LIMIT``).

    Window functions cannot be nested or filtered on, and a statistic sub-query is better computed
    once in a CTE than once per use.
    """
    if col.windowed or col.expr.find(exp.Subquery) is not None:
        return False
    return _size(col.expr) <= _INLINE_LIMIT and tree_depth(col.expr) <= _INLINE_DEPTH


def _size(node: exp.Expression) -> int:
    return sum(1 for _ in node.walk())


def _has_window(node: exp.Expression) -> bool:
    return node.find(exp.Window) is not None


def _from_source(source: exp.Expression) -> exp.Expression:
    """The relation's source as something a ``FROM`` accepts."""
    node = source.copy()
    if isinstance(node, exp.Query):
        return node.subquery("_mw_input")
    if isinstance(node, exp.Subquery) and not node.alias:
        node.set("alias", exp.TableAlias(this=exp.to_identifier("_mw_input")))
    return node
