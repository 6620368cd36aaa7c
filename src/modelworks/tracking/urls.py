"""Pages of experiment tracking (namespace ``tracking``)."""

from __future__ import annotations

from django.urls import path

from modelworks.tracking import views

app_name = "tracking"

_E = "projects/<slug:slug>/experiments/<int:experiment_id>/"

urlpatterns = [
    path("projects/<slug:slug>/experiments/", views.ExperimentListView.as_view(), name="experiments"),
    path(_E, views.ExperimentView.as_view(), name="experiment"),
    path(_E + "compare/", views.CompareView.as_view(), name="compare"),
    path(_E + "runs/<str:run_id>/", views.RunView.as_view(), name="run"),
]
