"""Pages of the scenarios app (namespace ``scenarios``)."""

from __future__ import annotations

from django.urls import path

from modelworks.scenarios import views

app_name = "scenarios"

_P = "projects/<slug:slug>/scenarios/"
_S = _P + "<int:pk>/"

urlpatterns = [
    path(_P, views.ScenarioListView.as_view(), name="list"),
    path(_P + "cron-preview/", views.CronPreviewView.as_view(), name="cron_preview"),
    path(_S, views.ScenarioView.as_view(), name="detail"),
    path(_S + "settings/", views.ScenarioSettingsView.as_view(), name="settings"),
    path(_S + "delete/", views.ScenarioDeleteView.as_view(), name="delete"),
    path(_S + "run/", views.ScenarioRunNowView.as_view(), name="run_now"),
    path(_S + "triggers/", views.TriggerAddView.as_view(), name="trigger_add"),
    path(_S + "triggers/<int:trigger_pk>/", views.TriggerUpdateView.as_view(), name="trigger_update"),
    path(_S + "triggers/<int:trigger_pk>/edit/", views.TriggerEditView.as_view(), name="trigger_edit"),
    path(_S + "triggers/<int:trigger_pk>/delete/", views.TriggerDeleteView.as_view(), name="trigger_delete"),
    path(_S + "steps/", views.StepAddView.as_view(), name="step_add"),
    path(_S + "steps/<int:step_pk>/", views.StepEditView.as_view(), name="step_edit"),
    path(_S + "steps/<int:step_pk>/move/", views.StepMoveView.as_view(), name="step_move"),
    path(_S + "steps/<int:step_pk>/delete/", views.StepDeleteView.as_view(), name="step_delete"),
    path(_S + "runs/", views.RunHistoryView.as_view(), name="runs"),
    path(_S + "runs/<int:number>/", views.RunView.as_view(), name="run"),
    path(_S + "runs/<int:number>/live/", views.RunLiveView.as_view(), name="run_live"),
    path(_S + "runs/<int:number>/cancel/", views.RunCancelView.as_view(), name="run_cancel"),
]
