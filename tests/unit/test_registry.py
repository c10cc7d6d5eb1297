import sys
import textwrap

import pytest

from checks.errors import CheckUnavailable
from checks.registry import BUILTIN, Registry, UnknownCheck


def test_builtins_load_and_unknown_names_get_a_suggestion():
    registry = Registry.discover()
    assert set(BUILTIN) <= set(registry.names())
    assert registry.get("disk").name == "disk"
    with pytest.raises(UnknownCheck) as info:
        registry.get("dsik")
    assert "did you mean 'disk'" in str(info.value)


def test_a_site_package_adds_checks_through_the_entry_point_group(tmp_path, monkeypatch):
    # A separately installed distribution, as pip would leave it: a module and its dist-info.
    (tmp_path / "site_checks.py").write_text(
        textwrap.dedent("""
        from checks.base import Check, Outcome
        class QueueCheck(Check):
            name = "queue_depth"
            title = "queue depth"
            def run(self, ctx, params):
                yield Outcome(summary="0 waiting")
    """)
    )
    (tmp_path / "site_checks-1.0.dist-info").mkdir()
    (tmp_path / "site_checks-1.0.dist-info" / "METADATA").write_text("Name: site-checks\nVersion: 1.0\n")
    (tmp_path / "site_checks-1.0.dist-info" / "entry_points.txt").write_text(
        "[patrol.checks]\nqueue_depth = site_checks:QueueCheck\nbroken = site_checks_missing:Nope\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry.discover()
    assert registry.get("queue_depth").title == "queue depth"
    with pytest.raises(CheckUnavailable) as info:
        registry.get("broken")
    assert "cannot be loaded" in str(info.value) and "site_checks_missing" in str(info.value)
    available = registry.available()
    assert isinstance(available["broken"], str) and available["disk"].name == "disk"  # one bad check breaks nothing
    sys.modules.pop("site_checks", None)
