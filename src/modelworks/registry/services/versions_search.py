""":func:`search_model_versions`: model versions matching an MLflow filter, ordered and paged
(:class:`ModelVersionPage`), within the limits ``SEARCH_DEFAULT_MAX_RESULTS`` and
``SEARCH_MAX_RESULTS``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, QuerySet

from modelworks.registry.errors import InvalidRegistryValueError
from modelworks.registry.filters import (
    decode_page_token,
    encode_page_token,
    lookup,
    parse_filter,
    parse_order_by,
)
from modelworks.registry.models import ModelVersion, ModelVersionTag

SEARCH_DEFAULT_MAX_RESULTS = 10_000
SEARCH_MAX_RESULTS = 200_000
ORDER_FIELDS = {
    "name": "registered_model__name",
    "version_number": "version",
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at",
    "timestamp": "updated_at",
}


# -- search --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelVersionPage:
    versions: list[ModelVersion]
    next_page_token: str | None


_VERSION_ATTRIBUTES = {
    "name": ("registered_model__name", False),
    "run_id": ("run_id", False),
    "source_path": ("source", False),
    "source": ("source", False),
    "model_id": ("logged_model_id", False),
    "version_number": ("version", True),
    "current_stage": ("current_stage", False),
}


def search_model_versions(
    project: Any,
    *,
    filter_string: str | None = None,
    max_results: Any = None,
    order_by: Sequence[str] | str | None = None,
    page_token: str | None = None,
) -> ModelVersionPage:
    """The project's versions matching ``name``, ``run_id``, ``source_path``, ``version_number``,
    ``model_id`` and ``tags.<key>`` comparisons.

    Raises:
        InvalidRegistryValueError: a bad filter, order, limit or page token.
    """
    try:
        limit = int(max_results) if max_results not in (None, "") else SEARCH_DEFAULT_MAX_RESULTS
    except (TypeError, ValueError):
        raise InvalidRegistryValueError(f"max_results must be a whole number; got {max_results!r}.") from None
    if not 0 < limit <= SEARCH_MAX_RESULTS:
        raise InvalidRegistryValueError(
            f"Invalid value for request parameter max_results. It must be at most {SEARCH_MAX_RESULTS}, but got value {limit}"
        )
    clauses = parse_order_by(order_by, ORDER_FIELDS)
    query: QuerySet[ModelVersion] = ModelVersion.objects.filter(registered_model__project=project)
    for comparison in parse_filter(filter_string):
        if comparison.kind == "tag":
            rows = ModelVersionTag.objects.filter(model_version=OuterRef("pk"), key=comparison.key).filter(
                lookup("value", comparison.op, comparison.value)
            )
            query = query.filter(Exists(rows))
            continue
        spec = _VERSION_ATTRIBUTES.get(comparison.key) if comparison.kind == "attribute" else None
        if spec is None:
            raise InvalidRegistryValueError(
                f"Invalid filter on {comparison.key!r}: search model versions by name, run_id, source_path, "
                "version_number, model_id or tags.<key>."
            )
        query = query.filter(lookup(spec[0], comparison.op, comparison.value, numeric=spec[1]))
    ordering = [F(c.field).asc() if c.ascending else F(c.field).desc() for c in clauses]
    fields = {c.field for c in clauses}
    if "registered_model__name" not in fields:
        ordering.append(F("registered_model__name").asc())
    if "version" not in fields:
        ordering.append(F("version").desc())
    context = json.dumps([filter_string or "", [f"{c.field}:{c.ascending}" for c in clauses]])
    offset = decode_page_token(page_token, context)
    found = list(
        query.order_by(*ordering)
        .select_related("registered_model", "run", "logged_model")
        .prefetch_related("tags", "aliases")[offset : offset + limit + 1]
    )
    token = encode_page_token(offset + limit, context) if len(found) > limit else None
    return ModelVersionPage(found[:limit], token)
