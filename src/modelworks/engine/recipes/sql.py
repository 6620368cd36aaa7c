"""The SQL recipe: one read-only query a user writes over the recipe's inputs.

Spec::

    {"sql": "SELECT carrier, avg(delay) AS delay FROM flights GROUP BY carrier"}

The query is written in DuckDB's dialect and names its inputs by their dataset names (double-quoted
when they hold spaces or capitals: ``"Flights 2024"``). It is checked on its syntax tree, not its
text:

* exactly one statement, and it must be a query (``SELECT``, ``WITH … SELECT``, ``FROM x SELECT``,
  set operations): no DDL or DML, ``COPY``, ``ATTACH``, ``INSTALL``, ``LOAD``, ``SET``, ``PRAGMA``;
* it may read only its inputs (and its own ``WITH`` queries): no other tables, no file paths, no
  table functions that read files (``read_csv``, ``read_parquet``, ``glob``…) and no functions that
  reveal the machine (``getenv``, ``current_setting``…);
* each input reference is then replaced by the input's :attr:`~Relation.source` (keeping the name
  as alias, so ``flights.carrier`` still works).

The query runs on a locked DuckDB connection anyway (only the inputs' files readable), so these
checks are for clear messages as much as for safety. Its size is bounded too: at most
:data:`MAX_SQL_LENGTH` characters, nested at most :data:`MAX_SQL_DEPTH` levels (DuckDB's own
expression-depth limit); SQLGlot's analyses cost time in proportion to size times depth, and a
saved recipe is compiled by the web server. ``pushdown`` is true when SQLGlot transpiles
the query to PostgreSQL without reporting an unsupported construct and without functions it does
not know. Column lineage comes from SQLGlot's lineage analysis, best effort: all columns in one
pass, skipped (with a note) when its cost would pass :data:`LINEAGE_MAX_COST`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError
from sqlglot.lineage import lineage as sqlglot_lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

from modelworks.engine.errors import did_you_mean
from modelworks.engine.io.schema import LOGICAL_TYPES
from modelworks.engine.recipes.types import (
    CompiledOutput,
    CompiledRecipe,
    LineageEdge,
    RecipeSpecError,
    Relation,
)
from modelworks.engine.recipes.visual.common import source_as
from modelworks.engine.recipes.visual.spec import SpecReader

__all__ = ["LINEAGE_MAX_COST", "MAX_SQL_DEPTH", "MAX_SQL_LENGTH", "compile_sql", "normalize_sql"]

MAX_SQL_LENGTH = 100_000
#: Deepest syntax tree accepted: DuckDB refuses deeper expressions anyway (``max_expression_depth``).
MAX_SQL_DEPTH = 1000
#: Queries past this compile and run without column lineage. SQLGlot's qualification walks from
#: every column reference up to its query, so its cost is the sum of their depths (a 1,000-term sum
#: costs 500,000, about a second; a 300-column query of plain expressions costs a few thousand).
LINEAGE_MAX_COST = 250_000
_ALLOWED_TABLE_FUNCTIONS = {"range", "generate_series", "unnest"}
_DENIED_FUNCTIONS = {
    "glob", "getenv", "current_setting", "query", "query_table", "sniff_csv", "load_extension",
    "which_secret", "enable_logging", "checkpoint", "force_checkpoint", "icu_calendar_names",
}  # fmt: skip
_DENIED_PREFIXES = (
    "read_",
    "duckdb_",
    "pragma_",
    "parquet_",
    "iceberg_",
    "delta_",
    "sqlite_",
    "postgres_",
    "mysql_",
)
_FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = (
    exp.Command, exp.Create, exp.Drop, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Copy,
    exp.Set, exp.Pragma, exp.Into, exp.Alter, exp.TruncateTable, exp.Use, exp.Attach, exp.Detach,
    exp.Install, exp.Describe, exp.Summarize, exp.Transaction, exp.Commit, exp.Rollback,
)  # fmt: skip


def normalize_sql(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    """Check the spec's shape: ``{"sql": "<one query>"}``."""
    reader = SpecReader(spec, recipe=recipe)
    reader.allow("sql")
    text = reader.string("sql")
    if len(text) > MAX_SQL_LENGTH:
        raise reader.error("sql", f"is {len(text)} characters long; the limit is {MAX_SQL_LENGTH}")
    return {"sql": text}


