"""Project-wide contracts: lint, formatting, the engine import rule, migrations, deployment checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run(args, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300)


def test_ruff_lint_is_clean() -> None:
    result = _run([str(BIN / "ruff"), "check", "src", "tests", "bench"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _run([str(BIN / "ruff"), "format", "--check", "src", "tests", "bench"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_engine_never_imports_django() -> None:
    result = _run([str(BIN / "lint-imports")])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    result = _run(
        [sys.executable, "-m", "modelworks.cli", "manage", "makemigrations", "--check", "--dry-run"],
        MODELWORKS_HOME=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode == 0, "models changed without a migration:\n" + result.stdout + result.stderr


@pytest.mark.parametrize("env", ["production"])
def test_production_settings_pass_deploy_checks(tmp_path: Path, env: str) -> None:
    result = _run(
        [sys.executable, "-m", "modelworks.cli", "manage", "check", "--deploy", "--fail-level", "WARNING"],
        MODELWORKS_HOME=str(tmp_path),
        MODELWORKS_ENV=env,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
