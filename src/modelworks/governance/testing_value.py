"""Test helpers of the realised value and control tower, and their rows of the permission suite.

The world's use case ``on-time-departures`` (stage production) is linked to the world's project, so
its members see it (readers included: ``Access.project(READER)`` for reading), and its business
owner is the project admin alice: leads and the owner edit, i.e. ``Access.project(ADMIN)`` (the
contributor and the reader see it but get 403; the outsider gets 404; instance admins are leads).
Nobody in the world holds a portfolio role, so the control tower is for instance admins only there
(``Access.instance_admin()``: everyone else 403).

* ``world_use_case(w)``: the use case.
* ``world_pushed(w)``: its ``pushed`` value definition "Hours saved" (monthly, EUR).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, ApiRouteCase, PageRouteCase, PermissionWorld

__all__ = [
    "API_ROUTES",
    "PAGE_ROUTES",
    "ScoredRows",
    "log_predictions",
    "make_use_case",
    "world_pushed",
    "world_use_case",
]

READER = Access.project(Role.READER)
EDITOR = Access.project(Role.ADMIN)  # the world's business owner is the project admin
TOWER = Access.instance_admin()
REDIRECTED = (303,)


def make_use_case(
    slug: str, *, stage: str = "idea", owner: Any = None, projects: tuple[Any, ...] = (), **values: Any
) -> Any:
    """A use case created straight in the database (with its first stage change), for tests."""
    from modelworks.governance.models import Stage, StageChange, UseCase

    target = Stage.objects.get(key=stage)
    use_case = UseCase.objects.create(
        slug=slug,
        title=values.pop("title", slug.replace("-", " ").capitalize()),
        stage=target,
        business_owner=owner,
        **values,
    )
    use_case.projects.set(projects)
    StageChange.objects.create(
        use_case=use_case, from_stage=None, to_stage=target, actor=owner, comment="Created"
    )
    return use_case


class ScoredRows:
    """What ``PredictionLogWriter.append`` needs of a scoring result: predictions, no probabilities."""

    def __init__(self, predictions: list[Any]) -> None:
        self.predictions = predictions
        self.probabilities = None


def log_predictions(root: Any, source: str, batches: list[tuple[Any, list[dict[str, Any]]]]) -> None:
    """Write a real prediction log: each batch is ``(ts, rows)``, a row ``{"row_id", "prediction",
    <features>...}``, all scored by version ``late-flights/1`` as the primary model."""
    import pandas as pd

    from modelworks.engine.predictions import PredictionLogWriter

    with PredictionLogWriter(root, source) as writer:
        for index, (ts, rows) in enumerate(batches):
            features = pd.DataFrame(
                [{k: v for k, v in r.items() if k not in ("row_id", "prediction")} for r in rows]
            )
            writer.append(
                request_id=f"req-{index}",
                ts=ts,
                model_version_id=1,
                model_version="late-flights/1",
                role="primary",
                answered=True,
                inputs=features,
                predictions=ScoredRows([r["prediction"] for r in rows]),
                row_ids=[r["row_id"] for r in rows],
                latency_ms=3.0,
            )


def world_use_case(w: PermissionWorld) -> Any:
    if "value.use_case" not in w.extra:
        w.extra["value.use_case"] = make_use_case(
            "on-time-departures",
            stage="production",
            owner=w.users["admin"],
            projects=(w.project,),
            expected_value_recurring=Decimal("120000"),
        )
    return w.extra["value.use_case"]


def world_pushed(w: PermissionWorld) -> Any:
    if "value.pushed" not in w.extra:
        from modelworks.governance.models import ValueDefinition

        w.extra["value.pushed"] = ValueDefinition.objects.create(
            use_case=world_use_case(w), name="Hours saved", kind="pushed", unit="EUR", period="month"
        )
    return w.extra["value.pushed"]


def _use_case(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": world_use_case(w).slug}


def _definition(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": world_use_case(w).slug, "definition_id": world_pushed(w).pk}


def _page_definition(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": world_use_case(w).slug, "pk": world_pushed(w).pk}


def _pushed_form(w: PermissionWorld) -> dict[str, Any]:
    return {"name": "Claims avoided", "kind": "pushed", "source": "", "unit": "EUR", "period": "month"}


API_ROUTES: list[ApiRouteCase] = [
    ApiRouteCase("governance_value_get", READER, _use_case),
    ApiRouteCase(
        "governance_value_push",
        EDITOR,
        _definition,
        body=lambda w: {"period": "2026-03", "value": 1250.5},
        ok_status=201,
    ),
    # The world's definition is pushed: allowed callers learn there is nothing to compute (409).
    ApiRouteCase("governance_value_compute", EDITOR, _definition, ok_status=409),
    ApiRouteCase("governance_tower", TOWER),
]

PAGE_ROUTES: list[PageRouteCase] = [
    PageRouteCase("governance:value_page", READER, _use_case),
    PageRouteCase("governance:value_create", EDITOR, _use_case),
    PageRouteCase(
        "governance:value_create", EDITOR, _use_case, method="POST", data=_pushed_form, ok_statuses=REDIRECTED
    ),
    PageRouteCase("governance:value_edit", EDITOR, _page_definition),
    PageRouteCase(
        "governance:value_edit",
        EDITOR,
        _page_definition,
        method="POST",
        data=_pushed_form,
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("governance:value_delete", EDITOR, _page_definition, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase(
        "governance:value_compute", EDITOR, _page_definition, method="POST", ok_statuses=REDIRECTED
    ),
    PageRouteCase("governance:tower", TOWER),
    PageRouteCase("governance:tower_csv", TOWER),
]
