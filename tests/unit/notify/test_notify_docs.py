"""The examples in docs/notifications.md are valid settings."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from collector.notify import load_notifications
from collector.notify.settings import CHANNEL_TYPES

DOC = Path(__file__).resolve().parents[3] / "docs" / "notifications.md"


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)


def test_the_examples_load():
    blocks = yaml_blocks()
    assert len(blocks) == 2
    settings = load_notifications(yaml.safe_load(blocks[0])["notifications"])
    assert [c.type for c in settings.channels] == ["webhook", "email", "dingtalk", "alertmanager"]
    templates = yaml.safe_load(blocks[1])["notifications"]
    templates["templates"].pop("html")  # a file on the reader's machine
    assert load_notifications(templates).channels[0].templates.markdown.startswith("{% for n in notices %}")


def test_every_channel_type_has_a_section():
    text = DOC.read_text()
    for name in CHANNEL_TYPES:
        assert f"`{name}`" in text, name
