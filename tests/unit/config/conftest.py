"""Shared helpers for the configuration loader tests: real files in a temporary directory."""
from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "config"


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write("inventory.yaml", text) -> the path of a file holding the dedented text."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def config_fixtures() -> Path:
    return FIXTURES
