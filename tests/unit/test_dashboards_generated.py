"""The committed Grafana dashboards are what dashboards/make_dashboards.py writes (edit the script, not the JSON)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"


def test_committed_json_matches_the_generator():
    spec = importlib.util.spec_from_file_location("make_dashboards", DASHBOARDS / "make_dashboards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generated = module.dashboards()
    assert sorted(generated) == sorted(p.name for p in DASHBOARDS.glob("*.json"))
    for name, text in generated.items():
        assert (DASHBOARDS / name).read_text(encoding="utf-8") == text, f"{name}: run dashboards/make_dashboards.py"
