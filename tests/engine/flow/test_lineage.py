"""Column-level lineage as OpenLineage facets, checked against the official Python client's model."""

from __future__ import annotations

import json

import pytest
from openlineage.client.facet_v2 import column_lineage_dataset as cl
from openlineage.client.serde import Serde
from sqlglot import exp

from modelworks.engine.flow import FlowError, lineage_facets
from modelworks.engine.flow.lineage import PRODUCER
from modelworks.engine.recipes.types import CompiledOutput, CompiledRecipe, LineageEdge

NS = "modelworks://demo"
QUERY = exp.select("x")


def recipe(*edges: LineageEdge, outputs: tuple[str, ...] = ("totals",)) -> CompiledRecipe:
    return CompiledRecipe(tuple(CompiledOutput(o, QUERY) for o in outputs), lineage=edges)


def field(name: str, column: str, kind: str, subtype: str) -> cl.InputField:
    return cl.InputField(
        namespace=NS, name=name, field=column, transformations=[cl.Transformation(type=kind, subtype=subtype)]
    )


def test_facets_match_the_openlineage_model() -> None:
    compiled = recipe(
        LineageEdge("totals", "region", "orders", "region", "identity"),
        LineageEdge("totals", "total", "orders", "amount", "aggregation"),
        LineageEdge("totals", "total", "fx", "rate", "transformation"),
        LineageEdge("totals", "", "orders", "status", "filter"),
        LineageEdge("totals", "*", "orders", "region", "group_by"),
    )
    (dataset,) = lineage_facets(
        compiled,
        {"orders": (NS, "project/orders"), "fx": (NS, "project/fx")},
        {"totals": (NS, "project/totals")},
    )
    expected = cl.ColumnLineageDatasetFacet(
        fields={
            "region": cl.Fields(inputFields=[field("project/orders", "region", "DIRECT", "IDENTITY")]),
            "total": cl.Fields(
                inputFields=[
                    field("project/orders", "amount", "DIRECT", "AGGREGATION"),
                    field("project/fx", "rate", "DIRECT", "TRANSFORMATION"),
                ]
            ),
        },
        dataset=[
            field("project/orders", "status", "INDIRECT", "FILTER"),
            field("project/orders", "region", "INDIRECT", "GROUP_BY"),
        ],
    )
    reference = Serde.to_dict(expected)
    reference["_producer"] = PRODUCER
    assert dataset == {"namespace": NS, "name": "project/totals", "facets": {"columnLineage": reference}}
    assert json.loads(json.dumps(dataset)) == dataset


def test_one_dataset_per_output_and_repeated_edges_merge() -> None:
    compiled = recipe(
        LineageEdge("big", "amount", "orders", "amount", "identity"),
        LineageEdge("big", "amount", "orders", "amount", "filter"),
        LineageEdge("big", "amount", "orders", "amount", "identity"),
        LineageEdge("small", "amount", "orders", "amount", "identity"),
        outputs=("big", "small", "empty"),
    )
    result = lineage_facets(
        compiled,
        {"orders": (NS, "orders")},
        {"big": (NS, "big"), "small": (NS, "small"), "empty": (NS, "empty")},
        producer="urn:test",
    )
    assert [d["name"] for d in result] == ["big", "small", "empty"]
    big = result[0]["facets"]["columnLineage"]
    assert big["_producer"] == "urn:test"
    assert big["fields"]["amount"]["inputFields"][0]["transformations"] == [
        {"type": "DIRECT", "subtype": "IDENTITY"},
        {"type": "INDIRECT", "subtype": "FILTER"},
    ]
    assert result[2]["facets"]["columnLineage"]["fields"] == {}


@pytest.mark.parametrize(
    ("inputs", "outputs", "match"),
    [
        ({}, {"totals": (NS, "t")}, r"no OpenLineage name given for input 'orders'"),
        ({"orders": (NS, "o")}, {}, r"no OpenLineage name given for output 'totals'"),
    ],
)
def test_missing_names_are_refused(
    inputs: dict[str, tuple[str, str]], outputs: dict[str, tuple[str, str]], match: str
) -> None:
    compiled = recipe(LineageEdge("totals", "a", "orders", "a"))
    with pytest.raises(FlowError, match=match):
        lineage_facets(compiled, inputs, outputs)
