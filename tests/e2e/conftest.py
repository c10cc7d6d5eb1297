import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PATROL = Path(sys.executable).with_name("patrol")


@pytest.fixture
def patrol(tmp_path):
    """Run the installed ``patrol`` command as a user would, in a scratch directory."""

    def run(*args, env=None, cwd=None):
        environment = {**os.environ, "PATROL_DB": f"sqlite:///{tmp_path}/patrol.db", **(env or {})}
        environment.pop("PATROL_INVENTORY", None)
        return subprocess.run(
            [str(PATROL), *map(str, args)], capture_output=True, text=True, cwd=cwd or tmp_path, env=environment,
            timeout=240,
        )

    return run


@pytest.fixture
def write(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return write
