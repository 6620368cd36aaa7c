"""Pages of the flows app (namespace ``flows``): the flow, recipes and their editor, builds."""

from __future__ import annotations

from django.urls import path

from modelworks.flows import views
from modelworks.flows.views.bundles import BundleImportView
from modelworks.flows.views.history import RecipeHistoryView, RecipeRevertView
from modelworks.flows.views.score import ScoreModelChoicesView

app_name = "flows"

_F = "projects/<slug:slug>/flow/"
_R = _F + "recipes/<int:pk>/"
_NEW = _F + "recipes/new/<str:kind>/"

urlpatterns = [
    path(_F, views.FlowView.as_view(), name="flow"),
    path(_F + "check/", views.FlowCheckView.as_view(), name="check"),
    path(_F + "build/", views.BuildSubmitView.as_view(), name="build_submit"),
    path(_F + "builds/", views.BuildListView.as_view(), name="builds"),
    path(_F + "builds/<int:pk>/", views.BuildView.as_view(), name="build"),
    path(_F + "builds/<int:pk>/cancel/", views.BuildCancelView.as_view(), name="build_cancel"),
    path(_NEW, views.RecipeCreateView.as_view(), name="recipe_new"),
    path(_NEW + "editor/", views.EditorOperationView.as_view(), name="recipe_new_editor"),
    path(_NEW + "preview/", views.PreviewView.as_view(), name="recipe_new_preview"),
    path(_R, views.RecipeView.as_view(), name="recipe"),
    path(_R + "edit/", views.RecipeEditView.as_view(), name="recipe_edit"),
    path(_R + "edit/editor/", views.EditorOperationView.as_view(), name="recipe_editor"),
    path(_R + "edit/preview/", views.PreviewView.as_view(), name="recipe_preview"),
    path(_R + "delete/", views.RecipeDeleteView.as_view(), name="recipe_delete"),
    path(_R + "history/", RecipeHistoryView.as_view(), name="recipe_history"),
    path(_R + "history/<int:number>/revert/", RecipeRevertView.as_view(), name="recipe_revert"),
    path(_F + "score/model-choices/", ScoreModelChoicesView.as_view(), name="score_model_choices"),
    path(_F + "import/", BundleImportView.as_view(), name="bundle_import"),
]
