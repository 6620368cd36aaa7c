"""Test helpers of the Lab, and its rows of the generated permission suite.

``LAB_API_ROUTES`` and ``LAB_PAGE_ROUTES`` are spliced into ``modelworks.core.testing.api_routes`` and
``page_routes``: every API operation and page of this app needs a row, or the meta-test in
``tests/test_route_permissions.py`` fails naming it.

* ``world_analysis(w)``: an analysis (by the contributor) of a small, trainable house-prices dataset.
* ``world_session(w)``: a queued training of it (its job is never run: it stays queued, so it has no
  model; the what-if and register rows expect 409 from those allowed to call them).
"""

from __future__ import annotations

from typing import Any

from modelworks.core.models import Role
from modelworks.core.testing.routes import Access, ApiRouteCase, PageRouteCase, PermissionWorld
from modelworks.datasets.testing import make_dataset
from modelworks.lab import services
from modelworks.lab.models import Analysis, TrainingSession

__all__ = [
    "HOUSES_CSV",
    "LAB_API_ROUTES",
    "LAB_PAGE_ROUTES",
    "analysis_args",
    "session_args",
    "world_analysis",
    "world_session",
]

READER = Access.project(Role.READER)
CONTRIBUTOR = Access.project(Role.CONTRIBUTOR)
ADMIN = Access.project(Role.ADMIN)
REDIRECTED = (303,)
NO_MODEL = 409

HOUSES_CSV = b"size_m2,rooms,city,price\n" + b"".join(
    f"{40 + 7 * i},{1 + i % 5},{('Lyon', 'Paris', 'Nantes')[i % 3]},{100000 + 2500 * (40 + 7 * i) + 9000 * (i % 5)}\n".encode()
    for i in range(40)
)


def world_analysis(w: PermissionWorld) -> Analysis:
    if "lab.analysis" not in w.extra:
        dataset = make_dataset(
            w.project, w.users["contributor"], name="houses", content=HOUSES_CSV, file_name="houses.csv"
        )
        w.extra["lab.dataset"] = dataset
        w.extra["lab.analysis"] = services.create_analysis(
            w.project, actor=w.users["contributor"], name="House prices", dataset=dataset, target="price"
        )
    return w.extra["lab.analysis"]


def world_session(w: PermissionWorld) -> TrainingSession:
    if "lab.session" not in w.extra:
        w.extra["lab.session"] = services.start_training(world_analysis(w), actor=w.users["contributor"])
    return w.extra["lab.session"]


def analysis_args(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "analysis_id": world_analysis(w).pk}


def session_args(w: PermissionWorld) -> dict[str, Any]:
    return {**analysis_args(w), "number": world_session(w).number}


def _page(w: PermissionWorld) -> dict[str, Any]:
    return {"slug": w.project.slug, "pk": world_analysis(w).pk}


def _session_page(w: PermissionWorld) -> dict[str, Any]:
    return {**_page(w), "number": world_session(w).number}


def _new_analysis(w: PermissionWorld) -> dict[str, Any]:
    world_analysis(w)
    return {"name": "Rooms", "dataset": w.extra["lab.dataset"].pk, "target": "rooms"}


LAB_API_ROUTES: list[ApiRouteCase] = [
    ApiRouteCase("lab_analyses_list", READER, lambda w: {"slug": w.project.slug}),
    ApiRouteCase(
        "lab_analyses_create",
        CONTRIBUTOR,
        lambda w: {"slug": w.project.slug},
        body=_new_analysis,
        ok_status=201,
    ),
    ApiRouteCase("lab_analyses_get", READER, analysis_args),
    ApiRouteCase("lab_analyses_update", CONTRIBUTOR, analysis_args, body=lambda w: {"time_budget_s": 30}),
    ApiRouteCase("lab_analyses_delete", ADMIN, analysis_args, ok_status=204),
    ApiRouteCase("lab_sessions_create", CONTRIBUTOR, analysis_args, ok_status=202),
    ApiRouteCase("lab_sessions_list", READER, analysis_args),
    ApiRouteCase("lab_sessions_get", READER, session_args),
    ApiRouteCase("lab_sessions_cancel", CONTRIBUTOR, session_args),
    ApiRouteCase("lab_sessions_what_if", READER, session_args, ok_status=NO_MODEL),
    ApiRouteCase(
        "lab_sessions_register",
        CONTRIBUTOR,
        session_args,
        body=lambda w: {"name": "prices"},
        ok_status=NO_MODEL,
    ),
]

LAB_PAGE_ROUTES: list[PageRouteCase] = [
    PageRouteCase("lab:list", READER, lambda w: {"slug": w.project.slug}),
    PageRouteCase(
        "lab:list",
        CONTRIBUTOR,
        lambda w: {"slug": w.project.slug},
        method="POST",
        data=_new_analysis,
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("lab:columns", READER, lambda w: {"slug": w.project.slug}, headers={"HX-Request": "true"}),
    PageRouteCase("lab:design", READER, _page),
    PageRouteCase(
        "lab:design",
        CONTRIBUTOR,
        _page,
        method="POST",
        data=lambda w: {
            "name": "House prices",
            "algorithms": ["linear"],
            "time_budget_s": "20",
            "folds": "3",
        },
        ok_statuses=REDIRECTED,
    ),
    PageRouteCase("lab:train", CONTRIBUTOR, _page, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase("lab:delete", ADMIN, _page, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase("lab:session", READER, _session_page),
    PageRouteCase("lab:session_live", READER, _session_page, headers={"HX-Request": "true"}),
    PageRouteCase("lab:session_cancel", CONTRIBUTOR, _session_page, method="POST", ok_statuses=REDIRECTED),
    PageRouteCase("lab:whatif", READER, _session_page, ok_statuses=(NO_MODEL,)),
    PageRouteCase(
        "lab:register",
        CONTRIBUTOR,
        _session_page,
        method="POST",
        data=lambda w: {"name": "prices"},
        ok_statuses=(NO_MODEL,),
    ),
]
