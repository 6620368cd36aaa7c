"""Each test starts with an empty MLflow caller cache (users and tokens are recreated per test)."""

from __future__ import annotations

import pytest

from modelworks.tracking.protocol import clear_auth_cache


@pytest.fixture(autouse=True)
def _fresh_auth_cache() -> None:
    clear_auth_cache()
