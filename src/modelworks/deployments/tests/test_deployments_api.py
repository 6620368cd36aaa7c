"""The deployments API end to end: deploy, read with the version served now, change, pause, tokens
(secret once), feedback and recent predictions read from a real prediction log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from modelworks.core.testing.client import expect, expect_error
from modelworks.deployments import runtime
from modelworks.deployments.models import hash_endpoint_token

# Fixtures (pytest takes pytest_plugins only in test modules and the top-level conftest).
pytest_plugins = ["modelworks.core.testing.fixtures", "modelworks.registry.tests.fixtures"]

pytestmark = pytest.mark.django_db

BASE = "/projects/flight-delays/deployments"


def test_deploy_read_change_pause(api_client: Any, bob: Any, alice: Any, registered: Any) -> None:
    from modelworks.registry import services as registry

    client = api_client(bob)
    created = expect(
        client.post(
            BASE,
            {
                "name": "late",
                "title": "Late departures",
                "mode": "ab",
                "targets": [
                    {"model": "late-departures", "alias": "champion", "weight": 80},
                    {"model": "late-departures", "version": 2, "role": "challenger", "weight": 20},
                ],
                "id_column": "flight_id",
            },
        ),
        201,
    )
    assert created["endpoint_path"] == "/score/late" and created["status"] == "active"
    assert [(t["role"], t["version"], t["weight"]) for t in created["targets"]] == [
        ("primary", 1, 80),
        ("challenger", 2, 20),
    ]
    # A promotion shows at once in what the deployment serves.
    registry.set_alias(registered.versions.get(version=2), "champion", actor=bob)
    got = expect(client.get(f"{BASE}/late"), 200)
    assert got["targets"][0] == {
        **got["targets"][0],
        "alias": "champion",
        "version": 2,
        "pinned_version": None,
    }

    changed = expect(
        client.patch(
            f"{BASE}/late", {"mode": "single", "targets": [{"model": "late-departures", "version": 1}]}
        ),
        200,
    )
    assert (changed["mode"], [t["reference"] for t in changed["targets"]]) == (
        "single",
        ["late-departures/v1"],
    )
    assert expect(client.post(f"{BASE}/late/pause"), 200)["status"] == "paused"
    assert "late" not in runtime.routing_snapshot().endpoints
    assert expect(client.post(f"{BASE}/late/resume"), 200)["status"] == "active"
    listed = expect(client.get(BASE), 200)
    assert [d["name"] for d in listed["items"]] == ["late"]

    error = expect_error(
        client.patch(f"{BASE}/late", {"targets": [{"model": "late-departures", "alias": "gold"}]}),
        422,
        "validation_error",
    )
    assert "has no alias 'gold'" in error["details"]["targets"][0]
    expect_error(client.patch(f"{BASE}/late", {"colour": "red"}), 422, "validation_error")
    # Deleting needs the admin role.
    expect_error(client.delete(f"{BASE}/late"), 403, "permission_denied")
    assert api_client(alice).delete(f"{BASE}/late").status_code == 204
    expect_error(client.get(f"{BASE}/late"), 404, "not_found")


def test_tokens_secret_once(api_client: Any, bob: Any, alice: Any, registered: Any) -> None:
    expect(
        api_client(bob).post(
            BASE, {"name": "late", "targets": [{"model": "late-departures", "alias": "champion"}]}
        ),
        201,
    )
    admin = api_client(alice)
    created = expect(admin.post(f"{BASE}/late/tokens", {"name": "billing app", "expires_in_days": 90}), 201)
    secret = created["token"]
    assert secret.startswith("mwe_") and created["status"] == "active" and created["expires_at"]
    assert runtime.routing_snapshot().endpoints["late"].token_hashes == frozenset(
        {hash_endpoint_token(secret)}
    )
    listed = expect(api_client(bob).get(f"{BASE}/late/tokens"), 200)["items"]
    assert [t["key_prefix"] for t in listed] == [secret[:12]]
    assert secret not in str(listed)
    revoked = expect(admin.post(f"{BASE}/late/tokens/{created['id']}/revoke"), 200)
    assert revoked["status"] == "revoked" and "token" not in revoked
    assert runtime.routing_snapshot().endpoints["late"].token_hashes == frozenset()
    expect_error(api_client(bob).post(f"{BASE}/late/tokens", {"name": "mine"}), 403, "permission_denied")
    expect_error(admin.post(f"{BASE}/late/tokens/999/revoke"), 404, "not_found")


def test_feedback(api_client: Any, bob: Any, registered: Any) -> None:
    client = api_client(bob)
    expect(
        client.post(BASE, {"name": "late", "targets": [{"model": "late-departures", "alias": "champion"}]}),
        201,
    )
    result = expect(
        client.post(
            f"{BASE}/late/feedback", [{"row_id": "A1", "label": "late"}, {"row_id": "A2", "label": 0}]
        ),
        200,
    )
    assert result == {"received": 2, "created": 2, "updated": 0}
    again = expect(client.post(f"{BASE}/late/feedback", [{"row_id": "A1", "label": "on time"}]), 200)
    assert again == {"received": 1, "created": 0, "updated": 1}
    error = expect_error(
        client.post(f"{BASE}/late/feedback", [{"row_id": "B", "label": "x"}, {"label": "y"}]),
        422,
        "validation_error",
    )
    assert error["message"] == "items: Row 2: the row_id is missing."
    expect_error(client.post(f"{BASE}/late/feedback", {"row_id": "A1"}), 422, "validation_error")


def test_recent_predictions_from_the_log(
    api_client: Any, bob: Any, registered: Any, settings: Any, tmp_path: Path
) -> None:
    from modelworks.engine.predictions import PredictionLogWriter

    settings.MODELWORKS_PREDICTIONS_DIR = tmp_path / "predictions"
    client = api_client(bob)
    created = expect(
        client.post(BASE, {"name": "late", "targets": [{"model": "late-departures", "alias": "champion"}]}),
        201,
    )
    assert expect(client.get(f"{BASE}/late/predictions"), 200)["rows"] == []

    writer = PredictionLogWriter(settings.MODELWORKS_PREDICTIONS_DIR, f"deployment-{created['id']}")
    now = datetime.now(UTC)
    for request_number in range(3):
        writer.append(
            request_id=f"req{request_number}",
            ts=now.replace(microsecond=request_number),
            model_version_id=created["targets"][0]["version_id"],
            model_version="late-departures/1",
            role="primary",
            answered=True,
            inputs=pd.DataFrame({"distance": [100.0 * request_number, 5.0], "carrier": ["AF", "KL"]}),
            predictions=SimpleNamespace(
                predictions=["late", "on time"],
                probabilities=[{"late": 0.9, "on time": 0.1}, {"late": 0.2, "on time": 0.8}],
            ),
            latency_ms=1.5,
        )
    writer.close()
    answer = expect(client.get(f"{BASE}/late/predictions", limit=4), 200)
    rows = answer["rows"]
    assert len(rows) == 4 and set(answer["features"]) == {"distance", "carrier"}
    assert [r["request_id"] for r in rows] == ["req2", "req2", "req1", "req1"]
    assert rows[1]["inputs"] == {"distance": 200.0, "carrier": "AF"} and rows[1]["prediction"] == "late"
    assert rows[1]["probabilities"] == {"late": 0.9, "on time": 0.1}
    expect_error(client.get(f"{BASE}/late/predictions", limit=0), 422, "validation_error")
