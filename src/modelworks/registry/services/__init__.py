"""The registry's service API, which the MLflow protocol, the pages and other apps (the Lab) call.

* ``register_version(project, *, actor, model_name, source_dir_or_logged_model, run=None,
  training_dataset_version=None, recipe=None, metrics=None, signature=None, description="")``
  → ``ModelVersion``
* ``set_alias(version, alias, *, actor)`` / ``delete_alias(model, alias, *, actor)``
* ``compare_versions(versions)`` → ``ComparisonTable``
* ``model_card(version)`` → ``ModelCard``; ``card_markdown(card)`` → Markdown text
* ``logged_model_exists(experiment_id, model_id)`` → bool (asked by the artifact proxy)

Errors are ``modelworks.registry.errors.RegistryError`` subclasses with plain messages.
"""

from __future__ import annotations

from modelworks.registry.services.cards import ModelCard, card_markdown, model_card
from modelworks.registry.services.compare import ComparisonRow, ComparisonTable, compare_versions
from modelworks.registry.services.logged_models import (
    create_logged_model,
    delete_logged_model,
    delete_logged_model_tag,
    finalize_logged_model,
    get_logged_model,
    log_logged_model_params,
    logged_model_exists,
    search_logged_models,
    set_logged_model_tags,
)
from modelworks.registry.services.register import register_version
from modelworks.registry.services.registered_models import (
    check_model_name,
    create_registered_model,
    delete_registered_model,
    delete_registered_model_tag,
    get_registered_model,
    rename_registered_model,
    search_registered_models,
    set_registered_model_tag,
    update_registered_model,
)
from modelworks.registry.services.sources import resolve_source
from modelworks.registry.services.versions import (
    check_alias,
    create_model_version,
    delete_alias,
    delete_model_version,
    delete_model_version_tag,
    get_latest_versions,
    get_model_version,
    get_version_by_alias,
    search_model_versions,
    set_alias,
    set_model_version_tag,
    transition_stage,
    update_model_version,
    version_metrics,
    version_params,
)

__all__ = [
    "ComparisonRow",
    "ComparisonTable",
    "ModelCard",
    "card_markdown",
    "check_alias",
    "check_model_name",
    "compare_versions",
    "create_logged_model",
    "create_model_version",
    "create_registered_model",
    "delete_alias",
    "delete_logged_model",
    "delete_logged_model_tag",
    "delete_model_version",
    "delete_model_version_tag",
    "delete_registered_model",
    "delete_registered_model_tag",
    "finalize_logged_model",
    "get_latest_versions",
    "get_logged_model",
    "get_model_version",
    "get_registered_model",
    "get_version_by_alias",
    "log_logged_model_params",
    "logged_model_exists",
    "model_card",
    "register_version",
    "rename_registered_model",
    "resolve_source",
    "search_logged_models",
    "search_model_versions",
    "search_registered_models",
    "set_alias",
    "set_logged_model_tags",
    "set_model_version_tag",
    "set_registered_model_tag",
    "transition_stage",
    "update_model_version",
    "update_registered_model",
    "version_metrics",
    "version_params",
]
