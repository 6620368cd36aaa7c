"""The shared vocabulary of recipes: what a recipe sees of its inputs and what compiling it yields.

A recipe never sees files or tables directly. Compiling one takes, per input, a :class:`Relation`
(its name in the recipe, its columns, and a SQLGlot expression that reads it: a table, a
``read_parquet(...)`` call or a sub-query) and returns, per output, a SQLGlot ``SELECT``. The same
compiled plan then runs in DuckDB over Parquet versions, or inside PostgreSQL when every input and
output lives there (the expression is transpiled to the target dialect by SQLGlot).

Why SQLGlot rather than Ibis: we need one relational plan we can *inspect* (which columns a step
reads, for lineage and for schema errors before anything runs) and *transpile* to the database that
holds the data, with no driver of its own (we reach PostgreSQL through ADBC); SQLGlot is a
pure-Python AST with both, while Ibis brings its own backends, connections and a heavier runtime.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from modelworks.engine.errors import EngineError, did_you_mean

if TYPE_CHECKING:
    from sqlglot import exp

__all__ = [
    "Column",
    "CompiledOutput",
    "CompiledRecipe",
    "LineageEdge",
    "MissingColumnError",
    "ParamSpec",
    "RecipeError",
    "RecipeSpecError",
    "Relation",
]


class RecipeError(EngineError):
    """A recipe cannot be compiled or run; the message names the recipe and what to fix."""

    code: ClassVar[str] = "recipe_error"


class RecipeSpecError(RecipeError):
    """A recipe's settings are invalid (unknown processor, wrong parameter, bad formula…)."""

    code: ClassVar[str] = "recipe_invalid"


class MissingColumnError(RecipeSpecError):
    """A recipe refers to a column its input does not have (e.g. it was removed upstream)."""

    code: ClassVar[str] = "recipe_missing_column"

    @classmethod
    def for_column(
        cls, column: str, *, relation: Relation, recipe: str, where: str = ""
    ) -> MissingColumnError:
        """The standard message: column, input, recipe, the closest existing name."""
        place = f" ({where})" if where else ""
        return cls(
            f"recipe {recipe!r}{place} uses column {column!r}, which input {relation.name!r} does not have"
            f"{did_you_mean(column, relation.column_names)}",
            column=column,
            input=relation.name,
            recipe=recipe,
        )


@dataclass(frozen=True)
class Column:
    """A column as recipes see it: its name and logical type (``integer``, ``float``, ``decimal``,
    ``string``, ``boolean``, ``date``, ``timestamp``, ``time``, ``binary``, ``nested``, ``other``)."""

    name: str
    type: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type}


@dataclass(frozen=True)
class Relation:
    """One input of a recipe.

    Attributes:
        name: the input's name inside the recipe (the dataset name; SQL recipes refer to it by it).
        columns: its columns, in order.
        source: a SQLGlot expression that reads it (``exp.Table`` or a sub-query); compilers must
            use ``source.copy()`` since SQLGlot trees are mutable.
    """

    name: str
    columns: tuple[Column, ...]
    source: exp.Expression

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str, *, recipe: str, where: str = "") -> Column:
        """The column called ``name`` or a :class:`MissingColumnError` that says so."""
        for col in self.columns:
            if col.name == name:
                return col
        raise MissingColumnError.for_column(name, relation=self, recipe=recipe, where=where)


@dataclass(frozen=True)
class LineageEdge:
    """Output column ``output_column`` of output ``output`` derives from ``input_column`` of ``input``."""

    output: str
    output_column: str
    input: str
    input_column: str
    transformation: str = "identity"  # "identity" | "transformation" | "aggregation" | "filter"


@dataclass(frozen=True)
class CompiledOutput:
    """One output of a compiled recipe: its name and the query that produces it."""

    name: str
    query: exp.Query

    def sql(self, dialect: str = "duckdb") -> str:
        """The query as SQL text of ``dialect`` (``duckdb`` or ``postgres``)."""
        return self.query.sql(dialect=dialect)


@dataclass(frozen=True)
class CompiledRecipe:
    """What compiling a visual or SQL recipe yields.

    Attributes:
        outputs: one query per output, in the recipe's output order.
        lineage: column-level edges (best effort for SQL recipes).
        pushdown: whether the queries only use constructs that also run in PostgreSQL.
        notes: things the user should know (e.g. "3 rare categories grouped into 'Other'").
    """

    outputs: tuple[CompiledOutput, ...]
    lineage: tuple[LineageEdge, ...] = ()
    pushdown: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    def output(self, name: str) -> CompiledOutput:
        for out in self.outputs:
            if out.name == name:
                return out
        raise KeyError(name)


def relation_map(relations: Sequence[Relation]) -> Mapping[str, Relation]:
    """Inputs by name."""
    return {r.name: r for r in relations}


@dataclass(frozen=True)
class ParamSpec:
    """One setting of a processor or visual recipe, described so a form can be generated from it.

    ``kind`` is one of: ``column`` (one input column), ``columns`` (several), ``string``, ``strings``
    (a list of texts), ``integer``, ``number``, ``boolean``, ``choice`` (one of ``choices``),
    ``formula`` (an expression of the formula language), ``mapping`` (text → text), ``date``,
    ``list`` (a list of objects each described by ``item``).
    """

    name: str
    kind: str
    label: str
    required: bool = True
    default: Any = None
    choices: tuple[str, ...] = ()
    help: str = ""
    item: tuple[ParamSpec, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "label": self.label,
            "required": self.required,
            "default": self.default,
            "choices": list(self.choices),
            "help": self.help,
        }
        if self.item:
            data["item"] = [p.to_dict() for p in self.item]
        return data
