"""The control tower (portfolio dashboard) and its CSV export: portfolio viewers and governance leads."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from modelworks.core.views.base import PageView
from modelworks.governance.models import UseCase
from modelworks.governance.services.access import is_portfolio_viewer
from modelworks.governance.services.tower import PROMOTION_OVERDUE_DAYS, portfolio_csv, tower_figures

__all__ = ["TowerCsvView", "TowerView"]

_DENIED = (
    "The control tower is for portfolio viewers and governance leads; ask an instance administrator for "
    "the viewer role."
)


def _portfolio() -> list[UseCase]:
    return list(
        UseCase.objects.select_related("stage", "business_owner")
        .prefetch_related("projects")
        .order_by("title", "id")
    )


class TowerView(PageView):
    """Counts and value by stage and unit, time to production, production health, overdue reviews."""

    template_name = "governance/tower/tower.html"
    title = "Control tower"
    nav = "tower"

    def check_access(self, request: HttpRequest) -> None:
        if not is_portfolio_viewer(request.user):
            raise PermissionDenied(_DENIED)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        figures = tower_figures(_portfolio())
        peak = max(
            [g.expected_first_year for g in figures["by_stage"]]
            + [g.realised for g in figures["by_stage"]]
            + [1]
        )
        for group in figures["by_stage"]:
            group.expected_share = float(group.expected_first_year / peak * 100)
            group.realised_share = float(group.realised / peak * 100)
        context.update(figures=figures, promotion_overdue_days=PROMOTION_OVERDUE_DAYS)
        return context


class TowerCsvView(PageView):
    """The portfolio table as a CSV file (every text cell spreadsheet-safe)."""

    def check_access(self, request: HttpRequest) -> None:
        if not is_portfolio_viewer(request.user):
            raise PermissionDenied(_DENIED)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = HttpResponse(portfolio_csv(_portfolio()), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y-%m-%d")
        response["Content-Disposition"] = f'attachment; filename="portfolio-{stamp}.csv"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
