"""Test helpers of the registry and the rows of its generated permission suites.

* ``REGISTRY_PAGE_ROUTES``: rows of the registry pages (``core.testing.routes.PageRouteCase``),
  spliced into core's page suite.
* ``REGISTRY_MLFLOW_ROUTES``: rows of the registry's MLflow operations (``tracking.testing.MlflowRouteCase``)
  for the MLflow permission suite. Deleting a registered model or a version needs the admin role
  (``Role.ADMIN`` rows), as on the pages.
* ``world_model(w)``, ``world_version(w)``, ``world_logged_model(w)``: registry objects of a
  ``PermissionWorld`` made on first use by the contributor (bob); ``fresh_*`` helpers make a new one
  per call, for operations that consume their object (deletes, renames).
"""

from __future__ import annotations

import itertools
from typing import Any

from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, PageRouteCase, PermissionWorld
from modelworks.registry import services
from modelworks.registry.models import LoggedModel, ModelVersion, RegisteredModel
from modelworks.tracking.testing import MlflowRouteCase, world_experiment, world_run

__all__ = [
    "REGISTRY_MLFLOW_ROUTES",
    "REGISTRY_PAGE_ROUTES",
    "fresh_logged_model",
    "fresh_version",
    "world_logged_model",
    "world_model",
    "world_version",
]

_counter = itertools.count(1)


def world_model(w: PermissionWorld) -> RegisteredModel:
    """ "Delay model" with one version (from the world's run) aliased ``champion`` and one tag."""
    if "registry.model" not in w.extra:
        bob = w.users["contributor"]
        model = services.create_registered_model(
            w.project, actor=bob, name="Delay model", tags=[{"key": "team", "value": "ops"}]
        )
        version = services.create_model_version(
            model, actor=bob, source=f"runs:/{world_run(w).run_uuid}/model"
        )
        services.set_alias(version, "champion", actor=bob)
        services.set_model_version_tag(version, "validated", "yes")
        w.extra["registry.model"] = model
    return w.extra["registry.model"]


def world_version(w: PermissionWorld) -> ModelVersion:
    return world_model(w).versions.get(version=1)


def fresh_version(w: PermissionWorld) -> ModelVersion:
    """A new version of the world's model (for deletes)."""
    return services.create_model_version(
        world_model(w), actor=w.users["contributor"], source=f"runs:/{world_run(w).run_uuid}/model"
    )


def fresh_model(w: PermissionWorld) -> RegisteredModel:
    return services.create_registered_model(
        w.project, actor=w.users["contributor"], name=f"Spare model {next(_counter)}"
    )


def world_logged_model(w: PermissionWorld) -> LoggedModel:
    if "registry.logged_model" not in w.extra:
        w.extra["registry.logged_model"] = fresh_logged_model(w)
    return w.extra["registry.logged_model"]


def fresh_logged_model(w: PermissionWorld) -> LoggedModel:
    model = services.create_logged_model(
        w.project,
        actor=w.users["contributor"],
        experiment_id=world_experiment(w).pk,
        name="model",
        source_run_id=world_run(w).run_uuid,
        tags=[{"key": "t", "value": "1"}],
    )
    return model


def _model_name(w: PermissionWorld) -> dict[str, Any]:
    return {"name": world_model(w).name}


def _version_ref(w: PermissionWorld) -> dict[str, Any]:
    return {"name": world_model(w).name, "version": "1"}


