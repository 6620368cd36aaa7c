"""Model versions and aliases: register (from the MLflow protocol or the Lab), read, describe, tag,
delete, search; point aliases at versions, with their history. Every alias move, version creation
and deletion is audited; alias moves are also kept as ``AliasEvent`` rows.

The code lives in sibling modules, re-exported here: :mod:`~modelworks.registry.services.versions_create`
(registering a version and its lineage), :mod:`~modelworks.registry.services.versions_manage` (read,
update, delete, tags, stages, live metrics and params), :mod:`~modelworks.registry.services.versions_aliases`
(aliases and their history) and :mod:`~modelworks.registry.services.versions_search` (search with
filters, ordering and pages)."""

from __future__ import annotations

from modelworks.registry.services.versions_aliases import MAX_ALIAS_LENGTH as MAX_ALIAS_LENGTH
from modelworks.registry.services.versions_aliases import (
    check_alias,
    delete_alias,
    get_version_by_alias,
    set_alias,
)
from modelworks.registry.services.versions_create import INPUT_EXAMPLE_ROWS as INPUT_EXAMPLE_ROWS
from modelworks.registry.services.versions_create import create_model_version
from modelworks.registry.services.versions_manage import (
    delete_model_version,
    delete_model_version_tag,
    get_latest_versions,
    get_model_version,
    set_model_version_tag,
    transition_stage,
    update_model_version,
    version_metrics,
    version_params,
)
from modelworks.registry.services.versions_search import ORDER_FIELDS as ORDER_FIELDS
from modelworks.registry.services.versions_search import (
    SEARCH_DEFAULT_MAX_RESULTS as SEARCH_DEFAULT_MAX_RESULTS,
)
from modelworks.registry.services.versions_search import SEARCH_MAX_RESULTS as SEARCH_MAX_RESULTS
from modelworks.registry.services.versions_search import ModelVersionPage, search_model_versions

__all__ = [
    "ModelVersionPage",
    "check_alias",
    "create_model_version",
    "delete_alias",
    "delete_model_version",
    "delete_model_version_tag",
    "get_latest_versions",
    "get_model_version",
    "get_version_by_alias",
    "search_model_versions",
    "set_alias",
    "set_model_version_tag",
    "transition_stage",
    "update_model_version",
    "version_metrics",
    "version_params",
]