def _statement_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    if isinstance(node, exp.Into):
        return "SELECT … INTO"
    if isinstance(node, exp.TruncateTable):
        return "TRUNCATE"
    return node.key.upper()


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _denied(name: str) -> bool:
    return name in _DENIED_FUNCTIONS or name.startswith(_DENIED_PREFIXES) or name.endswith("_scan")


def _depth(tree: exp.Expr, stop_above: int) -> int:
    """How many levels deep ``tree`` nests (without recursion: a chain of 30,000 ``+`` is 30,000
    levels), counting stops once past ``stop_above``."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > stop_above:
            return deepest
        stack.extend((child, level + 1) for child in node.iter_expressions())
    return deepest


def _lineage_cost(tree: exp.Expr) -> int:
    """The sum of the depths of the column references in ``tree`` (see :data:`LINEAGE_MAX_COST`)."""
    cost = 0
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, exp.Column):
            cost += level
        stack.extend((child, level + 1) for child in node.iter_expressions())
    return cost


def _too_deep(recipe: str) -> RecipeSpecError:
    return RecipeSpecError(
        f"recipe {recipe!r}: the SQL query nests too deeply (parentheses, sub-queries or chained "
        f"operators, at most {MAX_SQL_DEPTH} levels); split it with WITH queries or into several recipes",
        recipe=recipe,
    )


def parse_query(text: str, *, recipe: str) -> exp.Query:
    """Parse and check the user's query (see the module docstring); the tree is not yet rewritten."""
    logger = logging.getLogger("sqlglot")
    previous = logger.level
    logger.setLevel(logging.ERROR)  # "falling back to parsing as a Command" is our refusal to give
    try:
        statements = [s for s in sqlglot.parse(text, read="duckdb") if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" at line {first.get('line')}, column {first.get('col')}" if first.get("line") else ""
        detail = str(first.get("description") or exc).splitlines()[0]
        raise RecipeSpecError(
            f"recipe {recipe!r}: the SQL query has a syntax error{where}: {detail}", recipe=recipe
        ) from exc
    except SqlglotError as exc:
        raise RecipeSpecError(
            f"recipe {recipe!r}: the SQL query cannot be read: {exc}", recipe=recipe
        ) from exc
    except RecursionError:
        # SQLGlot's parser recurses per parenthesis (about 20 frames each): the stack runs out first.
        raise _too_deep(recipe) from None
    finally:
        logger.setLevel(previous)
    if not statements:
        raise RecipeSpecError(
            f"recipe {recipe!r}: the SQL query is empty; write one SELECT query", recipe=recipe
        )
    if len(statements) > 1:
        raise RecipeSpecError(
            f"recipe {recipe!r}: the SQL holds {len(statements)} statements; write exactly one SELECT query "
            "(remove the extra ';')",
            recipe=recipe,
        )
    (statement,) = statements
    if _depth(statement, MAX_SQL_DEPTH) > MAX_SQL_DEPTH:
        raise _too_deep(recipe)
    if not isinstance(statement, exp.Query):
        raise RecipeSpecError(
            f"recipe {recipe!r}: {_statement_name(statement)} statements are not allowed; a SQL recipe is one "
            "read-only SELECT query over its inputs",
            construct=_statement_name(statement),
            recipe=recipe,
        )
    for node in statement.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise RecipeSpecError(
                f"recipe {recipe!r}: {_statement_name(node)} is not allowed inside the query; a SQL recipe only reads "
                "its inputs",
                construct=_statement_name(node),
                recipe=recipe,
            )
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Func):
            name = _function_name(node.this)
            if name not in _ALLOWED_TABLE_FUNCTIONS:
                raise RecipeSpecError(
                    f"recipe {recipe!r}: table function {name}(…) is not allowed; a SQL recipe reads only its "
                    "inputs, by their dataset names",
                    construct=name,
                    recipe=recipe,
                )
        elif isinstance(node, exp.Func) and _denied(_function_name(node)):
            raise RecipeSpecError(
                f"recipe {recipe!r}: function {_function_name(node)}(…) is not allowed in a SQL recipe (it reads "
                "files or settings of the server)",
                construct=_function_name(node),
                recipe=recipe,
            )
    return statement


def _cte_names(query: exp.Expr) -> set[str]:
    return {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}


