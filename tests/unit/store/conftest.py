from __future__ import annotations

from pathlib import Path

import pytest

from collector.store import Store


@pytest.fixture
def store(tmp_path: Path):
    store = Store.open(f"sqlite:///{tmp_path}/patrol.db")
    yield store
    store.close()
