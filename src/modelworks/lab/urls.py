"""Pages of the Lab (namespace ``lab``)."""

from __future__ import annotations

from django.urls import path

from modelworks.lab import views

app_name = "lab"

_P = "projects/<slug:slug>/lab/"
_A = _P + "<int:pk>/"
_S = _A + "trainings/<int:number>/"

urlpatterns = [
    path(_P, views.AnalysisListView.as_view(), name="list"),
    path(_P + "columns/", views.ColumnChoicesView.as_view(), name="columns"),
    path(_A, views.AnalysisDesignView.as_view(), name="design"),
    path(_A + "train/", views.AnalysisTrainView.as_view(), name="train"),
    path(_A + "delete/", views.AnalysisDeleteView.as_view(), name="delete"),
    path(_S, views.SessionView.as_view(), name="session"),
    path(_S + "live/", views.SessionLiveView.as_view(), name="session_live"),
    path(_S + "cancel/", views.SessionCancelView.as_view(), name="session_cancel"),
    path(_S + "what-if/", views.WhatIfView.as_view(), name="whatif"),
    path(_S + "register/", views.SessionRegisterView.as_view(), name="register"),
]
