"""The site's configuration as the collector serves it: the inventory and every playbook of a directory.

The collector is the one place where patrols are configured. It reloads the files when they change;
an edit that does not validate is reported and the last good configuration stays in force, so a
typo never stops monitoring.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from checks.errors import ConfigError, Problem
from checks.registry import Registry
from collector.config.inventory import Inventory, load_inventory
from collector.config.playbook import Playbook, load_playbook

log = logging.getLogger("patrol.config")

PLAYBOOK_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Site:
    inventory: Inventory
    playbooks: dict[str, Playbook]  # by playbook name
    fingerprint: tuple  # files and their modification times when loaded


def playbook_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in PLAYBOOK_SUFFIXES and p.is_file())


def fingerprint(inventory_path: Path, playbooks_dir: Path) -> tuple:
    files = [inventory_path, *playbook_files(playbooks_dir)] if playbooks_dir.is_dir() else [inventory_path]
    return tuple((str(f), f.stat().st_mtime_ns) for f in files if f.exists())


def load_site(inventory_path: Path, playbooks_dir: Path, registry: Registry) -> Site:
    """Load and validate everything; one ConfigError lists the problems of every file."""
    stamp = fingerprint(inventory_path, playbooks_dir)
    inventory = load_inventory(inventory_path)
    if not playbooks_dir.is_dir():
        raise ConfigError.single(f"playbook directory {playbooks_dir} does not exist")
    problems: list[Problem] = []
    playbooks: dict[str, Playbook] = {}
    for path in playbook_files(playbooks_dir):
        try:
            playbook = load_playbook(path, registry, inventory)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if playbook.name in playbooks:
            other = playbooks[playbook.name].path
            problems.append(Problem(("name",), f"playbook name {playbook.name!r} is also used by {other}", str(path)))
            continue
        playbooks[playbook.name] = playbook
    if problems:
        raise ConfigError(problems)
    return Site(inventory, playbooks, stamp)


class SiteWatcher:
    """Holds the current Site and reloads it when a file changes."""

    def __init__(self, inventory_path: Path, playbooks_dir: Path, registry: Registry) -> None:
        self.inventory_path = inventory_path
        self.playbooks_dir = playbooks_dir
        self.registry = registry
        self._lock = threading.Lock()
        self._site = load_site(inventory_path, playbooks_dir, registry)  # a bad start is fatal: exit 78
        self.last_error: ConfigError | None = None
        self._failed: tuple | None = None  # fingerprint of files that did not validate: not re-read

    @property
    def site(self) -> Site:
        return self._site

    def reload_if_changed(self) -> bool:
        """Reload when the files changed; True when a new configuration took effect."""
        with self._lock:
            try:
                stamp = fingerprint(self.inventory_path, self.playbooks_dir)
                if stamp in (self._site.fingerprint, self._failed):
                    return False
                site = load_site(self.inventory_path, self.playbooks_dir, self.registry)
            except ConfigError as exc:
                log.error("configuration not reloaded, the last good one stays in force:\n%s", exc)
                self.last_error, self._failed = exc, stamp
                return False
            except OSError as exc:
                log.error("configuration not reloaded: %s", exc)
                return False
            self._site, self.last_error = site, None
            log.info("configuration reloaded: %d playbooks, %d hosts", len(site.playbooks), len(site.inventory.hosts))
            return True
