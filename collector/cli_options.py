"""Options several ``patrol`` commands share."""

from __future__ import annotations

import os
from pathlib import Path

import click

DEFAULT_INVENTORY = "inventory.yaml"


def inventory_option(f):
    return click.option(
        "--inventory",
        "-i",
        "inventory_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=lambda: os.environ.get("PATROL_INVENTORY") or DEFAULT_INVENTORY,
        show_default="inventory.yaml, or $PATROL_INVENTORY",
        help="Ansible-style YAML inventory.",
    )(f)


def db_option(f):
    return click.option(
        "--db",
        "db_url",
        default=None,
        help="SQLAlchemy URL of the store (default: $PATROL_DB, else sqlite:///var/patrol.db).",
    )(f)


def config_option(f):
    return click.option(
        "--config",
        "config_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Settings file; its events: and notifications: sections apply (docs/configuration.md).",
    )(f)
