"""deploy/: the systemd units verify and are hardened; the Ansible playbook is valid and keeps tokens secret."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
UNITS = ["patrol-collector.service", "patrol-agent.service"]


def unit_for_this_machine(name: str, tmp_path: Path) -> Path:
    # systemd-analyze checks that ExecStart exists: point it at this checkout's virtualenv.
    text = (ROOT / "deploy" / "systemd" / name).read_text().replace("/opt/patrol/venv/bin", str(BIN))
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", UNITS)
def test_units_verify_and_score_as_hardened(name, tmp_path):
    path = unit_for_this_machine(name, tmp_path)
    verify = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert verify.returncode == 0 and verify.stderr.strip() == "", verify.stderr
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=30", str(path)], capture_output=True, text=True
    )
    exposure = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout).group(1))
    assert security.returncode == 0 and exposure <= 3.0, security.stdout[-400:]  # systemd calls <= 4 "OK"


@pytest.mark.parametrize("name", UNITS)
def test_units_run_as_an_unprivileged_user(name):
    settings = dict(
        line.split("=", 1) for line in (ROOT / "deploy" / "systemd" / name).read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert settings["User"] not in ("root", "0") and settings["NoNewPrivileges"] == "yes"
    assert settings["CapabilityBoundingSet"] == ""


def test_ansible_playbook_is_valid_and_never_logs_the_token(tmp_path):
    env = {**os.environ, "ANSIBLE_LOCAL_TEMP": str(tmp_path), "ANSIBLE_HOME": str(tmp_path)}
    check = subprocess.run(
        [str(BIN / "ansible-playbook"), "--syntax-check", "-i", str(ROOT / "inventory.yaml"),
         str(ROOT / "deploy" / "ansible" / "install-agent.yml")],
        capture_output=True, text=True, env=env,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    [play] = yaml.safe_load((ROOT / "deploy" / "ansible" / "install-agent.yml").read_text())
    token_tasks = [t for t in play["tasks"] if "token" in t["name"].lower() and "enrolled" not in t["name"]]
    assert len(token_tasks) == 2 and all(t.get("no_log") is True for t in token_tasks)
    stored = next(t for t in token_tasks if "ansible.builtin.copy" in t)
    assert stored["ansible.builtin.copy"]["mode"] == "0640"