def _match_input(table: exp.Table, inputs: Sequence[Relation], *, recipe: str) -> Relation:
    name = table.name
    for relation in inputs:
        if relation.name == name:
            return relation
    # DuckDB matches names ignoring case, quoted or not.
    folded = [r for r in inputs if r.name.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    names = [r.name for r in inputs]
    hint = did_you_mean(name, names)
    raise RecipeSpecError(
        f"recipe {recipe!r}: the query reads {name!r}, which is not an input of this recipe; it may read only "
        f"{', '.join(repr(n) for n in names)} (add the dataset as an input first){hint}",
        table=name,
        recipe=recipe,
    )


def bind_inputs(query: exp.Query, inputs: Sequence[Relation], *, recipe: str) -> exp.Query:
    """Replace each input reference of a checked query by that input's source."""
    ctes = _cte_names(query)

    def swap(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier):
            return node
        if node.name.lower() in ctes and not node.args.get("db"):
            return node
        if node.args.get("db") or node.args.get("catalog"):
            raise RecipeSpecError(
                f"recipe {recipe!r}: the query reads {node.sql(dialect='duckdb')!r}; name inputs by their dataset "
                "name alone, without a schema or database",
                table=node.sql(dialect="duckdb"),
                recipe=recipe,
            )
        relation = _match_input(node, inputs, recipe=recipe)
        alias = node.alias or node.name
        replacement = source_as(relation, alias)
        columns = node.args.get("alias") and node.args["alias"].args.get("columns")
        if columns:
            replacement.args["alias"].set("columns", [c.copy() for c in columns])
        return replacement

    bound = query.transform(swap)
    assert isinstance(bound, exp.Query)
    return bound


def _lineage(query: exp.Query, inputs: Sequence[Relation], output: str) -> list[LineageEdge]:
    schema: dict[str, object] = {
        r.name: {c.name: LOGICAL_TYPES.get(c.type, "VARCHAR") for c in r.columns} for r in inputs
    }
    by_lower = {r.name.lower(): r.name for r in inputs}
    try:
        # One qualification and one pass over every column, sharing what columns have in common:
        # asking column by column re-qualifies (and copies) the whole query each time, which made a
        # 5,000-column query take hours.
        qualified = qualify(query.copy(), schema=schema, dialect="duckdb")
        scope = build_scope(qualified)
        roots = sqlglot_lineage(
            None, qualified, schema=schema, dialect="duckdb", scope=scope, trim_selects=False, copy=False
        )
        assert isinstance(roots, dict)
        columns = {name: list(root.walk()) for name, root in roots.items()}
    except Exception:  # best effort: SQLGlot cannot follow every DuckDB construct
        return []
    edges: list[LineageEdge] = []
    for name, nodes in columns.items():
        how = "identity"
        for node in nodes:
            expression = node.expression
            if isinstance(expression, exp.Table):
                continue
            expression = expression.unalias() if isinstance(expression, exp.Alias) else expression
            if expression.find(exp.AggFunc):
                how = "aggregation"
                break
            if not isinstance(expression, exp.Column):
                how = "transformation"
        for node in nodes:
            if node.downstream or not isinstance(node.expression, exp.Table):
                continue
            table = by_lower.get(node.expression.name.lower())
            if table is None:
                continue
            try:
                column = sqlglot.parse_one(node.name, read="duckdb")
            except SqlglotError:
                continue
            edges.append(LineageEdge(output, name, table, column.name, how))
    return list(dict.fromkeys(edges))


def compile_sql(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], outputs: Sequence[str], *, recipe: str
) -> CompiledRecipe:
    """Compile a SQL recipe (see the module docstring)."""
    text = normalize_sql(spec, recipe=recipe)["sql"]
    checked = parse_query(text, recipe=recipe)
    bound = bind_inputs(checked, inputs, recipe=recipe)
    notes: list[str] = []
    pushdown = True
    unknown = sorted({str(f.name) for f in bound.find_all(exp.Anonymous)})
    if unknown:
        pushdown = False
        notes.append(f"runs in DuckDB only: {', '.join(unknown)} may not exist in PostgreSQL")
    else:
        try:
            bound.sql(dialect="postgres", unsupported_level=ErrorLevel.RAISE)
        except SqlglotError as exc:
            pushdown = False
            notes.append(f"runs in DuckDB only: {str(exc).splitlines()[0]}")
    output = outputs[0]
    if _lineage_cost(checked) > LINEAGE_MAX_COST:
        lineage: list[LineageEdge] = []
        notes.append("no column lineage: the query is too large or nests too deeply to trace its columns")
    else:
        lineage = _lineage(checked, inputs, output)
    return CompiledRecipe((CompiledOutput(output, bound),), tuple(lineage), pushdown, tuple(notes))
