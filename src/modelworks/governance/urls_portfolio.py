"""Pages of the use-case portfolio (namespace ``governance``, names prefixed ``portfolio``,
``usecase`` or ``intake``)."""

from __future__ import annotations

from django.urls import path

from modelworks.governance.views import portfolio, portfolio_admin, portfolio_intake

urlpatterns = [
    path("governance/portfolio/", portfolio.PortfolioView.as_view(), name="portfolio"),
    path("governance/portfolio/pipeline/", portfolio_admin.PipelineView.as_view(), name="portfolio_pipeline"),
    path(
        "governance/portfolio/pipeline/<slug:key>/",
        portfolio_admin.StageEditView.as_view(),
        name="portfolio_stage_edit",
    ),
    path(
        "governance/portfolio/pipeline/<slug:key>/move/",
        portfolio_admin.StageReorderView.as_view(),
        name="portfolio_stage_reorder",
    ),
    path(
        "governance/portfolio/pipeline/<slug:key>/delete/",
        portfolio_admin.StageDeleteView.as_view(),
        name="portfolio_stage_delete",
    ),
    path("governance/portfolio/members/", portfolio_admin.MembersView.as_view(), name="portfolio_members"),
    path(
        "governance/portfolio/members/<int:member_id>/revoke/",
        portfolio_admin.MemberRevokeView.as_view(),
        name="portfolio_member_revoke",
    ),
    path("governance/use-cases/new/", portfolio.UseCaseCreateView.as_view(), name="usecase_create"),
    path("governance/use-cases/<slug:slug>/", portfolio.UseCaseDetailView.as_view(), name="usecase_detail"),
    path("governance/use-cases/<slug:slug>/edit/", portfolio.UseCaseEditView.as_view(), name="usecase_edit"),
    path(
        "governance/use-cases/<slug:slug>/delete/",
        portfolio.UseCaseDeleteView.as_view(),
        name="usecase_delete",
    ),
    path("governance/use-cases/<slug:slug>/stage/", portfolio.UseCaseMoveView.as_view(), name="usecase_move"),
    path("governance/ideas/new/", portfolio_intake.IdeaSubmitView.as_view(), name="intake_submit"),
    path("governance/ideas/mine/", portfolio_intake.MyIdeasView.as_view(), name="intake_mine"),
    path("governance/ideas/queue/", portfolio_intake.IntakeQueueView.as_view(), name="intake_queue"),
    path(
        "governance/ideas/<slug:slug>/qualify/",
        portfolio_intake.IdeaQualifyView.as_view(),
        name="intake_qualify",
    ),
    path(
        "governance/ideas/<slug:slug>/reject/",
        portfolio_intake.IdeaRejectView.as_view(),
        name="intake_reject",
    ),
]
