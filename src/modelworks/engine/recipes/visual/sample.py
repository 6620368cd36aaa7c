"""Sample: keep some of the rows.

Spec, by mode::

    {"mode": "first", "n": 1000}
    {"mode": "random", "n": 1000, "seed": 42, "id_column": null, "stratify_by": null}
    {"mode": "random", "fraction": 0.1, "seed": 42, "stratify_by": "country"}

*first*: the first ``n`` rows in input order. *random*: ``n`` rows or a ``fraction`` of them, picked
by an md5 hash of ``seed`` and the row's values (or ``id_column``): the same rows on every run, in
DuckDB and PostgreSQL alike. With ``stratify_by``, ``n`` rows (or the fraction) are taken from each
value of that column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from modelworks.engine.recipes.types import CompiledOutput, CompiledRecipe, LineageEdge, Relation
from modelworks.engine.recipes.visual.common import col, source_as, unique_name
from modelworks.engine.recipes.visual.sampling import hash_fraction, row_hash_note, row_text, seeded_digest
from modelworks.engine.recipes.visual.spec import SpecReader, to_json

__all__ = ["compile_sample", "normalize_sample"]


@dataclass(frozen=True)
class SampleSpec:
    mode: str
    n: int | None = None
    fraction: float | None = None
    seed: int = 0
    id_column: str | None = None
    stratify_by: str | None = None


def read_sample_spec(spec: Mapping[str, Any] | None, *, recipe: str) -> SampleSpec:
    reader = SpecReader(spec, recipe=recipe)
    mode = reader.string("mode", "first", choices=("first", "random"))
    if mode == "first":
        reader.allow("mode", "n")
        return SampleSpec(mode, n=reader.integer("n", minimum=0))
    reader.allow("mode", "n", "fraction", "seed", "id_column", "stratify_by")
    n = reader.integer("n", None, minimum=0)
    fraction = reader.number("fraction", None, minimum=0.0, maximum=1.0)
    if (n is None) == (fraction is None):
        raise reader.error("n", "or 'fraction' is required for a random sample (exactly one of them)")
    return SampleSpec(
        mode,
        n=n,
        fraction=fraction,
        seed=reader.integer("seed", 0),
        id_column=reader.string("id_column", None),
        stratify_by=reader.string("stratify_by", None),
    )


def normalize_sample(spec: Mapping[str, Any] | None, *, recipe: str) -> dict[str, Any]:
    parsed = read_sample_spec(spec, recipe=recipe)
    result: dict[str, Any] = to_json(parsed)
    if parsed.mode == "first":
        result = {"mode": "first", "n": parsed.n}
    return result


def compile_sample(
    spec: Mapping[str, Any] | None, inputs: Sequence[Relation], outputs: Sequence[str], *, recipe: str
) -> CompiledRecipe:
    """Compile a sample recipe (see the module docstring for the spec)."""
    parsed = read_sample_spec(spec, recipe=recipe)
    relation, output = inputs[0], outputs[0]
    names = relation.column_names
    lineage = tuple(LineageEdge(output, n, relation.name, n) for n in names)
    selects = [exp.alias_(col(n), n, quoted=True) for n in names]
    if parsed.mode == "first":
        assert parsed.n is not None
        query = exp.select(*selects).from_(source_as(relation, "src")).limit(parsed.n)
        return CompiledRecipe((CompiledOutput(output, query),), lineage)
    for setting in ("id_column", "stratify_by"):
        name = getattr(parsed, setting)
        if name is not None:
            relation.column(name, recipe=recipe, where=setting)
    digest_name = unique_name("__mw_hash", names)
    digest = seeded_digest(parsed.seed, row_text([parsed.id_column] if parsed.id_column else names))
    inner: exp.Select = exp.select(
        *[col(n) for n in names], exp.alias_(digest, digest_name, quoted=True)
    ).from_(source_as(relation, "src"))
    if parsed.fraction is not None:
        keep = exp.LT(
            this=hash_fraction(col(digest_name)), expression=exp.Literal.number(repr(parsed.fraction))
        )
        query = exp.select(*selects).from_(_sub(inner, "hashed")).where(keep)
    elif parsed.stratify_by is None:
        assert parsed.n is not None
        order = exp.Ordered(this=col(digest_name), nulls_first=False)
        query = exp.select(*selects).from_(_sub(inner, "hashed")).order_by(order).limit(parsed.n)
    else:
        assert parsed.n is not None
        position_name = unique_name("__mw_position", [*names, digest_name])
        position = exp.Window(
            this=exp.RowNumber(),
            partition_by=[col(parsed.stratify_by)],
            order=exp.Order(expressions=[exp.Ordered(this=col(digest_name), nulls_first=False)]),
        )
        ranked = exp.select(*[col(n) for n in names], exp.alias_(position, position_name, quoted=True)).from_(
            _sub(inner, "hashed")
        )
        keep_rank = exp.LTE(this=col(position_name), expression=exp.Literal.number(parsed.n))
        query = exp.select(*selects).from_(_sub(ranked, "ranked")).where(keep_rank)
    return CompiledRecipe(
        (CompiledOutput(output, query),), lineage, True, tuple(row_hash_note(relation, parsed.id_column))
    )


def _sub(query: exp.Query, alias: str) -> exp.Subquery:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
