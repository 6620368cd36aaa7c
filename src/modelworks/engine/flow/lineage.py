"""Column-level lineage of a compiled recipe as OpenLineage ``columnLineage`` facets.

The facet (https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json) maps each output
column to the input columns it is computed from, each with how: ``DIRECT`` transformations (the
value comes from that column: ``IDENTITY``, ``TRANSFORMATION``, ``AGGREGATION``) or ``INDIRECT`` ones
(the column only decides which rows there are or in what order: ``FILTER``, ``JOIN``, ``GROUP_BY``,
``SORT``, ``WINDOW``, ``CONDITIONAL``). Edges without an output column (``""`` or ``"*"``) affect the
whole dataset and go to the facet's ``dataset`` list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelworks.engine.flow.errors import FlowError
from modelworks.engine.recipes.types import CompiledRecipe

__all__ = ["COLUMN_LINEAGE_SCHEMA", "PRODUCER", "lineage_facets", "transformation"]

COLUMN_LINEAGE_SCHEMA = (
    "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
)
#: The ``_producer`` of the facets Modelworks writes.
PRODUCER = "urn:modelworks:flow"

_TRANSFORMATIONS: dict[str, tuple[str, str]] = {
    "identity": ("DIRECT", "IDENTITY"),
    "transformation": ("DIRECT", "TRANSFORMATION"),
    "aggregation": ("DIRECT", "AGGREGATION"),
    "filter": ("INDIRECT", "FILTER"),
    "join": ("INDIRECT", "JOIN"),
    "group_by": ("INDIRECT", "GROUP_BY"),
    "sort": ("INDIRECT", "SORT"),
    "window": ("INDIRECT", "WINDOW"),
    "conditional": ("INDIRECT", "CONDITIONAL"),
}


def transformation(kind: str) -> dict[str, str]:
    """The OpenLineage transformation for a :class:`LineageEdge` ``transformation`` value.

    An unknown kind is reported as a ``DIRECT`` ``TRANSFORMATION`` (the safe reading: the value
    depends on the column somehow).
    """
    kind_type, subtype = _TRANSFORMATIONS.get(kind, ("DIRECT", "TRANSFORMATION"))
    return {"type": kind_type, "subtype": subtype}


def lineage_facets(
    compiled: CompiledRecipe,
    inputs: Mapping[str, tuple[str, str]],
    outputs: Mapping[str, tuple[str, str]],
    *,
    producer: str = PRODUCER,
) -> list[dict[str, Any]]:
    """One OpenLineage output dataset per compiled output, with its ``columnLineage`` facet.

    Args:
        compiled: the compiled recipe (its ``lineage`` edges are used).
        inputs: input name → ``(namespace, name)`` of that dataset in OpenLineage.
        outputs: output name → ``(namespace, name)``.
        producer: the facet's ``_producer`` URI.

    Returns:
        ``[{"namespace", "name", "facets": {"columnLineage": {...}}}]`` in output order, ready for
        the ``outputs`` of a run event.

    Raises:
        FlowError: an edge or output has no ``(namespace, name)``.
    """
    result = []
    for out in compiled.outputs:
        if out.name not in outputs:
            raise FlowError(f"no OpenLineage name given for output {out.name!r}", output=out.name)
        fields: dict[str, dict[str, dict[str, Any]]] = {}  # column → (input, column) key → InputField
        whole: dict[str, dict[str, Any]] = {}
        for edge in compiled.lineage:
            if edge.output != out.name:
                continue
            if edge.input not in inputs:
                raise FlowError(f"no OpenLineage name given for input {edge.input!r}", input=edge.input)
            namespace, name = inputs[edge.input]
            target = whole if edge.output_column in ("", "*") else fields.setdefault(edge.output_column, {})
            key = f"{namespace}\x00{name}\x00{edge.input_column}"
            field = target.setdefault(
                key,
                {"namespace": namespace, "name": name, "field": edge.input_column, "transformations": []},
            )
            step = transformation(edge.transformation)
            if step not in field["transformations"]:
                field["transformations"].append(step)
        facet: dict[str, Any] = {
            "_producer": producer,
            "_schemaURL": COLUMN_LINEAGE_SCHEMA,
            "fields": {column: {"inputFields": list(found.values())} for column, found in fields.items()},
            "dataset": list(whole.values()),
        }
        namespace, name = outputs[out.name]
        result.append({"namespace": namespace, "name": name, "facets": {"columnLineage": facet}})
    return result
