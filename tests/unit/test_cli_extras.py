"""Without the 'collector' extra, commands that need it say which extra to install."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs the CLI with SQLAlchemy made unimportable, as on an agent host that installed only the core.
PROGRAM = """
import sys
sys.modules["sqlalchemy"] = None
from collector.cli import main
main(sys.argv[1:])
"""


def run(*args):
    return subprocess.run([sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, cwd=ROOT)


def test_store_commands_name_the_missing_extra():
    r = run("run", "playbooks/daily-patrol.yaml")
    assert r.returncode == 69
    assert "needs the 'collector' extra" in r.stderr and "pip install 'patrol[collector]'" in r.stderr


def test_core_commands_work_without_the_extra():
    r = run("check", "load", "--format", "json")
    assert r.returncode in (0, 1, 2), r.stderr
    assert '"check": "load"' in r.stdout
    r = run("inventory", "validate")
    assert r.returncode == 0 and "OK" in r.stdout
