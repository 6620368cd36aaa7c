"""Fixtures shared by the engine tests: a store in a temporary folder and a way to see what it holds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modelworks.engine.io import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    """An empty local store."""
    return LocalStore(tmp_path / "store")


def _files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


@pytest.fixture
def files_in() -> Callable[[Path], list[Path]]:
    """``files_in(root)``: every file under ``root`` (empty folders do not count)."""
    return _files_in