def _page_model(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": world_model(w).pk}


def _page_version(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": world_model(w).pk, "number": 1}


def _page_fresh_version(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": world_model(w).pk, "number": fresh_version(w).version}


def _page_fresh_promotion(w: PermissionWorld) -> dict[str, Any]:
    """A new pending request (asked and to be decided by bob) to promote a new version to champion."""
    from modelworks.registry.services import promotion

    bob = w.users["contributor"]
    request = promotion.request_promotion(fresh_version(w), alias="champion", approver=bob, actor=bob)
    return {"slug": w.project.slug, "pk": world_model(w).pk, "number": request.number}


def _page_champion(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": world_model(w).pk, "alias": "champion"}


def _page_champion_moved(w: PermissionWorld) -> dict[str, Any]:
    """Champion moved from v1 to a new version, so it can be rolled back."""
    services.set_alias(fresh_version(w), "champion", actor=w.users["contributor"])
    return _page_champion(w)


def _promotion_form(w: PermissionWorld) -> dict[str, Any]:
    return {
        "version": str(fresh_version(w).version),
        "alias": "champion",
        "approver": str(w.users["contributor"].pk),
        "note": "Better on last month.",
    }


def _alias_to_remove(w: PermissionWorld) -> dict[str, Any]:
    services.set_alias(world_version(w), "challenger", actor=w.users["contributor"])
    return {"name": world_model(w).name, "alias": "challenger"}


READER, CONTRIBUTOR, ADMIN = Role.READER, Role.CONTRIBUTOR, Role.ADMIN

REGISTRY_MLFLOW_ROUTES: list[MlflowRouteCase] = [
    # Logged models (MLflow 3).
    MlflowRouteCase(
        "mlflow:logged_models_create",
        CONTRIBUTOR,
        "POST",
        body=lambda w: {"experiment_id": str(world_experiment(w).pk), "name": "m"},
    ),
    MlflowRouteCase(
        "mlflow:logged_models_search",
        READER,
        "POST",
        body=lambda w: {"experiment_ids": [str(world_experiment(w).pk)], "filter": "name = 'model'"},
    ),
    MlflowRouteCase(
        "mlflow:logged_model", READER, "GET", kwargs=lambda w: {"model_id": world_logged_model(w).model_id}
    ),
    MlflowRouteCase(
        "mlflow:logged_model",
        CONTRIBUTOR,
        "PATCH",
        kwargs=lambda w: {"model_id": world_logged_model(w).model_id},
        body=lambda w: {"model_id": world_logged_model(w).model_id, "status": "LOGGED_MODEL_READY"},
    ),
    MlflowRouteCase(
        "mlflow:logged_model",
        CONTRIBUTOR,
        "DELETE",
        kwargs=lambda w: {"model_id": fresh_logged_model(w).model_id},
    ),
    MlflowRouteCase(
        "mlflow:logged_model_tags",
        CONTRIBUTOR,
        "PATCH",
        kwargs=lambda w: {"model_id": world_logged_model(w).model_id},
        body=lambda w: {"tags": [{"key": "stage", "value": "candidate"}]},
    ),
    MlflowRouteCase(
        "mlflow:logged_model_tag",
        CONTRIBUTOR,
        "DELETE",
        kwargs=lambda w: {"model_id": fresh_logged_model(w).model_id, "tag_key": "t"},
    ),
    MlflowRouteCase(
        "mlflow:logged_model_params",
        CONTRIBUTOR,
        "POST",
        kwargs=lambda w: {"model_id": world_logged_model(w).model_id},
        body=lambda w: {
            "model_id": world_logged_model(w).model_id,
            "params": [{"key": "lr", "value": "0.1"}],
        },
    ),
    # Registered models.
    MlflowRouteCase(
        "mlflow:registered_models_create",
        CONTRIBUTOR,
        "POST",
        body=lambda w: {"name": f"New model {next(_counter)}"},
    ),
    MlflowRouteCase("mlflow:registered_models_get", READER, "GET", body=_model_name),
    MlflowRouteCase(
        "mlflow:registered_models_rename",
        CONTRIBUTOR,
        "POST",
        body=lambda w: {"name": fresh_model(w).name, "new_name": f"Renamed {next(_counter)}"},
    ),
    MlflowRouteCase(
        "mlflow:registered_models_update",
        CONTRIBUTOR,
        "PATCH",
        body=lambda w: {**_model_name(w), "description": "Predicts delays."},
    ),
    MlflowRouteCase(
        "mlflow:registered_models_delete", ADMIN, "DELETE", body=lambda w: {"name": fresh_model(w).name}
    ),
    MlflowRouteCase(
        "mlflow:registered_models_search", READER, "GET", body=lambda w: {"filter": "name LIKE 'Delay%'"}
    ),
    MlflowRouteCase("mlflow:registered_models_latest_versions", READER, "POST", body=_model_name),
    MlflowRouteCase(
        "mlflow:registered_models_set_tag",
        CONTRIBUTOR,
        "POST",
        body=lambda w: {**_model_name(w), "key": "owner", "value": "ops"},
    ),
    MlflowRouteCase(
        "mlflow:registered_models_delete_tag",
        CONTRIBUTOR,
        "DELETE",
        body=lambda w: {**_model_name(w), "key": "team"},
    ),
    MlflowRouteCase(
        "mlflow:registered_models_alias",
        READER,
        "GET",
        body=lambda w: {**_model_name(w), "alias": "champion"},
    ),
    MlflowRouteCase(
        "mlflow:registered_models_alias",
        CONTRIBUTOR,
        "POST",
        body=lambda w: {**_version_ref(w), "alias": "candidate"},
    ),
    MlflowRouteCase("mlflow:registered_models_alias", CONTRIBUTOR, "DELETE", body=_alias_to_remove),
    # Model versions.
    MlflowRouteCase(
        "mlflow:model_versions_create",
        CONTRIBUTOR,
        "POST",
        body=lambda w: {**_model_name(w), "source": f"runs:/{world_run(w).run_uuid}/model"},
    ),
    MlflowRouteCase("mlflow:model_versions_get", READER, "GET", body=_version_ref),
    MlflowRouteCase(
        "mlflow:model_versions_update",
        CONTRIBUTOR,
        "PATCH",
        body=lambda w: {**_version_ref(w), "description": "First cut."},
    ),
    MlflowRouteCase(
        "mlflow:model_versions_delete",
        ADMIN,
        "DELETE",
        body=lambda w: {**_model_name(w), "version": str(fresh_version(w).version)},
    ),
    MlflowRouteCase(
        "mlflow:model_versions_search", READER, "GET", body=lambda w: {"filter": "name = 'Delay model'"}
    ),
    MlflowRouteCase("mlflow:model_versions_download_uri", READER, "GET", body=_version_ref),
    MlflowRouteCase(
        "mlflow:model_versions_set_tag",
        CONTRIBUTOR,
        "POST",
        body=lambda w: {**_version_ref(w), "key": "reviewed", "value": "yes"},
    ),
    MlflowRouteCase(
        "mlflow:model_versions_delete_tag",
        CONTRIBUTOR,
        "DELETE",
        body=lambda w: {**_version_ref(w), "key": "validated"},
    ),
    MlflowRouteCase(
        "mlflow:model_versions_transition_stage",
        CONTRIBUTOR,
        "POST",
        body=lambda w: {**_version_ref(w), "stage": "Staging"},
    ),
]

_READER = Access.project(Role.READER)
_CONTRIBUTOR = Access.project(Role.CONTRIBUTOR)
_ADMIN = Access.project(Role.ADMIN)

REGISTRY_PAGE_ROUTES: list[PageRouteCase] = [
    PageRouteCase("registry:list", _READER, kwargs=lambda w: {"slug": w.project.slug}),
    PageRouteCase("registry:model", _READER, kwargs=_page_model),
    PageRouteCase("registry:compare", _READER, kwargs=_page_model),
    PageRouteCase("registry:alias", _CONTRIBUTOR, kwargs=_page_model),
    PageRouteCase(
        "registry:alias",
        _CONTRIBUTOR,
        kwargs=_page_model,
        method="POST",
        data=lambda w: {"alias": "champion", "version": "1"},
        ok_statuses=(303,),
    ),
    PageRouteCase("registry:version", _READER, kwargs=_page_version),
    PageRouteCase("registry:card_markdown", _READER, kwargs=_page_version),
    PageRouteCase("registry:delete_version", _ADMIN, kwargs=_page_fresh_version),
    PageRouteCase(
        "registry:delete_version", _ADMIN, kwargs=_page_fresh_version, method="POST", ok_statuses=(303,)
    ),
    # Promotions and rollback. Approving and rejecting need the contributor role AND being the named
    # approver (bob here): other contributors and admins get 403 from the service, hence (303, 403);
    # test_promotion_pages checks who exactly gets which.
    PageRouteCase("registry:approvals", Access.signed_in()),
    PageRouteCase("registry:promotions", _READER, kwargs=_page_model),
    PageRouteCase("registry:promotion_new", _CONTRIBUTOR, kwargs=_page_model),
    PageRouteCase(
        "registry:promotion_new",
        _CONTRIBUTOR,
        kwargs=_page_model,
        method="POST",
        data=_promotion_form,
        ok_statuses=(303,),
    ),
    PageRouteCase("registry:promotion", _READER, kwargs=_page_fresh_promotion),
    PageRouteCase(
        "registry:promotion_approve",
        _CONTRIBUTOR,
        kwargs=_page_fresh_promotion,
        method="POST",
        ok_statuses=(303, 403),
    ),
    PageRouteCase(
        "registry:promotion_reject",
        _CONTRIBUTOR,
        kwargs=_page_fresh_promotion,
        method="POST",
        data=lambda w: {"comment": "Not better on the recent window."},
        ok_statuses=(303, 403),
    ),
    # Cancelling: the requester (bob) or a project admin, so every allowed actor succeeds.
    PageRouteCase(
        "registry:promotion_cancel",
        _CONTRIBUTOR,
        kwargs=_page_fresh_promotion,
        method="POST",
        ok_statuses=(303,),
    ),
    PageRouteCase("registry:rollback", _CONTRIBUTOR, kwargs=_page_champion),
    PageRouteCase(
        "registry:rollback",
        _CONTRIBUTOR,
        kwargs=_page_champion_moved,
        method="POST",
        data=lambda w: {"reason": "errors doubled"},
        ok_statuses=(303,),
    ),
]
