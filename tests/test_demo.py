"""`modelworks demo --headless`: the demo work runs to the end and says what it did."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def _demo(home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env.update(MODELWORKS_HOME=str(home), DATABASE_URL=f"sqlite:///{home / 'db.sqlite3'}")
    return subprocess.run(
        [sys.executable, "-m", "modelworks.cli", "demo", "--headless", "--timeout", "120"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_headless_demo_runs_and_is_idempotent(tmp_path: Path) -> None:
    first = _demo(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert "Created project 'demo'" in out
    password = re.search(r"one-time password:\s+(\S+)", out)
    assert password is not None and len(password.group(1)) >= 20
    assert re.search(r"Job [0-9a-f-]{36} 'Platform self-check': succeeded", out)
    assert "Demo finished: everything succeeded." in out

    second = _demo(tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already exists; reusing it" in second.stdout
    assert "one-time password" not in second.stdout
    assert "password is unchanged" in second.stdout
