"""The recent traffic of a deployment (the newest rows of its prediction log), loaded by HTMX."""

from __future__ import annotations

from typing import Any

from modelworks.deployments.services.queries import recent_predictions
from modelworks.deployments.views.base import DeploymentPageView

__all__ = ["TrafficView"]

MAX_FEATURE_COLUMNS = 8


class TrafficView(DeploymentPageView):
    """The newest predictions, newest first, with a few input columns (readers)."""

    template_name = "deployments/traffic.html"
    fragment_template_name = "deployments/partials/traffic.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        try:
            limit = int(self.request.GET.get("limit", "50"))
        except ValueError:
            limit = 50
        recent = recent_predictions(self.deployment, limit=limit)
        features = recent.features[:MAX_FEATURE_COLUMNS]
        for row in recent.rows:
            row["input_values"] = [row["inputs"].get(f) for f in features]
        context.update(
            recent=recent,
            features=features,
            hidden_features=max(0, len(recent.features) - MAX_FEATURE_COLUMNS),
        )
        return context
