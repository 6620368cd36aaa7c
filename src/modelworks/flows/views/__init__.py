"""Pages of the flows app, one module per topic. Import from here."""

from __future__ import annotations

from modelworks.flows.views.builds import BuildCancelView, BuildListView, BuildView
from modelworks.flows.views.editor import EditorOperationView, PreviewView
from modelworks.flows.views.flow import BuildSubmitView, FlowCheckView, FlowView
from modelworks.flows.views.recipes import RecipeCreateView, RecipeDeleteView, RecipeEditView, RecipeView

__all__ = [
    "BuildCancelView",
    "BuildListView",
    "BuildSubmitView",
    "BuildView",
    "EditorOperationView",
    "FlowCheckView",
    "FlowView",
    "PreviewView",
    "RecipeCreateView",
    "RecipeDeleteView",
    "RecipeEditView",
    "RecipeView",
]
